//! Webhook calls for C: verify-and-parse as a plain function, and the embedded receiver server.

use std::ffi::{c_char, c_void};
use std::net::SocketAddr;
use std::sync::Arc;

use flowai_core::models::WebhookEvent;
use flowai_core::secret::Secret;
use flowai_core::webhook::{ReceiverOptions, Verifier, WebhookReceiver};
use serde_json::Value;

use crate::event::{Dispatcher, FlowaiEventCallback, FlowaiEventKind, OwnedEvent};
use crate::ffi::{
    Failure, FfiResult, FlowaiFreeCallback, FlowaiStatus, Slot, block_on, bytes_arg, check_out,
    free_handle, guard, guard_value, handle_arg, into_handle, json_arg, opt_str_arg,
    owned_c_string, runtime, str_arg, write_json, write_out,
};

/// A running webhook receiver (an HTTP server on loopback by default). Opaque.
#[derive(Debug)]
pub struct FlowaiReceiver {
    slot: Slot<WebhookReceiver>,
}

/// The event a webhook call carries, as handed to C.
pub(crate) fn webhook_event(event: &WebhookEvent) -> OwnedEvent {
    let body = event.to_value();
    let payload = match event {
        WebhookEvent::Unknown { raw, .. } => raw.clone(),
        _ => body.get("payload").cloned().unwrap_or(Value::Null),
    };
    let (kind, trace_id, thread_id) = match event {
        WebhookEvent::Reply(r) => (
            FlowaiEventKind::FLOWAI_EVENT_REPLY,
            None,
            Some(r.thread_id.clone()),
        ),
        WebhookEvent::Delivered(d) => (
            FlowaiEventKind::FLOWAI_EVENT_DELIVERED,
            d.trace_id.map(|t| t.to_string()),
            Some(d.thread_id.clone()),
        ),
        WebhookEvent::Handover(p) => (
            FlowaiEventKind::FLOWAI_EVENT_HANDOVER,
            None,
            p.get("threadId")
                .and_then(Value::as_str)
                .map(str::to_string),
        ),
        _ => (FlowaiEventKind::FLOWAI_EVENT_OTHER, None, None),
    };
    OwnedEvent::new(kind, event.kind(), payload.to_string())
        .trace_id(trace_id)
        .session_id(thread_id.filter(|t| !t.is_empty()))
}

/// Verify a webhook call against `verify_key` and parse it. Headers come as two parallel
/// arrays of `header_count` names and values (names match case-insensitively; the key is
/// read from X-Flowai-Verify-Key, else a `verifyKey` in `query` (may be NULL), else a
/// top-level `verifyKey` body field). `body` is `body_len` bytes (not NUL-terminated).
/// Wrong or missing key: FLOWAI_VERIFICATION; malformed body: FLOWAI_PROTOCOL. On success
/// `*out_json` owns the event as `{"type":...,"payload":...}`: free it with
/// `flowai_string_free`. Does not block.
///
/// # Safety
/// Strings NULL or NUL-terminated; the arrays hold `header_count` valid strings (or are
/// NULL when it is 0); `body` has `body_len` readable bytes; `out_json` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_webhook_verify(
    verify_key: *const c_char,
    header_names: *const *const c_char,
    header_values: *const *const c_char,
    header_count: usize,
    query: *const c_char,
    body: *const u8,
    body_len: usize,
    out_json: *mut *mut c_char,
) -> FlowaiStatus {
    guard(|| {
        check_out(out_json, "out_json")?;
        // SAFETY: the caller passes a NUL-terminated string or NULL.
        let key = unsafe { str_arg(verify_key, "verify_key") }?;
        let mut pairs = Vec::with_capacity(header_count);
        if header_count > 0 {
            if header_names.is_null() || header_values.is_null() {
                return Err(Failure::invalid("header arrays must not be NULL"));
            }
            for i in 0..header_count {
                // SAFETY: both arrays hold `header_count` entries by the caller's contract.
                let (name, value) = unsafe { (*header_names.add(i), *header_values.add(i)) };
                // SAFETY: each entry is a NUL-terminated string or NULL.
                let name = unsafe { str_arg(name, "header name") }?;
                // SAFETY: as above.
                let value = unsafe { str_arg(value, "header value") }?;
                pairs.push((name, value));
            }
        }
        // SAFETY: the caller passes a NUL-terminated string or NULL.
        let query = unsafe { opt_str_arg(query, "query") }?;
        // SAFETY: `body` has `body_len` readable bytes.
        let body = unsafe { bytes_arg(body, body_len, "body") }?;
        let verifier = Verifier::new(Secret::new(key))?;
        let event = verifier.verify_and_parse_pairs(pairs, query, body)?;
        // SAFETY: `out_json` was checked non-NULL.
        unsafe { write_json(out_json, &event.to_value()) }
    })
}

