//! The Flow REST API v1 under `/rest/v1`, answered by the same flow engine as every channel.
//!
//! Every call needs `Authorization: <messaging key>` (raw, as the API reference shows;
//! `Bearer <key>` is accepted too) and gets an `x-request-id` answer header. Errors are
//! `{"status": "error", "message"}` with a 4xx/5xx status. Answers (the API reference
//! shows none, so these follow its field names):
//!
//! | Call | Answer |
//! |---|---|
//! | `POST /rest/v1/messages` | `{status, threadId, messages?}`: a new thread `<32 hex>\|w_<channelId>` |
//! | `POST /rest/v1/messages/{threadId}?sync=true&writeConcern=true` | `{status, threadId, messages}` (`messages`, the bot's reply messages in the socket's format, only with `sync=true`; otherwise they go to `message` webhooks) |
//! | `GET /rest/v1/messages/{threadId}?sync=true&page=N` | `{status, threadId, page, pageSize, total, pages, hasMore, items}`; items `{id, threadId, direction: inbound\|outbound, createdAt, originator, payload}` |
//! | `GET /rest/v1/threads?sync=true&page=N` | `{status, page, pageSize, total, pages, hasMore, items: [{threadId, messageCount, lastMessageAt, isPaused}]}`, oldest thread first |
//! | `POST /rest/v1/handover/{threadId}` `{secondsToPause?}` | `{status, threadId, isPaused: true, secondsToPause?}` |
//! | `POST /rest/v1/takeover` `{threadId, secondsToPause?}` (deprecated) | as handover, plus a `takeover` webhook |
//! | `POST /rest/v1/resolve/{threadId}` | `{status, threadId, isPaused: false}` |
//! | `GET /rest/v1/trigger/event?sync=true` | `{status, events: [{name, flowId, flowTitle}]}` (the project's EVENT steps) |
//! | `POST /rest/v1/trigger/event/{threadId}?eventName=E&sync=` | `{status, threadId, eventName, messages?}`; 404 when no flow listens to E |
//! | `GET /rest/v1/businesshours?sync=true` | `{status, businessHours}` (the project file's `businessHours`) |
//! | `POST\|DELETE\|GET /rest/v1/pause/{threadId}` (`{secondsToPause?}` on POST) | `{status, threadId, isPaused, secondsToPause?}` |
//! | `POST /rest/v1/broadcast/instant` `{audience: [{name?, phoneNumber, profile?}], channel: {channelName, externalId}, payload}` | `{status, recipients, threads}`; each recipient's thread is `<phoneNumber>\|<channelName>` |
//! | `POST /rest/v1/broadcast/instant/segment` `{audience: [{id?, name?}], payload}` | `{status, segments, recipients}` |
//! | `GET /rest/v1/broadcast/segments` | `{status, segments: [{id, name, description, size}]}` (the project file's `segments`) |
//!
//! Pages hold 20 items and are numbered from 1 (`page` may be sent as a string; 0 or a
//! non-number is a 400). The server keeps up to 100,000 threads (1,000 messages each).
//! A read without `sync=true` answers `{status: "ok"}` and sends its data as a webhook call
//! instead: `history`, `threads`, `trigger.events`, `businessHours`, `isPaused`.
//!
//! A message's body is `{"payload": {type, ...}}` with `type` `text` (`speech`, at most
//! 255 characters), `event` (`eventName`), `location` (`lat`, `long`, `title?`) or `media`
//! (`url`, `mediaType` image/file/audio/video, `mimeType?`), plus `originator {name, role,
//! profile}` and `metadata` in the payload. A message whose originator role is
//! `moderator` is a human agent speaking: it pauses the bot for the thread (no expiry).
//! A handover, a pause or a takeover pauses it too, for `secondsToPause` (times the
//! emulator's `time_scale`) or until resumed; while paused the engine gives no reply on
//! any channel. Pausing sends a `paused` webhook call; resuming (resolve, DELETE pause, or
//! the pause running out) sends `resumed`. Event broadcasts run the engine for each
//! recipient: instant broadcasts report the replies as `outbound` calls (they go out on
//! another channel), segment broadcasts as `message` calls. A segment with `"all": true`
//! holds every thread; otherwise its `threads` list.
//!
//! Every webhook call goes through the emulator's webhook delivery ([`crate::webhooks`])
//! as `{"type", "payload"}` to the webhooks subscribed to that type.
//!
//! Faults: [`crate::faults::FaultConfig`]'s `rest_v1_*` knobs answer the next calls with a
//! status (429 / 5xx, optionally with `Retry-After`) or hold them for a while.

