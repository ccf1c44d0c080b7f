//! Messaging (messages, media, webhook subscriptions) and Management REST clients for C.

use std::ffi::{c_char, c_void};
use std::sync::Arc;

use flowai_core::Config;
use flowai_core::management::ManagementClient;
use flowai_core::messaging::{MediaType, MediaUpload, MessageOptions, MessagingClient, ProgressFn};
use flowai_core::models::{NewWebhook, Params, WebhookUpdate};
use flowai_core::secret::Secret;
use serde_json::Value;

use crate::ffi::{
    Failure, FfiResult, FlowaiStatus, Slot, block_on, check_out, free_handle, guard, handle_arg,
    in_callback, into_handle, json_arg, opt_str_arg, required_json_arg, str_arg, write_json,
    write_out,
};

/// A Messaging API client (messages and webhook subscriptions). Opaque.
#[derive(Debug)]
pub struct FlowaiMessaging {
    slot: Slot<MessagingClient>,
}

/// A Management API client (flows, intents, entity types, projects, members). Opaque.
#[derive(Debug)]
pub struct FlowaiManagement {
    slot: Slot<ManagementClient>,
}

/// Reports upload progress: `sent` of `total` bytes; the last call has `sent == total`.
/// Runs on a library thread while `flowai_messaging_send_media` is blocked.
pub type FlowaiProgressCallback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, sent: u64, total: u64)>;

/// Build a config from explicit arguments: NULL api_url means https://api.flow.ai.
///
/// # Safety
/// As for `str_arg`.
unsafe fn explicit_config(api_url: *const c_char) -> FfiResult<Config> {
    // SAFETY: forwarded contract.
    let url = unsafe { opt_str_arg(api_url, "api_url") }?;
    let mut config = Config::new();
    if let Some(url) = url {
        config = config.with_api_url(url);
    }
    Ok(config)
}

/// The message options JSON: `{"traceId": 1, "lang": "en", "timezone": 2, "params": {...}}`.
pub(crate) fn parse_options(value: Value) -> FfiResult<MessageOptions> {
    let map = match value {
        Value::Null => return Ok(MessageOptions::default()),
        Value::Object(map) => map,
        _ => return Err(Failure::invalid("options must be a JSON object")),
    };
    let mut options = MessageOptions::default();
    if let Some(v) = map.get("traceId").filter(|v| !v.is_null()) {
        options.trace_id = Some(
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .ok_or_else(|| {
                    Failure::invalid("options.traceId must be a non-negative integer")
                })?,
        );
    }
    if let Some(v) = map.get("lang").filter(|v| !v.is_null()) {
        options.lang = Some(
            v.as_str()
                .ok_or_else(|| Failure::invalid("options.lang must be a string"))?
                .to_string(),
        );
    }
    if let Some(v) = map.get("timezone").filter(|v| !v.is_null()) {
        options.timezone = Some(
            v.as_f64()
                .ok_or_else(|| Failure::invalid("options.timezone must be a number of hours"))?,
        );
    }
    if let Some(v) = map.get("params").filter(|v| !v.is_null()) {
        let params: Params = serde_json::from_value(v.clone())
            .map_err(|e| Failure::invalid(format!("options.params: {e}")))?;
        options.params = Some(params);
    }
    Ok(options)
}

/// Create a Messaging client from explicit arguments. `api_url` may be NULL (https://api.flow.ai);
/// `messaging_key` is required. On success `*out` owns a new handle: release it with
/// `flowai_messaging_free`.
///
/// # Safety
/// Strings must be NULL or NUL-terminated; `out` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_messaging_new(
    api_url: *const c_char,
    messaging_key: *const c_char,
    out: *mut *mut FlowaiMessaging,
) -> FlowaiStatus {
    guard(|| {
        check_out(out, "out")?;
        // SAFETY: the caller passes NUL-terminated strings or NULL.
        let config = unsafe { explicit_config(api_url) }?;
        // SAFETY: as above.
        let key = unsafe { str_arg(messaging_key, "messaging_key") }?;
        let client = MessagingClient::new(config.with_messaging_key(key))?;
        let handle = into_handle(FlowaiMessaging {
            slot: Slot::new(client, "messaging client"),
        });
        // SAFETY: `out` was checked non-NULL.
        unsafe { write_out(out, handle) };
        Ok(())
    })
}

