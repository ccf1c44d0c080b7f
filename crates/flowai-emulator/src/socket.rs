//! The Flow Socket API: socket.info with single-use endpoints, the websocket (delivered echo, bot replies, ping, errors), thread history, unnoticed and upload.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use flowai_core::models::ReplyMessage;
use flowai_core::recent::RecentKeys;
use flowai_core::secret::constant_time_eq;
use futures_util::SinkExt;
use serde::Serialize;
use serde_json::{Value, json};

use crate::auth::error_response;
use crate::engine::Input;
use crate::{AppState, EmulatorOptions};

/// Largest websocket message accepted.
const MAX_MESSAGE: usize = 1 << 20;
/// Largest upload accepted (the service's media limit) plus room for the form.
const MAX_UPLOAD: usize = 251 * 1024 * 1024;
/// Most messages kept per thread (history, unnoticed): a long-running emulator stays bounded.
const MAX_KEPT: usize = 200;

#[derive(Debug)]
struct Token {
    created: Instant,
    used: bool,
    thread_id: Option<String>,
}

/// The endpoints handed out, each kept for twice its lifetime (so a late connect is told
/// "expired", not "unknown") and then swept.
#[derive(Debug, Default)]
struct Tokens {
    map: HashMap<String, Token>,
    next_sweep: Option<Instant>,
}

impl Tokens {
    /// Add `token`, sweeping the old ones at most once per `ttl / 2`: a sweep per call made
    /// connecting N sessions cost O(N²) under this lock, and a sweep by count let a
    /// long-running emulator keep every endpoint of its last minutes.
    fn insert(&mut self, token: String, entry: Token, ttl: Duration) {
        let now = entry.created;
        if self.next_sweep.is_none_or(|at| now >= at) {
            let keep = ttl.saturating_mul(2).max(Duration::from_secs(1));
            self.map
                .retain(|_, t| now.saturating_duration_since(t.created) < keep);
            self.next_sweep = Some(now + (ttl / 2).max(Duration::from_millis(100)));
        }
        self.map.insert(token, entry);
    }
}

/// One kept message. Replies are kept as the frame text that was sent, shared with the
/// socket write and the unnoticed list: building, cloning and later dropping a JSON tree per
/// reply cost more than the rest of the message path.
#[derive(Debug, Clone)]
enum Kept {
    /// The payload of a `message.send`.
    Sent(Value),
    /// A whole `message.received` frame as sent.
    Frame(Utf8Bytes),
}

impl Kept {
    fn to_value(&self) -> Value {
        match self {
            Kept::Sent(payload) => json!({ "type": "message.send", "payload": payload }),
            Kept::Frame(text) => serde_json::from_str(text.as_str()).unwrap_or(Value::Null),
        }
    }
}

#[derive(Debug)]
struct Thread {
    /// Every message of the thread, sent and received, in order.
    history: VecDeque<Kept>,
    /// Replies not yet noticed by the user.
    unnoticed: VecDeque<Utf8Bytes>,
    /// Recent traceIds already answered: a resend gets its echo but no second reply.
    /// Bounded, because a client only resends what is still pending on its side.
    answered: RecentKeys<u64>,
    /// How many distinct traceIds were answered in all.
    answered_total: usize,
}

/// How many answered traceIds a thread remembers at least; more than the SDK keeps pending.
const ANSWERED_WINDOW: usize = 4096;

impl Default for Thread {
    fn default() -> Self {
        Thread {
            history: VecDeque::new(),
            unnoticed: VecDeque::new(),
            answered: RecentKeys::new(ANSWERED_WINDOW),
            answered_total: 0,
        }
    }
}

impl Thread {
    /// Record `trace_id` as answered; false when it was answered already.
    fn first_answer(&mut self, trace_id: u64) -> bool {
        if !self.answered.insert(trace_id) {
            return false;
        }
        self.answered_total += 1;
        true
    }
}

#[derive(Debug, Clone)]
struct Upload {
    name: String,
    size: u64,
    thread_id: String,
}

/// State of the Flow socket part of the emulator.
#[derive(Debug)]
pub struct SocketState {
    endpoint_ttl: Duration,
    idle_timeout: Duration,
    tokens: Mutex<Tokens>,
    threads: Mutex<HashMap<String, Thread>>,
    uploads: Mutex<HashMap<String, Upload>>,
    socket_info_calls: AtomicU64,
    connections: AtomicU64,
    frames_in: AtomicU64,
    /// socket.info answers that carried an endpoint, and websocket upgrade requests: a client
    /// that never reuses an endpoint makes no more requests than it was given endpoints.
    endpoints_issued: AtomicU64,
    upgrade_requests: AtomicU64,
}

