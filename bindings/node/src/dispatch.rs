//! Event dispatch to JS: events are queued as JSON text and handed over in batches, one threadsafe-function call at a time.
//!
//! A threadsafe-function call costs a wake-up of the JS thread, and a JS string plus a
//! `JSON.parse` per event cost more than one per batch. So events of a session are appended
//! to a pending JSON array, and a call is scheduled only when none is pending: the array is
//! taken on the JS thread when the call runs, so everything that arrived while JS was busy
//! goes over in that one call, in order. When JS falls behind by [`PENDING_LIMIT`] events the
//! pump waits, so the core's event channel fills and the session stops reading the socket.

use std::future::Future;
use std::ptr;
use std::sync::{Arc, Mutex, MutexGuard};

use flowai_core::socket::{SessionEvent, SessionEvents};
use napi::bindgen_prelude::ToNapiValue;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Status, sys};
use serde::Serialize;
use tokio::sync::{Notify, mpsc};

/// `(eventsJson) => void`, called with a JSON array of events; while it exists the Node
/// process stays alive.
pub type EventCallback = ThreadsafeFunction<Batch, (), Batch, Status, false>;

/// Events waiting for JS before the pump stops reading (the session's own event capacity).
const PENDING_LIMIT: usize = 1024;

#[derive(Debug, Default)]
struct Pending {
    /// `[event,event,...` without the closing bracket; empty when nothing is pending.
    json: Vec<u8>,
    count: usize,
    /// A call is queued and has not taken `json` yet.
    scheduled: bool,
    /// The JS side is gone (environment shutting down): drop events, never wait.
    dead: bool,
}

#[derive(Debug, Default)]
struct Shared {
    pending: Mutex<Pending>,
    drained: Notify,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The argument of one call: converted on the JS thread by taking everything pending.
#[derive(Debug)]
pub struct Batch(Arc<Shared>);

impl ToNapiValue for Batch {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        let mut json = {
            let mut pending = val.0.lock();
            pending.scheduled = false;
            pending.count = 0;
            std::mem::take(&mut pending.json)
        };
        val.0.drained.notify_one();
        if json.is_empty() {
            json.push(b'[');
        }
        json.push(b']');
        let mut value = ptr::null_mut();
        // SAFETY: `env` is the live environment of this call; serde_json wrote valid UTF-8
        // and the length is given, so no terminator is needed.
        let status = unsafe {
            sys::napi_create_string_utf8(env, json.as_ptr().cast(), json.len() as isize, &mut value)
        };
        napi::check_status!(status, "cannot create the events string")?;
        Ok(value)
    }
}

/// Where the loop reads events from: a session's events, or a plain channel (benchmarks).
pub(crate) trait EventSource: Send + 'static {
    /// The next event; None once the source has ended.
    fn next(&mut self) -> impl Future<Output = Option<SessionEvent>> + Send;
}

impl EventSource for SessionEvents {
    fn next(&mut self) -> impl Future<Output = Option<SessionEvent>> + Send {
        SessionEvents::next(self)
    }
}

impl EventSource for mpsc::Receiver<SessionEvent> {
    fn next(&mut self) -> impl Future<Output = Option<SessionEvent>> + Send {
        self.recv()
    }
}

/// What the loop hands events to.
pub(crate) trait EventSink: Send {
    /// Take one event; may wait (backpressure).
    fn deliver(&mut self, event: &SessionEvent) -> impl Future<Output = ()> + Send;
}

/// Read `source` and give each event to `sink`, until `closed` was given.
pub(crate) async fn pump<S: EventSource>(mut source: S, sink: &mut impl EventSink) {
    while let Some(event) = source.next().await {
        sink.deliver(&event).await;
        if matches!(event, SessionEvent::Closed { .. }) {
            break;
        }
    }
}

/// The JS side of one event stream: queues events and calls the JS callback with batches.
pub(crate) struct Dispatcher {
    shared: Arc<Shared>,
    callback: EventCallback,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher").finish_non_exhaustive()
    }
}

impl Dispatcher {
    pub(crate) fn new(callback: EventCallback) -> Dispatcher {
        Dispatcher {
            shared: Arc::default(),
            callback,
        }
    }

    /// Queue one event, written as a JSON object by `write`, and make sure a call will
    /// take it; waits while JS is [`PENDING_LIMIT`] events behind.
    pub(crate) async fn push(&self, write: impl FnOnce(&mut Vec<u8>)) {
        let (schedule, full) = {
            let mut pending = self.shared.lock();
            if pending.dead {
                return;
            }
            let separator = if pending.count == 0 { b'[' } else { b',' };
            pending.json.push(separator);
            write(&mut pending.json);
            pending.count += 1;
            let schedule = !pending.scheduled;
            pending.scheduled = true;
            (schedule, pending.count >= PENDING_LIMIT)
        };
        if schedule {
            let status = self.callback.call(
                Batch(self.shared.clone()),
                ThreadsafeFunctionCallMode::NonBlocking,
            );
            if status != Status::Ok {
                let mut pending = self.shared.lock();
                pending.dead = true;
                pending.json.clear();
                return;
            }
        }
        if full {
            loop {
                let drained = self.shared.drained.notified();
                {
                    let pending = self.shared.lock();
                    if pending.dead || pending.count < PENDING_LIMIT {
                        return;
                    }
                }
                drained.await;
            }
        }
    }

    /// Queue a JSON value.
    pub(crate) async fn push_value(&self, value: &impl Serialize) {
        self.push(|out| write_json(out, value)).await;
    }
}

impl EventSink for Dispatcher {
    async fn deliver(&mut self, event: &SessionEvent) {
        self.push(|out| write_session_event(out, event)).await;
    }
}

/// Append `value` as JSON (`null` if it cannot be serialized, which models never do).
fn write_json(out: &mut Vec<u8>, value: &impl Serialize) {
    let mark = out.len();
    if serde_json::to_writer(&mut *out, value).is_err() {
        out.truncate(mark);
        out.extend_from_slice(b"null");
    }
}

/// Append a session event as the object `index.js` emits, `{ type, ... }`; the frequent
/// `delivered` and `reply` payloads are serialized straight from the models.
fn write_session_event(out: &mut Vec<u8>, event: &SessionEvent) {
    match event {
        SessionEvent::Delivered(d) => {
            out.extend_from_slice(br#"{"type":"delivered","delivered":"#);
            write_json(out, d);
            out.push(b'}');
        }
        SessionEvent::Reply(r) => {
            out.extend_from_slice(br#"{"type":"reply","reply":"#);
            write_json(out, r);
            out.push(b'}');
        }
        other => write_json(out, &crate::session::event_json(other)),
    }
}