/// Create a Messaging client from FLOWAI_API_URL and FLOWAI_MESSAGING_KEY. On success
/// `*out` owns a new handle: release it with `flowai_messaging_free`.
///
/// # Safety
/// `out` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_messaging_new_from_env(
    out: *mut *mut FlowaiMessaging,
) -> FlowaiStatus {
    guard(|| {
        check_out(out, "out")?;
        let client = MessagingClient::from_env()?;
        let handle = into_handle(FlowaiMessaging {
            slot: Slot::new(client, "messaging client"),
        });
        // SAFETY: `out` was checked non-NULL.
        unsafe { write_out(out, handle) };
        Ok(())
    })
}

/// Close the client: later calls on it return FLOWAI_CLOSED; calls in progress finish.
/// Does not free the handle. Closing twice is fine.
///
/// # Safety
/// `client` must be NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_messaging_close(client: *const FlowaiMessaging) -> FlowaiStatus {
    guard(|| {
        // SAFETY: the caller passes a live handle.
        let client = unsafe { handle_arg(client, "client") }?;
        drop(client.slot.take());
        Ok(())
    })
}

/// Release the handle (closing it first if needed). Call exactly once per handle, after
/// every other call on it has returned; NULL is ignored.
///
/// # Safety
/// `client` must be NULL or a live handle not freed yet.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_messaging_free(client: *mut FlowaiMessaging) {
    crate::ffi::guard_value((), || {
        // SAFETY: the caller frees each handle once.
        drop(unsafe { free_handle(client) });
    })
}

/// Shared body of the three simple sends.
///
/// # Safety
/// `client` must be NULL or live; `thread_id` and `options_json` NULL or NUL-terminated.
unsafe fn send_simple(
    client: *const FlowaiMessaging,
    thread_id: *const c_char,
    options_json: *const c_char,
    message: impl FnOnce(&str) -> FfiResult<flowai_core::messaging::Message>,
) -> FfiResult {
    // SAFETY: forwarded contract.
    let client = unsafe { handle_arg(client, "client") }?.slot.get()?;
    // SAFETY: forwarded contract.
    let thread_id = unsafe { str_arg(thread_id, "thread_id") }?;
    // SAFETY: forwarded contract.
    let options = parse_options(unsafe { json_arg(options_json, "options_json") }?)?;
    let message = message(thread_id)?.with_options(options);
    block_on(client.send(&message))??;
    Ok(())
}

/// Send a text message (at most 255 characters) to `thread_id` and wait for the service's
/// acknowledgement. `options_json` may be NULL or `{"traceId","lang","timezone","params"}`.
/// Nothing is handed out; the bot's reply comes later through a webhook. Blocking.
///
/// # Safety
/// `client` must be NULL or live; strings NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_messaging_send_text(
    client: *const FlowaiMessaging,
    thread_id: *const c_char,
    text: *const c_char,
    options_json: *const c_char,
) -> FlowaiStatus {
    guard(|| {
        // SAFETY: the caller passes a NUL-terminated string or NULL.
        let text = unsafe { str_arg(text, "text") }?.to_string();
        // SAFETY: forwarded contract.
        unsafe {
            send_simple(client, thread_id, options_json, |t| {
                Ok(flowai_core::messaging::Message::text(t, text))
            })
        }
    })
}

