//! `Session`: a Flow Socket conversation with callbacks, blocking and async iteration, and context managers.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use flowai_core::models::Originator;
use flowai_core::socket::{self as core, OutgoingMessage, SessionOptions};
use flowai_core::{Config, Error};
use pyo3::exceptions::{PyStopAsyncIteration, PyStopIteration};
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::bridge::{Callback, Json, Model, awaitable, block_on, from_py, json_of, to_pyerr};
use crate::dispatch::{Handlers, spawn_pump};
use crate::messaging::{duration, options};

/// Events kept for iteration when no callback is registered.
type Queue = Arc<tokio::sync::Mutex<mpsc::Receiver<Value>>>;

/// One Flow Socket session (one end user talking to the bot).
///
/// Events (`connected`, `delivered`, `reply`, `agent_typing`, `interruption`, `error`,
/// `reconnecting`, `disconnected`, `closed`, or an unknown frame's own type) come in order,
/// one at a time, `closed` last. Consume them with callbacks (`on_event=` or
/// `session.on("reply", fn)`), or by iterating (`for` / `async for`) when no callback is
/// registered. Callbacks run with the GIL on the session's event thread, or on the asyncio
/// loop that was running when they were registered; their exceptions go to
/// `sys.unraisablehook` and the session goes on.
#[pyclass(module = "flowai._flowai", frozen)]
#[derive(Debug)]
pub struct Session {
    inner: core::Session,
    handlers: Handlers,
    queue: Queue,
}

struct Connect {
    options: SessionOptions,
    handlers: Handlers,
    capacity: usize,
}

fn prepare(
    py: Python<'_>,
    client_id: Option<String>,
    api_url: Option<String>,
    thread_id: Option<String>,
    session_id: Option<String>,
    on_event: Option<Bound<'_, PyAny>>,
    originator: Option<Bound<'_, PyAny>>,
    send_timeout: Option<f64>,
    connect_timeout: Option<f64>,
    ping_interval: Option<f64>,
    pong_timeout: Option<f64>,
    queue_capacity: Option<usize>,
    event_capacity: Option<usize>,
) -> PyResult<Connect> {
    let err = |e: Error| to_pyerr(py, &e);
    let mut config = Config::from_env();
    if let Some(url) = api_url {
        config = config.with_api_url(url);
    }
    if let Some(id) = client_id {
        config = config.with_client_id(id);
    }
    let mut options = SessionOptions::from_config(&config).map_err(err)?;
    options.thread_id = thread_id;
    options.session_id = session_id;
    if let Some(o) = originator.filter(|o| !o.is_none()) {
        options.originator = Some(originator_of(&o)?);
    }
    if let Some(s) = send_timeout {
        options.send_timeout = duration(s, "send_timeout").map_err(err)?;
    }
    if let Some(s) = connect_timeout {
        options.connect_timeout = duration(s, "connect_timeout").map_err(err)?;
    }
    if let Some(s) = ping_interval {
        options.ping_interval = duration(s, "ping_interval").map_err(err)?;
    }
    if let Some(s) = pong_timeout {
        options.pong_timeout = duration(s, "pong_timeout").map_err(err)?;
    }
    if let Some(n) = queue_capacity {
        options.queue_capacity = n;
    }
    if let Some(n) = event_capacity {
        options.event_capacity = n;
    }
    let mut handlers = Vec::new();
    if let Some(f) = on_event.filter(|f| !f.is_none()) {
        handlers.push(("*".to_string(), Arc::new(Callback::new(py, f, "on_event")?)));
    }
    let capacity = options.event_capacity.max(1);
    Ok(Connect {
        options,
        handlers: Arc::new(Mutex::new(handlers)),
        capacity,
    })
}

async fn connect(c: Connect) -> flowai_core::Result<Session> {
    let (inner, events) = core::Session::connect(c.options).await?;
    let (tx, rx) = mpsc::channel(c.capacity);
    spawn_pump(events, c.handlers.clone(), tx)?;
    Ok(Session {
        inner,
        handlers: c.handlers,
        queue: Arc::new(tokio::sync::Mutex::new(rx)),
    })
}

