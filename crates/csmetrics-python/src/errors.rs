//! Maps core errors to the exception classes of `csmetrics.exceptions`, in one place.

use csmetrics::CsError;
use polars::prelude::DataFrame;
use pyo3::exceptions::{PyOSError, PyRuntimeError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3_polars::PyDataFrame;

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
        CsError::StripeFormat {
            file,
            object_id,
            field,
            ..
        } => {
            attrs.set_item("file", file)?;
            if let Some(object_id) = object_id {
                attrs.set_item("object_id", object_id)?;
            }
            if let Some(field) = field {
                attrs.set_item("field", field)?;
            }
            "StripeFormatError"
        }
        CsError::Io { path, source } => {
            // OSError(errno, strerror, filename) is the subclass of the errno, as Python's own
            // open() raises it: FileNotFoundError, PermissionError, IsADirectoryError, ...
            let text = source.to_string();
            let reason = text.split(" (os error").next().unwrap_or(&text).to_string();
            return Ok(match source.raw_os_error() {
                Some(code) => PyOSError::new_err((code, reason, path.clone())),
                None => PyOSError::new_err(format!("{path}: {reason}")),
            });
        }
        CsError::Convergence { .. } => "ConvergenceError",
        CsError::Interrupted => {
            return Ok(pyo3::exceptions::PyKeyboardInterrupt::new_err(
                "interrupted",
            ));
        }
        CsError::Polars(_) => "CsMetricsError",
    };
    let instance = module.getattr(class)?.call1((err.to_string(),))?;
    for (key, value) in attrs.iter() {
        instance.setattr(key.extract::<String>()?.as_str(), value)?;
    }
    Ok(PyErr::from_value(instance))
}

/// The backstop of every entry point: an `InternalError` (a `CsMetricsError`) naming the
/// function and saying it is a bug. Tests show it is never reached.
pub fn internal(function: &str) -> PyErr {
    let message = format!(
        "csmetrics: internal error in {function} (a bug: please report it with the input that \
         caused it)"
    );
    Python::attach(|py| {
        match py
            .import("csmetrics.exceptions")
            .and_then(|m| m.getattr("InternalError"))
            .and_then(|class| class.call1((message.clone(),)))
        {
            Ok(instance) => PyErr::from_value(instance),
            Err(_) => PyRuntimeError::new_err(message),
        }
    })
}

/// Runs `f` (the core computing for `function`), turning a Rust panic into an `InternalError`
/// instead of letting it reach Python.
pub fn guard<T>(function: &str, f: impl FnOnce() -> Result<T, CsError>) -> PyResult<T> {
    // The closure only reads its inputs; after a panic nothing of it is used again.
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(result) => result.map_err(to_py),
        Err(_) => Err(internal(function)),
    }
}

/// Runs `f` (the core computing for `function`) on a worker thread without the GIL, under the
/// panic backstop of [`guard`], while this thread watches for Ctrl-C: on a KeyboardInterrupt
/// the core is asked to stop ([`csmetrics::interrupt`]) and the interrupt is raised once it has.
pub fn run<T: Send>(
    py: Python<'_>,
    function: &str,
    f: impl FnOnce() -> Result<T, CsError> + Send,
) -> PyResult<T> {
    use std::sync::mpsc::{channel, RecvTimeoutError};
    csmetrics::interrupt::clear();
    let mut interrupted: Option<PyErr> = None;
    let outcome = std::thread::scope(|scope| {
        let (done, finished) = channel::<()>();
        let worker = scope.spawn(move || {
            // The closure only reads its inputs; after a panic nothing of it is used again.
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
            let _ = done.send(());
            outcome
        });
        let mut finished = finished;
        loop {
            // The receiver is moved in and out: it may be sent to a thread but not shared.
            let (waited, back) = py.detach(move || {
                let waited = finished.recv_timeout(std::time::Duration::from_millis(50));
                (waited, finished)
            });
            finished = back;
            if !matches!(waited, Err(RecvTimeoutError::Timeout)) {
                break;
            }
            if interrupted.is_none() {
                if let Err(signal) = py.check_signals() {
                    csmetrics::interrupt::request();
                    interrupted = Some(signal);
                }
            }
        }
        worker.join()
    });
    csmetrics::interrupt::clear();
    if let Some(signal) = interrupted {
        return Err(signal);
    }
    match outcome {
        Ok(Ok(result)) => result.map_err(to_py),
        _ => Err(internal(function)),
    }
}

/// An input frame taken from Python Polars, converted under the same backstop: a column the
/// conversion cannot take becomes an `InternalError`, never a panic.
pub struct Frame(pub DataFrame);

impl<'a, 'py> FromPyObject<'a, 'py> for Frame {
    type Error = PyErr;

    fn extract(ob: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| ob.extract::<PyDataFrame>()))
        {
            Ok(frame) => Ok(Frame(frame?.0)),
            Err(_) => Err(internal("the conversion of the input frame")),
        }
    }
}

/// An option given in Python by its name (`"month"`, `"snapshot"`, ...), parsed by the core's
/// `FromStr`: a name the core does not know is the core's InvalidInputError naming the option
/// and the names allowed.
pub struct Choice<T>(pub T);

impl<'a, 'py, T: std::str::FromStr<Err = CsError>> FromPyObject<'a, 'py> for Choice<T> {
    type Error = PyErr;

    fn extract(ob: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let name: String = ob.extract()?;
        name.parse().map(Choice).map_err(to_py)
    }
}