impl SocketState {
    /// Fresh state.
    pub fn new(options: &EmulatorOptions) -> Self {
        SocketState {
            endpoint_ttl: options.endpoint_ttl,
            idle_timeout: options.idle_timeout,
            tokens: Mutex::default(),
            threads: Mutex::default(),
            uploads: Mutex::default(),
            socket_info_calls: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            frames_in: AtomicU64::new(0),
            endpoints_issued: AtomicU64::new(0),
            upgrade_requests: AtomicU64::new(0),
        }
    }

    /// How many socket.info calls arrived (refused ones included).
    pub fn socket_info_calls(&self) -> u64 {
        self.socket_info_calls.load(Ordering::Relaxed)
    }

    /// How many websockets were accepted.
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }

    /// How many inbound websocket frames arrived, over every connection.
    pub fn frames_in(&self) -> u64 {
        self.frames_in.load(Ordering::Relaxed)
    }

    /// How many socket.info answers carried an endpoint.
    pub fn endpoints_issued(&self) -> u64 {
        self.endpoints_issued.load(Ordering::Relaxed)
    }

    /// How many websocket upgrade requests arrived (refused ones included).
    pub fn upgrade_requests(&self) -> u64 {
        self.upgrade_requests.load(Ordering::Relaxed)
    }

    /// The messages of a thread (sent and received), in order.
    pub fn history(&self, thread_id: &str) -> Vec<Value> {
        let kept: Vec<Kept> = lock(&self.threads)
            .get(thread_id)
            .map(|t| t.history.iter().cloned().collect())
            .unwrap_or_default();
        kept.iter().map(Kept::to_value).collect()
    }

    /// The replies of a thread not yet noticed, in order.
    fn unnoticed(&self, thread_id: &str) -> Vec<Value> {
        let kept: Vec<Utf8Bytes> = lock(&self.threads)
            .get(thread_id)
            .map(|t| t.unnoticed.iter().cloned().collect())
            .unwrap_or_default();
        kept.iter()
            .map(|text| serde_json::from_str(text.as_str()).unwrap_or(Value::Null))
            .collect()
    }

    /// How many `message.send`s of a thread were answered (distinct traceIds).
    pub fn answered(&self, thread_id: &str) -> usize {
        lock(&self.threads)
            .get(thread_id)
            .map(|t| t.answered_total)
            .unwrap_or(0)
    }

    /// Size in bytes of an upload by id.
    pub fn upload_size(&self, id: &str) -> Option<u64> {
        lock(&self.uploads).get(id).map(|u| u.size)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock still holds valid plain data.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Routes of the Flow socket API.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/socket.info", get(socket_info))
        .route("/socket.info/", get(socket_info))
        .route("/ws/{token}", get(upgrade))
        .route("/thread.history", get(history))
        .route("/thread.unnoticed", get(unnoticed))
        .route(
            "/thread.upload",
            post(upload).layer(DefaultBodyLimit::max(MAX_UPLOAD)),
        )
        .route("/thread.upload/{id}", get(upload_info))
}

/// A value from the query string or, failing that, from an `x-flowai-*` header.
fn param(query: &HashMap<String, String>, headers: &HeaderMap, name: &str) -> Option<String> {
    query
        .get(name)
        .cloned()
        .or_else(|| {
            headers
                .get(format!("x-flowai-{}", name.to_ascii_lowercase()))
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        })
        .filter(|v| !v.trim().is_empty())
}

