//! The AIDA chatbot client for C: connect to a bot, sessions with a reply callback, text, data, images.

use std::ffi::{c_char, c_void};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use flowai_core::Config;
use flowai_core::aida::{AidaClient, AidaOptions, AidaSession, BotMessage};
use flowai_core::secret::Secret;
use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::event::{Dispatcher, FlowaiEventCallback, FlowaiEventKind, OwnedEvent};
use crate::ffi::{
    Failure, FfiResult, FlowaiFreeCallback, FlowaiStatus, Slot, block_on, check_out, free_handle,
    guard, guard_value, handle_arg, into_handle, json_arg, must_not_block, opt_str_arg,
    owned_c_string, required_json_arg, runtime, str_arg, write_json, write_out,
};

/// A connection to one AIDA bot (one websocket, the `bot:<uuid>` channel). Opaque.
#[derive(Debug)]
pub struct FlowaiAida {
    slot: Slot<AidaClient>,
}

/// One conversation with an AIDA bot. Opaque.
#[derive(Debug)]
pub struct FlowaiAidaSession {
    slot: Slot<AidaSession>,
    id: String,
    stop: watch::Sender<bool>,
    pump: Mutex<Option<JoinHandle<()>>>,
}

/// Connect to an AIDA bot and join its channel. `url` (http(s) or ws(s)), `bot` (UUID) and
/// `token` may each be NULL to use FLOWAI_AIDA_URL, FLOWAI_AIDA_BOT, FLOWAI_AIDA_TOKEN.
/// A refused bot or token is FLOWAI_AUTH. On success `*out` owns a new handle: close it with
/// `flowai_aida_close` and release it with `flowai_aida_free`. Blocking.
///
/// # Safety
/// Strings NULL or NUL-terminated; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_aida_connect(
    url: *const c_char,
    bot: *const c_char,
    token: *const c_char,
    out: *mut *mut FlowaiAida,
) -> FlowaiStatus {
    guard(|| {
        check_out(out, "out")?;
        let mut config = Config::from_env();
        // SAFETY: the caller passes NUL-terminated strings or NULL.
        if let Some(url) = unsafe { opt_str_arg(url, "url") }? {
            config.aida_url = Some(url.to_string());
        }
        // SAFETY: as above.
        if let Some(bot) = unsafe { opt_str_arg(bot, "bot") }? {
            config.aida_bot = Some(bot.to_string());
        }
        // SAFETY: as above.
        if let Some(token) = unsafe { opt_str_arg(token, "token") }? {
            config.aida_token = Some(Secret::new(token));
        }
        let options = AidaOptions::from_config(&config)?;
        let client = block_on(AidaClient::connect(options))??;
        let handle = into_handle(FlowaiAida {
            slot: Slot::new(client, "AIDA client"),
        });
        // SAFETY: `out` was checked non-NULL.
        unsafe { write_out(out, handle) };
        Ok(())
    })
}

/// Close the connection: every session of it ends (each gets its CLOSED event) and later
/// calls return FLOWAI_CLOSED. Does not free the handle. Blocking, except from inside a
/// flowai callback: there it only starts the close and returns FLOWAI_OK at once; the
/// sessions' CLOSED events come after the running callback has returned.
///
/// # Safety
/// `aida` NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_aida_close(aida: *const FlowaiAida) -> FlowaiStatus {
    guard(|| {
        // SAFETY: the caller passes a live handle or NULL.
        let aida = unsafe { handle_arg(aida, "aida") }?;
        if let Some(client) = aida.slot.take() {
            if must_not_block() {
                runtime()?.spawn(async move { client.close().await });
            } else {
                block_on(client.close())?;
            }
        }
        Ok(())
    })
}

/// Release the handle, closing the connection in the background if it is still open.
/// Call exactly once per handle, after every other call on it has returned; sessions made
/// from it stay valid handles (their calls then return FLOWAI_CLOSED). NULL is ignored.
///
/// # Safety
/// `aida` NULL or a live handle not freed yet.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_aida_free(aida: *mut FlowaiAida) {
    guard_value((), || {
        // SAFETY: the caller frees each handle once.
        if let Some(handle) = unsafe { free_handle(aida) } {
            if let (Some(client), Ok(rt)) = (handle.slot.take(), runtime()) {
                rt.spawn(async move { client.close().await });
            }
        }
    })
}

fn reply_event(message: BotMessage, id: &str) -> OwnedEvent {
    OwnedEvent::new(
        FlowaiEventKind::FLOWAI_EVENT_REPLY,
        "btu_msg",
        message.payload.to_string(),
    )
    .session_id(Some(id.to_string()))
}

