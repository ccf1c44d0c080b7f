//! The Flow Socket session for C: connect with a callback, send and wait for delivery, close.

use std::ffi::{c_char, c_void};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use flowai_core::Config;
use flowai_core::models::Originator;
use flowai_core::socket::{OutgoingMessage, Session, SessionEvent, SessionEvents, SessionOptions};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::event::{Dispatcher, FlowaiEventCallback, FlowaiEventKind, OwnedEvent};
use crate::ffi::{
    Failure, FfiResult, FlowaiFreeCallback, FlowaiStatus, Slot, block_on, check_out, free_handle,
    guard, guard_value, handle_arg, into_handle, json_arg, must_not_block, opt_str_arg,
    owned_c_string, required_json_arg, runtime, str_arg, write_json, write_out,
};

/// A Flow Socket session (one end user talking to the bot). Opaque.
#[derive(Debug)]
pub struct FlowaiSession {
    slot: Slot<Session>,
    thread_id: String,
    pump: Mutex<Option<JoinHandle<()>>>,
    /// Failures of non-blocking posts, delivered by the pump so events stay one at a time.
    failures: mpsc::UnboundedSender<OwnedEvent>,
}

/// Trace ids the binding assigns to posts: from 2^52 up, so they never meet the core's
/// own ids (below 2^52) and stay exact in JavaScript (below 2^53).
fn next_post_trace_id() -> u64 {
    static NEXT: OnceLock<AtomicU64> = OnceLock::new();
    let next = NEXT.get_or_init(|| AtomicU64::new((1 << 52) + rand_offset()));
    next.fetch_add(1, Ordering::Relaxed)
}

/// A start offset that differs between processes, without another dependency.
fn rand_offset() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64 ^ d.as_secs())
        .unwrap_or(0);
    (nanos ^ (u64::from(std::process::id()) << 20)) % (1 << 50)
}

fn millis(map: &serde_json::Map<String, Value>, name: &str) -> FfiResult<Option<Duration>> {
    match map.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .map(|ms| Some(Duration::from_millis(ms)))
            .ok_or_else(|| Failure::invalid(format!("options.{name} must be milliseconds"))),
    }
}

fn count(map: &serde_json::Map<String, Value>, name: &str) -> FfiResult<Option<usize>> {
    match map.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| Failure::invalid(format!("options.{name} must be a positive integer"))),
    }
}

fn text(map: &serde_json::Map<String, Value>, name: &str) -> FfiResult<Option<String>> {
    match map.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Failure::invalid(format!("options.{name} must be a string"))),
    }
}

fn session_options(config: &Config, value: Value) -> FfiResult<SessionOptions> {
    let mut options = SessionOptions::from_config(config)?;
    let map = match value {
        Value::Null => return Ok(options),
        Value::Object(map) => map,
        _ => return Err(Failure::invalid("options_json must be a JSON object")),
    };
    options.thread_id = text(&map, "threadId")?;
    options.session_id = text(&map, "sessionId")?;
    if let Some(v) = map.get("originator").filter(|v| !v.is_null()) {
        let originator: Originator = serde_json::from_value(v.clone())
            .map_err(|e| Failure::invalid(format!("options.originator: {e}")))?;
        options.originator = Some(originator);
    }
    if let Some(d) = millis(&map, "pingIntervalMs")? {
        options.ping_interval = d;
    }
    if let Some(d) = millis(&map, "pongTimeoutMs")? {
        options.pong_timeout = d;
    }
    if let Some(d) = millis(&map, "sendTimeoutMs")? {
        options.send_timeout = d;
    }
    if let Some(d) = millis(&map, "connectTimeoutMs")? {
        options.connect_timeout = d;
    }
    if let Some(n) = count(&map, "queueCapacity")? {
        options.queue_capacity = n;
    }
    if let Some(n) = count(&map, "eventCapacity")? {
        options.event_capacity = n;
    }
    Ok(options)
}

