//! Glue for health scores and their backtest.

use csmetrics::health::{
    self, Direction, Factor, HealthOptions, Normalisation, SignalKind, SignalOptions,
};
use csmetrics::CsError;
use pyo3::prelude::*;
use pyo3_polars::PyDataFrame;

use crate::errors::{run, to_py, Frame};

/// One factor as given in Python: (column, weight, direction, normalisation, lo, hi).
type FactorSpec = (String, f64, String, String, Option<f64>, Option<f64>);

fn factor(spec: FactorSpec) -> Result<Factor, CsError> {
    let (column, weight, direction, normalisation, lo, hi) = spec;
    let normalisation = match (normalisation.as_str(), lo, hi) {
        ("minmax", _, _) => Normalisation::MinMax,
        ("percentile", _, _) => Normalisation::Percentile,
        ("thresholds", Some(lo), Some(hi)) => Normalisation::Thresholds(lo, hi),
        (other, _, _) => {
            return Err(CsError::option(
                "normalisation",
                format!("'{other}' for '{column}'"),
                "expected 'minmax', 'percentile' or thresholds (lo, hi)",
            ))
        }
    };
    let direction: Direction = direction.parse()?;
    Ok(Factor {
        column,
        weight,
        direction,
        normalisation,
    })
}

#[pyfunction]
#[pyo3(signature = (frame, factors, bands, missing, by_period))]
fn health_score(
    py: Python<'_>,
    frame: Frame,
    factors: Vec<FactorSpec>,
    bands: (f64, f64),
    missing: &str,
    by_period: Option<String>,
) -> PyResult<PyDataFrame> {
    let factors = factors
        .into_iter()
        .map(factor)
        .collect::<Result<Vec<_>, _>>()
        .map_err(to_py)?;
    let options = HealthOptions {
        factors,
        bands,
        missing: missing.parse().map_err(to_py)?,
        by_period,
    };
    let frame = frame.0;
    run(py, "health_score", || {
        health::health_score(&frame, &options)
    })
    .map(PyDataFrame)
}

#[pyfunction]
#[pyo3(signature = (frame, score, churned))]
fn health_backtest(
    py: Python<'_>,
    frame: Frame,
    score: String,
    churned: String,
) -> PyResult<PyDataFrame> {
    let frame = frame.0;
    run(py, "health_backtest", || {
        health::health_backtest(&frame, &score, &churned)
    })
    .map(PyDataFrame)
}

#[pyfunction]
#[pyo3(signature = (customers, events, customer_id, timestamp, value, distinct_days, reference, window_days, name))]
#[allow(clippy::too_many_arguments)]
fn customer_signal(
    py: Python<'_>,
    customers: Frame,
    events: Frame,
    customer_id: String,
    timestamp: String,
    value: Option<String>,
    distinct_days: bool,
    reference: i64,
    window_days: Option<u32>,
    name: String,
) -> PyResult<PyDataFrame> {
    let kind = match (value, distinct_days) {
        (Some(value), _) => SignalKind::Last(value),
        (None, true) => SignalKind::ActiveDays,
        (None, false) => SignalKind::Count,
    };
    let options = SignalOptions {
        customer_id,
        timestamp,
        kind,
        reference,
        window_days,
        name,
    };
    let (customers, events) = (customers.0, events.0);
    run(py, "customer_signal", || {
        let ids = customers
            .columns()
            .first()
            .ok_or_else(|| CsError::option("customers", "no column", "one customer column"))?;
        let signal = health::customer_signal(ids, &events, &options)?;
        Ok(polars::prelude::DataFrame::new(signal.len(), vec![signal])?)
    })
    .map(PyDataFrame)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(customer_signal, m)?)?;
    m.add_function(wrap_pyfunction!(health_score, m)?)?;
    m.add_function(wrap_pyfunction!(health_backtest, m)?)?;
    Ok(())
}
