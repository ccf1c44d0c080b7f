//! `Handle` and `Events`: a flowai-ffi object and its event queue as Python classes.

use std::sync::Arc;

use flowai_ffi::queue::{EventQueue, MAX_BATCH, Taken, json_array};
use flowai_ffi::{Case, Reply};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3_async_runtimes::tokio::future_into_py;
use serde_json::Value;

use crate::convert::{block_on, deadline, from_json, object, to_pyerr, wait_for};

/// An open object of some kind, called by method name with a dict of arguments; each class
/// of `flowai._api` wraps one.
#[pyclass(module = "flowai._flowai", frozen)]
#[derive(Debug)]
pub struct Handle(pub flowai_ffi::Handle);

/// A finished call or open, turned into Python where the GIL is held (by pyo3-async-runtimes
/// when it resolves an awaitable, so a runtime thread never waits for the GIL twice).
pub struct Out(pub flowai_ffi::Result<Reply>);

impl<'py> IntoPyObject<'py> for Out {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self.0 {
            Ok(Reply::Value(value)) => Ok(from_json(py, &value)?.into_bound(py)),
            Ok(Reply::Handle(handle)) => Ok(Bound::new(py, Handle(handle))?.into_any()),
            Err(e) => Err(to_pyerr(py, &e)),
        }
    }
}

#[pymethods]
impl Handle {
    /// Open an object of `kind` with `settings` (the `FLOWAI_*` environment fills the
    /// rest): sessions and AIDA clients connect, receivers bind. The GIL is released.
    #[staticmethod]
    #[pyo3(signature = (kind, settings=None))]
    fn open(
        py: Python<'_>,
        kind: String,
        settings: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Handle> {
        let settings = object(settings)?;
        let opened = block_on(py, async move {
            flowai_ffi::Handle::open(&kind, settings, Case::Snake).await
        });
        opened.map(Handle)
    }

    /// `open` as an awaitable of the running asyncio loop.
    #[staticmethod]
    #[pyo3(signature = (kind, settings=None))]
    fn open_async<'py>(
        py: Python<'py>,
        kind: String,
        settings: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let settings = object(settings)?;
        future_into_py(py, async move {
            let opened = flowai_ffi::Handle::open(&kind, settings, Case::Snake).await;
            Ok(Out(opened.map(Reply::Handle)))
        })
    }

    /// Call `method` with `args`: the result as Python, a new Handle for a method that
    /// makes an object. The GIL is released; inside a callback this is FLOWAI_MISUSE.
    #[pyo3(signature = (method, args=None))]
    fn call(
        &self,
        py: Python<'_>,
        method: String,
        args: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        let (handle, args) = (self.0.clone(), object(args)?);
        let reply = block_on(py, async move { handle.call(&method, args).await })?;
        Out(Ok(reply)).into_pyobject(py).map(Bound::unbind)
    }

    /// `call` as an awaitable of the running asyncio loop.
    #[pyo3(signature = (method, args=None))]
    fn call_async<'py>(
        &self,
        py: Python<'py>,
        method: String,
        args: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (handle, args) = (self.0.clone(), object(args)?);
        future_into_py(py, async move { Ok(Out(handle.call(&method, args).await)) })
    }

    /// End the object; its events then end with `closed`. Closing twice is fine; inside a
    /// callback the close goes on in the background.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let handle = self.0.clone();
        py.detach(move || handle.close_blocking())
            .map_err(|e| to_pyerr(py, &e))
    }

    /// `close` as an awaitable of the running asyncio loop.
    fn close_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let handle = self.0.clone();
        future_into_py(py, async move {
            Ok(Out(handle
                .close()
                .await
                .map(|()| Reply::Value(Value::Null))))
        })
    }

    /// The kind's name (`"session"`).
    #[getter]
    fn kind(&self) -> &'static str {
        self.0.kind()
    }

    /// Whether the object was closed or ended by itself.
    #[getter]
    fn closed(&self) -> bool {
        self.0.is_closed()
    }

    /// The object's event queue.
    #[getter]
    fn events(&self) -> Events {
        Events(self.0.events().clone())
    }

    fn __repr__(&self) -> String {
        let state = if self.0.is_closed() { " closed" } else { "" };
        format!("<flowai._flowai.Handle {}{state}>", self.0.kind())
    }
}

/// The event queue of one object, apart from its Handle so that a dispatch thread holding
/// it does not keep the object alive: a dropped object still closes and its events end.
#[pyclass(module = "flowai._flowai", frozen)]
#[derive(Debug)]
pub struct Events(Arc<EventQueue>);

#[pymethods]
impl Events {
    /// Up to `max` events as JSON text `[{"event": ..., "payload": {...}}, ...]`, waiting
    /// up to `timeout` seconds for the first (None: no limit) with the GIL released;
    /// `"[]"` when none came in time, None once `closed` has been taken. Inside a callback
    /// this is FLOWAI_MISUSE: the callback's own thread may be the one that delivers.
    #[pyo3(signature = (max=MAX_BATCH, timeout=None))]
    fn take_events(
        &self,
        py: Python<'_>,
        max: usize,
        timeout: Option<f64>,
    ) -> PyResult<Option<String>> {
        flowai_ffi::runtime::ensure_may_block().map_err(|e| to_pyerr(py, &e))?;
        let queue = &self.0;
        let taken = wait_for(py, deadline(timeout)?, |slice| {
            match queue.take_blocking(max, slice) {
                Taken::Empty => None,
                taken => Some(taken),
            }
        })?;
        Ok(match taken {
            Some(Taken::Events(batch)) => Some(json_array(&batch)),
            Some(Taken::End) => None,
            Some(Taken::Empty) | None => Some("[]".to_string()),
        })
    }
}