/// Deliver the session's replies until it is deleted, its client closes, or `stop`.
async fn pump(
    session: Arc<AidaSession>,
    dispatcher: Dispatcher,
    mut stop: watch::Receiver<bool>,
    id: String,
) {
    loop {
        let message = tokio::select! {
            message = session.recv() => message,
            _ = stop.wait_for(|s| *s) => None,
        };
        match message {
            Some(message) => dispatcher.dispatch(&reply_event(message, &id)),
            None => break,
        }
    }
    drop(session);
    let closed = OwnedEvent::new(FlowaiEventKind::FLOWAI_EVENT_CLOSED, "closed", "{}".into())
        .session_id(Some(id));
    dispatcher.dispatch(&closed);
}

/// Start a new session with the bot; `data_json` (may be NULL) is merged into the
/// session's data. `callback` gets the bot's replies to this session (FLOWAI_EVENT_REPLY,
/// type "btu_msg", json `{"session","text",...}`) in order, one at a time, on a library
/// thread, then FLOWAI_EVENT_CLOSED exactly once (after delete, client close or free).
/// Ownership of `user_data` passes to the library: `free_user_data` (may be NULL) runs
/// exactly once, after the CLOSED event (also when this call fails). On success `*out`
/// owns a new handle: release it with `flowai_aida_session_free`. Blocking.
///
/// # Safety
/// `aida` NULL or live; `data_json` NULL or NUL-terminated; `out` writable; `callback`
/// safe to call from another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_aida_session_new(
    aida: *const FlowaiAida,
    data_json: *const c_char,
    callback: FlowaiEventCallback,
    user_data: *mut c_void,
    free_user_data: FlowaiFreeCallback,
    out: *mut *mut FlowaiAidaSession,
) -> FlowaiStatus {
    guard(|| {
        let dispatcher = Dispatcher::new(callback, user_data, free_user_data)?;
        check_out(out, "out")?;
        // SAFETY: the caller passes a live handle or NULL.
        let client = unsafe { handle_arg(aida, "aida") }?.slot.get()?;
        // SAFETY: the caller passes a NUL-terminated string or NULL.
        let data = match unsafe { json_arg(data_json, "data_json") }? {
            Value::Null => None,
            v @ Value::Object(_) => Some(v),
            _ => return Err(Failure::invalid("data_json must be a JSON object")),
        };
        let session = Arc::new(block_on(client.new_session(data))??);
        let id = session.id().to_string();
        let (stop, stopped) = watch::channel(false);
        let pump = runtime()?.spawn(pump(session.clone(), dispatcher, stopped, id.clone()));
        let handle = into_handle(FlowaiAidaSession {
            slot: Slot::from_arc(session, "AIDA session"),
            id,
            stop,
            pump: Mutex::new(Some(pump)),
        });
        // SAFETY: `out` was checked non-NULL.
        unsafe { write_out(out, handle) };
        Ok(())
    })
}

/// The session id the server gave. On success `*out_id` owns the string: free it with
/// `flowai_string_free`. Works after delete too. Does not block.
///
/// # Safety
/// `session` NULL or live; `out_id` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_aida_session_id(
    session: *const FlowaiAidaSession,
    out_id: *mut *mut c_char,
) -> FlowaiStatus {
    guard(|| {
        check_out(out_id, "out_id")?;
        // SAFETY: the caller passes a live handle or NULL.
        let session = unsafe { handle_arg(session, "session") }?;
        // SAFETY: `out_id` was checked non-NULL.
        unsafe { write_out(out_id, owned_c_string(session.id.clone())) };
        Ok(())
    })
}

/// Write `value` as JSON into `out` when `out` is not NULL.
///
/// # Safety
/// `out` NULL or writable.
unsafe fn maybe_json(out: *mut *mut c_char, value: &Value) -> FfiResult {
    if out.is_null() {
        return Ok(());
    }
    // SAFETY: non-NULL out-parameters are writable by the caller's contract.
    unsafe { write_json(out, value) }
}

/// Send the user's `text` (`utb_msg`) and wait for the server's acknowledgement; the bot's
/// replies come to the session callback. If `out_ack_json` is not NULL, on success it owns
/// the acknowledgement JSON: free it with `flowai_string_free`. Blocking.
///
/// # Safety
/// `session` NULL or live; `text` NULL or NUL-terminated; `out_ack_json` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_aida_session_send_text(
    session: *const FlowaiAidaSession,
    text: *const c_char,
    out_ack_json: *mut *mut c_char,
) -> FlowaiStatus {
    guard(|| {
        // SAFETY: the caller passes a live handle or NULL.
        let session = unsafe { handle_arg(session, "session") }?.slot.get()?;
        // SAFETY: the caller passes a NUL-terminated string or NULL.
        let text = unsafe { str_arg(text, "text") }?;
        let ack = block_on(session.send_text(text))??;
        // SAFETY: forwarded contract.
        unsafe { maybe_json(out_ack_json, &ack) }
    })
}

