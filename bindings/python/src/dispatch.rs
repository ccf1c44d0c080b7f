//! Session event dispatch: one thread per session reads the core's events in batches and hands them to Python callbacks or the iteration queue.

use std::sync::{Arc, Mutex};

use flowai_core::Error;
use flowai_core::socket::{self as core, SessionEvent};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::bridge::{Callback, json_of, to_py};

/// Registered callbacks: `(event type or "*", callback)`, cleared after `closed`.
pub type Handlers = Arc<Mutex<Vec<(String, Arc<Callback>)>>>;

/// Events handed over per GIL acquisition at most, so a burst cannot starve other threads.
const BATCH: usize = 256;

/// Where the pump reads events from: a session's events, or a plain channel (benchmarks).
pub trait EventSource: Send + 'static {
    /// Wait for the next event; None once the source has ended.
    fn wait_next(&mut self) -> Option<SessionEvent>;
    /// An event when one is ready now.
    fn ready_next(&mut self) -> Option<SessionEvent>;
}

impl EventSource for core::SessionEvents {
    fn wait_next(&mut self) -> Option<SessionEvent> {
        self.blocking_next()
    }
    fn ready_next(&mut self) -> Option<SessionEvent> {
        self.try_next()
    }
}

impl EventSource for mpsc::Receiver<SessionEvent> {
    fn wait_next(&mut self) -> Option<SessionEvent> {
        self.blocking_recv()
    }
    fn ready_next(&mut self) -> Option<SessionEvent> {
        self.try_recv().ok()
    }
}

/// Add `first` and every event ready now to `batch`, up to [`BATCH`].
fn fill<S: EventSource>(source: &mut S, first: SessionEvent, batch: &mut Vec<SessionEvent>) {
    batch.push(first);
    while batch.len() < BATCH {
        match source.ready_next() {
            Some(event) => batch.push(event),
            None => break,
        }
    }
}

/// Read `source` in batches (`wait` for one event, then take what is ready, up to
/// [`BATCH`]) and give each batch to `sink` until the source ends or `sink` says `closed`
/// was handled.
pub fn pump<S: EventSource>(
    mut source: S,
    mut wait: impl FnMut(&mut S) -> Option<SessionEvent>,
    mut sink: impl FnMut(&mut Vec<SessionEvent>) -> bool,
) {
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(first) = wait(&mut source) {
        fill(&mut source, first, &mut batch);
        let done = sink(&mut batch);
        batch.clear();
        if done {
            break;
        }
    }
}

/// An event with the callbacks that must be called on the event thread itself.
type OnThread = (Arc<SessionEvent>, Vec<Arc<Callback>>);

/// Why the event thread came back to take the GIL.
enum Step {
    /// Some events have callbacks to call on this thread.
    OnThread,
    /// `closed` was routed: deliver what is left and release the callbacks.
    Closed,
    /// The source ended without `closed`.
    Ended,
}

/// Start the thread that reads a session's events (its own thread, so callbacks may block,
/// even on this session's blocking calls).
///
/// Waiting and routing happen without the GIL: events for callbacks registered on an
/// asyncio loop go to that loop's inbox (the loop builds the event objects and calls them
/// in order), and the iteration queue takes plain JSON. The GIL is taken only for callbacks
/// called on this thread, so a session whose callbacks live on a loop never contends for
/// it here. The thread stays attached to the interpreter for its whole life: re-creating a
/// Python thread state for every wake-up costs more than delivering a whole batch.
pub fn spawn_pump<S: EventSource>(
    source: S,
    handlers: Handlers,
    queue: mpsc::Sender<Value>,
) -> Result<std::thread::JoinHandle<()>, Error> {
    std::thread::Builder::new()
        .name("flowai-session".into())
        .spawn(move || {
            let mut source = source;
            // Without an interpreter (it is shutting down) nothing can be delivered any more.
            let _ = Python::try_attach(|py| {
                let (mut batch, mut on_thread) = (Vec::with_capacity(BATCH), Vec::new());
                loop {
                    let step = py.detach(|| {
                        route(&mut source, &mut batch, &handlers, &queue, &mut on_thread)
                    });
                    deliver_here(py, &mut on_thread);
                    if !matches!(step, Step::OnThread) {
                        // The callables are released here, with the GIL held.
                        drop(std::mem::take(
                            &mut *handlers.lock().unwrap_or_else(|e| e.into_inner()),
                        ));
                        break;
                    }
                }
            });
        })
        .map_err(|e| Error::internal(format!("cannot start the session event thread: {e}")))
}

fn targets(handlers: &Handlers, kind: &str) -> (Vec<Arc<Callback>>, bool) {
    let list = handlers.lock().unwrap_or_else(|e| e.into_inner());
    let targets = list
        .iter()
        .filter(|(name, _)| name == "*" || name == kind)
        .map(|(_, cb)| cb.clone())
        .collect();
    (targets, !list.is_empty())
}