pub mod control;
pub mod messages;
pub mod project;
pub mod store;

use std::collections::HashMap;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{any, get, post};
use flowai_core::secret::constant_time_eq;
use serde_json::{Map, Value};

pub use store::{PAGE_SIZE, Store, V1Request};

use crate::AppState;
use crate::auth::error_response;
use crate::faults::RestV1Fault;

/// The header naming each answer.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The v1 server's state.
#[derive(Debug, Default)]
pub struct V1State {
    /// Threads, messages and the request log.
    pub store: Store,
}

impl V1State {
    /// The requests answered so far (the most recent 100,000), in order.
    pub fn requests(&self) -> Vec<V1Request> {
        self.store.requests()
    }

    /// How many threads the server knows.
    pub fn thread_count(&self) -> usize {
        self.store.thread_count()
    }
}

/// Every `/rest/v1` route, behind the key check, the fault knobs and the request log.
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route(
            "/rest/v1/messages",
            post(messages::send_new).fallback(not_allowed),
        )
        .route(
            "/rest/v1/messages/{thread_id}",
            post(messages::send_to)
                .get(messages::history)
                .fallback(not_allowed),
        )
        .route(
            "/rest/v1/threads",
            get(messages::threads).fallback(not_allowed),
        )
        .route(
            "/rest/v1/handover/{thread_id}",
            post(control::handover).fallback(not_allowed),
        )
        .route(
            "/rest/v1/takeover",
            post(control::takeover).fallback(not_allowed),
        )
        .route(
            "/rest/v1/resolve/{thread_id}",
            post(control::resolve).fallback(not_allowed),
        )
        .route(
            "/rest/v1/pause/{thread_id}",
            post(control::pause)
                .delete(control::unpause)
                .get(control::status)
                .fallback(not_allowed),
        )
        .route(
            "/rest/v1/trigger/event",
            get(project::trigger_events).fallback(not_allowed),
        )
        .route(
            "/rest/v1/trigger/event/{thread_id}",
            post(project::trigger_event).fallback(not_allowed),
        )
        .route(
            "/rest/v1/businesshours",
            get(project::business_hours).fallback(not_allowed),
        )
        .route(
            "/rest/v1/broadcast/instant",
            post(project::broadcast).fallback(not_allowed),
        )
        .route(
            "/rest/v1/broadcast/instant/segment",
            post(project::broadcast_segment).fallback(not_allowed),
        )
        .route(
            "/rest/v1/broadcast/segments",
            get(project::segments).fallback(not_allowed),
        )
        .route("/rest/v1", any(not_found))
        .route("/rest/v1/", any(not_found))
        .route("/rest/v1/{*rest}", any(not_found))
        .layer(axum::middleware::from_fn_with_state(state, guard))
}

async fn not_allowed() -> Response {
    error_response(
        StatusCode::METHOD_NOT_ALLOWED,
        "method not allowed on this path",
    )
}

async fn not_found() -> Response {
    error_response(StatusCode::NOT_FOUND, "no such API path")
}

