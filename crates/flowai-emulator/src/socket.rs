//! The Flow Socket API: socket.info with single-use endpoints, the websocket (delivered echo, bot replies, nonces, typing, ping, errors), and the thread calls beside it.
//!
//! The frames follow what the service documents (seeds 000, 001, 003) and what the official
//! clients read (flow-ai/flowai-js `src/liveclient.js`, flow-ai/flowai-swift
//! `FlowCore/Classes/LiveClient.swift`), so clients we did not write work against it:
//! - `message.delivered` echoes the message as sent ([`echo`]);
//! - `secret.generated` carries the nonce both in `message.secret` (where flowai-js reads
//!   it) and in `payload.nonce`;
//! - the client frames `activity.user.typing`, `thread.noticed` and `log` are accepted
//!   without an answer (flowai-js reports any frame it does not know as an error);
//! - `agent.typing`, `interruption.occurred` and new nonces are pushed by the service side
//!   ([`SocketState::push_agent_typing`], [`SocketState::push_interruption`],
//!   [`SocketState::rotate_secret`], or `POST /_emulator/socket/push/{type}`), and replies are
//!   sent as `activities.created` / `activities.delivered` when the aliases are switched on.

mod calls;
mod control;
mod echo;
mod hub;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use flowai_core::models::ReplyMessage;
use flowai_core::recent::RecentKeys;
use flowai_core::secret::constant_time_eq;
use futures_util::SinkExt;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::engine::Input;
use crate::{AppState, EmulatorOptions};
use calls::socket_error;
use hub::{Connection, Hub};

/// Largest websocket message accepted.
const MAX_MESSAGE: usize = 1 << 20;
/// Most messages kept per thread (history, unnoticed, logs): a long-running emulator stays bounded.
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
    /// A sent message as the service keeps it (see [`echo::normalize_sent`]).
    Sent(Map<String, Value>),
    /// A whole `message.received` (or `activities.created`) frame as sent.
    Frame(Utf8Bytes),
}

impl Kept {
    /// The entry of `GET /thread.history`: the reply-shaped payload.
    fn to_entry(&self) -> Value {
        match self {
            Kept::Sent(message) => echo::sent_entry(message),
            Kept::Frame(text) => frame_payload(text),
        }
    }
}

