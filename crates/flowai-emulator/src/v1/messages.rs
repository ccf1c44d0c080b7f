//! Sending messages (with the sync mode) and the paged history and thread listings.

use std::time::SystemTime;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use flowai_core::models::ReplyMessage;
use serde_json::{Map, Value, json};

use super::store::rfc3339;
use super::{Params, bad_request, flag, notify, object_body, page_param, paging};
use crate::AppState;
use crate::auth::error_response;
use crate::engine::{Input, bot_originator};

/// Longest text, in characters.
pub const MAX_SPEECH_CHARS: usize = 255;

/// A message as the server understood it.
#[derive(Debug, Clone)]
pub(crate) struct Parsed {
    /// What the engine gets.
    pub input: Input,
    /// The text a text message carries.
    pub speech: Option<String>,
    /// The payload without originator and metadata.
    pub payload: Value,
    /// The sender (`{name, role, profile}`).
    pub originator: Value,
    /// Whether a moderator (a human agent) sent it.
    pub moderator: bool,
}

/// `POST /rest/v1/messages`: a message that starts a new thread.
pub async fn send_new(State(state): State<AppState>, params: Params, body: Bytes) -> Response {
    let thread_id = format!("{}|w_{}", uuid::Uuid::new_v4().simple(), channel_id(&state));
    send(&state, thread_id, &params, &body)
}

/// `POST /rest/v1/messages/{threadId}`.
pub async fn send_to(
    State(state): State<AppState>,
    Path(thread_id): Path<String>,
    params: Params,
    body: Bytes,
) -> Response {
    if thread_id.trim().is_empty() {
        return bad_request("threadId must not be empty");
    }
    send(&state, thread_id, &params, &body)
}

/// The channel part of the emulator's client id (`<organisation>|<channelId>` in base64).
fn channel_id(state: &AppState) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(&state.options.credentials.client_id)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.split_once('|').map(|(_, c)| c.to_string()))
        .unwrap_or_else(|| "emulator".into())
}

fn send(state: &AppState, thread_id: String, params: &Params, body: &Bytes) -> Response {
    let body = match object_body(body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let parsed = match parse_message(&body) {
        Ok(p) => p,
        Err(message) => return bad_request(&message),
    };
    let sync = flag(params, "sync");
    state.v1.store.push_message(
        &thread_id,
        history_item(
            &thread_id,
            "inbound",
            &parsed.originator,
            parsed.payload.clone(),
        ),
    );
    let replies = if parsed.moderator {
        // A human agent speaks in the thread: the bot steps back until resumed.
        super::control::pause_thread(state, &thread_id, None, "moderator");
        Vec::new()
    } else {
        state
            .engine
            .respond_to(&thread_id, &parsed.input, parsed.speech.as_deref())
    };
    record_replies(state, &thread_id, &replies);
    let mut answer = Map::new();
    answer.insert("status".into(), "ok".into());
    answer.insert("threadId".into(), json!(thread_id));
    if flag(params, "writeConcern") {
        answer.insert("writeConcern".into(), true.into());
    }
    if sync {
        answer.insert("messages".into(), json!(replies));
    } else if !replies.is_empty() {
        notify(state, "message", reply_payload(&thread_id, &replies));
    }
    Json(Value::Object(answer)).into_response()
}

/// Store the bot's replies in the thread's history.
pub(crate) fn record_replies(state: &AppState, thread_id: &str, replies: &[ReplyMessage]) {
    let bot = json!(bot_originator());
    for reply in replies {
        state.v1.store.push_message(
            thread_id,
            history_item(thread_id, "outbound", &bot, json!(reply)),
        );
    }
}

/// The payload of a `message` webhook call: the thread and the bot's reply messages.
pub(crate) fn reply_payload(thread_id: &str, replies: &[ReplyMessage]) -> Value {
    json!({
        "threadId": thread_id,
        "messages": replies,
        "originator": bot_originator(),
    })
}

/// One history item.
pub(crate) fn history_item(
    thread_id: &str,
    direction: &str,
    originator: &Value,
    payload: Value,
) -> Value {
    json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "threadId": thread_id,
        "direction": direction,
        "createdAt": rfc3339(SystemTime::now()),
        "originator": originator,
        "payload": payload,
    })
}