/// Wait for events and route them in order, without the GIL, until some need this thread's
/// callbacks (left in `on_thread`), `closed` was routed or the source ended. Events go to
/// the callbacks registered for them, or to the iteration queue while no callback is
/// registered; waiting on a full queue is the backpressure that makes the core stop
/// reading the socket.
fn route<S: EventSource>(
    source: &mut S,
    batch: &mut Vec<SessionEvent>,
    handlers: &Handlers,
    queue: &mpsc::Sender<Value>,
    on_thread: &mut Vec<OnThread>,
) -> Step {
    loop {
        let Some(first) = source.wait_next() else {
            return Step::Ended;
        };
        fill(source, first, batch);
        for event in batch.drain(..) {
            let closed = matches!(event, SessionEvent::Closed { .. });
            let (targets, has_handlers) = targets(handlers, &event_kind(&event));
            if !has_handlers || closed {
                if let Err(mpsc::error::TrySendError::Full(value)) =
                    queue.try_send(event_value(&event))
                {
                    let _ = queue.blocking_send(value);
                }
            }
            let event = Arc::new(event);
            let mut here = Vec::new();
            for cb in targets {
                match cb.inbox() {
                    Some(inbox) => {
                        let (cb, event) = (cb.clone(), event.clone());
                        inbox.call(move |py| match event_args(py, &event) {
                            Ok(args) => cb.call_here(py, args),
                            Err(err) => err.write_unraisable(py, None),
                        });
                    }
                    None => here.push(cb),
                }
            }
            if !here.is_empty() {
                on_thread.push((event, here));
            }
            if closed {
                return Step::Closed;
            }
        }
        if !on_thread.is_empty() {
            return Step::OnThread;
        }
    }
}

/// Call the callbacks that run on this thread (or are scheduled on their loop from it).
fn deliver_here(py: Python<'_>, on_thread: &mut Vec<OnThread>) {
    for (event, targets) in on_thread.drain(..) {
        match event_args(py, &event) {
            Ok(args) => {
                for cb in &targets {
                    cb.deliver(py, args.clone());
                }
            }
            Err(err) => err.write_unraisable(py, None),
        }
    }
}

/// The arguments of a callback: the event as `flowai.models.Event`.
fn event_args<'py>(py: Python<'py>, event: &SessionEvent) -> PyResult<Bound<'py, PyTuple>> {
    event_object(py, event).and_then(|e| PyTuple::new(py, [e]))
}

/// The type name Python sees: the core's name, or an unknown frame's own type.
fn event_kind(event: &SessionEvent) -> String {
    match event {
        SessionEvent::Unknown { kind, .. } => kind.clone(),
        other => other.name().to_string(),
    }
}

/// The event as `{"type", "payload"}` JSON, as the iteration queue keeps it.
pub fn event_value(event: &SessionEvent) -> Value {
    let (kind, payload) = match event {
        SessionEvent::Connected => ("connected".to_string(), json!({})),
        SessionEvent::Delivered(d) => ("delivered".into(), json_of(d).unwrap_or(Value::Null)),
        SessionEvent::Reply(r) => ("reply".into(), json_of(r).unwrap_or(Value::Null)),
        SessionEvent::AgentTyping(v) => ("agent_typing".into(), (**v).clone()),
        SessionEvent::Interruption(v) => ("interruption".into(), (**v).clone()),
        SessionEvent::Error { message } => ("error".into(), json!({ "message": message })),
        SessionEvent::Reconnecting { attempt, delay } => (
            "reconnecting".into(),
            json!({ "attempt": attempt, "delay": delay.as_secs_f64() }),
        ),
        SessionEvent::Disconnected { reason } => {
            ("disconnected".into(), json!({ "reason": reason }))
        }
        SessionEvent::Closed { error } => (
            "closed".into(),
            json!({ "error": error.as_ref().map(|e| json!({ "code": e.code(), "message": e.message(), "status": e.status() })) }),
        ),
        SessionEvent::Unknown { kind, raw } => {
            return json!({ "type": kind, "payload": raw.get("payload").cloned().unwrap_or(Value::Null), "frame": raw });
        }
        other => (other.name().to_string(), Value::Null),
    };
    json!({ "type": kind, "payload": payload })
}

static EVENT: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static JSON_LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// `json.loads`.
fn json_loads(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    JSON_LOADS
        .get_or_try_init(py, || {
            py.import("json")?.getattr("loads").map(Bound::unbind)
        })
        .map(|f| f.bind(py))
}

/// The `flowai.models.Event` class.
fn event_class(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    EVENT
        .get_or_try_init(py, || {
            py.import("flowai.models")?
                .getattr("Event")
                .map(Bound::unbind)
        })
        .map(|c| c.bind(py))
}

/// Build `flowai.models.Event` straight from the core's event: the frequent `delivered`
/// payload is built as a dict field by field, the rest through its JSON form.
pub fn event_object<'py>(py: Python<'py>, event: &SessionEvent) -> PyResult<Bound<'py, PyAny>> {
    let raw = match event {
        SessionEvent::Delivered(d) => {
            let payload = PyDict::new(py);
            payload.set_item("threadId", &d.thread_id)?;
            if let Some(trace) = d.trace_id {
                payload.set_item("traceId", trace)?;
            }
            if let Some(speech) = &d.speech {
                payload.set_item("speech", speech)?;
            }
            for (k, v) in &d.extra {
                payload.set_item(k, to_py(py, v)?)?;
            }
            let raw = PyDict::new(py);
            raw.set_item("type", "delivered")?;
            raw.set_item("payload", payload)?;
            raw
        }
        SessionEvent::Reply(r) => {
            // Replies are large trees: one pass to JSON text and CPython's own parser make
            // far fewer calls across the boundary than building the dicts value by value.
            let text = serde_json::to_string(r)
                .map_err(|e| PyRuntimeError::new_err(format!("cannot encode a reply: {e}")))?;
            let raw = PyDict::new(py);
            raw.set_item("type", "reply")?;
            raw.set_item("payload", json_loads(py)?.call1((text,))?)?;
            raw
        }
        other => to_py(py, &event_value(other))?.cast_into::<PyDict>()?,
    };
    let kind = raw.get_item("type")?;
    let payload = raw.get_item("payload")?;
    event_class(py)?.call1((kind, payload, raw))
}