fn originator_of(obj: &Bound<'_, PyAny>) -> PyResult<Originator> {
    if !obj.is_instance_of::<pyo3::types::PyDict>() {
        return Err(pyo3::exceptions::PyTypeError::new_err(
            "originator must be a dict",
        ));
    }
    let value = from_py(obj, "originator")?;
    serde_json::from_value(value).map_err(|e| {
        to_pyerr(
            obj.py(),
            &Error::invalid(format!("originator is not valid: {e}")),
        )
    })
}

fn outgoing(
    py: Python<'_>,
    text: Option<String>,
    event: Option<String>,
    trace_id: Option<u64>,
    lang: Option<String>,
    timezone: Option<f64>,
    params: Option<Bound<'_, PyAny>>,
    originator: Option<Bound<'_, PyAny>>,
) -> PyResult<OutgoingMessage> {
    let mut message = match (text, event) {
        (text, Some(name)) => {
            let mut m = OutgoingMessage::event(name);
            if let Some(t) = text {
                m.speech = t;
            }
            m
        }
        (Some(text), None) => OutgoingMessage::text(text),
        (None, None) => {
            return Err(to_pyerr(py, &Error::invalid("give a text or an event")));
        }
    };
    message.trace_id = trace_id;
    let opts = options(None, lang, timezone, params.as_ref())?;
    if opts.lang.is_some() || opts.timezone.is_some() || opts.params.is_some() {
        message.metadata = Some(core::MessageMetadata {
            language: opts.lang,
            timezone: opts.timezone,
            params: opts.params,
        });
    }
    if let Some(o) = originator.filter(|o| !o.is_none()) {
        message.originator = Some(originator_of(&o)?);
    }
    Ok(message)
}

fn delivered(d: flowai_core::models::Delivered) -> flowai_core::Result<Model> {
    Ok(Model("Delivered", json_of(&d)?))
}

#[pymethods]
impl Session {
    /// Connect and return the running session (it reconnects on its own afterwards).
    #[staticmethod]
    #[pyo3(signature = (*, client_id=None, api_url=None, thread_id=None, session_id=None, on_event=None, originator=None, send_timeout=None, connect_timeout=None, ping_interval=None, pong_timeout=None, queue_capacity=None, event_capacity=None))]
    fn connect(
        py: Python<'_>,
        client_id: Option<String>,
        api_url: Option<String>,
        thread_id: Option<String>,
        session_id: Option<String>,
        on_event: Option<Bound<'_, PyAny>>,
        originator: Option<Bound<'_, PyAny>>,
        send_timeout: Option<f64>,
        connect_timeout: Option<f64>,
        ping_interval: Option<f64>,
        pong_timeout: Option<f64>,
        queue_capacity: Option<usize>,
        event_capacity: Option<usize>,
    ) -> PyResult<Session> {
        let c = prepare(
            py,
            client_id,
            api_url,
            thread_id,
            session_id,
            on_event,
            originator,
            send_timeout,
            connect_timeout,
            ping_interval,
            pong_timeout,
            queue_capacity,
            event_capacity,
        )?;
        block_on(py, connect(c))
    }