/// Like `flowai_webhook_verify`, with the headers as one JSON object
/// (`{"X-Flowai-Verify-Key": "...", ...}`; NULL means no headers). On success `*out_json`
/// owns the event JSON: free it with `flowai_string_free`. Does not block.
///
/// # Safety
/// Strings NULL or NUL-terminated; `body` has `body_len` readable bytes; `out_json` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_webhook_verify_json(
    verify_key: *const c_char,
    headers_json: *const c_char,
    query: *const c_char,
    body: *const u8,
    body_len: usize,
    out_json: *mut *mut c_char,
) -> FlowaiStatus {
    guard(|| {
        check_out(out_json, "out_json")?;
        // SAFETY: the caller passes a NUL-terminated string or NULL.
        let key = unsafe { str_arg(verify_key, "verify_key") }?;
        // SAFETY: as above.
        let headers = unsafe { json_arg(headers_json, "headers_json") }?;
        let pairs: Vec<(&str, &str)> = match &headers {
            Value::Null => Vec::new(),
            Value::Object(map) => map
                .iter()
                .map(|(k, v)| {
                    v.as_str()
                        .map(|v| (k.as_str(), v))
                        .ok_or_else(|| Failure::invalid("header values must be strings"))
                })
                .collect::<FfiResult<_>>()?,
            _ => return Err(Failure::invalid("headers_json must be a JSON object")),
        };
        // SAFETY: the caller passes a NUL-terminated string or NULL.
        let query = unsafe { opt_str_arg(query, "query") }?;
        // SAFETY: `body` has `body_len` readable bytes.
        let body = unsafe { bytes_arg(body, body_len, "body") }?;
        let verifier = Verifier::new(Secret::new(key))?;
        let event = verifier.verify_and_parse_pairs(pairs, query, body)?;
        // SAFETY: `out_json` was checked non-NULL.
        unsafe { write_json(out_json, &event.to_value()) }
    })
}

fn receiver_options(key: &str, value: &Value) -> FfiResult<ReceiverOptions> {
    let mut options = ReceiverOptions::new(Secret::new(key));
    let map = match value {
        Value::Null => return Ok(options),
        Value::Object(map) => map,
        _ => return Err(Failure::invalid("options_json must be a JSON object")),
    };
    let text = |name: &str| -> FfiResult<Option<String>> {
        match map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(Failure::invalid(format!("options.{name} must be a string"))),
        }
    };
    let number = |name: &str| -> FfiResult<Option<usize>> {
        match map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .map(Some)
                .ok_or_else(|| {
                    Failure::invalid(format!("options.{name} must be a non-negative integer"))
                }),
        }
    };
    if let Some(addr) = text("addr")? {
        options.addr = addr
            .parse::<SocketAddr>()
            .map_err(|_| Failure::invalid("options.addr must be IP:PORT, e.g. 127.0.0.1:0"))?;
    }
    if let Some(path) = text("path")? {
        options.path = path;
    }
    if let Some(header) = text("verifyHeader")? {
        options.verify_header = header;
    }
    if let Some(n) = number("maxBodyBytes")? {
        options.max_body_bytes = n;
    }
    if let Some(n) = number("queueCapacity")? {
        options.queue_capacity = n;
    }
    if let Some(n) = number("dedupeCapacity")? {
        options.dedupe_capacity = n;
    }
    Ok(options)
}

