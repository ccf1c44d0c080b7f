//! The AIDA backend: a Phoenix websocket (protocol 2.0.0) serving `bot:<uuid>` channels, and the image store.
//!
//! Behaves like a Phoenix server for these events: `phx_join` (access token check,
//! `unauthorized` otherwise; a second join of a topic closes the old one with `phx_close`
//! under the old join_ref), `phx_leave`, `heartbeat`, and the AIDA pushes `new_session`,
//! `delete_session`, `utb_msg`, `put_data`, `utb_img`. Bot replies go out as `btu_msg` to
//! every connection joined to the bot. Tests read session data with
//! [`AidaState::session_data`] or `GET /_emulator/aida/sessions/<id>`.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use flowai_core::phoenix::{
    EVENT_CLOSE, EVENT_HEARTBEAT, EVENT_JOIN, EVENT_LEAVE, EVENT_REPLY, Frame, PROTOCOL_VSN,
    TOPIC_PHOENIX,
};
use flowai_core::secret::constant_time_eq;
use serde_json::{Map, Value, json};
use tokio::sync::broadcast;
use tokio::time::Instant;

use crate::auth::error_response;
use crate::engine::Input;
use crate::{AppState, EmulatorOptions};

/// Largest websocket message accepted.
const MAX_MESSAGE: usize = 1024 * 1024;
/// Largest image upload accepted.
const MAX_IMAGE: usize = 20 * 1024 * 1024;
/// Images kept at most; the oldest go first.
const MAX_IMAGES: usize = 10_000;
/// Bot replies buffered per connection before a slow one skips some.
const BROADCAST_CAPACITY: usize = 4096;

/// One session's server-side record.
#[derive(Debug, Clone, Default)]
struct SessionRecord {
    data: Map<String, Value>,
    images: HashSet<String>,
}

/// An uploaded image.
#[derive(Debug, Clone)]
pub struct StoredImage {
    /// The bytes as uploaded.
    pub bytes: Bytes,
    /// The part's content type (default `application/octet-stream`).
    pub content_type: String,
    /// The session that uploaded it.
    pub session: String,
}

/// A bot reply on its way to every connection joined to the bot.
#[derive(Debug, Clone)]
struct BotReply {
    topic: String,
    payload: Value,
}

#[derive(Debug, Default)]
struct Store {
    sessions: HashMap<String, SessionRecord>,
    images: HashMap<String, StoredImage>,
    image_order: std::collections::VecDeque<String>,
}

/// State of the AIDA part of the emulator.
#[derive(Debug)]
pub struct AidaState {
    store: Mutex<Store>,
    replies: broadcast::Sender<BotReply>,
}

impl AidaState {
    /// Fresh state.
    pub fn new(_options: &EmulatorOptions) -> Self {
        AidaState {
            store: Mutex::new(Store::default()),
            replies: broadcast::channel(BROADCAST_CAPACITY).0,
        }
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        // Plain data stays valid if a holder panicked.
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The data of a session (`new_session` data merged with every `put_data`).
    pub fn session_data(&self, session: &str) -> Option<Value> {
        self.store()
            .sessions
            .get(session)
            .map(|s| Value::Object(s.data.clone()))
    }

    /// Whether a session exists.
    pub fn has_session(&self, session: &str) -> bool {
        self.store().sessions.contains_key(session)
    }

    /// How many sessions exist.
    pub fn session_count(&self) -> usize {
        self.store().sessions.len()
    }

    /// An uploaded image.
    pub fn image(&self, id: &str) -> Option<StoredImage> {
        self.store().images.get(id).cloned()
    }
}

/// Routes: the websocket, the image store and the test-only session view.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/socket/websocket", get(websocket))
        .route(
            "/content/image/{bot}/{session}",
            post(upload).layer(DefaultBodyLimit::max(MAX_IMAGE + 64 * 1024)),
        )
        .route("/content/image/{id}", get(download))
        .route("/_emulator/aida/sessions/{id}", get(session_view))
}