/// A session event as handed to C.
fn session_event(event: SessionEvent, thread_id: &str) -> OwnedEvent {
    use FlowaiEventKind as K;
    let thread = Some(thread_id.to_string());
    let owned = match event {
        SessionEvent::Connected => {
            OwnedEvent::new(K::FLOWAI_EVENT_CONNECTED, "connected", "{}".into())
        }
        SessionEvent::Delivered(d) => OwnedEvent::new(
            K::FLOWAI_EVENT_DELIVERED,
            "message.delivered",
            serde_json::to_string(&d).unwrap_or_else(|_| "{}".into()),
        )
        .trace_id(d.trace_id.map(|t| t.to_string())),
        SessionEvent::Reply(r) => OwnedEvent::new(
            K::FLOWAI_EVENT_REPLY,
            "message.received",
            serde_json::to_string(&r).unwrap_or_else(|_| "{}".into()),
        ),
        SessionEvent::AgentTyping(v) => {
            OwnedEvent::new(K::FLOWAI_EVENT_TYPING, "agent.typing", v.to_string())
        }
        SessionEvent::Interruption(v) => OwnedEvent::new(
            K::FLOWAI_EVENT_HANDOVER,
            "interruption.occurred",
            v.to_string(),
        ),
        SessionEvent::Error { message } => OwnedEvent::new(
            K::FLOWAI_EVENT_ERROR,
            "error",
            json!({ "message": message }).to_string(),
        )
        .status(FlowaiStatus::FLOWAI_PROTOCOL),
        SessionEvent::Reconnecting { attempt, delay } => OwnedEvent::new(
            K::FLOWAI_EVENT_OTHER,
            "reconnecting",
            json!({ "attempt": attempt, "delayMs": delay.as_millis() as u64 }).to_string(),
        ),
        SessionEvent::Disconnected { reason } => OwnedEvent::new(
            K::FLOWAI_EVENT_DISCONNECTED,
            "disconnected",
            json!({ "reason": reason }).to_string(),
        ),
        SessionEvent::Closed { error } => {
            let (status, body) = match &error {
                None => (FlowaiStatus::FLOWAI_OK, json!({})),
                Some(e) => (
                    FlowaiStatus::from_kind(e.kind()),
                    json!({ "code": e.code(), "message": e.message() }),
                ),
            };
            OwnedEvent::new(K::FLOWAI_EVENT_CLOSED, "closed", body.to_string()).status(status)
        }
        SessionEvent::Unknown { kind, raw } => {
            OwnedEvent::new(K::FLOWAI_EVENT_OTHER, &kind, raw.to_string())
        }
        other => OwnedEvent::new(K::FLOWAI_EVENT_OTHER, other.name(), "{}".into()),
    };
    owned.session_id(thread)
}

/// Deliver every event to the app, in order, then drop the dispatcher (freeing user data).
async fn pump(
    mut events: SessionEvents,
    mut failures: mpsc::UnboundedReceiver<OwnedEvent>,
    dispatcher: Dispatcher,
    thread_id: String,
) {
    let mut closed = false;
    loop {
        tokio::select! {
            event = events.next() => {
                let Some(event) = event else { break };
                closed = matches!(event, SessionEvent::Closed { .. });
                dispatcher.dispatch(&session_event(event, &thread_id));
                if closed {
                    break;
                }
            }
            Some(failure) = failures.recv() => dispatcher.dispatch(&failure),
        }
    }
    if !closed {
        // The core promises a Closed event; never let the app miss its last one.
        let event = OwnedEvent::new(FlowaiEventKind::FLOWAI_EVENT_CLOSED, "closed", "{}".into())
            .status(FlowaiStatus::FLOWAI_INTERNAL)
            .session_id(Some(thread_id));
        dispatcher.dispatch(&event);
    }
}

/// Connect a Flow Socket session. `api_url` and `client_id` may be NULL to use
/// FLOWAI_API_URL / FLOWAI_CLIENT_ID. `options_json` may be NULL or
/// `{"threadId","sessionId","originator":{...},"pingIntervalMs","pongTimeoutMs",
/// "sendTimeoutMs","connectTimeoutMs","queueCapacity","eventCapacity"}`.
/// Waits for the first connect attempt: a refused client id is FLOWAI_AUTH; other failures
/// leave the session reconnecting by itself. `callback` gets every event in order, one at
/// a time, on a library thread (possibly before this call returns); the last is
/// FLOWAI_EVENT_CLOSED, exactly once. Ownership of `user_data` passes to the library:
/// `free_user_data` (may be NULL) runs exactly once, after the CLOSED event (also when this
/// call fails). On success `*out` owns a new handle: close it with `flowai_session_close`
/// and release it with `flowai_session_free`. Blocking.
///
/// # Safety
/// Strings NULL or NUL-terminated; `out` writable; `callback` safe to call from another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_session_connect(
    api_url: *const c_char,
    client_id: *const c_char,
    options_json: *const c_char,
    callback: FlowaiEventCallback,
    user_data: *mut c_void,
    free_user_data: FlowaiFreeCallback,
    out: *mut *mut FlowaiSession,
) -> FlowaiStatus {
    guard(|| {
        let dispatcher = Dispatcher::new(callback, user_data, free_user_data)?;
        check_out(out, "out")?;
        let mut config = Config::from_env();
        // SAFETY: the caller passes NUL-terminated strings or NULL.
        if let Some(url) = unsafe { opt_str_arg(api_url, "api_url") }? {
            config = config.with_api_url(url);
        }
        // SAFETY: as above.
        if let Some(id) = unsafe { opt_str_arg(client_id, "client_id") }? {
            config = config.with_client_id(id);
        }
        // SAFETY: as above.
        let options = session_options(&config, unsafe { json_arg(options_json, "options_json") }?)?;
        let (session, events) = block_on(Session::connect(options))??;
        let thread_id = session.thread_id().to_string();
        let (failures, failures_rx) = mpsc::unbounded_channel();
        let pump = runtime()?.spawn(pump(events, failures_rx, dispatcher, thread_id.clone()));
        let handle = into_handle(FlowaiSession {
            slot: Slot::new(session, "session"),
            thread_id,
            pump: Mutex::new(Some(pump)),
            failures,
        });
        // SAFETY: `out` was checked non-NULL.
        unsafe { write_out(out, handle) };
        Ok(())
    })
}

