//! `flowai emulator --replay FILE`: serves a recording made by `--record`, so that a captured real conversation runs again offline as a test.
//!
//! - **REST.** A request is answered with the answer of the first not yet used recorded
//!   exchange of the same method and path whose query and body match in their stable
//!   parts. The unstable parts are the ones a new run changes: values under names such as
//!   `threadId`, `traceId`, `sessionId`, `nonce`, `url`, `verifyKey`, `clientId` (see
//!   [`is_volatile`]) and masked secrets. A GET asked again after its recordings are used up
//!   gets the last one again (clients poll and reconnect); anything else unmatched gets a
//!   404 that says so.
//! - **Ids.** While matching, the replay learns what each recorded unstable value is in
//!   this run (the recorded threadId is now the new client's threadId, the recorded
//!   traceId the new one, the receiver's URL and verify key the ones just registered) and
//!   writes the new values into everything it sends: answers, socket frames, webhook calls.
//!   A masked secret the client never supplied (a socket.info `secret`, a nonce) becomes a
//!   fresh random value, the same one wherever the placeholder recurs.
//! - **Webhooks.** The webhook calls caused by an exchange are made when that exchange is
//!   replayed: the ones recorded while it was waiting for its answer (the verification GET
//!   of a webhook creation) before answering, the others after, in order, to the receiver
//!   URL registered in this run.
//! - **Sockets.** socket.info hands out single-use endpoints of the replay; the Nth websocket
//!   opened plays the Nth recorded connection (Flow sockets and Phoenix sockets each in
//!   their own order). The server frames recorded before the first client frame are sent on
//!   connect; after each client frame that matches the next recorded one (in its stable
//!   parts), the server frames that followed it in the recording are sent, rewritten as
//!   above (Phoenix `join_ref`/`ref` too). Keep-alives are answered live: `ping` with
//!   `pong`, a Phoenix heartbeat with its reply. A frame that matches nothing gets an
//!   `error` frame (a Phoenix error reply).
//!
//! Credentials are not checked: the recording holds none to check against.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, Request, State, WebSocketUpgrade};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use crate::Credentials;
use crate::auth::error_response;
use crate::record::{Server, SetupError, bind, record_headers};
use crate::recording::{
    Body, Entry, HttpExchange, PLACEHOLDER_PREFIX, Recording, Side, WebhookCall, is_multipart,
    is_socket_info, is_upgrade, normalize_name, parse_multipart_request,
};

/// The replay's websocket endpoints.
const WS_PATH: &str = "/__flowai_replay/ws";
/// How long a handed-out endpoint stays valid, as on the service.
const ENDPOINT_TTL: Duration = Duration::from_secs(60);
/// A socket without inbound frames for this long is dropped, as on the service.
const IDLE_TIMEOUT: Duration = Duration::from_secs(50);
/// Deadline of one webhook call.
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest request body read whole (a multipart form streams instead).
const MAX_BODY: usize = 16 * 1024 * 1024;
/// Webhook calls waiting to be made.
const DELIVERY_QUEUE: usize = 1024;
/// Recorded strings shorter than this are rewritten only under an unstable name, not
/// wherever they occur: a threadId "t" must not turn every "t" of a reply into another.
const MIN_GLOBAL_ID: usize = 8;

/// How the replay runs.
#[derive(Clone, Debug)]
pub struct ReplayOptions {
    /// The recording to serve.
    pub recording: Recording,
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Credentials to print for clients; the replay accepts any.
    pub credentials: Credentials,
}

impl ReplayOptions {
    /// Serve `recording` on a free port, with random credentials except the AIDA bot: the
    /// recorded one, since its id is part of the conversation (the channel topic).
    pub fn new(recording: Recording) -> Self {
        let mut credentials = Credentials::random();
        if let Some(bot) = recorded_bot(&recording) {
            credentials.aida_bot = bot;
        }
        ReplayOptions {
            recording,
            port: 0,
            credentials,
        }
    }
}

/// The AIDA bot of the first `bot:<id>` topic a client used in the recording: the bot a
/// replaying client must join, since the topic is part of the conversation.
pub fn recorded_bot(recording: &Recording) -> Option<String> {
    recording.lines.iter().find_map(|line| match &line.entry {
        Entry::Frame(f) if f.from == Side::Client => f
            .body
            .json()
            .and_then(phoenix)
            .and_then(|p| p[2].as_str())
            .and_then(|topic| topic.strip_prefix("bot:"))
            .map(str::to_string),
        _ => None,
    })
}

