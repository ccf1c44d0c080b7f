//! The HTTP calls the official clients make beside the Flow socket (thread.history, thread.unnoticed, thread.upload, thread.merger), their error bodies and the CORS answers a browser client needs.
//!
//! Who sends what (flow-ai/flowai-js `src/liveclient.js` and `src/rest.js`,
//! flow-ai/flowai-swift `FlowCore/Classes/LiveClient.swift`):
//! - history and unnoticed: flowai-js sends `x-flowai-clientid`, `x-flowai-threadid` and
//!   `x-flowai-secret` headers; flowai-swift sends `clientId` and `threadId` in the query
//!   and wants history's `payload` to be an array.
//! - upload: flowai-js posts a form with the `file` part first and a `payload` part (the
//!   message JSON plus `clientId` and `sessionId`) after it, with only `x-flowai-secret` as
//!   a header, and hands the answer's `payload` to the app as the delivered message.
//! - merger: flowai-js posts JSON `{clientId, threadId, sessionId, mergerKey}` (its REST
//!   helper drops the secret header it means to send) and wants `status: "ok"`.
//! - on a `status` other than "ok" both read `payload.message`; our core reads `message`.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use super::{MAX_KEPT, Upload, check_client, check_client_id, echo, lock, param};
use crate::AppState;
use crate::engine::Input;

/// Largest file accepted: the service's media limit, 250 MB.
const MAX_FILE: u64 = 250 * 1024 * 1024;
/// Largest upload body: the file plus room for the form.
const MAX_UPLOAD: usize = MAX_FILE as usize + 1024 * 1024;
/// Largest `thread.merger` body.
const MAX_MERGER_BODY: usize = 64 * 1024;

/// The thread calls.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/thread.history", get(history))
        .route("/thread.unnoticed", get(unnoticed))
        .route(
            "/thread.upload",
            post(upload).layer(DefaultBodyLimit::max(MAX_UPLOAD)),
        )
        .route("/thread.upload/{id}", get(upload_info))
        .route(
            "/thread.merger",
            post(merger).layer(DefaultBodyLimit::max(MAX_MERGER_BODY)),
        )
}

/// An error answer of the socket side: `{status: "error", message, payload: {message}}`.
/// The text is in both places because the official clients read `payload.message` and our
/// core (like the rest of the emulator's errors) reads `message`.
pub(crate) fn socket_error(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({ "status": "error", "message": message, "payload": { "message": message } })),
    )
        .into_response()
}

/// Answer CORS preflights and mark answers to a page's requests as readable by it: the
/// official JS client runs in browsers and calls socket.info and the thread calls from
/// the page's origin with custom `x-flowai-*` headers.
pub(super) async fn cors(req: Request, next: Next) -> Response {
    let origin = req.headers().get(header::ORIGIN).cloned();
    let preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if preflight {
        let allow_headers = req
            .headers()
            .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .cloned()
            .unwrap_or_else(|| {
                HeaderValue::from_static(
                    "content-type, x-flowai-clientid, x-flowai-sessionid, x-flowai-threadid, \
                     x-flowai-secret, x-flowai-ott",
                )
            });
        let mut resp = StatusCode::NO_CONTENT.into_response();
        let h = resp.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            origin.unwrap_or(HeaderValue::from_static("*")),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, OPTIONS"),
        );
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, allow_headers);
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
        return resp;
    }
    let mut resp = next.run(req).await;
    if let Some(origin) = origin {
        let h = resp.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    resp
}