/// The payload of a frame kept as text.
fn frame_payload(text: &Utf8Bytes) -> Value {
    match serde_json::from_str::<Value>(text.as_str()) {
        Ok(Value::Object(mut frame)) => frame.remove("payload").unwrap_or(Value::Null),
        _ => Value::Null,
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
    /// How many `activity.user.typing` frames named the thread.
    typing: u64,
    /// The latest `log` frames of the thread's clients (flowai-js sends them in debug mode).
    logs: VecDeque<Value>,
    /// The thread's nonce ("a nonce is linked to a threadId", Flow's nonce docs).
    secret: Option<String>,
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
            typing: 0,
            logs: VecDeque::new(),
            secret: None,
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

    /// The nonce to announce in `secret.generated` when a `message.send` carried `nonce`
    /// but it is not the thread's: a client that moved to another thread, or holds a stale
    /// nonce, learns the thread's current one (a new one when it had none). None when the
    /// nonce is the thread's.
    fn nonce_to_announce(&mut self, nonce: &str) -> Option<String> {
        match &self.secret {
            Some(current) if constant_time_eq(current.as_bytes(), nonce.as_bytes()) => None,
            Some(current) => Some(current.clone()),
            None => Some(self.secret.insert(new_secret()).clone()),
        }
    }
}

/// What keeping a sent message found.
struct SentKept {
    /// Its traceId was not answered before: it must be answered.
    first: bool,
    /// The nonce to announce before the echo (see [`Thread::nonce_to_announce`]).
    announce: Option<String>,
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
    /// The `thread.merger` calls received, latest last.
    merges: Mutex<VecDeque<Value>>,
    /// Open connections by thread, for frames the service pushes.
    hub: Hub,
    /// Send replies and echoes as `activities.created` / `activities.delivered`.
    activity_aliases: AtomicBool,
    /// `secret.generated` frames sent because a `message.send` carried another nonce.
    secrets_announced: AtomicU64,
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
            merges: Mutex::default(),
            hub: Hub::default(),
            activity_aliases: AtomicBool::new(false),
            secrets_announced: AtomicU64::new(0),
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

    /// The messages of a thread (sent and received), in order, as `GET /thread.history`
    /// lists them: reply-shaped objects (`threadId`, `originator`, `messages`).
    pub fn history(&self, thread_id: &str) -> Vec<Value> {
        let kept: Vec<Kept> = lock(&self.threads)
            .get(thread_id)
            .map(|t| t.history.iter().cloned().collect())
            .unwrap_or_default();
        kept.iter().map(Kept::to_entry).collect()
    }

    /// The replies of a thread not yet noticed, in order (their payloads).
    pub fn unnoticed(&self, thread_id: &str) -> Vec<Value> {
        let kept: Vec<Utf8Bytes> = lock(&self.threads)
            .get(thread_id)
            .map(|t| t.unnoticed.iter().cloned().collect())
            .unwrap_or_default();
        kept.iter().map(frame_payload).collect()
    }

    /// How many `message.send`s of a thread were answered (distinct traceIds).
    pub fn answered(&self, thread_id: &str) -> usize {
        lock(&self.threads)
            .get(thread_id)
            .map(|t| t.answered_total)
            .unwrap_or(0)
    }

    /// How many `activity.user.typing` frames named the thread.
    pub fn user_typing(&self, thread_id: &str) -> u64 {
        lock(&self.threads).get(thread_id).map_or(0, |t| t.typing)
    }

    /// The latest `log` frames (their payloads) naming the thread.
    pub fn logs(&self, thread_id: &str) -> Vec<Value> {
        lock(&self.threads)
            .get(thread_id)
            .map(|t| t.logs.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The `thread.merger` calls received (their bodies without the clientId), oldest first.
    pub fn merges(&self) -> Vec<Value> {
        lock(&self.merges).iter().cloned().collect()
    }

    /// Size in bytes of an upload by id.
    pub fn upload_size(&self, id: &str) -> Option<u64> {
        lock(&self.uploads).get(id).map(|u| u.size)
    }

    /// The current nonce of a thread, if it has one.
    pub fn secret_of(&self, thread_id: &str) -> Option<String> {
        lock(&self.threads)
            .get(thread_id)
            .and_then(|t| t.secret.clone())
    }

    /// How many `secret.generated` frames answered a `message.send` whose nonce was not its
    /// thread's (pushes of [`SocketState::rotate_secret`] not counted).
    pub fn secrets_announced(&self) -> u64 {
        self.secrets_announced.load(Ordering::Relaxed)
    }

    /// How many open websockets are reachable under a thread (named by their socket.info
    /// call or used in one of their frames).
    pub fn connections_of(&self, thread_id: &str) -> usize {
        self.hub.connections_of(thread_id)
    }

    /// Send replies as `activities.created` and echoes as `activities.delivered` (the names
    /// the official clients accept beside `message.received` / `message.delivered`).
    pub fn set_activity_aliases(&self, on: bool) {
        self.activity_aliases.store(on, Ordering::Relaxed);
    }

    /// Whether replies and echoes go out under their `activities.*` names.
    pub fn activity_aliases(&self) -> bool {
        self.activity_aliases.load(Ordering::Relaxed)
    }

    /// Push `agent.typing` to every connection of the thread, as the service does while an
    /// agent types; `originator` defaults to an agent named "Agent" (role `moderator`).
    /// Returns how many connections it reached.
    pub fn push_agent_typing(&self, thread_id: &str, originator: Option<Value>) -> usize {
        let originator =
            originator.unwrap_or_else(|| json!({ "name": "Agent", "role": "moderator" }));
        let frame = json!({
            "type": "agent.typing",
            "payload": { "threadId": thread_id, "originator": originator },
        });
        self.hub
            .push(thread_id, &Utf8Bytes::from(frame.to_string()))
    }

    /// Push `interruption.occurred` to every connection of the thread (a human took over,
    /// or the conversation was interrupted). Returns how many connections it reached.
    pub fn push_interruption(&self, thread_id: &str) -> usize {
        let frame =
            json!({ "type": "interruption.occurred", "payload": { "threadId": thread_id } });
        self.hub
            .push(thread_id, &Utf8Bytes::from(frame.to_string()))
    }

    /// Change the thread's nonce without telling its clients, as if they had lost track of
    /// it: their next `message.send` is answered with `secret.generated`.
    pub fn set_secret(&self, thread_id: &str, secret: &str) {
        lock(&self.threads)
            .entry(thread_id.to_string())
            .or_default()
            .secret = Some(secret.to_string());
    }

    /// Give the thread a new nonce and push it in `secret.generated` to every connection of
    /// the thread. Returns how many connections it reached.
    pub fn rotate_secret(&self, thread_id: &str) -> usize {
        let secret = new_secret();
        self.set_secret(thread_id, &secret);
        self.hub.push(thread_id, &secret_frame(thread_id, &secret))
    }

    /// The nonce to hand a socket.info caller for `thread_id`: the thread's own (a nonce
    /// belongs to a thread), or, for a thread without one, the nonce the caller already
    /// holds (a client keeps it across an emulator restart) or a new one.
    fn thread_secret(&self, thread_id: &str, given: Option<&str>) -> String {
        lock(&self.threads)
            .entry(thread_id.to_string())
            .or_default()
            .secret
            .get_or_insert_with(|| {
                given
                    .filter(|g| !g.trim().is_empty())
                    .map(str::to_string)
                    .unwrap_or_else(new_secret)
            })
            .clone()
    }

    /// The frame type of an echo and of a reply, after the alias switch.
    fn frame_kinds(&self) -> (&'static str, &'static str) {
        if self.activity_aliases() {
            ("activities.delivered", "activities.created")
        } else {
            ("message.delivered", "message.received")
        }
    }

    /// Keep a sent message in its thread's history unless its traceId was answered
    /// already, and check the nonce it came with (one lock for both: this runs for every
    /// message).
    fn keep_sent(
        &self,
        thread_id: &str,
        trace_id: Option<u64>,
        message: Map<String, Value>,
        nonce: Option<&str>,
    ) -> SentKept {
        let mut threads = lock(&self.threads);
        let thread = threads.entry(thread_id.to_string()).or_default();
        let announce = nonce.and_then(|n| thread.nonce_to_announce(n));
        if announce.is_some() {
            self.secrets_announced.fetch_add(1, Ordering::Relaxed);
        }
        let first = trace_id.is_none_or(|t| thread.first_answer(t));
        if first {
            thread.history.push_back(Kept::Sent(message));
            trim(&mut thread.history);
        }
        SentKept { first, announce }
    }

    /// The reply frame for `messages`, kept in the thread's history and unnoticed list.
    fn keep_reply(
        &self,
        thread_id: &str,
        messages: &[ReplyMessage],
        trace_id: Option<u64>,
    ) -> Utf8Bytes {
        let (_, received) = self.frame_kinds();
        let frame = frame_text(&Frame {
            kind: received,
            payload: ReceivedPayload {
                thread_id,
                messages,
                originator: &BOT_ORIGINATOR,
                trace_id,
            },
        });
        let mut threads = lock(&self.threads);
        let thread = threads.entry(thread_id.to_string()).or_default();
        thread.history.push_back(Kept::Frame(frame.clone()));
        thread.unnoticed.push_back(frame.clone());
        trim(&mut thread.history);
        trim(&mut thread.unnoticed);
        frame
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock still holds valid plain data.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A fresh nonce.
fn new_secret() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// `secret.generated` with the nonce where each client looks: flowai-js reads the frame's
/// top-level `message.secret` (and crashes on a frame without `message`); our core reads
/// `payload.nonce`.
fn secret_frame(thread_id: &str, secret: &str) -> Utf8Bytes {
    let frame = json!({
        "type": "secret.generated",
        "payload": { "threadId": thread_id, "nonce": secret },
        "message": { "secret": secret },
    });
    Utf8Bytes::from(frame.to_string())
}

/// Routes of the Flow socket API, the thread calls beside it and the emulator's socket
/// controls; every one answers a browser's CORS preflight.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/socket.info", get(socket_info))
        .route("/socket.info/", get(socket_info))
        .route("/ws/{token}", get(upgrade))
        .merge(calls::routes())
        .merge(control::routes())
        .layer(axum::middleware::from_fn(calls::cors))
}

/// A value from the query string or, failing that, from an `x-flowai-*` header. The
/// literal texts `undefined` and `null` count as absent: flowai-js puts its unset secret
/// (and one-time token) into headers as they are, and fetch sends them as those words.
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
        .filter(|v| !v.trim().is_empty() && v != "undefined" && v != "null")
}

/// Check a client id against the emulator's; the error is a ready 401 response.
#[allow(clippy::result_large_err)]
fn check_client_id(state: &AppState, given: Option<&str>) -> Result<(), Response> {
    let expected = &state.options.credentials.client_id;
    match given {
        Some(id) if constant_time_eq(id.trim().as_bytes(), expected.as_bytes()) => Ok(()),
        Some(_) => Err(socket_error(StatusCode::UNAUTHORIZED, "unknown clientId")),
        None => Err(socket_error(
            StatusCode::UNAUTHORIZED,
            "clientId is required",
        )),
    }
}

#[allow(clippy::result_large_err)]
fn check_client(
    state: &AppState,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Result<(), Response> {
    check_client_id(state, param(query, headers, "clientId").as_deref())
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
        return socket_error(status, "socket.info refused (fault injection)");
    }
    if let Err(resp) = check_client(&state, &query, &headers) {
        return resp;
    }
    if param(&query, &headers, "sessionId").is_none() {
        return socket_error(StatusCode::BAD_REQUEST, "sessionId is required");
    }
    let token = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let thread_id = param(&query, &headers, "threadId");
    let given_secret = param(&query, &headers, "secret");
    let secret = match &thread_id {
        Some(thread) => socket.thread_secret(thread, given_secret.as_deref()),
        None => given_secret.unwrap_or_else(new_secret),
    };
    let stale = state.faults.take_stale_socket_endpoint();
    lock(&socket.tokens).insert(
        token.clone(),
        Token {
            created: Instant::now(),
            used: stale,
            thread_id,
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
        "secret": secret,
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
            None => return socket_error(StatusCode::UNAUTHORIZED, "unknown endpoint"),
            Some(t) if t.used => return socket_error(StatusCode::GONE, "endpoint already used"),
            Some(t) if t.created.elapsed() > state.socket.endpoint_ttl => {
                return socket_error(StatusCode::GONE, "endpoint expired");
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
    let mut conn = state.socket.hub.open();
    if let Some(thread) = &default_thread {
        state.socket.hub.join(&mut conn, thread);
    }
    run(&mut socket, &state, default_thread.as_deref(), &mut conn).await;
    state.socket.hub.close(&conn);
}

async fn run(
    socket: &mut WebSocket,
    state: &AppState,
    default_thread: Option<&str>,
    conn: &mut Connection,
) {
    let idle = state.socket.idle_timeout;
    let mut count: u64 = 0;
    // Only inbound frames keep a socket alive: the service drops one that sends nothing,
    // whatever it is sent.
    let idle_deadline = tokio::time::sleep(idle);
    tokio::pin!(idle_deadline);
    loop {
        // Pushed frames first: a peer that never stops sending must not starve them.
        let received = tokio::select! {
            biased;
            () = conn.outbox().wait() => {
                if matches!(send_pushed(socket, conn).await, Next::Close) {
                    return;
                }
                continue;
            }
            msg = socket.recv() => msg,
            () = &mut idle_deadline => {
                let _ = socket.send(Message::Close(None)).await;
                return;
            }
        };
        let msg = match received {
            None | Some(Err(_)) => return,
            Some(Ok(msg)) => msg,
        };
        idle_deadline
            .as_mut()
            .reset(tokio::time::Instant::now() + idle);
        let text = match &msg {
            Message::Text(t) => std::borrow::Cow::Borrowed(t.as_str()),
            Message::Binary(b) => String::from_utf8_lossy(b),
            Message::Close(_) => {
                // Finish the closing handshake: the close frame queued in answer goes out
                // with the flush. Dropping the socket instead makes the peer see 1006,
                // which flowai-js reports as "The connection closed abnormally" on every
                // clean stop.
                let _ = socket.flush().await;
                return;
            }
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
        let next = handle_frame(socket, state, default_thread, conn, &text).await;
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

/// Write every frame the service side pushed to this connection.
async fn send_pushed(socket: &mut WebSocket, conn: &Connection) -> Next {
    let frames = conn.outbox().take();
    if frames.is_empty() {
        return Next::Continue;
    }
    for frame in frames {
        if socket.feed(Message::Text(frame)).await.is_err() {
            return Next::Close;
        }
    }
    match socket.flush().await {
        Ok(()) => Next::Continue,
        Err(_) => Next::Close,
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

/// An `error` frame: the text goes in the top-level `message`, as documented; flowai-js
/// builds its exception from it and throws on an empty one, so it is never empty.
async fn send_error(socket: &mut WebSocket, message: &str) -> Next {
    send_json(socket, &json!({ "type": "error", "message": message })).await
}

async fn handle_frame(
    socket: &mut WebSocket,
    state: &AppState,
    default_thread: Option<&str>,
    conn: &mut Connection,
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
    if let Some(thread) = &thread_id
        && kind != "ping"
    {
        state.socket.hub.join(conn, thread);
    }
    match kind {
        "ping" => send_json(socket, &json!({ "type": "pong" })).await,
        "message.send" => match (thread_id, payload) {
            (None, _) => send_error(socket, "Invalid message format: threadId is required").await,
            (Some(thread_id), Value::Object(message)) => {
                message_send(socket, state, &thread_id, message).await
            }
            (Some(_), _) => {
                send_error(socket, "Invalid message format: payload must be an object").await
            }
        },
        // The client frames the official clients send, which the service takes without an
        // answer: flowai-js reports every frame type it does not know as an error.
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
        "activity.user.typing" => {
            if let Some(thread_id) = thread_id {
                lock(&state.socket.threads)
                    .entry(thread_id)
                    .or_default()
                    .typing += 1;
            }
            Next::Continue
        }
        "log" => {
            if let Some(thread_id) = thread_id {
                let mut threads = lock(&state.socket.threads);
                let logs = &mut threads.entry(thread_id).or_default().logs;
                logs.push_back(payload);
                trim(logs);
            }
            Next::Continue
        }
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
    mut message: Map<String, Value>,
) -> Next {
    let nonce = message
        .get("nonce")
        .and_then(Value::as_str)
        .map(str::to_string);
    if let Err(problem) = echo::check_attachment(&message) {
        return send_error(socket, &format!("Invalid message format: {problem}")).await;
    }
    echo::normalize_sent(&mut message, thread_id);
    let speech = message.get("speech").and_then(Value::as_str);
    let event = message
        .get("attachment")
        .filter(|a| a.get("type").and_then(Value::as_str) == Some("event"))
        .and_then(|a| a.get("payload"))
        .and_then(|p| p.get("name"))
        .and_then(Value::as_str);
    let input = match (event, speech) {
        (Some(name), _) => Input::Event(name.to_string()),
        (None, Some(s)) if !s.trim().is_empty() => Input::Text(s.to_string()),
        _ => return send_error(socket, "Invalid message format: speech is required").await,
    };
    let trace_id = message.get("traceId").and_then(Value::as_u64);
    if message.get("traceId").is_some_and(|t| !t.is_null()) && trace_id.is_none() {
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
    let (delivered_kind, _) = state.socket.frame_kinds();
    let delivered = frame_text(&Frame {
        kind: delivered_kind,
        payload: &message,
    });
    let kept = state
        .socket
        .keep_sent(thread_id, trace_id, message, nonce.as_deref());
    // The nonce goes first, so that the client's next message already carries it.
    if let Some(secret) = kept.announce
        && socket
            .feed(Message::Text(secret_frame(thread_id, &secret)))
            .await
            .is_err()
    {
        return Next::Close;
    }
    if socket.feed(Message::Text(delivered)).await.is_err() {
        return Next::Close;
    }
    let messages = if kept.first {
        state.engine.respond(thread_id, &input)
    } else {
        Vec::new()
    };
    if !messages.is_empty() {
        let frame = state.socket.keep_reply(thread_id, &messages, trace_id);
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

    #[test]
    fn a_thread_keeps_one_nonce_and_announces_it_to_a_stale_holder() {
        let state = SocketState::new(&EmulatorOptions::default());
        // A thread without a nonce adopts the one its client already holds.
        assert_eq!(state.thread_secret("t", Some("kept")), "kept");
        assert_eq!(state.thread_secret("t", Some("other")), "kept");
        assert_eq!(state.thread_secret("t", None), "kept");
        let announce = |thread: &str, nonce: &str| {
            state
                .keep_sent(thread, None, Map::new(), Some(nonce))
                .announce
        };
        assert_eq!(announce("t", "kept"), None);
        assert_eq!(announce("t", "stale").as_deref(), Some("kept"));
        // A thread the client moved to gets a nonce of its own.
        let fresh = announce("t2", "kept");
        assert!(
            fresh
                .as_deref()
                .is_some_and(|s| s != "kept" && s.len() == 32)
        );
        assert_eq!(state.secret_of("t2"), fresh);
    }

    #[test]
    fn secret_frame_carries_the_nonce_where_each_client_reads_it() {
        let frame: Value =
            serde_json::from_str(secret_frame("t", "n1").as_str()).unwrap_or_default();
        assert_eq!(frame["type"], "secret.generated");
        assert_eq!(frame["message"]["secret"], "n1");
        assert_eq!(frame["payload"]["nonce"], "n1");
        assert_eq!(frame["payload"]["threadId"], "t");
    }
}
