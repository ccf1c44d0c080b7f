//! The thread, error and value bridge: the one tokio runtime, blocking waits that release
//! the GIL and stay interruptible, awaitables, `flowai.errors` exceptions and JSON values.

use std::future::Future;
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::Duration;

use flowai_core::Error;
use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::Value;

/// How long a blocking wait sleeps between checks for Ctrl-C.
const SIGNAL_TICK: Duration = Duration::from_millis(100);

static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();

/// The process-wide multi-thread runtime, created on first use and shared with
/// pyo3-async-runtimes so awaitables and blocking calls run on the same threads.
pub fn runtime() -> PyResult<&'static tokio::runtime::Runtime> {
    if let Some(rt) = RUNTIME.get() {
        return Ok(rt);
    }
    let built = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("flowai-runtime")
        .build()
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start the flowai runtime: {e}")))?;
    // Another thread may have won the race; its runtime is the one kept.
    let rt = RUNTIME.get_or_init(|| built);
    let _ = pyo3_async_runtimes::tokio::init_with_runtime(rt);
    Ok(rt)
}

/// Run `fut` on the runtime and wait for it with the GIL released, checking for signals
/// every [`SIGNAL_TICK`] so Ctrl-C interrupts the wait (and cancels the task).
pub fn block_on<F, T>(py: Python<'_>, fut: F) -> PyResult<T>
where
    F: Future<Output = flowai_core::Result<T>> + Send + 'static,
    T: Send + 'static,
{
    let rt = runtime()?;
    let (tx, rx) = mpsc::sync_channel(1);
    let task = rt.spawn(async move {
        let _ = tx.send(fut.await);
    });
    let mut rx = rx;
    loop {
        // The receiver moves into the GIL-free closure and back (it is Send, not Sync).
        let (back, got) = py.detach(move || {
            let got = rx.recv_timeout(SIGNAL_TICK);
            (rx, got)
        });
        rx = back;
        match got {
            Ok(result) => return result.map_err(|e| to_pyerr(py, &e)),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Err(interrupt) = py.check_signals() {
                    task.abort();
                    return Err(interrupt);
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(to_pyerr(
                    py,
                    &Error::internal("the task ended without a result"),
                ));
            }
        }
    }
}

/// Wrap `fut` as an asyncio awaitable running on the runtime; the loop never blocks.
pub fn awaitable<'py, F, T>(py: Python<'py>, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = flowai_core::Result<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    runtime()?;
    let fut = match crate::aio::batched(py, fut)? {
        Ok(future) => return Ok(future),
        Err(fut) => fut,
    };
    pyo3_async_runtimes::tokio::future_into_py(py, async move {
        match fut.await {
            Ok(v) => Ok(v),
            Err(e) => Err(Python::attach(|py| to_pyerr(py, &e))),
        }
    })
}

static FROM_NATIVE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The `flowai.errors` exception matching the error's code, with `.code` and `.status`.
pub fn to_pyerr(py: Python<'_>, err: &Error) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let factory = FROM_NATIVE.get_or_try_init(py, || {
            py.import("flowai.errors")?
                .getattr("_from_native")
                .map(Bound::unbind)
        })?;
        let exc = factory
            .bind(py)
            .call1((err.code(), err.message(), err.status()))?;
        Ok(PyErr::from_value(exc))
    };
    // Without the Python package (the bare native module) the error still carries its code.
    build().unwrap_or_else(|_| PyRuntimeError::new_err(err.to_string()))
}

/// A JSON value handed to Python as dict / list / str / int / float / bool / None.
#[derive(Debug)]
pub struct Json(pub Value);

impl<'py> IntoPyObject<'py> for Json {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Self::Output> {
        to_py(py, &self.0)
    }
}

/// Convert a JSON value to the matching Python object.
pub fn to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                PyFloat::new(py, n.as_f64().unwrap_or(f64::NAN)).into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, to_py(py, v)?)?;
            }
            dict.into_any()
        }
    })
}

/// Convert a Python object made of dicts, lists, tuples, strings, numbers, bools and None
/// to JSON; anything else is a TypeError naming `what`.
pub fn from_py(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Value> {
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(i.into());
        }
        if let Ok(u) = obj.extract::<u64>() {
            return Ok(u.into());
        }
        return Err(PyTypeError::new_err(format!(
            "{what}: integer out of range"
        )));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        let f = f.value();
        return serde_json::Number::from_f64(f)
            .map(Value::Number)
            .ok_or_else(|| PyTypeError::new_err(format!("{what}: {f} is not a JSON number")));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::String(s.to_str()?.to_owned()));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = serde_json::Map::new();
        for (k, v) in d.iter() {
            let key = k
                .cast::<PyString>()
                .map_err(|_| PyTypeError::new_err(format!("{what}: dict keys must be str")))?
                .to_str()?
                .to_owned();
            map.insert(key, from_py(&v, what)?);
        }
        return Ok(Value::Object(map));
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let mut items = Vec::new();
        for item in obj.try_iter()? {
            items.push(from_py(&item?, what)?);
        }
        return Ok(Value::Array(items));
    }
    Err(PyTypeError::new_err(format!(
        "{what}: {} is not JSON-compatible",
        obj.get_type().name()?
    )))
}

/// Call a Python callback with `args`; an exception goes to `sys.unraisablehook`.
pub fn call_reporting(py: Python<'_>, callback: &Py<PyAny>, args: Bound<'_, PyTuple>) {
    if let Err(err) = callback.bind(py).call1(args) {
        err.write_unraisable(py, Some(callback.bind(py)));
    }
}