/// Send an event (trigger) named `event_name` to `thread_id` and wait for the
/// acknowledgement. `options_json` as for `flowai_messaging_send_text`. Blocking.
///
/// # Safety
/// `client` must be NULL or live; strings NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_messaging_send_event(
    client: *const FlowaiMessaging,
    thread_id: *const c_char,
    event_name: *const c_char,
    options_json: *const c_char,
) -> FlowaiStatus {
    guard(|| {
        // SAFETY: the caller passes a NUL-terminated string or NULL.
        let name = unsafe { str_arg(event_name, "event_name") }?.to_string();
        // SAFETY: forwarded contract.
        unsafe {
            send_simple(client, thread_id, options_json, |t| {
                Ok(flowai_core::messaging::Message::event(t, name))
            })
        }
    })
}

/// Send a location (`lat`, `lng` as decimal strings) to `thread_id` and wait for the
/// acknowledgement. `options_json` as for `flowai_messaging_send_text`. Blocking.
///
/// # Safety
/// `client` must be NULL or live; strings NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_messaging_send_location(
    client: *const FlowaiMessaging,
    thread_id: *const c_char,
    lat: *const c_char,
    lng: *const c_char,
    options_json: *const c_char,
) -> FlowaiStatus {
    guard(|| {
        // SAFETY: the caller passes NUL-terminated strings or NULL.
        let lat = unsafe { str_arg(lat, "lat") }?.to_string();
        // SAFETY: as above.
        let lng = unsafe { str_arg(lng, "lng") }?.to_string();
        // SAFETY: forwarded contract.
        unsafe {
            send_simple(client, thread_id, options_json, |t| {
                Ok(flowai_core::messaging::Message::location(t, lat, lng))
            })
        }
    })
}

/// The user data of a progress callback, sent to the library thread for the call.
struct ProgressTarget {
    callback: unsafe extern "C" fn(*mut c_void, u64, u64),
    user_data: *mut c_void,
}

// SAFETY: the header says the progress callback runs on a library thread while the caller
// is blocked in the call, so the app allows user_data to be used there.
unsafe impl Send for ProgressTarget {}
// SAFETY: calls are made one at a time by the upload stream.
unsafe impl Sync for ProgressTarget {}

/// Upload the file at `path` as a media message (`media_type`: "image", "file", "audio" or
/// "video"; `mime_type` may be NULL) to `thread_id`, streamed from disk (at most 250 MB).
/// `progress` may be NULL; it runs on a library thread during this call with `user_data`,
/// which the caller keeps owning. `options_json` as for `flowai_messaging_send_text`. Blocking.
///
/// # Safety
/// `client` must be NULL or live; strings NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_messaging_send_media(
    client: *const FlowaiMessaging,
    thread_id: *const c_char,
    path: *const c_char,
    media_type: *const c_char,
    mime_type: *const c_char,
    options_json: *const c_char,
    progress: FlowaiProgressCallback,
    user_data: *mut c_void,
) -> FlowaiStatus {
    guard(|| {
        // SAFETY: the caller passes a live handle or NULL.
        let client = unsafe { handle_arg(client, "client") }?.slot.get()?;
        // SAFETY: the caller passes NUL-terminated strings or NULL.
        let thread_id = unsafe { str_arg(thread_id, "thread_id") }?;
        // SAFETY: as above.
        let path = unsafe { str_arg(path, "path") }?;
        // SAFETY: as above.
        let media_type: MediaType = unsafe { str_arg(media_type, "media_type") }?.parse()?;
        // SAFETY: as above.
        let mime_type = unsafe { opt_str_arg(mime_type, "mime_type") }?;
        // SAFETY: as above.
        let options = parse_options(unsafe { json_arg(options_json, "options_json") }?)?;
        let mut upload = MediaUpload::new(thread_id, path, media_type);
        upload.mime_type = mime_type.map(str::to_string);
        upload.options = options;
        let progress: Option<ProgressFn> = progress.map(|callback| {
            let target = ProgressTarget {
                callback,
                user_data,
            };
            let f: ProgressFn = Arc::new(move |sent, total| {
                let target = &target;
                // SAFETY: the app registered this callback with this user_data for the call.
                in_callback(|| unsafe { (target.callback)(target.user_data, sent, total) });
            });
            f
        });
        block_on(client.send_media(&upload, progress))??;
        Ok(())
    })
}