/// Check and read a `{"payload": {...}}` body; the error is the 400's message.
pub(crate) fn parse_message(body: &Map<String, Value>) -> Result<Parsed, String> {
    let Some(Value::Object(payload)) = body.get("payload") else {
        return Err("payload is required and must be an object".into());
    };
    let mut payload = payload.clone();
    let originator = match payload
        .remove("originator")
        .or_else(|| body.get("originator").cloned())
    {
        None | Some(Value::Null) => json!({"name": "Anonymous", "role": "external"}),
        Some(Value::Object(o)) => Value::Object(o),
        Some(_) => return Err("originator must be an object".into()),
    };
    let role = match originator.get("role") {
        None | Some(Value::Null) => "external",
        Some(Value::String(r)) if r == "external" || r == "moderator" => r.as_str(),
        Some(_) => return Err("originator.role must be external or moderator".into()),
    };
    if !matches!(originator.get("name"), None | Some(Value::String(_))) {
        return Err("originator.name must be a string".into());
    }
    let moderator = role == "moderator";
    match payload.remove("metadata") {
        None | Some(Value::Null) | Some(Value::Object(_)) => {}
        Some(_) => return Err("metadata must be an object".into()),
    }
    let kind = match payload.get("type") {
        Some(Value::String(t)) => t.clone(),
        None | Some(Value::Null) => return Err("payload.type is required".into()),
        Some(_) => return Err("payload.type must be a string".into()),
    };
    let (input, speech) = match kind.as_str() {
        "text" => {
            let speech = string(&payload, "speech")?;
            if speech.trim().is_empty() {
                return Err("speech must not be empty".into());
            }
            if speech.chars().count() > MAX_SPEECH_CHARS {
                return Err("speech is longer than 255 characters".into());
            }
            (Input::Text(speech.clone()), Some(speech))
        }
        "event" => {
            let name = string(&payload, "eventName")?;
            if name.trim().is_empty() {
                return Err("eventName must not be empty".into());
            }
            (Input::Event(name), None)
        }
        "location" => {
            let lat = number(&payload, "lat", 90.0)?;
            let long = number(&payload, "long", 180.0)?;
            (
                Input::Location {
                    lat: lat.to_string(),
                    lng: long.to_string(),
                },
                None,
            )
        }
        "media" => {
            let url = string(&payload, "url")?;
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err("url must be an http or https URL".into());
            }
            let media_type = string(&payload, "mediaType")?;
            if !matches!(media_type.as_str(), "image" | "file" | "audio" | "video") {
                return Err("mediaType must be one of image, file, audio, video".into());
            }
            (Input::Media { media_type }, None)
        }
        _ => return Err("payload.type must be one of text, event, location, media".into()),
    };
    Ok(Parsed {
        input,
        speech,
        payload: Value::Object(payload),
        originator,
        moderator,
    })
}

fn string(payload: &Map<String, Value>, key: &str) -> Result<String, String> {
    match payload.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        None | Some(Value::Null) => Err(format!("{key} is required")),
        Some(_) => Err(format!("{key} must be a string")),
    }
}

fn number(payload: &Map<String, Value>, key: &str, limit: f64) -> Result<f64, String> {
    let value = match payload.get(key) {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
        None | Some(Value::Null) => return Err(format!("{key} is required")),
        Some(_) => None,
    };
    match value {
        Some(v) if v.is_finite() && v.abs() <= limit => Ok(v),
        _ => Err(format!(
            "{key} must be a number between -{limit} and {limit}"
        )),
    }
}

/// `GET /rest/v1/messages/{threadId}?page=N`: a page of the thread's history.
pub async fn history(
    State(state): State<AppState>,
    Path(thread_id): Path<String>,
    params: Params,
) -> Response {
    let page = match page_param(&params) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Some((items, total)) = state.v1.store.messages_page(&thread_id, page) else {
        return error_response(StatusCode::NOT_FOUND, "no such thread");
    };
    let mut answer = paging(page, total);
    answer.insert("threadId".into(), json!(thread_id));
    answer.insert("items".into(), Value::Array(items));
    deliver(&state, &params, "history", answer)
}

/// `GET /rest/v1/threads?page=N`: a page of the project's threads, oldest first.
pub async fn threads(State(state): State<AppState>, params: Params) -> Response {
    let page = match page_param(&params) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let (items, total) = state
        .v1
        .store
        .threads_page(page, |id| state.engine.is_paused(id));
    let mut answer = paging(page, total);
    answer.insert("items".into(), Value::Array(items));
    deliver(&state, &params, "threads", answer)
}

/// The answer itself with `sync=true`; else `{status: "ok"}` and the data as a webhook
/// call of `kind`.
pub(crate) fn deliver(
    state: &AppState,
    params: &Params,
    kind: &str,
    answer: Map<String, Value>,
) -> Response {
    if flag(params, "sync") {
        return Json(Value::Object(answer)).into_response();
    }
    let mut payload = answer;
    payload.remove("status");
    notify(state, kind, Value::Object(payload));
    Json(json!({ "status": "ok" })).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: Value) -> Result<Parsed, String> {
        let Value::Object(m) = v else { unreachable!() };
        parse_message(&m)
    }

    #[test]
    fn parses_and_refuses() {
        let p = parse(json!({"payload": {"type": "text", "speech": "hi",
            "originator": {"name": "Ann", "role": "moderator"}}}))
        .unwrap();
        assert!(p.moderator);
        assert!(p.payload.get("originator").is_none());
        assert!(parse(json!({"payload": {"type": "text", "speech": "x".repeat(256)}})).is_err());
        assert!(parse(json!({"payload": {"type": "location", "lat": 91, "long": 0}})).is_err());
        assert!(parse(json!({"payload": {"type": "location", "lat": "52.1", "long": 4}})).is_ok());
        assert!(
            parse(json!({"payload": {"type": "media", "url": "x", "mediaType": "image"}})).is_err()
        );
        assert!(parse(json!({"speech": "hi"})).is_err());
        assert!(
            parse(json!({"payload": {"type": "text", "speech": "a",
                "originator": {"name": "A", "role": "admin"}}}))
            .is_err()
        );
    }
}
