//! Bindings of the Stripe export reader (`csmetrics.io.stripe.read`).

use pyo3::prelude::*;
use pyo3_polars::PyDataFrame;

use crate::errors::run;

/// The subscriptions, discounts and invoice-lines frames, and the counts of what was left out.
type Tables = (PyDataFrame, PyDataFrame, PyDataFrame, Vec<(String, u64)>);

/// The subscriptions, discounts and invoice-lines frames of the files, and the counts of what
/// was left out, by kind.
#[pyfunction]
fn read_stripe(
    py: Python<'_>,
    subscriptions: Vec<String>,
    invoices: Vec<String>,
) -> PyResult<Tables> {
    let tables = run(py, "read", || {
        csmetrics::stripe::read_files(&subscriptions, &invoices)
    })?;
    Ok((
        PyDataFrame(tables.subscriptions),
        PyDataFrame(tables.discounts),
        PyDataFrame(tables.invoice_lines),
        tables.skipped,
    ))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(read_stripe, m)?)?;
    Ok(())
}