/// A running replay. Dropping it stops the server.
#[derive(Debug)]
pub struct RunningReplay {
    addr: SocketAddr,
    base_url: String,
    credentials: Credentials,
    state: Arc<Replay>,
    server: Server,
}

impl RunningReplay {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, the value of `FLOWAI_API_URL`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The credentials printed for clients (any are accepted).
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// Requests and frames that matched nothing in the recording so far.
    pub fn misses(&self) -> u64 {
        self.state.misses.load(Ordering::Relaxed)
    }

    /// Webhook calls made so far (answered by the receiver or not).
    pub fn webhook_calls(&self) -> u64 {
        self.state.webhook_calls.load(Ordering::Relaxed)
    }

    /// `NAME=value` lines for every setting a client needs, as `flowai emulator` prints them.
    pub fn env_lines(&self) -> Vec<String> {
        let c = &self.credentials;
        vec![
            format!("FLOWAI_API_URL={}", self.base_url),
            format!("FLOWAI_MESSAGING_KEY={}", c.messaging_key),
            format!("FLOWAI_MANAGEMENT_KEY={}", c.management_key),
            format!("FLOWAI_CLIENT_ID={}", c.client_id),
            format!("FLOWAI_AIDA_URL={}", self.base_url),
            format!("FLOWAI_AIDA_BOT={}", c.aida_bot),
            format!("FLOWAI_AIDA_TOKEN={}", c.aida_token),
        ]
    }

    /// Stop accepting connections and wait for the server task to end.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}

/// Start serving a recording.
pub async fn start(options: ReplayOptions) -> Result<RunningReplay, SetupError> {
    let listener = bind(options.port).await?;
    let addr = listener.local_addr().map_err(|source| SetupError::Bind {
        port: options.port,
        source,
    })?;
    let base_url = format!("http://{addr}");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| SetupError::Invalid(format!("cannot build the HTTP client: {e}")))?;
    let (deliveries, queue) = mpsc::channel(DELIVERY_QUEUE);
    let state = Arc::new(Replay::new(
        &options.recording,
        base_url.clone(),
        client,
        deliveries,
    ));
    // The worker holds the state weakly so that it ends with the server.
    tokio::spawn(delivery_worker(Arc::downgrade(&state), queue));
    let app = Router::new()
        .route(&format!("{WS_PATH}/{{token}}"), any(flow_socket))
        .fallback(handle)
        // Media uploads are up to 250 MB: the handler streams multipart forms itself.
        .layer(DefaultBodyLimit::disable())
        .with_state(state.clone());
    Ok(RunningReplay {
        addr,
        base_url,
        credentials: options.credentials,
        state,
        server: Server::spawn(listener, app),
    })
}

/// One recorded websocket connection, as a script to play.
#[derive(Clone, Debug, Default)]
struct Script {
    /// `None` for a Flow socket opened through socket.info.
    path: Option<String>,
    events: Vec<Event>,
}

#[derive(Clone, Debug)]
enum Event {
    Client(Body),
    Server(Body),
    ServerClose(Option<u16>, Option<String>),
    ClientClose,
}

struct Replay {
    base_url: String,
    exchanges: Vec<HttpExchange>,
    used: Mutex<Vec<bool>>,
    webhooks: HashMap<u64, Vec<WebhookCall>>,
    scripts: Mutex<VecDeque<Script>>,
    endpoints: Mutex<HashMap<String, Instant>>,
    ids: Mutex<Ids>,
    client: reqwest::Client,
    deliveries: mpsc::Sender<WebhookCall>,
    misses: AtomicU64,
    webhook_calls: AtomicU64,
}