/// The thread id this session talks as. On success `*out_thread_id` owns the string: free
/// it with `flowai_string_free`. Works after close too. Does not block.
///
/// # Safety
/// `session` NULL or live; `out_thread_id` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_session_thread_id(
    session: *const FlowaiSession,
    out_thread_id: *mut *mut c_char,
) -> FlowaiStatus {
    guard(|| {
        check_out(out_thread_id, "out_thread_id")?;
        // SAFETY: the caller passes a live handle or NULL.
        let session = unsafe { handle_arg(session, "session") }?;
        // SAFETY: `out_thread_id` was checked non-NULL.
        unsafe { write_out(out_thread_id, owned_c_string(session.thread_id.clone())) };
        Ok(())
    })
}

/// Shared body of the sends.
///
/// # Safety
/// `session` NULL or live; `out_json` NULL or writable.
unsafe fn send(
    session: *const FlowaiSession,
    message: OutgoingMessage,
    out_json: *mut *mut c_char,
) -> FfiResult {
    // SAFETY: forwarded contract.
    let session = unsafe { handle_arg(session, "session") }?.slot.get()?;
    let delivered = block_on(session.send(message))??;
    if !out_json.is_null() {
        // SAFETY: non-NULL out-parameters are writable by the caller's contract.
        unsafe { write_json(out_json, &delivered) }?;
    }
    Ok(())
}

/// Send `text` (at most 255 characters) and wait for its `message.delivered` (while
/// offline the message waits in a bounded queue and goes out after reconnect). On success,
/// if `out_delivered_json` is not NULL, it owns the delivered payload as JSON (with the
/// traceId): free it with `flowai_string_free`. Blocking; FLOWAI_MISUSE from a callback.
///
/// # Safety
/// `session` NULL or live; `text` NULL or NUL-terminated; `out_delivered_json` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_session_send_text(
    session: *const FlowaiSession,
    text: *const c_char,
    out_delivered_json: *mut *mut c_char,
) -> FlowaiStatus {
    guard(|| {
        // SAFETY: the caller passes a NUL-terminated string or NULL.
        let text = unsafe { str_arg(text, "text") }?;
        // SAFETY: forwarded contract.
        unsafe { send(session, OutgoingMessage::text(text), out_delivered_json) }
    })
}

/// Trigger the event `event_name` (e.g. "INTRO") and wait for its `message.delivered`.
/// `out_delivered_json` as for `flowai_session_send_text`. Blocking.
///
/// # Safety
/// `session` NULL or live; `event_name` NULL or NUL-terminated; `out_delivered_json` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_session_send_event(
    session: *const FlowaiSession,
    event_name: *const c_char,
    out_delivered_json: *mut *mut c_char,
) -> FlowaiStatus {
    guard(|| {
        // SAFETY: the caller passes a NUL-terminated string or NULL.
        let name = unsafe { str_arg(event_name, "event_name") }?;
        // SAFETY: forwarded contract.
        unsafe { send(session, OutgoingMessage::event(name), out_delivered_json) }
    })
}

/// Send a full `message.send` payload given as JSON (`{"speech","traceId","attachment",
/// "originator","metadata"}`) and wait for its delivery. `out_delivered_json` as for
/// `flowai_session_send_text`. Blocking.
///
/// # Safety
/// `session` NULL or live; `message_json` NULL or NUL-terminated; `out_delivered_json` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_session_send(
    session: *const FlowaiSession,
    message_json: *const c_char,
    out_delivered_json: *mut *mut c_char,
) -> FlowaiStatus {
    guard(|| {
        // SAFETY: the caller passes a NUL-terminated string or NULL.
        let value = unsafe { required_json_arg(message_json, "message_json") }?;
        let message: OutgoingMessage = serde_json::from_value(value)
            .map_err(|e| Failure::invalid(format!("message_json: {e}")))?;
        // SAFETY: forwarded contract.
        unsafe { send(session, message, out_delivered_json) }
    })
}