/// Create a webhook subscription from `webhook_json` (`{"url","verifyKey","events":[...]}`);
/// the service first calls the URL with a GET. On success `*out_json` owns the created
/// webhook as JSON: free it with `flowai_string_free`. Blocking.
///
/// # Safety
/// `client` must be NULL or live; strings NULL or NUL-terminated; `out_json` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_messaging_webhook_create(
    client: *const FlowaiMessaging,
    webhook_json: *const c_char,
    out_json: *mut *mut c_char,
) -> FlowaiStatus {
    guard(|| {
        check_out(out_json, "out_json")?;
        // SAFETY: the caller passes a live handle or NULL.
        let client = unsafe { handle_arg(client, "client") }?.slot.get()?;
        // SAFETY: the caller passes a NUL-terminated string or NULL.
        let value = unsafe { required_json_arg(webhook_json, "webhook_json") }?;
        let new = parse_new_webhook(&value)?;
        let created = block_on(client.create_webhook(&new))??;
        // SAFETY: `out_json` was checked non-NULL.
        unsafe { write_json(out_json, &created) }
    })
}

fn string_list(value: Option<&Value>, name: &str) -> FfiResult<Option<Vec<String>>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| Failure::invalid(format!("{name} must be an array of strings")))
            })
            .collect::<FfiResult<Vec<_>>>()
            .map(Some),
        Some(_) => Err(Failure::invalid(format!(
            "{name} must be an array of strings"
        ))),
    }
}

fn opt_string(value: Option<&Value>, name: &str) -> FfiResult<Option<String>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Failure::invalid(format!("{name} must be a string"))),
    }
}

fn parse_new_webhook(value: &Value) -> FfiResult<NewWebhook> {
    if !value.is_object() {
        return Err(Failure::invalid("webhook_json must be a JSON object"));
    }
    Ok(NewWebhook {
        url: opt_string(value.get("url"), "url")?.unwrap_or_default(),
        verify_key: Secret::new(
            opt_string(value.get("verifyKey"), "verifyKey")?.unwrap_or_default(),
        ),
        events: string_list(value.get("events"), "events")?.unwrap_or_default(),
    })
}

/// Retrieve webhook `webhook_id`. On success `*out_json` owns the webhook as JSON: free it
/// with `flowai_string_free`. Blocking.
///
/// # Safety
/// `client` must be NULL or live; strings NULL or NUL-terminated; `out_json` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_messaging_webhook_get(
    client: *const FlowaiMessaging,
    webhook_id: *const c_char,
    out_json: *mut *mut c_char,
) -> FlowaiStatus {
    guard(|| {
        check_out(out_json, "out_json")?;
        // SAFETY: the caller passes a live handle or NULL.
        let client = unsafe { handle_arg(client, "client") }?.slot.get()?;
        // SAFETY: the caller passes a NUL-terminated string or NULL.
        let id = unsafe { str_arg(webhook_id, "webhook_id") }?;
        let webhook = block_on(client.get_webhook(id))??;
        // SAFETY: `out_json` was checked non-NULL.
        unsafe { write_json(out_json, &webhook) }
    })
}

/// Update webhook `webhook_id` with the fields present in `update_json` (any of "url",
/// "verifyKey", "events"). On success `*out_json` owns the updated webhook as JSON: free
/// it with `flowai_string_free`. Blocking.
///
/// # Safety
/// `client` must be NULL or live; strings NULL or NUL-terminated; `out_json` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_messaging_webhook_update(
    client: *const FlowaiMessaging,
    webhook_id: *const c_char,
    update_json: *const c_char,
    out_json: *mut *mut c_char,
) -> FlowaiStatus {
    guard(|| {
        check_out(out_json, "out_json")?;
        // SAFETY: the caller passes a live handle or NULL.
        let client = unsafe { handle_arg(client, "client") }?.slot.get()?;
        // SAFETY: the caller passes NUL-terminated strings or NULL.
        let id = unsafe { str_arg(webhook_id, "webhook_id") }?;
        // SAFETY: as above.
        let value = unsafe { required_json_arg(update_json, "update_json") }?;
        if !value.is_object() {
            return Err(Failure::invalid("update_json must be a JSON object"));
        }
        let update = WebhookUpdate {
            url: opt_string(value.get("url"), "url")?,
            verify_key: opt_string(value.get("verifyKey"), "verifyKey")?.map(Secret::new),
            events: string_list(value.get("events"), "events")?,
        };
        let webhook = block_on(client.update_webhook(id, &update))??;
        // SAFETY: `out_json` was checked non-NULL.
        unsafe { write_json(out_json, &webhook) }
    })
}