impl std::fmt::Debug for Replay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replay")
            .field("base_url", &self.base_url)
            .field("exchanges", &self.exchanges.len())
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock still holds valid plain data.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Replay {
    fn new(
        recording: &Recording,
        base_url: String,
        client: reqwest::Client,
        deliveries: mpsc::Sender<WebhookCall>,
    ) -> Self {
        let mut exchanges = Vec::new();
        let mut webhooks: HashMap<u64, Vec<WebhookCall>> = HashMap::new();
        let mut scripts: Vec<Script> = Vec::new();
        let mut conn_index: HashMap<u64, usize> = HashMap::new();
        for line in &recording.lines {
            match &line.entry {
                Entry::Http(x) => exchanges.push(x.clone()),
                Entry::Webhook(call) => {
                    if let Some(cause) = call.cause {
                        webhooks.entry(cause).or_default().push(call.clone());
                    }
                }
                Entry::SocketOpen(open) => {
                    conn_index.insert(open.conn, scripts.len());
                    scripts.push(Script {
                        path: open.path.clone(),
                        events: Vec::new(),
                    });
                }
                Entry::Frame(frame) => {
                    if let Some(s) = conn_index.get(&frame.conn).map(|i| &mut scripts[*i]) {
                        s.events.push(match frame.from {
                            Side::Client => Event::Client(frame.body.clone()),
                            Side::Server => Event::Server(frame.body.clone()),
                        });
                    }
                }
                Entry::SocketClose(close) => {
                    if let Some(s) = conn_index.get(&close.conn).map(|i| &mut scripts[*i]) {
                        s.events.push(match close.by {
                            Side::Server => Event::ServerClose(close.code, close.reason.clone()),
                            Side::Client => Event::ClientClose,
                        });
                    }
                }
                Entry::Header(_) => {}
            }
        }
        // Exchanges in the order their requests started: the order the client made them.
        exchanges.sort_by_key(|x| x.id);
        Replay {
            base_url,
            used: Mutex::new(vec![false; exchanges.len()]),
            exchanges,
            webhooks,
            scripts: Mutex::new(scripts.into()),
            endpoints: Mutex::default(),
            ids: Mutex::default(),
            client,
            deliveries,
            misses: AtomicU64::new(0),
            webhook_calls: AtomicU64::new(0),
        }
    }

    /// The recorded exchange answering a request, and whether it is used for the first time.
    fn find(
        &self,
        method: &str,
        path: &str,
        query: &Value,
        body: Option<&Body>,
    ) -> Option<(HttpExchange, bool)> {
        let matches = |x: &HttpExchange| {
            x.request.method == method
                && x.request.path == path
                && stable_match(&Value::Object(x.request.query.clone()), query)
                && body_match(x.request.body.as_ref(), body)
        };
        let mut used = lock(&self.used);
        if let Some(i) =
            (0..self.exchanges.len()).find(|&i| !used[i] && matches(&self.exchanges[i]))
        {
            used[i] = true;
            return Some((self.exchanges[i].clone(), true));
        }
        if matches!(method, "GET" | "HEAD") {
            return (0..self.exchanges.len())
                .rev()
                .find(|&i| used[i] && matches(&self.exchanges[i]))
                .map(|i| (self.exchanges[i].clone(), false));
        }
        None
    }

    /// The next recorded connection of this kind (Flow socket: `None`; other: its path).
    fn next_script(&self, path: Option<&str>) -> Option<Script> {
        let mut scripts = lock(&self.scripts);
        let at = scripts.iter().position(|s| s.path.as_deref() == path)?;
        scripts.remove(at)
    }

    fn new_endpoint(&self) -> String {
        let token = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let now = Instant::now();
        let mut endpoints = lock(&self.endpoints);
        endpoints.retain(|_, created| now.duration_since(*created) < ENDPOINT_TTL * 2);
        endpoints.insert(token.clone(), now);
        format!(
            "{}{WS_PATH}/{token}",
            self.base_url.replacen("http", "ws", 1)
        )
    }

    fn miss(&self) {
        self.misses.fetch_add(1, Ordering::Relaxed);
    }
}

/// Names whose values change from one run to the next; normalized by [`normalize_name`].
const VOLATILE: &[&str] = &[
    "threadid",
    "traceid",
    "sessionid",
    "nonce",
    "url",
    "verifykey",
    "secret",
    "clientid",
    "accesstoken",
    "token",
    "xflowaithreadid",
    "xflowaisessionid",
    "xflowaiclientid",
    "xflowaisecret",
];

/// Whether values under `name` differ between runs (and are left out of matching).
pub fn is_volatile(name: &str) -> bool {
    VOLATILE.contains(&normalize_name(name).as_str())
}

fn is_masked(s: &str) -> bool {
    s.contains(PLACEHOLDER_PREFIX)
}

/// Whether a live value matches a recorded one in its stable parts.
pub fn stable_match(recorded: &Value, live: &Value) -> bool {
    match (recorded, live) {
        (Value::Object(a), Value::Object(b)) => {
            let stable = |m: &Map<String, Value>| m.iter().filter(|(k, _)| !is_volatile(k)).count();
            stable(a) == stable(b)
                && a.iter()
                    .filter(|(k, _)| !is_volatile(k))
                    .all(|(k, v)| b.get(k).is_some_and(|w| stable_match(v, w)))
        }
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| stable_match(x, y))
        }
        // A masked secret stands for whatever this run uses.
        (Value::String(a), Value::String(_)) if is_masked(a) => true,
        _ => recorded == live,
    }
}