static MODELS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

/// A JSON value handed to Python as an instance of `flowai.models.<name>` (built by its
/// `_from_raw` class method), so results have attributes plus `.raw`.
#[derive(Debug)]
pub struct Model(pub &'static str, pub Value);

impl<'py> IntoPyObject<'py> for Model {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Self::Output> {
        model(py, self.0, &self.1)
    }
}

/// A list of models of one kind.
#[derive(Debug)]
pub struct Models(pub &'static str, pub Vec<Value>);

impl<'py> IntoPyObject<'py> for Models {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Self::Output> {
        let list = PyList::empty(py);
        for item in &self.1 {
            list.append(model(py, self.0, item)?)?;
        }
        Ok(list.into_any())
    }
}

/// Build `flowai.models.<name>` from a JSON value.
pub fn model<'py>(py: Python<'py>, name: &str, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    let module = MODELS.get_or_try_init(py, || py.import("flowai.models").map(Bound::unbind))?;
    let raw = to_py(py, value)?;
    module
        .bind(py)
        .getattr(name)?
        .call_method1("_from_raw", (raw,))
}

/// Serialise any serde value for Python; serialisation of the core's own models cannot fail,
/// but a failure would still surface as `InternalError`, not a panic.
pub fn json_of<T: serde::Serialize>(value: &T) -> flowai_core::Result<Value> {
    serde_json::to_value(value).map_err(|e| Error::internal(e.to_string()))
}

/// A Python callable plus the asyncio loop that was running when it was registered.
///
/// Calls enter Python from a runtime thread; with a loop they are scheduled on it with
/// `call_soon_threadsafe` instead. Exceptions go to `sys.unraisablehook`, never further.
#[derive(Debug)]
pub struct Callback {
    func: Py<PyAny>,
    event_loop: Option<Py<PyAny>>,
    /// Where session events for this callback are queued for its loop, without the GIL.
    inbox: Option<crate::aio::LoopInbox>,
}

impl Callback {
    /// Check `func` is callable and remember the running loop, if any.
    pub fn new(py: Python<'_>, func: Bound<'_, PyAny>, what: &str) -> PyResult<Self> {
        if !func.is_callable() {
            return Err(PyTypeError::new_err(format!("{what} must be callable")));
        }
        let event_loop = py.import("asyncio")?.call_method0("get_running_loop").ok();
        let inbox = event_loop
            .as_ref()
            .and_then(|l| crate::aio::LoopInbox::of(py, l).ok());
        Ok(Callback {
            func: func.unbind(),
            event_loop: event_loop.map(Bound::unbind),
            inbox,
        })
    }

    /// The inbox of the callback's loop, when it has one reachable without the GIL.
    pub fn inbox(&self) -> Option<&crate::aio::LoopInbox> {
        self.inbox.as_ref()
    }

    /// Call it on this thread, with the GIL held; exceptions go to `sys.unraisablehook`.
    pub fn call_here(&self, py: Python<'_>, args: Bound<'_, PyTuple>) {
        call_reporting(py, &self.func, args);
    }

    /// Deliver the arguments `make` builds with the GIL held.
    pub fn call(&self, make: impl for<'py> FnOnce(Python<'py>) -> PyResult<Bound<'py, PyTuple>>) {
        let _ = Python::try_attach(|py| {
            let arg = match make(py) {
                Ok(arg) => arg,
                Err(err) => {
                    err.write_unraisable(py, Some(self.func.bind(py)));
                    return;
                }
            };
            self.deliver(py, arg);
        });
    }

    /// Deliver with the GIL held and say whether the app accepted it: a direct call that
    /// raises or returns `False` declines; a call scheduled on a loop counts as accepted.
    pub fn deliver_acked(&self, py: Python<'_>, arg: Bound<'_, PyAny>) -> bool {
        if self.event_loop.is_some() {
            let Ok(args) = PyTuple::new(py, [arg]) else {
                return false;
            };
            self.deliver(py, args);
            return true;
        }
        match self.func.bind(py).call1((arg,)) {
            Ok(result) => !result.is(&*PyBool::new(py, false)),
            Err(err) => {
                err.write_unraisable(py, Some(self.func.bind(py)));
                false
            }
        }
    }

    /// Deliver with the GIL already held.
    pub fn deliver(&self, py: Python<'_>, args: Bound<'_, PyTuple>) {
        match &self.event_loop {
            Some(event_loop) => {
                let scheduled = invoker(py).and_then(|invoke| {
                    event_loop
                        .bind(py)
                        .call_method1("call_soon_threadsafe", (invoke, self.func.bind(py), args))
                });
                if let Err(err) = scheduled {
                    // The loop is closed: the event cannot reach the app, so say so.
                    err.write_unraisable(py, Some(self.func.bind(py)));
                }
            }
            None => call_reporting(py, &self.func, args),
        }
    }
}

/// Run a callback on the asyncio loop, sending its exception to `sys.unraisablehook`.
#[pyfunction]
fn _invoke_callback(py: Python<'_>, func: Py<PyAny>, args: Bound<'_, PyTuple>) {
    call_reporting(py, &func, args);
}

static INVOKER: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn invoker(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    INVOKER
        .get_or_try_init(py, || {
            wrap_pyfunction!(_invoke_callback, py).map(|f| f.into_any().unbind())
        })
        .map(|f| f.bind(py))
}
