//! The Messaging REST API: `POST /v1/messaging/message` (and its alias `/query`) for text,
//! event, location and media messages; replies go out through the webhooks.
//!
//! A valid message is answered `{"status":"ok"}` at once; then `message.delivered` (the
//! message as it was sent), the engine's reply as `message.reply` and, when the reply hands
//! the thread over, `control.handover` are queued for every subscribed webhook of the
//! organisation. Media come as `multipart/form-data` (part `file` + part `query` with the
//! JSON); the file is streamed and only counted, never held in memory.
//!
//! The API reference says the Messaging API allows cross-origin requests and returns JSON
//! for every answer, errors included: [`cors`] answers preflights and marks answers for
//! browsers, and a wrong method or path under `/v1/messaging` gets a JSON error body too.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use axum::{Json, Router};
use flowai_core::models::{Received, Template};
use serde_json::{Map, Value, json};

use crate::auth::{error_response, require_bearer};
use crate::engine::{Input, bot_originator};
use crate::{AppState, EmulatorOptions};

/// Longest text message, in characters.
pub const MAX_TEXT_CHARS: usize = 255;
/// Largest media upload, in bytes.
pub const MAX_MEDIA_BYTES: u64 = 250 * 1024 * 1024;
/// Largest JSON body (and multipart `query` part).
const MAX_JSON_BYTES: usize = 1024 * 1024;
/// Received messages kept for inspection.
const MAX_RECORDS: usize = 10_000;

/// Details of an uploaded media file.
#[derive(Clone, Debug, PartialEq)]
pub struct MediaInfo {
    /// `image`, `file`, `audio` or `video`.
    pub media_type: String,
    /// The mime type given in the query or on the file part.
    pub mime_type: Option<String>,
    /// The file name of the `file` part.
    pub file_name: Option<String>,
    /// Bytes received.
    pub size: u64,
}

/// A message the Messaging API accepted.
#[derive(Clone, Debug, PartialEq)]
pub struct ReceivedMessage {
    /// The thread.
    pub thread_id: String,
    /// The optional traceId.
    pub trace_id: Option<u64>,
    /// What was sent.
    pub input: Input,
    /// Language code.
    pub lang: Option<String>,
    /// Timezone offset in hours.
    pub timezone: Option<f64>,
    /// Optional params object.
    pub params: Option<Value>,
    /// The upload, for media messages.
    pub media: Option<MediaInfo>,
}

impl ReceivedMessage {
    /// The wire `type` of the message.
    pub fn kind(&self) -> &'static str {
        match self.input {
            Input::Text(_) => "text",
            Input::Event(_) => "event",
            Input::Location { .. } => "location",
            Input::Media { .. } => "media",
        }
    }
}

/// Messages received over the Messaging API.
#[derive(Debug, Default)]
pub struct RestState {
    received: Mutex<VecDeque<ReceivedMessage>>,
    total: AtomicU64,
}

impl RestState {
    /// Fresh state.
    pub fn new(_options: &EmulatorOptions) -> Self {
        RestState::default()
    }

    /// The most recent accepted messages (up to 10,000), oldest first.
    pub fn messages(&self) -> Vec<ReceivedMessage> {
        self.lock().iter().cloned().collect()
    }