/// A socket frame: a Phoenix frame's `join_ref` and `ref` are chosen by each client anew.
fn frame_match(recorded: &Value, live: &Value) -> bool {
    match (phoenix(recorded), phoenix(live)) {
        (Some(a), Some(b)) => a[2..].iter().zip(&b[2..]).all(|(x, y)| stable_match(x, y)),
        (None, None) => stable_match(recorded, live),
        _ => false,
    }
}

/// The elements of a Phoenix frame `[join_ref, ref, topic, event, payload]`.
fn phoenix(v: &Value) -> Option<&Vec<Value>> {
    v.as_array()
        .filter(|a| a.len() == 5 && a[2].is_string() && a[3].is_string())
}

/// Whether a live body matches a recorded one.
pub fn body_match(recorded: Option<&Body>, live: Option<&Body>) -> bool {
    match (recorded, live) {
        (None, None) => true,
        // Only the size of a large body was kept.
        (Some(Body::Omitted { .. }), Some(_)) => true,
        (Some(Body::Json(a)), Some(Body::Json(b))) => stable_match(a, b),
        (Some(Body::Multipart(a)), Some(Body::Multipart(b))) => {
            a.len() == b.len()
                && a.iter().zip(b).all(|(x, y)| {
                    x.name == y.name
                        && x.file_name == y.file_name
                        && x.content_type == y.content_type
                        && x.bytes == y.bytes
                        && body_match(x.body.as_ref(), y.body.as_ref())
                })
        }
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// What each recorded unstable value is in this run.
#[derive(Debug, Default)]
struct Ids {
    /// Under an unstable name: `s:<string>` or `n:<number>` → the live value.
    named: HashMap<String, Value>,
    /// Long recorded strings → live ones, rewritten wherever they occur.
    strings: HashMap<String, String>,
    /// Masked secrets → the live value learned, or a fresh one.
    placeholders: HashMap<String, String>,
}

fn id_key(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(format!("s:{s}")),
        Value::Number(n) => Some(format!("n:{n}")),
        _ => None,
    }
}

impl Ids {
    fn learn(&mut self, recorded: &Value, live: &Value) {
        self.learn_at(recorded, live, false);
    }

    fn learn_at(&mut self, recorded: &Value, live: &Value, volatile: bool) {
        match (recorded, live) {
            (Value::Object(a), Value::Object(b)) => {
                for (k, v) in a {
                    if let Some(w) = b.get(k) {
                        self.learn_at(v, w, is_volatile(k));
                    }
                }
            }
            (Value::Array(a), Value::Array(b)) => {
                for (x, y) in a.iter().zip(b) {
                    self.learn_at(x, y, volatile);
                }
            }
            (Value::String(a), Value::String(b)) => {
                if is_masked(a) {
                    self.learn_placeholder(a, b);
                }
                // An unchanged value is learned too: a receiver on the same URL as when
                // recording is still this run's receiver.
                if volatile {
                    self.named.insert(format!("s:{a}"), live.clone());
                    if a.len() >= MIN_GLOBAL_ID {
                        self.strings.insert(a.clone(), b.clone());
                    }
                }
            }
            (Value::Number(_), Value::Number(_)) if volatile => {
                if let Some(k) = id_key(recorded) {
                    self.named.insert(k, live.clone());
                }
            }
            _ => {}
        }
    }

    /// `recorded` holds one placeholder with fixed text around it (`Bearer <masked:...>`):
    /// the live value's middle is what it stands for.
    fn learn_placeholder(&mut self, recorded: &str, live: &str) {
        let Some(start) = recorded.find(PLACEHOLDER_PREFIX) else {
            return;
        };
        let Some(len) = recorded[start..].find('>') else {
            return;
        };
        let end = start + len + 1;
        let (before, placeholder, after) =
            (&recorded[..start], &recorded[start..end], &recorded[end..]);
        if is_masked(after) || is_masked(live) {
            return;
        }
        if live.len() >= before.len() + after.len()
            && live.starts_with(before)
            && live.ends_with(after)
        {
            let middle = &live[before.len()..live.len() - after.len()];
            self.placeholders
                .insert(placeholder.to_string(), middle.to_string());
        }
    }

    /// The live value of a recorded string, when one was learned.
    fn lookup(&self, recorded: &str) -> Option<String> {
        self.strings.get(recorded).cloned().or_else(|| {
            self.named
                .get(&format!("s:{recorded}"))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
    }

    fn rewrite(&mut self, value: &mut Value) {
        self.rewrite_at(value, false);
    }

    fn rewrite_at(&mut self, value: &mut Value, volatile: bool) {
        match value {
            Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    self.rewrite_at(v, is_volatile(k));
                }
            }
            Value::Array(items) => {
                for v in items {
                    self.rewrite_at(v, volatile);
                }
            }
            Value::String(s) => {
                let learned = if volatile {
                    self.named.get(&format!("s:{s}")).cloned()
                } else {
                    None
                }
                .or_else(|| self.strings.get(s.as_str()).cloned().map(Value::String));
                match learned {
                    Some(v) => *value = v,
                    None if is_masked(s) => *s = self.substitute(s),
                    None => {}
                }
            }
            Value::Number(_) if volatile => {
                if let Some(v) = id_key(value).and_then(|k| self.named.get(&k)) {
                    *value = v.clone();
                }
            }
            _ => {}
        }
    }

    /// Every placeholder in `text` replaced by its live value, or a fresh one.
    fn substitute(&mut self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find(PLACEHOLDER_PREFIX) {
            let Some(len) = rest[start..].find('>') else {
                break;
            };
            out.push_str(&rest[..start]);
            let placeholder = &rest[start..start + len + 1];
            let live = self
                .placeholders
                .entry(placeholder.to_string())
                .or_insert_with(|| uuid::Uuid::new_v4().simple().to_string());
            out.push_str(live);
            rest = &rest[start + len + 1..];
        }
        out.push_str(rest);
        out
    }

    /// A fresh value standing for a recorded one (a delivery id: a receiver's dedupe store
    /// may outlive one replay).
    fn fresh_for(&mut self, recorded: &str) -> String {
        self.placeholders
            .entry(format!("fresh:{recorded}"))
            .or_insert_with(|| uuid::Uuid::new_v4().to_string())
            .clone()
    }
}

/// Every request except the replay's own websocket endpoints.
async fn handle(State(replay): State<Arc<Replay>>, request: Request) -> Response {
    if is_upgrade(request.headers()) {
        return other_socket(replay, request).await;
    }
    let method = request.method().as_str().to_string();
    let path = request.uri().path().to_string();
    let query: Map<String, Value> =
        url::form_urlencoded::parse(request.uri().query().unwrap_or_default().as_bytes())
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect();
    let query = Value::Object(query);
    let headers = Value::Object(record_headers(request.headers()));
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = if is_multipart(content_type.as_deref()) {
        match parse_multipart_request(request).await {
            Some(parts) => Some(Body::Multipart(parts)),
            None => {
                return error_response(StatusCode::BAD_REQUEST, "the multipart body is malformed");
            }
        }
    } else {
        match axum::body::to_bytes(request.into_body(), MAX_BODY).await {
            Ok(bytes) => Body::from_bytes(&bytes),
            Err(_) => {
                return error_response(StatusCode::PAYLOAD_TOO_LARGE, "the body is too large");
            }
        }
    };

    let Some((exchange, first)) = replay.find(&method, &path, &query, body.as_ref()) else {
        replay.miss();
        tracing::warn!("replay: no recorded exchange matches {method} {path}");
        return error_response(
            StatusCode::NOT_FOUND,
            &format!("replay: no recorded exchange matches {method} {path}"),
        );
    };
    {
        let mut ids = lock(&replay.ids);
        ids.learn(&Value::Object(exchange.request.query.clone()), &query);
        ids.learn(&Value::Object(exchange.request.headers.clone()), &headers);
        learn_body(&mut ids, exchange.request.body.as_ref(), body.as_ref());
    }
    let calls = if first {
        replay
            .webhooks
            .get(&exchange.id)
            .cloned()
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    for call in calls.iter().filter(|c| c.during) {
        deliver(&replay, call).await;
    }
    let response = answer(&replay, &path, &exchange);
    for call in calls.into_iter().filter(|c| !c.during) {
        if replay.deliveries.try_send(call).is_err() {
            tracing::warn!("replay: webhook queue full, a call is dropped");
        }
    }
    response
}

fn learn_body(ids: &mut Ids, recorded: Option<&Body>, live: Option<&Body>) {
    match (recorded, live) {
        (Some(Body::Json(a)), Some(Body::Json(b))) => ids.learn(a, b),
        (Some(Body::Multipart(a)), Some(Body::Multipart(b))) => {
            for (x, y) in a.iter().zip(b) {
                learn_body(ids, x.body.as_ref(), y.body.as_ref());
            }
        }
        _ => {}
    }
}

/// The recorded answer, rewritten for this run.
fn answer(replay: &Replay, path: &str, exchange: &HttpExchange) -> Response {
    let recorded = &exchange.response;
    let status = StatusCode::from_u16(recorded.status).unwrap_or(StatusCode::OK);
    let mut ids = lock(&replay.ids);
    let bytes = match recorded.body.clone() {
        Some(Body::Json(mut v)) => {
            if is_socket_info(path)
                && let Some(endpoint) = v.pointer_mut("/payload/endpoint")
            {
                *endpoint = Value::String(replay.new_endpoint());
            }
            ids.rewrite(&mut v);
            serde_json::to_vec(&v).unwrap_or_default()
        }
        Some(Body::Text(t)) => ids.substitute(&t).into_bytes(),
        Some(other) => other.to_bytes(),
        None => Vec::new(),
    };
    let mut response = (status, Bytes::from(bytes)).into_response();
    for (name, value) in &recorded.headers {
        let (Ok(name), Some(value)) = (HeaderName::try_from(name.as_str()), value.as_str()) else {
            continue;
        };
        if let Ok(value) = HeaderValue::from_str(&ids.substitute(value)) {
            // The recorded content type replaces the one axum gave the bytes.
            if name == header::CONTENT_TYPE {
                response.headers_mut().insert(name, value);
            } else {
                response.headers_mut().append(name, value);
            }
        }
    }
    response
}

/// Make the webhook calls queued after their exchanges were answered, one at a time in order.
async fn delivery_worker(replay: Weak<Replay>, mut queue: mpsc::Receiver<WebhookCall>) {
    while let Some(call) = queue.recv().await {
        let Some(replay) = replay.upgrade() else {
            return;
        };
        deliver(&replay, &call).await;
    }
}

/// Make one recorded webhook call to this run's receiver.
async fn deliver(replay: &Replay, call: &WebhookCall) {
    let (url, headers, body) = {
        let mut ids = lock(&replay.ids);
        let Some(url) = ids.lookup(&call.url) else {
            tracing::warn!(
                "replay: a webhook call is skipped: its receiver was not registered in this run"
            );
            return;
        };
        let mut headers = Vec::new();
        for (name, value) in &call.request.headers {
            let Some(value) = value.as_str() else {
                continue;
            };
            let value = if name.eq_ignore_ascii_case(flowai_core::webhook::DELIVERY_ID_HEADER) {
                ids.fresh_for(value)
            } else {
                ids.substitute(value)
            };
            headers.push((name.clone(), value));
        }
        let body = match call.request.body.clone() {
            Some(Body::Json(mut v)) => {
                ids.rewrite(&mut v);
                serde_json::to_vec(&v).unwrap_or_default()
            }
            Some(Body::Text(t)) => ids.substitute(&t).into_bytes(),
            Some(other) => other.to_bytes(),
            None => Vec::new(),
        };
        (url, headers, body)
    };
    let method = reqwest::Method::from_bytes(call.request.method.as_bytes())
        .unwrap_or(reqwest::Method::POST);
    let mut request = replay
        .client
        .request(method, &url)
        .timeout(WEBHOOK_TIMEOUT)
        .body(body);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    replay.webhook_calls.fetch_add(1, Ordering::Relaxed);
    match request.send().await {
        Ok(resp) if !resp.status().is_success() => tracing::info!(
            "replay: the receiver answered a webhook call with HTTP {}",
            resp.status().as_u16()
        ),
        Ok(_) => {}
        Err(_) => tracing::info!("replay: a webhook call could not reach the receiver"),
    }
}

/// A client connecting to an endpoint handed out by a replayed socket.info.
async fn flow_socket(
    State(replay): State<Arc<Replay>>,
    Path(token): Path<String>,
    ws: WebSocketUpgrade,
) -> Response {
    {
        let mut endpoints = lock(&replay.endpoints);
        match endpoints.remove(&token) {
            None => return error_response(StatusCode::UNAUTHORIZED, "unknown endpoint"),
            Some(created) if created.elapsed() > ENDPOINT_TTL => {
                return error_response(StatusCode::GONE, "endpoint expired");
            }
            Some(_) => {}
        }
    }
    let script = replay.next_script(None).unwrap_or_default();
    ws.on_upgrade(move |socket| converse(replay, socket, script, false))
}

/// Any other websocket (AIDA's Phoenix endpoint): the next recording opened on this path.
async fn other_socket(replay: Arc<Replay>, request: Request) -> Response {
    let (mut parts, _) = request.into_parts();
    let ws = match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(ws) => ws,
        Err(rejection) => return rejection.into_response(),
    };
    let path = parts.uri.path().to_string();
    let script = replay.next_script(Some(&path)).unwrap_or(Script {
        path: Some(path.clone()),
        events: Vec::new(),
    });
    let phoenix_dialect = path.ends_with("/websocket")
        || script.events.iter().any(|e| match e {
            Event::Client(Body::Json(v)) => v.is_array(),
            _ => false,
        });
    ws.on_upgrade(move |socket| converse(replay, socket, script, phoenix_dialect))
}

/// The live answer to a keep-alive frame.
fn keepalive_answer(frame: &Value) -> Option<Value> {
    if frame.get("type").and_then(Value::as_str) == Some("ping") {
        return Some(json!({ "type": "pong" }));
    }
    let p = phoenix(frame)?;
    (p[2] == "phoenix" && p[3] == "heartbeat").then(|| {
        json!([Value::Null, p[1].clone(), "phoenix", "phx_reply", {"status": "ok", "response": {}}])
    })
}

/// A recorded keep-alive (or its answer): replaced by the live answers.
fn is_keepalive(body: &Body) -> bool {
    let Some(v) = body.json() else {
        return false;
    };
    if matches!(v.get("type").and_then(Value::as_str), Some("ping" | "pong")) {
        return true;
    }
    phoenix(v).is_some_and(|p| p[2] == "phoenix")
}

/// Play a recorded connection to a live client.
async fn converse(
    replay: Arc<Replay>,
    mut socket: WebSocket,
    script: Script,
    phoenix_dialect: bool,
) {
    let mut cursor = 0;
    let mut refs: HashMap<String, Value> = HashMap::new();
    if !play_server_frames(&replay, &mut socket, &script, &mut cursor, &refs).await {
        return;
    }
    loop {
        let msg = match tokio::time::timeout(IDLE_TIMEOUT, socket.recv()).await {
            Err(_) => {
                let _ = socket.send(Message::Close(None)).await;
                return;
            }
            Ok(None) | Ok(Some(Err(_))) => return,
            Ok(Some(Ok(m))) => m,
        };
        let text = match msg {
            Message::Text(t) => t.to_string(),
            Message::Binary(b) => String::from_utf8_lossy(&b).to_string(),
            Message::Close(_) => return,
            Message::Ping(_) | Message::Pong(_) => continue,
        };
        let live: Option<Value> = serde_json::from_str(&text).ok();
        if let Some(answer) = live.as_ref().and_then(keepalive_answer) {
            if socket
                .send(Message::text(answer.to_string()))
                .await
                .is_err()
            {
                return;
            }
            continue;
        }
        let found = script.events[cursor.min(script.events.len())..]
            .iter()
            .position(|e| match (e, &live) {
                (Event::Client(b), _) if is_keepalive(b) => false,
                (Event::Client(Body::Json(r)), Some(l)) => frame_match(r, l),
                (Event::Client(Body::Text(r)), None) => *r == text,
                _ => false,
            })
            .map(|i| cursor + i);
        let Some(at) = found else {
            replay.miss();
            let error = miss_frame(live.as_ref(), phoenix_dialect);
            if socket.send(Message::text(error.to_string())).await.is_err() {
                return;
            }
            continue;
        };
        if let (Event::Client(Body::Json(recorded)), Some(live)) = (&script.events[at], &live) {
            if let (Some(r), Some(l)) = (phoenix(recorded), phoenix(live)) {
                for i in 0..2 {
                    if let Some(k) = r[i].as_str() {
                        refs.insert(k.to_string(), l[i].clone());
                    }
                }
            }
            lock(&replay.ids).learn(recorded, live);
        }
        cursor = at + 1;
        if !play_server_frames(&replay, &mut socket, &script, &mut cursor, &refs).await {
            return;
        }
    }
}

/// The error a frame that is not in the recording gets.
fn miss_frame(live: Option<&Value>, phoenix_dialect: bool) -> Value {
    const MESSAGE: &str = "replay: this frame is not in the recording";
    match live.and_then(phoenix) {
        Some(p) => json!([p[0].clone(), p[1].clone(), p[2].clone(), "phx_reply",
            {"status": "error", "response": {"reason": MESSAGE}}]),
        None if phoenix_dialect => {
            json!([Value::Null, Value::Null, "phoenix", "phx_error", {"reason": MESSAGE}])
        }
        None => json!({ "type": "error", "message": MESSAGE }),
    }
}

/// Send the server frames from `cursor` up to the next client frame; false once the
/// connection is over (the recording closed it, or the client is gone).
async fn play_server_frames(
    replay: &Replay,
    socket: &mut WebSocket,
    script: &Script,
    cursor: &mut usize,
    refs: &HashMap<String, Value>,
) -> bool {
    while let Some(event) = script.events.get(*cursor) {
        match event {
            Event::Client(body) if is_keepalive(body) => {}
            Event::Client(_) | Event::ClientClose => return true,
            Event::Server(body) if is_keepalive(body) => {}
            Event::Server(body) => {
                let text = match body.clone() {
                    Body::Json(mut v) => {
                        if let Some(items) = v.as_array_mut().filter(|a| a.len() == 5) {
                            for item in items.iter_mut().take(2) {
                                if let Some(live) = item.as_str().and_then(|k| refs.get(k)) {
                                    *item = live.clone();
                                }
                            }
                        }
                        lock(&replay.ids).rewrite(&mut v);
                        v.to_string()
                    }
                    Body::Text(t) => lock(&replay.ids).substitute(&t),
                    other => String::from_utf8_lossy(&other.to_bytes()).to_string(),
                };
                if socket.send(Message::text(text)).await.is_err() {
                    return false;
                }
            }
            Event::ServerClose(code, reason) => {
                let frame = code.map(|code| CloseFrame {
                    code,
                    reason: reason.clone().unwrap_or_default().into(),
                });
                let _ = socket.send(Message::Close(frame)).await;
                return false;
            }
        }
        *cursor += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_parts_match_and_unstable_ones_are_learned_and_rewritten() {
        let recorded = json!({"type": "message.send", "payload": {
            "threadId": "abc|<masked:channel:1>", "traceId": 17, "speech": "hi",
            "nonce": "<masked:nonce:1>"}});
        let live = json!({"type": "message.send", "payload": {
            "threadId": "live-thread-0001", "traceId": 99, "speech": "hi", "nonce": "n-live"}});
        assert!(stable_match(&recorded, &live));
        let other = json!({"type": "message.send", "payload": {
            "threadId": "x", "traceId": 1, "speech": "bye", "nonce": "n"}});
        assert!(!stable_match(&recorded, &other));

        let mut ids = Ids::default();
        ids.learn(&recorded, &live);
        let mut delivered = json!({"type": "message.delivered", "payload": {
            "threadId": "abc|<masked:channel:1>", "traceId": 17, "speech": "hi",
            "count": 17, "echo": "<masked:nonce:1>"}});
        ids.rewrite(&mut delivered);
        assert_eq!(delivered["payload"]["threadId"], "live-thread-0001");
        assert_eq!(delivered["payload"]["traceId"], 99);
        // A number under a stable name is left alone; a learned placeholder is filled in.
        assert_eq!(delivered["payload"]["count"], 17);
        assert_eq!(delivered["payload"]["echo"], "n-live");
    }

    #[test]
    fn an_unknown_placeholder_gets_one_fresh_value() {
        let mut ids = Ids::default();
        let a = ids.substitute("k=<masked:socket-secret:1>;");
        let b = ids.substitute("<masked:socket-secret:1>");
        assert!(!a.contains("masked"));
        assert_eq!(a, format!("k={b};"));
        ids.learn_placeholder("Bearer <masked:api-key:1>", "Bearer live-key");
        assert_eq!(ids.substitute("<masked:api-key:1>"), "live-key");
    }

    #[test]
    fn phoenix_refs_are_not_matched() {
        let recorded = json!(["1", "1", "bot:x", "phx_join", {"access_token": "<masked:token:1>"}]);
        let live = json!(["7", "7", "bot:x", "phx_join", {"access_token": "tok"}]);
        assert!(frame_match(&recorded, &live));
        let other = json!(["7", "7", "bot:y", "phx_join", {"access_token": "tok"}]);
        assert!(!frame_match(&recorded, &other));
        assert!(keepalive_answer(&json!([null, "3", "phoenix", "heartbeat", {}])).is_some());
        assert_eq!(
            keepalive_answer(&json!({"type": "ping"})),
            Some(json!({"type": "pong"}))
        );
    }

    #[test]
    fn bodies_match_by_kind() {
        let omitted = Body::Omitted { bytes: 5 };
        assert!(body_match(Some(&omitted), Some(&Body::Text("x".into()))));
        assert!(body_match(None, None));
        assert!(!body_match(Some(&Body::Text("x".into())), None));
        assert!(body_match(
            Some(&Body::Json(
                json!({"type": "text", "text": "hi", "threadId": "a"})
            )),
            Some(&Body::Json(
                json!({"type": "text", "text": "hi", "threadId": "b"})
            ))
        ));
    }
}
