//! Bindings of the frame conversion the Python layer does before a family is called.

use polars::prelude::*;
use pyo3::prelude::*;
use pyo3_polars::PyDataFrame;

use crate::errors::{run, Frame};

/// A Categorical key's physical codes (column `rows` of `rows`) renumbered in the order of its
/// labels, given the dictionary (`dictionary` with columns `codes` and `labels`): the ranks of
/// the rows (column `rows`) and the codes in label order (column `codes`).
#[pyfunction]
fn dictionary_by_label(
    py: Python<'_>,
    rows: Frame,
    dictionary: Frame,
) -> PyResult<(PyDataFrame, PyDataFrame)> {
    let (rows, dictionary) = (rows.0, dictionary.0);
    run(py, "dictionary_by_label", || {
        let codes = dictionary.column("codes")?.u32()?;
        let labels = dictionary.column("labels")?.str()?;
        let (ranked, order) =
            csmetrics::dictionary_by_label(rows.column("rows")?.u32()?, codes, labels)?;
        let ranked = DataFrame::new(
            ranked.len(),
            vec![ranked.with_name("rows".into()).into_column()],
        )?;
        let order = DataFrame::new(
            order.len(),
            vec![order.with_name("codes".into()).into_column()],
        )?;
        Ok((ranked, order))
    })
    .map(|(ranked, order)| (PyDataFrame(ranked), PyDataFrame(order)))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(dictionary_by_label, m)?)?;
    Ok(())
}