/// Merge the JSON object `data_json` into the session's data (`put_data`) and wait for the
/// acknowledgement. `out_ack_json` as for `flowai_aida_session_send_text`. Blocking.
///
/// # Safety
/// `session` NULL or live; `data_json` NULL or NUL-terminated; `out_ack_json` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_aida_session_put_data(
    session: *const FlowaiAidaSession,
    data_json: *const c_char,
    out_ack_json: *mut *mut c_char,
) -> FlowaiStatus {
    guard(|| {
        // SAFETY: the caller passes a live handle or NULL.
        let session = unsafe { handle_arg(session, "session") }?.slot.get()?;
        // SAFETY: the caller passes a NUL-terminated string or NULL.
        let data = unsafe { required_json_arg(data_json, "data_json") }?;
        if !data.is_object() {
            return Err(Failure::invalid("data_json must be a JSON object"));
        }
        let ack = block_on(session.put_data(data))??;
        // SAFETY: forwarded contract.
        unsafe { maybe_json(out_ack_json, &ack) }
    })
}

/// Upload the image file at `path` (streamed; `filename` may be NULL for the file's own
/// name; `content_type` e.g. "image/png") and send it to the bot (`utb_img`). On success
/// `*out_image_id` owns the image id the server gave: free it with `flowai_string_free`.
/// Blocking.
///
/// # Safety
/// `session` NULL or live; strings NULL or NUL-terminated; `out_image_id` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_aida_session_send_image(
    session: *const FlowaiAidaSession,
    path: *const c_char,
    filename: *const c_char,
    content_type: *const c_char,
    out_image_id: *mut *mut c_char,
) -> FlowaiStatus {
    guard(|| {
        check_out(out_image_id, "out_image_id")?;
        // SAFETY: the caller passes a live handle or NULL.
        let session = unsafe { handle_arg(session, "session") }?.slot.get()?;
        // SAFETY: the caller passes NUL-terminated strings or NULL.
        let path = PathBuf::from(unsafe { str_arg(path, "path") }?);
        // SAFETY: as above.
        let content_type = unsafe { str_arg(content_type, "content_type") }?;
        // SAFETY: as above.
        let filename = match unsafe { opt_str_arg(filename, "filename") }? {
            Some(name) => name.to_string(),
            None => path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("image")
                .to_string(),
        };
        let id = block_on(session.send_image(path, &filename, content_type))??;
        // SAFETY: `out_image_id` was checked non-NULL.
        unsafe { write_out(out_image_id, owned_c_string(id)) };
        Ok(())
    })
}

/// Delete the session on the server (`delete_session`). When this returns, the CLOSED
/// event has been delivered and `free_user_data` has run, and later calls on the handle
/// return FLOWAI_CLOSED (even when the delete itself failed). Does not free the handle.
/// Blocking, except from inside a flowai callback (of this or any other object): there it
/// only starts the delete and returns FLOWAI_OK at once (a failure of the delete is then
/// not reported), no reply follows, and the CLOSED event comes after the running callback
/// has returned, exactly once and last, then `free_user_data`.
///
/// # Safety
/// `session` NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_aida_session_delete(
    session: *const FlowaiAidaSession,
) -> FlowaiStatus {
    guard(|| {
        // SAFETY: the caller passes a live handle or NULL.
        let handle = unsafe { handle_arg(session, "session") }?;
        let Some(session) = handle.slot.take() else {
            return Err(Failure::closed("AIDA session"));
        };
        if must_not_block() {
            // Waiting for the pump here could wait for this very callback: stop it now
            // (CLOSED follows once the callback returns) and delete in the background.
            let rt = runtime()?;
            handle.stop.send_replace(true);
            rt.spawn(async move {
                let _ = session.delete().await;
            });
            return Ok(());
        }
        let result = block_on(session.delete())?;
        drop(session);
        handle.stop.send_replace(true);
        let pump = handle.pump.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(pump) = pump {
            // The pump ends right after the CLOSED event; a join error only means it panicked.
            let _ = block_on(pump)?;
        }
        result?;
        Ok(())
    })
}

/// Release the handle. The session is not deleted on the server; its callback stops, and
/// its CLOSED event and `free_user_data` still come, on a library thread. Call exactly once
/// per handle, after every other call on it has returned; NULL is ignored. Does not block.
///
/// # Safety
/// `session` NULL or a live handle not freed yet.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_aida_session_free(session: *mut FlowaiAidaSession) {
    guard_value((), || {
        // SAFETY: the caller frees each handle once.
        if let Some(handle) = unsafe { free_handle(session) } {
            handle.stop.send_replace(true);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_event_carries_session_and_payload() {
        let message = BotMessage {
            session: "s1".into(),
            text: Some("hello".into()),
            payload: serde_json::json!({"session": "s1", "text": "hello"}),
        };
        let event = reply_event(message, "s1");
        assert_eq!(event.kind, FlowaiEventKind::FLOWAI_EVENT_REPLY);
        assert!(event.json.contains("hello"));
        assert_eq!(event.session_id.as_deref(), Some("s1"));
        let _ = FlowaiStatus::FLOWAI_OK;
    }
}