    /// The asyncio form of `connect`.
    #[staticmethod]
    #[pyo3(signature = (*, client_id=None, api_url=None, thread_id=None, session_id=None, on_event=None, originator=None, send_timeout=None, connect_timeout=None, ping_interval=None, pong_timeout=None, queue_capacity=None, event_capacity=None))]
    fn connect_async<'py>(
        py: Python<'py>,
        client_id: Option<String>,
        api_url: Option<String>,
        thread_id: Option<String>,
        session_id: Option<String>,
        on_event: Option<Bound<'py, PyAny>>,
        originator: Option<Bound<'py, PyAny>>,
        send_timeout: Option<f64>,
        connect_timeout: Option<f64>,
        ping_interval: Option<f64>,
        pong_timeout: Option<f64>,
        queue_capacity: Option<usize>,
        event_capacity: Option<usize>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let c = prepare(
            py,
            client_id,
            api_url,
            thread_id,
            session_id,
            on_event,
            originator,
            send_timeout,
            connect_timeout,
            ping_interval,
            pong_timeout,
            queue_capacity,
            event_capacity,
        )?;
        awaitable(py, connect(c))
    }

    /// The thread (end user) this session talks as.
    #[getter]
    fn thread_id(&self) -> &str {
        self.inner.thread_id()
    }

    /// Whether the session has ended.
    #[getter]
    fn closed(&self) -> bool {
        self.inner.is_closed()
    }

    fn __repr__(&self) -> String {
        format!(
            "Session(thread_id={:?}, closed={})",
            self.inner.thread_id(),
            self.inner.is_closed()
        )
    }

    /// Call `callback(event)` for events of `event_type` (`"*"` for all); returns `callback`.
    fn on<'py>(
        &self,
        py: Python<'py>,
        event_type: String,
        callback: Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let cb = Arc::new(Callback::new(py, callback.clone(), "callback")?);
        self.handlers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((event_type, cb));
        Ok(callback)
    }

    /// Send a text (or an event with `event=`); returns the `Delivered` echo.
    #[pyo3(signature = (text=None, *, event=None, trace_id=None, lang=None, timezone=None, params=None, originator=None))]
    fn send(
        &self,
        py: Python<'_>,
        text: Option<String>,
        event: Option<String>,
        trace_id: Option<u64>,
        lang: Option<String>,
        timezone: Option<f64>,
        params: Option<Bound<'_, PyAny>>,
        originator: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Model> {
        let m = outgoing(
            py, text, event, trace_id, lang, timezone, params, originator,
        )?;
        let s = self.inner.clone();
        block_on(py, async move { delivered(s.send(m).await?) })
    }

    #[pyo3(signature = (text=None, *, event=None, trace_id=None, lang=None, timezone=None, params=None, originator=None))]
    fn send_async<'py>(
        &self,
        py: Python<'py>,
        text: Option<String>,
        event: Option<String>,
        trace_id: Option<u64>,
        lang: Option<String>,
        timezone: Option<f64>,
        params: Option<Bound<'py, PyAny>>,
        originator: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let m = outgoing(
            py, text, event, trace_id, lang, timezone, params, originator,
        )?;
        let s = self.inner.clone();
        awaitable(py, async move { delivered(s.send(m).await?) })
    }

    fn send_text(&self, py: Python<'_>, text: String) -> PyResult<Model> {
        let s = self.inner.clone();
        block_on(py, async move { delivered(s.send_text(text).await?) })
    }

    fn send_text_async<'py>(&self, py: Python<'py>, text: String) -> PyResult<Bound<'py, PyAny>> {
        let s = self.inner.clone();
        awaitable(py, async move { delivered(s.send_text(text).await?) })
    }

    fn send_event(&self, py: Python<'_>, event_name: String) -> PyResult<Model> {
        let s = self.inner.clone();
        block_on(
            py,
            async move { delivered(s.send_event(event_name).await?) },
        )
    }

    fn send_event_async<'py>(
        &self,
        py: Python<'py>,
        event_name: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let s = self.inner.clone();
        awaitable(
            py,
            async move { delivered(s.send_event(event_name).await?) },
        )
    }

    /// Tell the service the user is typing.
    fn typing(&self, py: Python<'_>) -> PyResult<()> {
        let s = self.inner.clone();
        block_on(py, async move { s.typing().await })
    }

    fn typing_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let s = self.inner.clone();
        awaitable(py, async move { s.typing().await })
    }

    /// Tell the service the user saw the messages.
    fn noticed(&self, py: Python<'_>) -> PyResult<()> {
        let s = self.inner.clone();
        block_on(py, async move { s.noticed().await })
    }

    fn noticed_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let s = self.inner.clone();
        awaitable(py, async move { s.noticed().await })
    }

    /// The thread's messages as the service returns them.
    fn history(&self, py: Python<'_>) -> PyResult<Json> {
        let s = self.inner.clone();
        block_on(py, async move { Ok(Json(s.history().await?)) })
    }

    fn history_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let s = self.inner.clone();
        awaitable(py, async move { Ok(Json(s.history().await?)) })
    }

    /// The messages the user has not noticed yet.
    fn unnoticed(&self, py: Python<'_>) -> PyResult<Json> {
        let s = self.inner.clone();
        block_on(py, async move { Ok(Json(s.unnoticed().await?)) })
    }

    fn unnoticed_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let s = self.inner.clone();
        awaitable(py, async move { Ok(Json(s.unnoticed().await?)) })
    }

    /// Upload a file to the thread, streamed; `progress(sent, total)` reports bytes sent.
    #[pyo3(signature = (path, *, progress=None))]
    fn upload(
        &self,
        py: Python<'_>,
        path: PathBuf,
        progress: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Json> {
        let p = progress_fn(py, progress)?;
        let s = self.inner.clone();
        block_on(py, async move { Ok(Json(s.upload(path, p).await?)) })
    }

    #[pyo3(signature = (path, *, progress=None))]
    fn upload_async<'py>(
        &self,
        py: Python<'py>,
        path: PathBuf,
        progress: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let p = progress_fn(py, progress)?;
        let s = self.inner.clone();
        awaitable(py, async move { Ok(Json(s.upload(path, p).await?)) })
    }

    /// Close gracefully; pending sends fail with `ClosedError`, `closed` is the last event.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let s = self.inner.clone();
        block_on(py, async move { s.close().await })
    }

    fn close_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let s = self.inner.clone();
        awaitable(py, async move { s.close().await })
    }

    /// The next event, waiting at most `timeout` seconds (None: no limit); None after `closed`
    /// or on timeout.
    #[pyo3(signature = (timeout=None))]
    fn next_event(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<Model>> {
        let limit = timeout
            .map(|t| duration(t, "timeout"))
            .transpose()
            .map_err(|e| to_pyerr(py, &e))?;
        let q = self.queue.clone();
        block_on(py, async move {
            let next = async { q.lock().await.recv().await };
            let got = match limit {
                Some(limit) => tokio::time::timeout(limit, next).await.ok().flatten(),
                None => next.await,
            };
            Ok(got.map(|v| Model("Event", v)))
        })
    }

    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Model> {
        let q = self.queue.clone();
        match block_on(py, async move { Ok(q.lock().await.recv().await) })? {
            Some(v) => Ok(Model("Event", v)),
            None => Err(PyStopIteration::new_err(())),
        }
    }

    fn __aiter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __anext__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let q = self.queue.clone();
        crate::bridge::runtime()?;
        pyo3_async_runtimes::tokio::future_into_py(py, async move {
            match q.lock().await.recv().await {
                Some(v) => Ok(Model("Event", v)),
                None => Err(PyStopAsyncIteration::new_err(())),
            }
        })
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    fn __aenter__<'py>(slf: Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let me = slf.clone().unbind();
        awaitable(slf.py(), async move { Ok(me) })
    }

    #[pyo3(signature = (*_args))]
    fn __aexit__<'py>(
        &self,
        py: Python<'py>,
        _args: &Bound<'py, PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let s = self.inner.clone();
        awaitable(py, async move {
            s.close().await?;
            Ok(false)
        })
    }
}

fn progress_fn(
    py: Python<'_>,
    progress: Option<Bound<'_, PyAny>>,
) -> PyResult<Option<core::Progress>> {
    Ok(match progress.filter(|p| !p.is_none()) {
        Some(p) => {
            let cb = Arc::new(Callback::new(py, p, "progress")?);
            let f: core::Progress = Arc::new(move |sent: u64, total: u64| {
                cb.call(|py| (sent, total).into_pyobject(py));
            });
            Some(f)
        }
        None => None,
    })
}