/// List every webhook subscription, newest first. On success `*out_json` owns a JSON array
/// of webhooks: free it with `flowai_string_free`. Blocking.
///
/// # Safety
/// `client` must be NULL or live; `out_json` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_messaging_webhook_list(
    client: *const FlowaiMessaging,
    out_json: *mut *mut c_char,
) -> FlowaiStatus {
    guard(|| {
        check_out(out_json, "out_json")?;
        // SAFETY: the caller passes a live handle or NULL.
        let client = unsafe { handle_arg(client, "client") }?.slot.get()?;
        let webhooks = block_on(client.list_webhooks())??;
        // SAFETY: `out_json` was checked non-NULL.
        unsafe { write_json(out_json, &webhooks) }
    })
}

/// Delete webhook `webhook_id`. Nothing is handed out. Blocking.
///
/// # Safety
/// `client` must be NULL or live; `webhook_id` NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_messaging_webhook_delete(
    client: *const FlowaiMessaging,
    webhook_id: *const c_char,
) -> FlowaiStatus {
    guard(|| {
        // SAFETY: the caller passes a live handle or NULL.
        let client = unsafe { handle_arg(client, "client") }?.slot.get()?;
        // SAFETY: the caller passes a NUL-terminated string or NULL.
        let id = unsafe { str_arg(webhook_id, "webhook_id") }?;
        block_on(client.delete_webhook(id))??;
        Ok(())
    })
}

/// Create a Management client from explicit arguments. `api_url` may be NULL
/// (https://api.flow.ai); `management_key` is required. On success `*out` owns a new
/// handle: release it with `flowai_management_free`.
///
/// # Safety
/// Strings must be NULL or NUL-terminated; `out` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_management_new(
    api_url: *const c_char,
    management_key: *const c_char,
    out: *mut *mut FlowaiManagement,
) -> FlowaiStatus {
    guard(|| {
        check_out(out, "out")?;
        // SAFETY: the caller passes NUL-terminated strings or NULL.
        let config = unsafe { explicit_config(api_url) }?;
        // SAFETY: as above.
        let key = unsafe { str_arg(management_key, "management_key") }?;
        let client = ManagementClient::new(config.with_management_key(key))?;
        let handle = into_handle(FlowaiManagement {
            slot: Slot::new(client, "management client"),
        });
        // SAFETY: `out` was checked non-NULL.
        unsafe { write_out(out, handle) };
        Ok(())
    })
}

/// Create a Management client from FLOWAI_API_URL and FLOWAI_MANAGEMENT_KEY. On success
/// `*out` owns a new handle: release it with `flowai_management_free`.
///
/// # Safety
/// `out` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_management_new_from_env(
    out: *mut *mut FlowaiManagement,
) -> FlowaiStatus {
    guard(|| {
        check_out(out, "out")?;
        let client = ManagementClient::from_env()?;
        let handle = into_handle(FlowaiManagement {
            slot: Slot::new(client, "management client"),
        });
        // SAFETY: `out` was checked non-NULL.
        unsafe { write_out(out, handle) };
        Ok(())
    })
}

/// Close the client: later calls return FLOWAI_CLOSED. Does not free the handle.
///
/// # Safety
/// `client` must be NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_management_close(client: *const FlowaiManagement) -> FlowaiStatus {
    guard(|| {
        // SAFETY: the caller passes a live handle or NULL.
        let client = unsafe { handle_arg(client, "client") }?;
        drop(client.slot.take());
        Ok(())
    })
}