#[allow(clippy::result_large_err)]
fn check_client(
    state: &AppState,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Result<(), Response> {
    let expected = &state.options.credentials.client_id;
    match param(query, headers, "clientId") {
        Some(id) if constant_time_eq(id.trim().as_bytes(), expected.as_bytes()) => Ok(()),
        Some(_) => Err(error_response(StatusCode::UNAUTHORIZED, "unknown clientId")),
        None => Err(error_response(
            StatusCode::UNAUTHORIZED,
            "clientId is required",
        )),
    }
}

async fn socket_info(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let socket = &state.socket;
    socket.socket_info_calls.fetch_add(1, Ordering::Relaxed);
    if let Some(status) = state.faults.take_socket_info_refusal() {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        return error_response(status, "socket.info refused (fault injection)");
    }
    if let Err(resp) = check_client(&state, &query, &headers) {
        return resp;
    }
    if param(&query, &headers, "sessionId").is_none() {
        return error_response(StatusCode::BAD_REQUEST, "sessionId is required");
    }
    let token = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let stale = state.faults.take_stale_socket_endpoint();
    lock(&socket.tokens).insert(
        token.clone(),
        Token {
            created: Instant::now(),
            used: stale,
            thread_id: param(&query, &headers, "threadId"),
        },
        socket.endpoint_ttl,
    );
    socket.endpoints_issued.fetch_add(1, Ordering::Relaxed);
    let ws_base = state
        .base_url
        .strip_prefix("http")
        .map(|rest| format!("ws{rest}"))
        .unwrap_or_else(|| state.base_url.clone());
    Json(json!({
        "status": "ok",
        "payload": { "endpoint": format!("{ws_base}/ws/{token}") },
        "secret": uuid::Uuid::new_v4().simple().to_string(),
    }))
    .into_response()
}

async fn upgrade(
    State(state): State<AppState>,
    Path(token): Path<String>,
    ws: WebSocketUpgrade,
) -> Response {
    state
        .socket
        .upgrade_requests
        .fetch_add(1, Ordering::Relaxed);
    let thread_id = {
        let mut tokens = lock(&state.socket.tokens);
        match tokens.map.get_mut(&token) {
            None => return error_response(StatusCode::UNAUTHORIZED, "unknown endpoint"),
            Some(t) if t.used => return error_response(StatusCode::GONE, "endpoint already used"),
            Some(t) if t.created.elapsed() > state.socket.endpoint_ttl => {
                return error_response(StatusCode::GONE, "endpoint expired");
            }
            Some(t) => {
                t.used = true;
                t.thread_id.clone()
            }
        }
    };
    state.socket.connections.fetch_add(1, Ordering::Relaxed);
    ws.read_buffer_size(4096)
        .write_buffer_size(4096)
        .max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE)
        .on_upgrade(move |socket| serve(socket, state, thread_id))
}

/// What to do after a frame.
enum Next {
    Continue,
    Close,
}

async fn serve(mut socket: WebSocket, state: AppState, default_thread: Option<String>) {
    let idle = state.socket.idle_timeout;
    let mut count: u64 = 0;
    loop {
        let msg = match tokio::time::timeout(idle, socket.recv()).await {
            Err(_) => {
                // The service drops sockets without inbound frames.
                let _ = socket.send(Message::Close(None)).await;
                return;
            }
            Ok(None) | Ok(Some(Err(_))) => return,
            Ok(Some(Ok(msg))) => msg,
        };
        let text = match &msg {
            Message::Text(t) => std::borrow::Cow::Borrowed(t.as_str()),
            Message::Binary(b) => String::from_utf8_lossy(b),
            Message::Close(_) => return,
            Message::Ping(_) | Message::Pong(_) => continue,
        };
        count += 1;
        state.socket.frames_in.fetch_add(1, Ordering::Relaxed);
        let faults = state.faults.get();
        if let Some(n) = faults.stall_after_frames
            && count > n
        {
            // Hold the TCP connection open without reading or writing, like a hung peer.
            tokio::time::sleep(state.faults.stall_hold(idle)).await;
            return;
        }
        if let Some(delay) = state.faults.ack_delay(count) {
            tokio::time::sleep(delay).await;
        }
        let next = handle_frame(&mut socket, &state, default_thread.as_deref(), &text).await;
        if matches!(next, Next::Close) {
            return;
        }
        if let Some(n) = faults.drop_after_frames
            && count >= n
        {
            if faults.close_cleanly {
                let _ = socket.send(Message::Close(Some(going_away()))).await;
            }
            // Otherwise drop without a close frame, like a lost network.
            return;
        }
    }
}

/// The close frame of a server going down cleanly.
fn going_away() -> axum::extract::ws::CloseFrame {
    axum::extract::ws::CloseFrame {
        code: axum::extract::ws::close_code::AWAY,
        reason: "going away".into(),
    }
}

async fn send_json(socket: &mut WebSocket, value: &Value) -> Next {
    match socket.send(Message::text(value.to_string())).await {
        Ok(()) => Next::Continue,
        Err(_) => Next::Close,
    }
}

async fn send_error(socket: &mut WebSocket, message: &str) -> Next {
    send_json(socket, &json!({ "type": "error", "message": message })).await
}