    /// How many messages were accepted since start.
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    /// Forget the recorded messages.
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn record(&self, message: ReceivedMessage) {
        self.total.fetch_add(1, Ordering::Relaxed);
        let mut r = self.lock();
        if r.len() >= MAX_RECORDS {
            r.pop_front();
        }
        r.push_back(message);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<ReceivedMessage>> {
        // A poisoned lock still holds valid plain data.
        self.received.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// `POST /v1/messaging/message` and `POST /v1/messaging/query`, and JSON errors for any
/// other path under `/v1/messaging` that the webhook routes do not serve.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/messaging/message",
            post(message).fallback(method_not_allowed),
        )
        .route(
            "/v1/messaging/query",
            post(message).fallback(method_not_allowed),
        )
        .route("/v1/messaging", any(not_found))
        .route("/v1/messaging/", any(not_found))
        .route("/v1/messaging/{*rest}", any(not_found))
        // Media may be 250 MB; the handler counts the bytes itself.
        .layer(DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn(cors))
}

/// The JSON answer to a method a route does not serve (axum's own has no body).
pub(crate) async fn method_not_allowed() -> Response {
    error_response(
        StatusCode::METHOD_NOT_ALLOWED,
        "method not allowed on this path",
    )
}

/// The JSON answer to a path no route serves.
pub(crate) async fn not_found() -> Response {
    error_response(StatusCode::NOT_FOUND, "no such API path")
}

/// Cross-origin support, as the API reference promises for the Messaging API: a browser's
/// preflight (`OPTIONS` with `Access-Control-Request-Method`) is answered here with 204,
/// and every other answer names the caller's origin as allowed. Origins are echoed rather
/// than `*` so that a page sending credentials is served too.
pub async fn cors(request: Request, next: Next) -> Response {
    let origin = request.headers().get(header::ORIGIN).cloned();
    let preflight = request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = if preflight {
        let mut r = StatusCode::NO_CONTENT.into_response();
        let asked = request
            .headers()
            .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .cloned();
        let h = r.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, PUT, DELETE, OPTIONS"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            asked.unwrap_or(HeaderValue::from_static("Authorization, Content-Type")),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        r
    } else {
        next.run(request).await
    };
    allow_origin(response.headers_mut(), origin);
    response
}

fn allow_origin(headers: &mut HeaderMap, origin: Option<HeaderValue>) {
    match origin {
        Some(o) => {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o);
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
            headers.append(header::VARY, HeaderValue::from_static("Origin"));
        }
        None => {
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            );
        }
    }
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("Location"),
    );
}

/// A message as it was sent: the JSON body (or multipart `query` part), for the
/// `message.delivered` echo.
type Sent = Map<String, Value>;

fn bad_request(message: &str) -> Response {
    error_response(StatusCode::BAD_REQUEST, message)
}

async fn message(State(state): State<AppState>, request: Request) -> Response {
    if let Err(r) = require_bearer(request.headers(), &state.options.credentials.messaging_key) {
        return r;
    }
    if state.faults.take_http_failure() {
        return error_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal server error (injected)",
        );
    }
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/")
        });
    let parsed = if multipart {
        parse_multipart(&state, request).await
    } else {
        parse_json(request).await
    };
    match parsed {
        Ok((m, sent)) => {
            accept(&state, m, sent);
            Json(json!({ "status": "ok" })).into_response()
        }
        Err(r) => r,
    }
}

#[allow(clippy::result_large_err)]
async fn parse_json(request: Request) -> Result<(ReceivedMessage, Sent), Response> {
    let bytes = axum::body::to_bytes(request.into_body(), MAX_JSON_BYTES)
        .await
        .map_err(|_| error_response(StatusCode::PAYLOAD_TOO_LARGE, "the body is too large"))?;
    let body = match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(m)) => m,
        Ok(_) => return Err(bad_request("the body must be a JSON object")),
        Err(_) => return Err(bad_request("the body is not valid JSON")),
    };
    let kind = body
        .get("type")
        .ok_or_else(|| bad_request("type is required"))?
        .as_str()
        .ok_or_else(|| bad_request("type must be a string"))?;
    let input = match kind {
        "text" => {
            let text = required_str(&body, "text")?;
            if text.is_empty() {
                return Err(bad_request("text must not be empty"));
            }
            if text.chars().count() > MAX_TEXT_CHARS {
                return Err(bad_request("text is longer than 255 characters"));
            }
            Input::Text(text.to_string())
        }
        "event" => {
            let name = required_str(&body, "eventName")?;
            if name.is_empty() {
                return Err(bad_request("eventName must not be empty"));
            }
            Input::Event(name.to_string())
        }
        "location" => Input::Location {
            lat: coordinate(&body, "lat")?,
            lng: coordinate(&body, "lng")?,
        },
        "media" => {
            return Err(bad_request(
                "media messages must be sent as multipart/form-data with parts file and query",
            ));
        }
        _ => {
            return Err(bad_request(
                "type must be one of text, event, location, media",
            ));
        }
    };
    let message = common(&body, input, None)?;
    Ok((message, body))
}