/// Release the handle (closing it first if needed). Call exactly once per handle, after
/// every other call on it has returned; NULL is ignored.
///
/// # Safety
/// `client` must be NULL or a live handle not freed yet.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_management_free(client: *mut FlowaiManagement) {
    crate::ffi::guard_value((), || {
        // SAFETY: the caller frees each handle once.
        drop(unsafe { free_handle(client) });
    })
}

/// List a Management resource: `resource` is "flows", "intents", "entitytypes",
/// "projects" or "members". On success `*out_json` owns a JSON array in the API's own
/// shape: free it with `flowai_string_free`. Blocking.
///
/// # Safety
/// `client` must be NULL or live; `resource` NULL or NUL-terminated; `out_json` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_management_list(
    client: *const FlowaiManagement,
    resource: *const c_char,
    out_json: *mut *mut c_char,
) -> FlowaiStatus {
    guard(|| {
        check_out(out_json, "out_json")?;
        // SAFETY: the caller passes a live handle or NULL.
        let client = unsafe { handle_arg(client, "client") }?.slot.get()?;
        // SAFETY: the caller passes a NUL-terminated string or NULL.
        let resource = unsafe { str_arg(resource, "resource") }?;
        let value: Value = match resource {
            "flows" => serde_json::to_value(block_on(client.list_flows())??)?,
            "intents" => serde_json::to_value(block_on(client.list_intents())??)?,
            "entitytypes" => serde_json::to_value(block_on(client.list_entity_types())??)?,
            "projects" => serde_json::to_value(block_on(client.list_projects())??)?,
            "members" => serde_json::to_value(block_on(client.list_members())??)?,
            _ => return Err(unknown_resource()),
        };
        // SAFETY: `out_json` was checked non-NULL.
        unsafe { write_json(out_json, &value) }
    })
}

fn unknown_resource() -> Failure {
    Failure::invalid("resource must be one of flows, intents, entitytypes, projects, members")
}

/// Retrieve one Management object: `resource` is "flows", "intents", "entitytypes" or
/// "projects", `id` its id. On success `*out_json` owns the object as JSON: free it with
/// `flowai_string_free`. Blocking.
///
/// # Safety
/// `client` must be NULL or live; strings NULL or NUL-terminated; `out_json` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_management_info(
    client: *const FlowaiManagement,
    resource: *const c_char,
    id: *const c_char,
    out_json: *mut *mut c_char,
) -> FlowaiStatus {
    guard(|| {
        check_out(out_json, "out_json")?;
        // SAFETY: the caller passes a live handle or NULL.
        let client = unsafe { handle_arg(client, "client") }?.slot.get()?;
        // SAFETY: the caller passes NUL-terminated strings or NULL.
        let resource = unsafe { str_arg(resource, "resource") }?;
        // SAFETY: as above.
        let id = unsafe { str_arg(id, "id") }?;
        let value: Value = match resource {
            "flows" => serde_json::to_value(block_on(client.flow_info(id))??)?,
            "intents" => serde_json::to_value(block_on(client.intent_info(id))??)?,
            "entitytypes" => serde_json::to_value(block_on(client.entity_type_info(id))??)?,
            "projects" => serde_json::to_value(block_on(client.project_info(id))??)?,
            _ => return Err(unknown_resource()),
        };
        // SAFETY: `out_json` was checked non-NULL.
        unsafe { write_json(out_json, &value) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_parse_and_reject() {
        let o = parse_options(serde_json::json!({"traceId": 7, "lang": "en", "timezone": 1.5}))
            .unwrap();
        assert_eq!(o.trace_id, Some(7));
        assert_eq!(o.lang.as_deref(), Some("en"));
        assert!(parse_options(serde_json::json!([1])).is_err());
        assert!(parse_options(serde_json::json!({"traceId": "x"})).is_err());
        assert_eq!(
            parse_options(Value::Null).unwrap(),
            MessageOptions::default()
        );
    }
}