#[allow(clippy::result_large_err)]
fn thread_of(
    state: &AppState,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Result<String, Response> {
    check_client(state, query, headers)?;
    param(query, headers, "threadId")
        .ok_or_else(|| socket_error(StatusCode::BAD_REQUEST, "threadId is required"))
}

/// `payload` is the thread's messages, oldest first, each reply-shaped.
async fn history(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let thread_id = match thread_of(&state, &query, &headers) {
        Ok(t) => t,
        Err(resp) => return resp,
    };
    Json(json!({ "status": "ok", "payload": state.socket.history(&thread_id) })).into_response()
}

/// `payload.unnoticed` counts the replies not yet noticed, so it is falsy exactly when
/// there are none (what flowai-js tests); `payload.messages` lists them.
async fn unnoticed(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let thread_id = match thread_of(&state, &query, &headers) {
        Ok(t) => t,
        Err(resp) => return resp,
    };
    let messages = state.socket.unnoticed(&thread_id);
    Json(json!({
        "status": "ok",
        "payload": { "threadId": thread_id, "unnoticed": messages.len(), "messages": messages },
    }))
    .into_response()
}

/// The file part as it streamed in; its content is counted, not kept.
struct FilePart {
    name: String,
    size: u64,
    content_type: Option<String>,
}

/// An upload is a message with a file: it is checked, kept and answered like a
/// `message.send` (the answer's `payload` is the delivered message), and the bot's reply
/// goes to the thread's open sockets.
async fn upload(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    mut form: Multipart,
) -> Response {
    let mut file: Option<FilePart> = None;
    let mut message = Map::new();
    loop {
        let mut field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return socket_error(e.status(), &e.body_text()),
        };
        match field.name() {
            Some("file") => {
                let name = field.file_name().unwrap_or("upload").to_string();
                let content_type = field.content_type().map(str::to_string);
                let mut size = 0u64;
                // Counted as it streams in, and refused as soon as it passes the limit:
                // flowai-js tells the user "Upload is too large" on a 413.
                loop {
                    match field.chunk().await {
                        Ok(Some(chunk)) => size += chunk.len() as u64,
                        Ok(None) => break,
                        Err(e) => return socket_error(e.status(), &e.body_text()),
                    }
                    if size > MAX_FILE {
                        return socket_error(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            "the file is larger than 250 MB",
                        );
                    }
                }
                file = Some(FilePart {
                    name,
                    size,
                    content_type,
                });
            }
            Some("payload") => {
                let text = field.text().await.unwrap_or_default();
                match serde_json::from_str::<Value>(&text) {
                    Ok(Value::Object(m)) => message = m,
                    _ => {
                        return socket_error(
                            StatusCode::BAD_REQUEST,
                            "payload is not a JSON object",
                        );
                    }
                }
            }
            _ => {}
        }
    }
    // The client id comes in the query or headers (our core) or, from flowai-js, only in
    // the payload part, which follows the file: it is checked once the form is read.
    let client_id = param(&query, &headers, "clientId").or_else(|| {
        message
            .get("clientId")
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    if let Err(resp) = check_client_id(&state, client_id.as_deref()) {
        return resp;
    }
    let Some(file) = file else {
        return socket_error(StatusCode::BAD_REQUEST, "the file part is required");
    };
    let thread_id = message
        .get("threadId")
        .and_then(Value::as_str)
        .filter(|t| !t.trim().is_empty())
        .map(str::to_string)
        .or_else(|| param(&query, &headers, "threadId"));
    let Some(thread_id) = thread_id else {
        return socket_error(StatusCode::BAD_REQUEST, "threadId is required");
    };
    let trace_id = message.get("traceId").and_then(Value::as_u64);
    if message.get("traceId").is_some_and(|t| !t.is_null()) && trace_id.is_none() {
        return socket_error(StatusCode::BAD_REQUEST, "traceId must be a number");
    }
    let id = uuid::Uuid::new_v4().to_string();
    let url = format!("{}/thread.upload/{id}", state.base_url);
    let media = echo::media_type(file.content_type.as_deref());
    message.insert(
        "attachment".into(),
        json!({
            "type": media,
            "payload": {
                "url": url,
                "name": file.name,
                "size": file.size,
                "mimeType": file.content_type,
            },
        }),
    );
    echo::normalize_sent(&mut message, &thread_id);
    lock(&state.socket.uploads).insert(
        id.clone(),
        Upload {
            name: file.name.clone(),
            size: file.size,
            thread_id: thread_id.clone(),
        },
    );
    let mut answer = message.clone();
    answer.insert("id".into(), Value::String(id));
    answer.insert("name".into(), Value::String(file.name));
    answer.insert("size".into(), Value::from(file.size));
    answer.insert("url".into(), Value::String(url));
    if state
        .socket
        .keep_sent(&thread_id, trace_id, message, None)
        .first
    {
        let input = Input::Media {
            media_type: media.to_string(),
        };
        let messages = state.engine.respond(&thread_id, &input);
        if !messages.is_empty() {
            let frame = state.socket.keep_reply(&thread_id, &messages, trace_id);
            state.socket.hub.push(&thread_id, &frame);
        }
    }
    Json(json!({ "status": "ok", "payload": answer })).into_response()
}

/// What the emulator kept of an upload (its content is not stored).
async fn upload_info(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match lock(&state.socket.uploads).get(&id).cloned() {
        Some(u) => Json(json!({
            "status": "ok",
            "payload": { "id": id, "name": u.name, "size": u.size, "threadId": u.thread_id },
        }))
        .into_response(),
        None => socket_error(StatusCode::NOT_FOUND, "unknown upload"),
    }
}

/// Merge the thread with the one a `mergerKey` stands for. The emulator has a single
/// channel, so there is nothing to merge: it checks and records the call and says ok.
async fn merger(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // flowai-js sends JSON with a JSON content type, but the body is read whatever the
    // header says: a client that forgets it should hear what is wrong with the call.
    let mut call = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(m)) => m,
        _ => return socket_error(StatusCode::BAD_REQUEST, "the body is not a JSON object"),
    };
    let text = |call: &Map<String, Value>, key: &str| {
        call.get(key)
            .and_then(Value::as_str)
            .filter(|v| !v.trim().is_empty())
            .map(str::to_string)
    };
    let client_id = text(&call, "clientId").or_else(|| param(&query, &headers, "clientId"));
    if let Err(resp) = check_client_id(&state, client_id.as_deref()) {
        return resp;
    }
    if text(&call, "mergerKey").is_none() {
        return socket_error(StatusCode::BAD_REQUEST, "mergerKey is required");
    }
    let Some(thread_id) = text(&call, "threadId").or_else(|| param(&query, &headers, "threadId"))
    else {
        return socket_error(StatusCode::BAD_REQUEST, "threadId is required");
    };
    call.remove("clientId");
    call.insert("threadId".into(), Value::String(thread_id.clone()));
    {
        let mut merges = lock(&state.socket.merges);
        merges.push_back(Value::Object(call));
        while merges.len() > MAX_KEPT {
            merges.pop_front();
        }
    }
    Json(json!({ "status": "ok", "payload": { "threadId": thread_id } })).into_response()
}