#[allow(clippy::result_large_err)]
async fn parse_multipart(
    state: &AppState,
    request: Request,
) -> Result<(ReceivedMessage, Sent), Response> {
    let mut form = Multipart::from_request(request, state)
        .await
        .map_err(|_| bad_request("the body is not valid multipart/form-data"))?;
    let mut query: Option<Map<String, Value>> = None;
    let mut file: Option<(u64, Option<String>, Option<String>)> = None;
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(_) => return Err(bad_request("the multipart body is malformed")),
        };
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "file" => {
                let file_name = field.file_name().map(str::to_string);
                let mime = field.content_type().map(str::to_string);
                let size = drain(field, MAX_MEDIA_BYTES).await?;
                file = Some((size, file_name, mime));
            }
            "query" => {
                let text = read_small(field).await?;
                let value: Value = serde_json::from_slice(&text)
                    .map_err(|_| bad_request("the query part is not valid JSON"))?;
                let mut map = match value {
                    Value::Object(m) => m,
                    _ => return Err(bad_request("the query part must be a JSON object")),
                };
                // Some clients wrap the message in {"query": {...}}.
                if !map.contains_key("threadId") {
                    if let Some(Value::Object(inner)) = map.remove("query") {
                        map = inner;
                    }
                }
                query = Some(map);
            }
            _ => {
                drain(field, MAX_MEDIA_BYTES).await?;
            }
        }
    }
    let query = query.ok_or_else(|| bad_request("the query part is required"))?;
    let (size, file_name, part_mime) =
        file.ok_or_else(|| bad_request("the file part is required"))?;
    let media_type = required_str(&query, "mediaType")?.to_ascii_lowercase();
    if !matches!(media_type.as_str(), "image" | "file" | "audio" | "video") {
        return Err(bad_request(
            "mediaType must be one of image, file, audio, video",
        ));
    }
    let mime_type = ["mimeType", "mimetype"]
        .iter()
        .find_map(|k| query.get(*k).and_then(Value::as_str))
        .map(str::to_string)
        .or(part_mime);
    let media = MediaInfo {
        media_type: media_type.clone(),
        mime_type,
        file_name,
        size,
    };
    let message = common(&query, Input::Media { media_type }, Some(media))?;
    Ok((message, query))
}

/// Read a part to its end, counting bytes, failing past `limit`.
#[allow(clippy::result_large_err)]
async fn drain(
    mut field: axum::extract::multipart::Field<'_>,
    limit: u64,
) -> Result<u64, Response> {
    let mut size: u64 = 0;
    loop {
        match field.chunk().await {
            Ok(Some(chunk)) => {
                size = size.saturating_add(chunk.len() as u64);
                if size > limit {
                    return Err(error_response(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "the file is larger than 250 MB",
                    ));
                }
            }
            Ok(None) => return Ok(size),
            Err(_) => return Err(bad_request("the multipart body is malformed")),
        }
    }
}

#[allow(clippy::result_large_err)]
async fn read_small(mut field: axum::extract::multipart::Field<'_>) -> Result<Vec<u8>, Response> {
    let mut out = Vec::new();
    loop {
        match field.chunk().await {
            Ok(Some(chunk)) => {
                if out.len() + chunk.len() > MAX_JSON_BYTES {
                    return Err(error_response(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "the query part is too large",
                    ));
                }
                out.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(out),
            Err(_) => return Err(bad_request("the multipart body is malformed")),
        }
    }
}

#[allow(clippy::result_large_err)]
fn required_str<'a>(body: &'a Map<String, Value>, key: &str) -> Result<&'a str, Response> {
    match body.get(key) {
        None | Some(Value::Null) => Err(bad_request(&format!("{key} is required"))),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(bad_request(&format!("{key} must be a string"))),
    }
}

/// A latitude or longitude: a string per the API, numbers are accepted too.
#[allow(clippy::result_large_err)]
fn coordinate(body: &Map<String, Value>, key: &str) -> Result<String, Response> {
    match body.get(key) {
        None | Some(Value::Null) => Err(bad_request(&format!("{key} is required"))),
        Some(Value::String(s)) if s.trim().parse::<f64>().is_ok() => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(_) => Err(bad_request(&format!("{key} must be a number in a string"))),
    }
}