/// Send a `message.send` payload given as JSON (as for `flowai_session_send`) without
/// waiting: the message is queued and `*out_trace_id` (may be NULL) gets its traceId (the
/// one in the JSON, or one assigned here). Its delivery comes to the callback as a
/// FLOWAI_EVENT_DELIVERED with that trace_id; if it fails, a FLOWAI_EVENT_ERROR with that
/// trace_id and the failure's status comes instead (unless the session closed first).
/// Does not block, so it may be called from inside a callback.
///
/// # Safety
/// `session` NULL or live; `message_json` NULL or NUL-terminated; `out_trace_id` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_session_post(
    session: *const FlowaiSession,
    message_json: *const c_char,
    out_trace_id: *mut u64,
) -> FlowaiStatus {
    guard(|| {
        // SAFETY: the caller passes a live handle or NULL.
        let handle = unsafe { handle_arg(session, "session") }?;
        let session = handle.slot.get()?;
        // SAFETY: the caller passes a NUL-terminated string or NULL.
        let value = unsafe { required_json_arg(message_json, "message_json") }?;
        let mut message: OutgoingMessage = serde_json::from_value(value)
            .map_err(|e| Failure::invalid(format!("message_json: {e}")))?;
        message.validate()?;
        let trace_id = *message.trace_id.get_or_insert_with(next_post_trace_id);
        let failures = handle.failures.clone();
        let thread_id = handle.thread_id.clone();
        runtime()?.spawn(async move {
            if let Err(err) = session.send(message).await {
                let body =
                    json!({ "traceId": trace_id, "code": err.code(), "message": err.message() });
                let event = OwnedEvent::new(
                    FlowaiEventKind::FLOWAI_EVENT_ERROR,
                    "send.failed",
                    body.to_string(),
                )
                .trace_id(Some(trace_id.to_string()))
                .session_id(Some(thread_id))
                .status(FlowaiStatus::from_kind(err.kind()));
                let _ = failures.send(event);
            }
        });
        if !out_trace_id.is_null() {
            // SAFETY: non-NULL out-parameters are writable by the caller's contract.
            unsafe { write_out(out_trace_id, trace_id) };
        }
        Ok(())
    })
}

/// Close the session: pending sends fail with FLOWAI_CLOSED, and when this returns the
/// CLOSED event has been delivered and `free_user_data` has run. Later calls on the handle
/// return FLOWAI_CLOSED; closing twice is fine. Does not free the handle. Blocking, except
/// from inside a flowai callback (of this or any other object): there it only starts the
/// close and returns FLOWAI_OK at once, and the CLOSED event comes after the running
/// callback has returned (still exactly once and last, then `free_user_data`); a later
/// close from an app thread waits for it.
///
/// # Safety
/// `session` NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_session_close(session: *const FlowaiSession) -> FlowaiStatus {
    guard(|| {
        // SAFETY: the caller passes a live handle or NULL.
        let handle = unsafe { handle_arg(session, "session") }?;
        if must_not_block() {
            // Waiting here could wait for this very callback; the pump stays joinable so
            // a later close from an app thread still returns only after CLOSED.
            if let Some(open) = handle.slot.take() {
                runtime()?.spawn(async move {
                    let _ = open.close().await;
                });
            }
            return Ok(());
        }
        let pump = handle.pump.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(session) = handle.slot.take() {
            block_on(session.close())??;
        }
        if let Some(pump) = pump {
            // The pump ends right after the CLOSED event; a join error only means it panicked.
            let _ = block_on(pump)?;
        }
        Ok(())
    })
}

/// Release the handle. A session still open is closed in the background (its CLOSED event
/// and `free_user_data` still come, on a library thread). Call exactly once per handle,
/// after every other call on it has returned; NULL is ignored. Does not block.
///
/// # Safety
/// `session` NULL or a live handle not freed yet.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_session_free(session: *mut FlowaiSession) {
    guard_value((), || {
        // SAFETY: the caller frees each handle once.
        if let Some(handle) = unsafe { free_handle(session) } {
            if let (Some(open), Ok(rt)) = (handle.slot.take(), runtime()) {
                rt.spawn(async move {
                    let _ = open.close().await;
                });
            }
        }
    })
}