/// Start a webhook receiver that verifies calls with `verify_key` and hands each new event
/// to `callback`. `options_json` may be NULL or `{"addr":"127.0.0.1:0","path":"/webhook",
/// "verifyHeader":..,"maxBodyBytes":..,"queueCapacity":..,"dedupeCapacity":..}`.
/// The callback runs on one dedicated library thread, one event at a time in arrival order;
/// the event's json is the payload (a `Received` for "message.reply"). The receiver
/// answers the sender once the callback has returned. Ownership of `user_data` passes to
/// the library: `free_user_data` (may be NULL) runs exactly once, after the last callback
/// (also when this call fails). On success `*out` owns a new handle: get its URL with
/// `flowai_receiver_url`, stop it with `flowai_receiver_close`, release it with
/// `flowai_receiver_free`. Blocking (binds the port).
///
/// # Safety
/// Strings NULL or NUL-terminated; `out` writable; `callback` safe to call from another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_receiver_start(
    verify_key: *const c_char,
    options_json: *const c_char,
    callback: FlowaiEventCallback,
    user_data: *mut c_void,
    free_user_data: FlowaiFreeCallback,
    out: *mut *mut FlowaiReceiver,
) -> FlowaiStatus {
    guard(|| {
        let dispatcher = Dispatcher::new(callback, user_data, free_user_data)?;
        check_out(out, "out")?;
        // SAFETY: the caller passes NUL-terminated strings or NULL.
        let key = unsafe { str_arg(verify_key, "verify_key") }?;
        // SAFETY: as above.
        let options = receiver_options(key, &unsafe { json_arg(options_json, "options_json") }?)?;
        let dispatcher = Arc::new(dispatcher);
        let receiver = block_on(WebhookReceiver::bind(
            options,
            move |event: WebhookEvent| {
                dispatcher.dispatch(&webhook_event(&event));
            },
        ))??;
        let handle = into_handle(FlowaiReceiver {
            slot: Slot::new(receiver, "webhook receiver"),
        });
        // SAFETY: `out` was checked non-NULL.
        unsafe { write_out(out, handle) };
        Ok(())
    })
}

/// The URL to register as a webhook, e.g. "http://127.0.0.1:PORT/webhook". On success
/// `*out_url` owns the string: free it with `flowai_string_free`. Does not block.
///
/// # Safety
/// `receiver` NULL or live; `out_url` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_receiver_url(
    receiver: *const FlowaiReceiver,
    out_url: *mut *mut c_char,
) -> FlowaiStatus {
    guard(|| {
        check_out(out_url, "out_url")?;
        // SAFETY: the caller passes a live handle or NULL.
        let receiver = unsafe { handle_arg(receiver, "receiver") }?.slot.get()?;
        // SAFETY: `out_url` was checked non-NULL.
        unsafe { write_out(out_url, owned_c_string(receiver.url())) };
        Ok(())
    })
}

/// Stop the receiver: no new calls are accepted, calls in progress finish, and this waits
/// for the server to end. Later calls on it return FLOWAI_CLOSED. Does not free the handle.
/// Blocking; from inside a flowai callback it returns FLOWAI_MISUSE and leaves the receiver
/// running (it would wait for its own callback): close it from an app thread.
///
/// # Safety
/// `receiver` NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_receiver_close(receiver: *const FlowaiReceiver) -> FlowaiStatus {
    guard(|| {
        // SAFETY: the caller passes a live handle or NULL.
        let receiver = unsafe { handle_arg(receiver, "receiver") }?;
        // Refuse before taking it, so a misuse leaves the receiver running.
        crate::ffi::check_may_block()?;
        let Some(inner) = receiver.slot.take() else {
            return Ok(());
        };
        match Arc::try_unwrap(inner) {
            Ok(server) => block_on(server.shutdown())?,
            // Another thread is reading its URL right now; dropping ours stops it anyway.
            Err(shared) => drop(shared),
        }
        Ok(())
    })
}

/// Release the handle, stopping the receiver in the background if it still runs. Call
/// exactly once per handle, after every other call on it has returned; NULL is ignored.
///
/// # Safety
/// `receiver` NULL or a live handle not freed yet.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_receiver_free(receiver: *mut FlowaiReceiver) {
    guard_value((), || {
        // Dropping the server needs the runtime's context for its background shutdown.
        let _context = runtime().ok().map(|rt| rt.enter());
        // SAFETY: the caller frees each handle once.
        drop(unsafe { free_handle(receiver) });
    })
}
