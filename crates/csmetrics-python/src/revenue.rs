//! Bindings of the revenue family: one entry point, dispatched on the output asked for.

use csmetrics::revenue::{self as engine, RevenueInput, RevenueOptions, SubscriptionColumns};
use pyo3::prelude::*;
use pyo3_polars::PyDataFrame;

use crate::errors::{guard, to_py};

/// Column names of the input table, as given in Python.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub struct Columns {
    table: String,
    customer_id: String,
    start: String,
    end: Option<String>,
    amount: String,
    interval: Option<String>,
    interval_count: Option<String>,
    currency: Option<String>,
    period_column: String,
    mrr_column: String,
}

#[pyfunction]
#[pyo3(signature = (output, frame, columns, period, as_of, first_period, precision, free_is_active, mode, by, fx, window, money))]
#[allow(clippy::too_many_arguments)]
fn revenue(
    py: Python<'_>,
    output: &str,
    frame: PyDataFrame,
    columns: Columns,
    period: &str,
    as_of: Option<i64>,
    first_period: Option<i64>,
    precision: u32,
    free_is_active: bool,
    mode: &str,
    by: Vec<String>,
    fx: Option<Vec<(String, f64)>>,
    window: Option<usize>,
    money: &str,
) -> PyResult<PyDataFrame> {
    let input = match columns.table.as_str() {
        "monthly" => RevenueInput::Monthly {
            customer_id: columns.customer_id,
            period: columns.period_column,
            mrr: columns.mrr_column,
        },
        _ => RevenueInput::Subscriptions(SubscriptionColumns {
            customer_id: columns.customer_id,
            start: columns.start,
            end: columns.end,
            amount: columns.amount,
            interval: columns.interval,
            interval_count: columns.interval_count,
            currency: columns.currency,
        }),
    };
    let options = RevenueOptions {
        input,
        period: period.parse().map_err(to_py)?,
        as_of,
        first_period,
        precision,
        free_is_active,
        mode: mode.parse().map_err(to_py)?,
        by,
        fx,
        window,
        money: money.parse().map_err(to_py)?,
    };
    let frame = frame.0;
    let run = match output {
        "mrr" => engine::mrr,
        "movements" => engine::mrr_movements,
        "bridge" => engine::mrr_bridge,
        _ => engine::revenue_kpis,
    };
    py.detach(|| guard(|| run(&frame, &options))).map(PyDataFrame)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(revenue, m)?)?;
    Ok(())
}
