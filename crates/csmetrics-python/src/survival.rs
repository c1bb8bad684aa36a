//! Bindings of the survival family.

use csmetrics::survival::{KaplanMeierOptions, LogrankOptions, NelsonAalenOptions};
use pyo3::prelude::*;
use pyo3_polars::PyDataFrame;

use crate::errors::{run, to_py, Frame};

#[allow(clippy::too_many_arguments)]
fn km_options(
    duration: &str,
    event: &str,
    entry: Option<String>,
    weights: Option<String>,
    by: Vec<String>,
    confidence: f64,
    tau: Option<f64>,
) -> KaplanMeierOptions {
    KaplanMeierOptions {
        duration: duration.to_string(),
        event: event.to_string(),
        entry,
        weights,
        by,
        confidence,
        tau,
    }
}

#[pyfunction]
#[pyo3(signature = (frame, duration, event, entry, weights, by, confidence))]
#[allow(clippy::too_many_arguments)]
fn kaplan_meier(
    py: Python<'_>,
    frame: Frame,
    duration: &str,
    event: &str,
    entry: Option<String>,
    weights: Option<String>,
    by: Vec<String>,
    confidence: f64,
) -> PyResult<PyDataFrame> {
    let options = km_options(duration, event, entry, weights, by, confidence, None);
    let frame = frame.0;
    run(py, "kaplan_meier", || {
        csmetrics::survival::kaplan_meier(&frame, &options)
    })
    .map(PyDataFrame)
}

#[pyfunction]
#[pyo3(signature = (frame, duration, event, entry, weights, by, confidence, tau))]
#[allow(clippy::too_many_arguments)]
fn kaplan_meier_summary(
    py: Python<'_>,
    frame: Frame,
    duration: &str,
    event: &str,
    entry: Option<String>,
    weights: Option<String>,
    by: Vec<String>,
    confidence: f64,
    tau: Option<f64>,
) -> PyResult<PyDataFrame> {
    let options = km_options(duration, event, entry, weights, by, confidence, tau);
    let frame = frame.0;
    run(py, "kaplan_meier_summary", || {
        csmetrics::survival::kaplan_meier_summary(&frame, &options)
    })
    .map(PyDataFrame)
}

#[pyfunction]
#[pyo3(signature = (frame, duration, event, entry, weights, by, confidence, ties))]
#[allow(clippy::too_many_arguments)]
fn nelson_aalen(
    py: Python<'_>,
    frame: Frame,
    duration: &str,
    event: &str,
    entry: Option<String>,
    weights: Option<String>,
    by: Vec<String>,
    confidence: f64,
    ties: &str,
) -> PyResult<PyDataFrame> {
    let options = NelsonAalenOptions {
        duration: duration.to_string(),
        event: event.to_string(),
        entry,
        weights,
        by,
        confidence,
        ties: ties.parse().map_err(to_py)?,
    };
    let frame = frame.0;
    run(py, "nelson_aalen", || {
        csmetrics::survival::nelson_aalen(&frame, &options)
    })
    .map(PyDataFrame)
}

#[pyfunction]
#[pyo3(signature = (frame, duration, event, group, entry, weights, by))]
#[allow(clippy::too_many_arguments)]
fn logrank_test(
    py: Python<'_>,
    frame: Frame,
    duration: &str,
    event: &str,
    group: &str,
    entry: Option<String>,
    weights: Option<String>,
    by: Vec<String>,
) -> PyResult<PyDataFrame> {
    let options = LogrankOptions {
        duration: duration.to_string(),
        event: event.to_string(),
        group: group.to_string(),
        weights,
        entry,
        by,
    };
    let frame = frame.0;
    run(py, "logrank_test", || {
        csmetrics::survival::logrank_test(&frame, &options)
    })
    .map(PyDataFrame)
}

/// Adds the survival functions to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(kaplan_meier, m)?)?;
    m.add_function(wrap_pyfunction!(kaplan_meier_summary, m)?)?;
    m.add_function(wrap_pyfunction!(nelson_aalen, m)?)?;
    m.add_function(wrap_pyfunction!(logrank_test, m)?)?;
    Ok(())
}
