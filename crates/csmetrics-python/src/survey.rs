//! Bindings of the survey family.

use csmetrics::survey::{CesOptions, CsatOptions, NpsCompareOptions, NpsOptions, Scale};
use pyo3::prelude::*;
use pyo3_polars::PyDataFrame;

use crate::errors::{run, to_py, Frame};

fn period_of(period: Option<&str>) -> PyResult<Option<csmetrics::Period>> {
    period.map(str::parse).transpose().map_err(to_py)
}

#[pyfunction]
#[pyo3(signature = (frame, score, by, period, timestamp, invalid, ci, confidence))]
#[allow(clippy::too_many_arguments)]
fn nps(
    py: Python<'_>,
    frame: Frame,
    score: &str,
    by: Vec<String>,
    period: Option<&str>,
    timestamp: &str,
    invalid: &str,
    ci: Option<&str>,
    confidence: f64,
) -> PyResult<PyDataFrame> {
    let options = NpsOptions {
        score: score.to_string(),
        by,
        period: period_of(period)?,
        timestamp: timestamp.to_string(),
        invalid: invalid.parse().map_err(to_py)?,
        ci: ci.map(str::parse).transpose().map_err(to_py)?,
        confidence,
    };
    let frame = frame.0;
    run(py, "nps", || csmetrics::survey::nps(&frame, &options)).map(PyDataFrame)
}

#[pyfunction]
#[pyo3(signature = (frame, score, by, period, timestamp, invalid, scale))]
#[allow(clippy::too_many_arguments)]
fn csat(
    py: Python<'_>,
    frame: Frame,
    score: &str,
    by: Vec<String>,
    period: Option<&str>,
    timestamp: &str,
    invalid: &str,
    scale: (i64, i64),
) -> PyResult<PyDataFrame> {
    let options = CsatOptions {
        score: score.to_string(),
        by,
        period: period_of(period)?,
        timestamp: timestamp.to_string(),
        invalid: invalid.parse().map_err(to_py)?,
        scale: Scale::new(scale.0, scale.1).map_err(to_py)?,
    };
    let frame = frame.0;
    run(py, "csat", || csmetrics::survey::csat(&frame, &options)).map(PyDataFrame)
}

#[pyfunction]
#[pyo3(signature = (frame, score, by, period, timestamp, invalid, scale, direction))]
#[allow(clippy::too_many_arguments)]
fn ces(
    py: Python<'_>,
    frame: Frame,
    score: &str,
    by: Vec<String>,
    period: Option<&str>,
    timestamp: &str,
    invalid: &str,
    scale: Option<(i64, i64)>,
    direction: &str,
) -> PyResult<PyDataFrame> {
    let options = CesOptions {
        score: score.to_string(),
        by,
        period: period_of(period)?,
        timestamp: timestamp.to_string(),
        invalid: invalid.parse().map_err(to_py)?,
        scale: scale
            .map(|(lo, hi)| Scale::new(lo, hi))
            .transpose()
            .map_err(to_py)?,
        direction: direction.parse().map_err(to_py)?,
    };
    let frame = frame.0;
    run(py, "ces", || csmetrics::survey::ces(&frame, &options)).map(PyDataFrame)
}

#[pyfunction]
#[pyo3(signature = (frame, score, between, by, period, timestamp, invalid, pairs, confidence))]
#[allow(clippy::too_many_arguments)]
fn nps_compare(
    py: Python<'_>,
    frame: Frame,
    score: &str,
    between: Option<String>,
    by: Vec<String>,
    period: Option<&str>,
    timestamp: &str,
    invalid: &str,
    pairs: &str,
    confidence: f64,
) -> PyResult<PyDataFrame> {
    let options = NpsCompareOptions {
        score: score.to_string(),
        between,
        by,
        period: period_of(period)?,
        timestamp: timestamp.to_string(),
        invalid: invalid.parse().map_err(to_py)?,
        pairs: pairs.parse().map_err(to_py)?,
        confidence,
    };
    let frame = frame.0;
    run(py, "nps_compare", || {
        csmetrics::survey::nps_compare(&frame, &options)
    })
    .map(PyDataFrame)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(nps, m)?)?;
    m.add_function(wrap_pyfunction!(csat, m)?)?;
    m.add_function(wrap_pyfunction!(ces, m)?)?;
    m.add_function(wrap_pyfunction!(nps_compare, m)?)?;
    Ok(())
}