async fn websocket(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    ws: WebSocketUpgrade,
) -> Response {
    if let Some(status) = state.faults.take_aida_refusal() {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        return error_response(status, "AIDA connection refused (fault injection)");
    }
    if query.get("vsn").map(String::as_str) != Some(PROTOCOL_VSN) {
        return error_response(
            StatusCode::BAD_REQUEST,
            "this server speaks the Phoenix protocol vsn=2.0.0 only",
        );
    }
    ws.read_buffer_size(4096)
        .write_buffer_size(4096)
        .max_message_size(MAX_MESSAGE)
        .on_upgrade(move |socket| serve(socket, state))
}

/// One websocket connection's view: joined topics and their join refs.
struct Conn {
    state: AppState,
    joined: HashMap<String, String>,
    out: Vec<Frame>,
}

async fn serve(mut socket: WebSocket, state: AppState) {
    let mut replies = state.aida.replies.subscribe();
    let mut conn = Conn {
        state: state.clone(),
        joined: HashMap::new(),
        out: Vec::new(),
    };
    let idle = state.options.idle_timeout;
    let mut idle_at = Instant::now() + idle;
    let mut inbound: u64 = 0;
    loop {
        tokio::select! {
            msg = socket.recv() => {
                let text = match msg {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => continue,
                };
                idle_at = Instant::now() + idle;
                inbound += 1;
                let faults = state.faults.get();
                if faults.aida_stall_after_frames.is_some_and(|n| inbound > n) {
                    // Hold the TCP connection open without reading or writing, like a hung peer.
                    tokio::time::sleep(state.faults.stall_hold(idle)).await;
                    break;
                }
                match Frame::parse(text.as_str()) {
                    Ok(frame) => conn.handle(frame),
                    Err(err) => tracing::debug!("aida: malformed frame dropped: {err}"),
                }
                if let Some(delay) = state.faults.ack_delay(inbound) {
                    tokio::time::sleep(delay).await;
                }
                if !flush(&mut socket, &mut conn.out).await {
                    break;
                }
                if faults.aida_drop_after_frames.is_some_and(|n| inbound >= n) {
                    if faults.close_cleanly {
                        let _ = socket
                            .send(Message::Close(Some(axum::extract::ws::CloseFrame {
                                code: axum::extract::ws::close_code::AWAY,
                                reason: "going away".into(),
                            })))
                            .await;
                    }
                    break;
                }
            }
            reply = replies.recv() => match reply {
                Ok(reply) => {
                    if let Some(join_ref) = conn.joined.get(&reply.topic) {
                        let frame = Frame::new(
                            Some(join_ref.clone()),
                            None,
                            reply.topic,
                            "btu_msg",
                            reply.payload,
                        );
                        conn.out.push(frame);
                        if !flush(&mut socket, &mut conn.out).await {
                            break;
                        }
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!("aida: a slow connection skipped {n} bot replies");
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
            () = tokio::time::sleep_until(idle_at) => break,
        }
    }
}

async fn flush(socket: &mut WebSocket, out: &mut Vec<Frame>) -> bool {
    for frame in out.drain(..) {
        if socket.send(Message::text(frame.to_json())).await.is_err() {
            return false;
        }
    }
    true
}

impl Conn {
    fn reply(&mut self, request: &Frame, status: &str, response: Value) {
        self.out.push(Frame::new(
            request.join_ref.clone(),
            request.reference.clone(),
            request.topic.clone(),
            EVENT_REPLY,
            json!({ "status": status, "response": response }),
        ));
    }

    fn error(&mut self, request: &Frame, reason: &str) {
        self.reply(request, "error", json!({ "reason": reason }));
    }

    fn handle(&mut self, frame: Frame) {
        if frame.topic == TOPIC_PHOENIX {
            if frame.event == EVENT_HEARTBEAT && !self.state.faults.get().aida_ignore_heartbeats {
                self.reply(&frame, "ok", json!({}));
            }
            return;
        }
        match frame.event.as_str() {
            EVENT_JOIN => self.join(frame),
            EVENT_LEAVE => self.leave(frame),
            _ => self.push(frame),
        }
    }

    fn join(&mut self, frame: Frame) {
        if let Some(old) = self.joined.remove(&frame.topic) {
            self.out.push(Frame::new(
                Some(old.clone()),
                Some(old),
                frame.topic.clone(),
                EVENT_CLOSE,
                json!({}),
            ));
        }
        let Some(bot) = frame.topic.strip_prefix("bot:") else {
            self.error(&frame, "unmatched topic");
            return;
        };
        let credentials = &self.state.options.credentials;
        let token = frame
            .payload
            .get("access_token")
            .and_then(Value::as_str)
            .unwrap_or("");
        let authorized = bot == credentials.aida_bot
            && constant_time_eq(token.as_bytes(), credentials.aida_token.as_bytes());
        if !authorized {
            self.error(&frame, "unauthorized");
            return;
        }
        let join_ref = frame
            .join_ref
            .clone()
            .or_else(|| frame.reference.clone())
            .unwrap_or_default();
        self.joined.insert(frame.topic.clone(), join_ref);
        self.reply(&frame, "ok", json!({}));
    }

    fn leave(&mut self, frame: Frame) {
        match self.joined.get(&frame.topic) {
            Some(current) if frame.join_ref.as_ref().is_none_or(|j| j == current) => {
                self.joined.remove(&frame.topic);
                self.reply(&frame, "ok", json!({}));
                self.out.push(Frame::new(
                    frame.join_ref.clone(),
                    frame.join_ref.clone(),
                    frame.topic.clone(),
                    EVENT_CLOSE,
                    json!({}),
                ));
            }
            Some(_) => tracing::debug!("aida: leave with a stale join_ref dropped"),
            None => self.error(&frame, "unmatched topic"),
        }
    }

    fn push(&mut self, frame: Frame) {
        let Some(current) = self.joined.get(&frame.topic) else {
            self.error(&frame, "unmatched topic");
            return;
        };
        if frame.join_ref.as_ref().is_some_and(|j| j != current) {
            tracing::debug!("aida: push with a stale join_ref dropped");
            return;
        }
        let session = frame
            .payload
            .get("session")
            .and_then(Value::as_str)
            .map(str::to_string);
        let aida = &self.state.aida;
        match frame.event.as_str() {
            "new_session" => {
                let id = uuid::Uuid::new_v4().to_string();
                let mut record = SessionRecord::default();
                if let Some(data) = frame.payload.get("data") {
                    merge(&mut record.data, data);
                }
                aida.store().sessions.insert(id.clone(), record);
                self.reply(&frame, "ok", json!({ "session": id }));
            }
            "delete_session" => {
                let removed = session
                    .as_ref()
                    .and_then(|s| aida.store().sessions.remove(s));
                match removed {
                    Some(_) => self.reply(&frame, "ok", json!({})),
                    None => self.error(&frame, "unknown session"),
                }
            }
            "put_data" => {
                let found = session.as_ref().is_some_and(|s| {
                    let mut store = aida.store();
                    match store.sessions.get_mut(s) {
                        Some(record) => {
                            if let Some(data) = frame.payload.get("data") {
                                merge(&mut record.data, data);
                            }
                            true
                        }
                        None => false,
                    }
                });
                if found {
                    self.reply(&frame, "ok", json!({}));
                } else {
                    self.error(&frame, "unknown session");
                }
            }
            "utb_msg" => {
                let Some(session) = session.filter(|s| aida.has_session(s)) else {
                    self.error(&frame, "unknown session");
                    return;
                };
                let Some(text) = frame.payload.get("text").and_then(Value::as_str) else {
                    self.error(&frame, "missing text");
                    return;
                };
                let input = Input::Text(text.to_string());
                self.reply(&frame, "ok", json!({}));
                self.answer(&frame.topic, &session, &input);
            }
            "utb_img" => {
                let Some(session) = session.filter(|s| aida.has_session(s)) else {
                    self.error(&frame, "unknown session");
                    return;
                };
                let image = frame.payload.get("image").and_then(Value::as_str);
                let owned = image.is_some_and(|id| {
                    aida.store()
                        .sessions
                        .get(&session)
                        .is_some_and(|r| r.images.contains(id))
                });
                if !owned {
                    self.error(&frame, "unknown image");
                    return;
                }
                self.reply(&frame, "ok", json!({}));
                let input = Input::Media {
                    media_type: "image".into(),
                };
                self.answer(&frame.topic, &session, &input);
            }
            _ => self.error(&frame, "unknown event"),
        }
    }

    /// Run the flow engine and broadcast each reply text to every client of the bot.
    fn answer(&self, topic: &str, session: &str, input: &Input) {
        let state = self.state.clone();
        let topic = topic.to_string();
        let session = session.to_string();
        let input = input.clone();
        let delay = Duration::from_millis(state.faults.get().reply_delay_ms);
        let send = move || {
            for message in state.engine.respond(&session, &input) {
                if message.silent {
                    continue;
                }
                for text in message.texts() {
                    let _ = state.aida.replies.send(BotReply {
                        topic: topic.clone(),
                        payload: json!({ "session": session, "text": text }),
                    });
                }
            }
        };
        if delay.is_zero() {
            send();
        } else {
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                send();
            });
        }
    }
}

fn merge(target: &mut Map<String, Value>, patch: &Value) {
    if let Value::Object(patch) = patch {
        for (k, v) in patch {
            target.insert(k.clone(), v.clone());
        }
    }
}

async fn upload(
    State(state): State<AppState>,
    Path((bot, session)): Path<(String, String)>,
    mut multipart: Multipart,
) -> Response {
    if bot != state.options.credentials.aida_bot {
        return error_response(StatusCode::NOT_FOUND, "unknown bot");
    }
    if !state.aida.has_session(&session) {
        return error_response(StatusCode::NOT_FOUND, "unknown session");
    }
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => {
                return error_response(StatusCode::BAD_REQUEST, "missing form field `file`");
            }
            Err(err) => return error_response(StatusCode::BAD_REQUEST, &err.body_text()),
        };
        if field.name() != Some("file") {
            continue;
        }
        let content_type = field
            .content_type()
            .unwrap_or("application/octet-stream")
            .to_string();
        let bytes = match field.bytes().await {
            Ok(bytes) => bytes,
            Err(err) => return error_response(StatusCode::BAD_REQUEST, &err.body_text()),
        };
        if bytes.len() > MAX_IMAGE {
            return error_response(StatusCode::PAYLOAD_TOO_LARGE, "image too large");
        }
        let id = uuid::Uuid::new_v4().to_string();
        let mut store = state.aida.store();
        let Some(record) = store.sessions.get_mut(&session) else {
            return error_response(StatusCode::NOT_FOUND, "unknown session");
        };
        record.images.insert(id.clone());
        store.images.insert(
            id.clone(),
            StoredImage {
                bytes,
                content_type,
                session,
            },
        );
        store.image_order.push_back(id.clone());
        while store.image_order.len() > MAX_IMAGES {
            if let Some(old) = store.image_order.pop_front() {
                store.images.remove(&old);
            }
        }
        return Json(json!({ "id": id })).into_response();
    }
}

async fn download(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match state.aida.image(&id) {
        Some(image) => ([(header::CONTENT_TYPE, image.content_type)], image.bytes).into_response(),
        None => error_response(StatusCode::NOT_FOUND, "unknown image"),
    }
}

async fn session_view(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match state.aida.session_data(&id) {
        Some(data) => Json(json!({ "session": id, "data": data })).into_response(),
        None => error_response(StatusCode::NOT_FOUND, "unknown session"),
    }
}
