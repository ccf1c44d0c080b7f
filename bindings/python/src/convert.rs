//! Conversions at the Python boundary: values to JSON and back, errors to `flowai.FlowAIError` subclasses, waits with the GIL released.

use std::cell::Cell;
use std::future::Future;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use flowai_ffi::Error;
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::{Map, Number, Value};

/// How long a wait on the main thread sleeps between checks for Ctrl-C.
const TICK: Duration = Duration::from_millis(100);

/// Deeper values are refused, so a self-referencing list cannot exhaust the stack.
const MAX_DEPTH: usize = 128;

/// A Python value as JSON: None, bool, int, float, str, list, tuple and dict with str keys.
/// Anything else is a TypeError naming its type (never its value, which may be a secret).
pub fn to_json(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    json_at(obj, 0)
}

fn json_at(obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(PyValueError::new_err("a value is nested too deeply"));
    }
    if obj.is_none() {
        Ok(Value::Null)
    } else if let Ok(b) = obj.cast::<PyBool>() {
        Ok(Value::Bool(b.is_true()))
    } else if obj.is_instance_of::<PyInt>() {
        match obj.extract::<i64>() {
            Ok(i) => Ok(i.into()),
            Err(_) => Ok(obj.extract::<u64>()?.into()),
        }
    } else if let Ok(f) = obj.cast::<PyFloat>() {
        Number::from_f64(f.value())
            .map(Value::Number)
            .ok_or_else(|| PyValueError::new_err("NaN and infinity are not JSON numbers"))
    } else if let Ok(s) = obj.cast::<PyString>() {
        Ok(Value::String(s.to_str()?.to_owned()))
    } else if let Ok(dict) = obj.cast::<PyDict>() {
        let mut map = Map::new();
        for (key, value) in dict.iter() {
            let Ok(key) = key.cast::<PyString>() else {
                let ty = key.get_type().name()?;
                return Err(PyTypeError::new_err(format!("keys must be str, not {ty}")));
            };
            map.insert(key.to_str()?.to_owned(), json_at(&value, depth + 1)?);
        }
        Ok(Value::Object(map))
    } else if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        obj.try_iter()?
            .map(|item| json_at(&item?, depth + 1))
            .collect::<PyResult<Vec<Value>>>()
            .map(Value::Array)
    } else {
        let ty = obj.get_type().name()?;
        Err(PyTypeError::new_err(format!(
            "a {ty} cannot be passed to flowai (JSON values only)"
        )))
    }
}

/// Settings or arguments: a dict (or None) as a JSON object (or null).
pub fn object(dict: Option<&Bound<'_, PyDict>>) -> PyResult<Value> {
    dict.map_or(Ok(Value::Null), |d| to_json(d.as_any()))
}

/// A JSON value as Python, through `json.loads` (C-fast, and the same rules as the
/// standard library's).
pub fn from_json(py: Python<'_>, value: &Value) -> PyResult<Py<PyAny>> {
    static LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    if value.is_null() {
        return Ok(py.None());
    }
    let loads = LOADS.import(py, "json", "loads")?;
    Ok(loads.call1((value.to_string(),))?.unbind())
}

/// The `flowai.FlowAIError` subclass of the error's code (made by the generated
/// `flowai._api._error`), with `.code`, `.message` and `.status`.
pub fn to_pyerr(py: Python<'_>, error: &Error) -> PyErr {
    static MAKE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let made = MAKE
        .import(py, "flowai._api", "_error")
        .and_then(|make| make.call1((error.code(), error.message(), error.status())));
    match made {
        Ok(exc) => PyErr::from_value(exc),
        // Only when the package is broken; the code still shows.
        Err(_) => plain_error(error),
    }
}

/// The error as a RuntimeError, for when the package's classes cannot be reached.
pub fn plain_error(error: &Error) -> PyErr {
    PyRuntimeError::new_err(format!("{}: {}", error.code(), error.message()))
}

thread_local! {
    /// Whether this thread is Python's main thread, the only one that handles signals.
    static MAIN: Cell<Option<bool>> = const { Cell::new(None) };
}

fn on_main_thread(py: Python<'_>) -> bool {
    MAIN.with(|main| {
        if let Some(known) = main.get() {
            return known;
        }
        let is_main = py.import("threading").and_then(|t| {
            Ok(t.call_method0("main_thread")?
                .is(&t.call_method0("current_thread")?))
        });
        let is_main = is_main.unwrap_or(true);
        main.set(Some(is_main));
        is_main
    })
}

/// Wait with the GIL released until `ready(slice)` gives something or `deadline` passes
/// (Ok(None)). On the main thread the wait goes in slices so Ctrl-C raises
/// KeyboardInterrupt; other threads get no signals, so they wait in one go.
pub fn wait_for<T: Send>(
    py: Python<'_>,
    deadline: Option<Instant>,
    ready: impl Fn(Option<Duration>) -> Option<T> + Sync,
) -> PyResult<Option<T>> {
    let main = on_main_thread(py);
    loop {
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let slice = if main {
            Some(left.map_or(TICK, |left| left.min(TICK)))
        } else {
            left
        };
        if let Some(got) = py.detach(|| ready(slice)) {
            return Ok(Some(got));
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(None);
        }
        py.check_signals()?;
    }
}

/// A timeout in seconds as a deadline; None or infinity wait without limit.
pub fn deadline(timeout: Option<f64>) -> PyResult<Option<Instant>> {
    match timeout {
        None => Ok(None),
        Some(t) if t.is_nan() => Err(PyValueError::new_err("timeout must be a number")),
        Some(t) if t.is_infinite() => Ok(None),
        Some(t) => {
            let span = Duration::try_from_secs_f64(t.max(0.0))
                .map_err(|e| PyValueError::new_err(format!("timeout: {e}")))?;
            Ok(Instant::now().checked_add(span))
        }
    }
}

/// Run `future` on the runtime and wait for it from an app thread, the GIL released;
/// `FLOWAI_MISUSE` on an SDK thread (inside a callback), where waiting would deadlock.
/// Ctrl-C ends the wait and cancels the task.
pub fn block_on<T: Send + 'static>(
    py: Python<'_>,
    future: impl Future<Output = flowai_ffi::Result<T>> + Send + 'static,
) -> PyResult<T> {
    let failed = |e: Error| to_pyerr(py, &e);
    flowai_ffi::runtime::ensure_may_block().map_err(failed)?;
    let rt = flowai_ffi::runtime::runtime().map_err(failed)?;
    let (tx, rx) = mpsc::sync_channel(1);
    let task = rt.spawn(async move {
        let _ = tx.send(future.await);
    });
    let lost = || Err(Error::internal("the call ended without a result"));
    let rx = Mutex::new(rx);
    let got = wait_for(py, None, |slice| {
        let rx = rx.lock().unwrap_or_else(PoisonError::into_inner);
        match slice {
            None => Some(rx.recv().unwrap_or_else(|_| lost())),
            Some(slice) => match rx.recv_timeout(slice) {
                Ok(result) => Some(result),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => Some(lost()),
            },
        }
    });
    match got {
        Ok(Some(result)) => result.map_err(failed),
        Ok(None) => lost().map_err(failed),
        Err(interrupted) => {
            task.abort();
            Err(interrupted)
        }
    }
}