async fn handle_frame(
    socket: &mut WebSocket,
    state: &AppState,
    default_thread: Option<&str>,
    text: &str,
) -> Next {
    let mut frame: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return send_error(socket, &format!("Invalid message format: {e}")).await,
    };
    let payload = frame
        .get_mut("payload")
        .map(Value::take)
        .unwrap_or(Value::Null);
    let Some(kind) = frame.get("type").and_then(Value::as_str) else {
        return send_error(socket, "Invalid message format: missing type").await;
    };
    let thread_id = payload
        .get("threadId")
        .and_then(Value::as_str)
        .filter(|t| !t.trim().is_empty())
        .or(default_thread)
        .map(str::to_string);
    match kind {
        "ping" => send_json(socket, &json!({ "type": "pong" })).await,
        "message.send" => match thread_id {
            Some(thread_id) => message_send(socket, state, &thread_id, payload).await,
            None => send_error(socket, "Invalid message format: threadId is required").await,
        },
        "thread.noticed" => {
            if let Some(thread_id) = thread_id {
                lock(&state.socket.threads)
                    .entry(thread_id)
                    .or_default()
                    .unnoticed
                    .clear();
            }
            Next::Continue
        }
        "activity.user.typing" => Next::Continue,
        other => {
            let shown: String = other.chars().take(64).collect();
            send_error(socket, &format!("Unknown message type: {shown}")).await
        }
    }
}

async fn message_send(
    socket: &mut WebSocket,
    state: &AppState,
    thread_id: &str,
    payload: Value,
) -> Next {
    let speech = payload.get("speech").and_then(Value::as_str);
    let attachment = payload.get("attachment").filter(|a| a.is_object());
    let event = attachment
        .filter(|a| a.get("type").and_then(Value::as_str) == Some("event"))
        .and_then(|a| a.get("payload"))
        .and_then(|p| p.get("name"))
        .and_then(Value::as_str);
    let input = match (event, speech) {
        (Some(name), _) => Input::Event(name.to_string()),
        (None, Some(s)) if !s.trim().is_empty() => Input::Text(s.to_string()),
        _ => return send_error(socket, "Invalid message format: speech is required").await,
    };
    let trace_id = payload.get("traceId").and_then(Value::as_u64);
    if payload.get("traceId").is_some_and(|t| !t.is_null()) && trace_id.is_none() {
        return send_error(socket, "Invalid message format: traceId must be a number").await;
    }
    let delay = state.faults.get().reply_delay_ms;
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    // The answers are queued and flushed together: two small writes per message cost a
    // second syscall and, on the peer, a second wake-up.
    if state.faults.take_socket_garbage()
        && socket
            .feed(Message::text("this is not a JSON frame {"))
            .await
            .is_err()
    {
        return Next::Close;
    }
    let delivered = frame_text(&Frame {
        kind: "message.delivered",
        payload: DeliveredPayload {
            thread_id,
            speech: speech.unwrap_or_default(),
            trace_id,
        },
    });
    let first_time = {
        let mut threads = lock(&state.socket.threads);
        let thread = threads.entry(thread_id.to_string()).or_default();
        let first = trace_id.is_none_or(|t| thread.first_answer(t));
        if first {
            thread.history.push_back(Kept::Sent(payload));
            trim(&mut thread.history);
        }
        first
    };
    if socket.feed(Message::Text(delivered)).await.is_err() {
        return Next::Close;
    }
    let messages = if first_time {
        state.engine.respond(thread_id, &input)
    } else {
        Vec::new()
    };
    if !messages.is_empty() {
        let frame = frame_text(&Frame {
            kind: "message.received",
            payload: ReceivedPayload {
                thread_id,
                messages: &messages,
                originator: &BOT_ORIGINATOR,
                trace_id,
            },
        });
        {
            let mut threads = lock(&state.socket.threads);
            let thread = threads.entry(thread_id.to_string()).or_default();
            thread.history.push_back(Kept::Frame(frame.clone()));
            thread.unnoticed.push_back(frame.clone());
            trim(&mut thread.history);
            trim(&mut thread.unnoticed);
        }
        if socket.feed(Message::Text(frame)).await.is_err() {
            return Next::Close;
        }
    }
    match socket.flush().await {
        Ok(()) => Next::Continue,
        Err(_) => Next::Close,
    }
}

/// Drop the oldest entries beyond [`MAX_KEPT`].
fn trim<T>(kept: &mut VecDeque<T>) {
    while kept.len() > MAX_KEPT {
        kept.pop_front();
    }
}

/// An outbound frame, serialised straight to text.
#[derive(Serialize)]
struct Frame<P> {
    #[serde(rename = "type")]
    kind: &'static str,
    payload: P,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeliveredPayload<'a> {
    thread_id: &'a str,
    speech: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    trace_id: Option<u64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReceivedPayload<'a> {
    thread_id: &'a str,
    messages: &'a [ReplyMessage],
    originator: &'a Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    trace_id: Option<u64>,
}

