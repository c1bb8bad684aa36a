//! Maps core errors to the exception classes of `csmetrics.exceptions`, in one place.

use csmetrics::CsError;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// Converts a core error into the matching Python exception, with its fields as attributes.
pub fn to_py(err: CsError) -> PyErr {
    Python::attach(|py| match build(py, &err) {
        Ok(e) => e,
        Err(import_failure) => import_failure,
    })
}

fn build(py: Python<'_>, err: &CsError) -> PyResult<PyErr> {
    let module = py.import("csmetrics.exceptions")?;
    let attrs = PyDict::new(py);
    let class = match err {
        CsError::MissingColumn { column, .. } => {
            attrs.set_item("column", column)?;
            "MissingColumnError"
        }
        CsError::InvalidValue {
            column,
            row,
            value,
            rule,
        } => {
            attrs.set_item("column", column)?;
            attrs.set_item("row", row)?;
            attrs.set_item("value", value)?;
            attrs.set_item("rule", rule)?;
            "InvalidInputError"
        }
        CsError::InvalidType { column, rule, .. } => {
            attrs.set_item("column", column)?;
            attrs.set_item("rule", rule)?;
            "InvalidInputError"
        }
        CsError::InvalidOption {
            option,
            value,
            rule,
        } => {
            attrs.set_item("option", option)?;
            attrs.set_item("value", value)?;
            attrs.set_item("rule", rule)?;
            "InvalidInputError"
        }
        CsError::Convergence { .. } => "ConvergenceError",
        CsError::Polars(_) => "CsMetricsError",
    };
    let instance = module.getattr(class)?.call1((err.to_string(),))?;
    for (key, value) in attrs.iter() {
        instance.setattr(key.extract::<String>()?.as_str(), value)?;
    }
    Ok(PyErr::from_value(instance))
}

/// Runs `f`, turning a Rust panic into a Python RuntimeError instead of aborting the interpreter.
pub fn guard<T>(f: impl FnOnce() -> Result<T, CsError>) -> PyResult<T> {
    // The closure only reads its inputs; after a panic nothing of it is used again.
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(result) => result.map_err(to_py),
        Err(_) => Err(PyRuntimeError::new_err(
            "csmetrics: internal error (a bug: please report it with the input that caused it)",
        )),
    }
}