/// The fields every message type shares.
#[allow(clippy::result_large_err)]
fn common(
    body: &Map<String, Value>,
    input: Input,
    media: Option<MediaInfo>,
) -> Result<ReceivedMessage, Response> {
    let thread_id = required_str(body, "threadId")?;
    if thread_id.trim().is_empty() {
        return Err(bad_request("threadId must not be empty"));
    }
    let trace_id = match body.get("traceId") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(
            n.as_u64()
                .ok_or_else(|| bad_request("traceId must be a non-negative integer"))?,
        ),
        Some(Value::String(s)) => Some(
            s.parse::<u64>()
                .map_err(|_| bad_request("traceId must be a number"))?,
        ),
        Some(_) => return Err(bad_request("traceId must be a number")),
    };
    let lang = match body.get("lang") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(bad_request("lang must be a string")),
    };
    let timezone = match body.get("timezone") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => Some(
            s.trim()
                .parse::<f64>()
                .map_err(|_| bad_request("timezone must be a number"))?,
        ),
        Some(_) => return Err(bad_request("timezone must be a number")),
    };
    let params = match body.get("params") {
        None | Some(Value::Null) => None,
        Some(v @ Value::Object(_)) => Some(v.clone()),
        Some(_) => return Err(bad_request("params must be an object")),
    };
    Ok(ReceivedMessage {
        thread_id: thread_id.to_string(),
        trace_id,
        input,
        lang,
        timezone,
        params,
        media,
    })
}

/// The `message.delivered` payload: the message as it was sent, like the socket's echo
/// (webhook payloads are those of the matching socket frame). `threadId` and `speech` are
/// always there: a message without text gets the speech the official JS client gives one,
/// `"<type> attachment"` ([`Input::speech`], also the reply's `replyTo`); a traceId sent as
/// a string is given back as the number it names.
fn delivered_payload(message: &ReceivedMessage, mut sent: Sent) -> Value {
    let mut out = Map::new();
    out.insert("threadId".into(), json!(message.thread_id));
    sent.remove("threadId");
    if let Some(t) = message.trace_id {
        out.insert("traceId".into(), json!(t));
    }
    sent.remove("traceId");
    out.insert("speech".into(), json!(message.input.speech()));
    sent.remove("speech");
    // The media message's own type is `media` whatever the query part said (see parse_multipart).
    sent.insert("type".into(), json!(message.kind()));
    out.extend(sent);
    Value::Object(out)
}

/// Record the message, run the engine and queue the webhook events.
fn accept(state: &AppState, message: ReceivedMessage, sent: Sent) {
    let delivered = delivered_payload(&message, sent);
    let org = state.options.credentials.organisation_id.clone();
    let replies = state.engine.respond(&message.thread_id, &message.input);
    // A reply that contains a handover template is where the engine hands the thread to
    // the app: the API reference's `control.handover` event.
    let hands_over = replies.iter().any(|m| {
        m.responses
            .iter()
            .any(|r| matches!(r.template, Template::Handover(_)))
    });
    let wanted = |event: &str| !replies.is_empty() && state.webhooks.is_subscribed(&org, event);
    let (want_reply, want_handover) = (
        wanted("message.reply"),
        hands_over && wanted("control.handover"),
    );
    let reply = (want_reply || want_handover).then(|| {
        let mut received = Received {
            thread_id: message.thread_id.clone(),
            messages: replies,
            originator: Some(bot_originator()),
            ..Default::default()
        };
        if let Some(t) = message.trace_id {
            received.extra.insert("traceId".into(), json!(t));
        }
        serde_json::to_value(received).unwrap_or(Value::Null)
    });
    state.rest.record(message);
    let delay = state.faults.get().reply_delay_ms;
    let send = move |state: &AppState| {
        state.webhooks.enqueue(&org, "message.delivered", delivered);
        if let Some(reply) = reply {
            if want_reply {
                state.webhooks.enqueue(&org, "message.reply", reply.clone());
            }
            if want_handover {
                // The payload is the reply that hands over: the thread, the bot's messages
                // (with the handover template) and the bot as originator.
                state.webhooks.enqueue(&org, "control.handover", reply);
            }
        }
    };
    if delay == 0 {
        send(state);
    } else {
        let state = state.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(delay)).await;
            send(&state);
        });
    }
}