/// Key check, faults, request id and the request log, around every v1 call.
async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let at = Instant::now();
    let seq = state.v1.store.next_seq();
    let method = request.method().to_string();
    let path = request.uri().path().to_string();
    let query = request.uri().query().unwrap_or("").to_string();
    let mut response = match check_key(request.headers(), &state.options.credentials.messaging_key)
    {
        Err(r) => r,
        Ok(()) => match state.faults.take_rest_v1_fault() {
            Some(RestV1Fault::Fail {
                status,
                retry_after,
            }) => {
                let code = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
                let mut r = error_response(code, "injected failure");
                if let Some(v) = retry_after.and_then(|v| HeaderValue::from_str(&v).ok()) {
                    r.headers_mut().insert(header::RETRY_AFTER, v);
                }
                r
            }
            Some(RestV1Fault::Stall(hold)) => {
                tokio::time::sleep(hold).await;
                next.run(request).await
            }
            None => next.run(request).await,
        },
    };
    if let Ok(id) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        response.headers_mut().insert(REQUEST_ID_HEADER, id);
    }
    state.v1.store.log(V1Request {
        seq,
        method,
        path,
        query,
        at,
        status: response.status().as_u16(),
    });
    response
}

/// `Authorization: <key>` (or `Bearer <key>`); the error is a ready 401.
#[allow(clippy::result_large_err)]
fn check_key(headers: &HeaderMap, expected: &str) -> Result<(), Response> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            let v = v.trim();
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
                .unwrap_or(v)
                .trim()
        });
    match given {
        Some(key) if constant_time_eq(key.as_bytes(), expected.as_bytes()) => Ok(()),
        Some(_) => Err(error_response(StatusCode::UNAUTHORIZED, "invalid API key")),
        None => Err(error_response(
            StatusCode::UNAUTHORIZED,
            "missing Authorization header",
        )),
    }
}

/// Query parameters.
pub(crate) type Params = axum::extract::Query<HashMap<String, String>>;

/// Whether a flag parameter (`sync`, `writeConcern`) is on.
pub(crate) fn flag(params: &HashMap<String, String>, name: &str) -> bool {
    params
        .get(name)
        .is_some_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "1"))
}

/// A 400 with `message`.
pub(crate) fn bad_request(message: &str) -> Response {
    error_response(StatusCode::BAD_REQUEST, message)
}

/// A JSON object body; an empty body is `{}`.
#[allow(clippy::result_large_err)]
pub(crate) fn object_body(body: &Bytes) -> Result<Map<String, Value>, Response> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(bad_request("the body must be a JSON object")),
        Err(_) => Err(bad_request("the body is not valid JSON")),
    }
}

/// The 1-based `page` parameter (default 1).
#[allow(clippy::result_large_err)]
pub(crate) fn page_param(params: &HashMap<String, String>) -> Result<usize, Response> {
    match params.get("page") {
        None => Ok(1),
        Some(p) => match p.trim().parse::<usize>() {
            Ok(0) => Err(bad_request("page numbers start at 1")),
            Ok(n) => Ok(n),
            Err(_) => Err(bad_request("page must be a whole number")),
        },
    }
}

/// A page answer's paging fields.
pub(crate) fn paging(page: usize, total: usize) -> Map<String, Value> {
    let pages = total.div_ceil(PAGE_SIZE);
    let mut m = Map::new();
    m.insert("status".into(), "ok".into());
    m.insert("page".into(), page.into());
    m.insert("pageSize".into(), PAGE_SIZE.into());
    m.insert("total".into(), total.into());
    m.insert("pages".into(), pages.into());
    m.insert("hasMore".into(), (page < pages).into());
    m
}

/// Queue a v1 webhook call of `kind` for the organisation's subscribed webhooks.
pub(crate) fn notify(state: &AppState, kind: &str, payload: Value) {
    let org = &state.options.credentials.organisation_id;
    if state.webhooks.is_subscribed(org, kind) {
        state.webhooks.enqueue(org, kind, payload);
    }
}