fn frame_text<P: Serialize>(frame: &Frame<P>) -> Utf8Bytes {
    // Serialising plain structs, strings and JSON values cannot fail.
    Utf8Bytes::from(serde_json::to_string(frame).unwrap_or_default())
}

static BOT_ORIGINATOR: LazyLock<Value> = LazyLock::new(|| {
    json!({
        "userId": "flowai|system",
        "name": "system",
        "role": "bot",
        "profile": { "picture": "https://flow.ai/img/brains/flowai.svg" }
    })
});

#[allow(clippy::result_large_err)]
fn thread_of(
    state: &AppState,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Result<String, Response> {
    check_client(state, query, headers)?;
    param(query, headers, "threadId")
        .ok_or_else(|| error_response(StatusCode::BAD_REQUEST, "threadId is required"))
}

async fn history(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let thread_id = match thread_of(&state, &query, &headers) {
        Ok(t) => t,
        Err(resp) => return resp,
    };
    let history = state.socket.history(&thread_id);
    Json(json!({
        "status": "ok",
        "payload": { "threadId": thread_id, "history": history },
    }))
    .into_response()
}

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

async fn upload(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    mut form: Multipart,
) -> Response {
    let mut thread_id = match check_client(&state, &query, &headers) {
        Ok(()) => param(&query, &headers, "threadId"),
        Err(resp) => return resp,
    };
    let mut file: Option<(String, u64)> = None;
    loop {
        let mut field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return error_response(StatusCode::BAD_REQUEST, &e.body_text()),
        };
        match field.name() {
            Some("file") => {
                let name = field.file_name().unwrap_or("upload").to_string();
                let mut size = 0u64;
                // Count the bytes as they stream in; the content itself is not kept.
                loop {
                    match field.chunk().await {
                        Ok(Some(chunk)) => size += chunk.len() as u64,
                        Ok(None) => break,
                        Err(e) => return error_response(StatusCode::BAD_REQUEST, &e.body_text()),
                    }
                }
                file = Some((name, size));
            }
            Some("payload") => {
                let text = field.text().await.unwrap_or_default();
                match serde_json::from_str::<Value>(&text) {
                    Ok(v) => {
                        if let Some(t) = v.get("threadId").and_then(Value::as_str) {
                            thread_id = Some(t.to_string());
                        }
                    }
                    Err(_) => {
                        return error_response(StatusCode::BAD_REQUEST, "payload is not JSON");
                    }
                }
            }
            _ => {}
        }
    }
    let Some((name, size)) = file else {
        return error_response(StatusCode::BAD_REQUEST, "the file part is required");
    };
    let Some(thread_id) = thread_id else {
        return error_response(StatusCode::BAD_REQUEST, "threadId is required");
    };
    let id = uuid::Uuid::new_v4().to_string();
    lock(&state.socket.uploads).insert(
        id.clone(),
        Upload {
            name: name.clone(),
            size,
            thread_id: thread_id.clone(),
        },
    );
    Json(json!({
        "status": "ok",
        "payload": {
            "id": id,
            "threadId": thread_id,
            "name": name,
            "size": size,
            "url": format!("{}/thread.upload/{id}", state.base_url),
        },
    }))
    .into_response()
}

/// What the emulator kept of an upload (its content is not stored).
async fn upload_info(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match lock(&state.socket.uploads).get(&id).cloned() {
        Some(u) => Json(json!({
            "status": "ok",
            "payload": { "id": id, "name": u.name, "size": u.size, "threadId": u.thread_id },
        }))
        .into_response(),
        None => error_response(StatusCode::NOT_FOUND, "unknown upload"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(created: Instant) -> Token {
        Token {
            created,
            used: false,
            thread_id: None,
        }
    }

    #[test]
    fn endpoints_are_kept_twice_their_lifetime_then_swept() {
        let ttl = Duration::from_secs(1);
        let t0 = Instant::now();
        let mut tokens = Tokens::default();
        tokens.insert("a".into(), token(t0), ttl);
        tokens.insert("b".into(), token(t0 + Duration::from_millis(1500)), ttl);
        // Within twice the lifetime: "a" is still known (a late connect hears "expired").
        assert!(tokens.map.contains_key("a"));
        tokens.insert("c".into(), token(t0 + Duration::from_secs(3)), ttl);
        assert!(
            !tokens.map.contains_key("a"),
            "an endpoint past 2 x ttl is swept"
        );
        assert!(tokens.map.contains_key("b") && tokens.map.contains_key("c"));
        tokens.insert("d".into(), token(t0 + Duration::from_secs(4)), ttl);
        assert!(!tokens.map.contains_key("b"));
        assert_eq!(tokens.map.len(), 2);
    }
}
