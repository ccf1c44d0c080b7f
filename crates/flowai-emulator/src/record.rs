//! The recording proxy behind `flowai emulator --record FILE --upstream URL`: it forwards every request, webhook call and socket frame to and from a real service and writes each exchange to a recording.
//!
//! The client talks to the proxy as it would to the service (`FLOWAI_API_URL` and
//! `FLOWAI_AIDA_URL` point at it). Three things are rewritten on the way, so that
//! everything the service does keeps passing through the proxy:
//!
//! - socket.info answers: the service's single-use websocket URL is swapped for a
//!   single-use URL of the proxy, which connects to the service's URL when the client
//!   connects to it, then relays and records frames both ways;
//! - webhook creation and update: the receiver's `url` is swapped for a relay URL of the
//!   proxy (under `--webhook-relay-url`, by default the proxy's own address, which a service
//!   on the internet cannot reach: give a public tunnel to the proxy there), and swapped back
//!   in every answer; the service's calls to the relay are recorded and forwarded to the
//!   receiver, whose answer goes back to the service;
//! - any other websocket (the AIDA Phoenix endpoint) is opened on the service at the same
//!   path and relayed.
//!
//! What is recorded is the exchange as the client saw it, masked by
//! [`crate::recording::RecordingWriter`]; the format is described in [`crate::recording`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::{CloseFrame as AxumClose, Message as AxumMessage, WebSocket};
use axum::extract::{FromRequestParts, Path, Request, State, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Map, Value};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message as TMessage;
use tokio_tungstenite::tungstenite::protocol::CloseFrame as TClose;

use crate::auth::error_response;
use crate::recording::{
    Body, Entry, Frame, HttpExchange, HttpRequest, HttpResponse, MAX_RECORDED_BODY,
    RecordingWriter, Side, SocketClose, SocketOpen, WebhookCall, is_multipart, is_socket_info,
    is_upgrade,
};

/// Where the proxy's own endpoints live; nothing of the service's API starts like this.
const PREFIX: &str = "/__flowai_record";
/// Largest answer (or webhook call) relayed; API answers are far smaller.
const MAX_RELAYED: usize = 64 * 1024 * 1024;
/// How long a relayed socket.info endpoint is kept unused before it is forgotten (the
/// service's own endpoints live 60 s).
const ENDPOINT_KEEP: Duration = Duration::from_secs(300);
/// Deadline of a webhook call relayed to the receiver (the emulator's own is 10 s).
const RELAY_TIMEOUT: Duration = Duration::from_secs(30);

/// Errors setting up a recorder or a replay.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The port could not be bound.
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind {
        /// The port asked for.
        port: u16,
        /// Why.
        source: std::io::Error,
    },
    /// The recording file could not be created or read.
    #[error("{0}")]
    File(String),
    /// An option is unusable.
    #[error("{0}")]
    Invalid(String),
}

/// How the recorder runs.
#[derive(Clone)]
pub struct RecordOptions {
    /// The service to record, e.g. `https://api.flow.ai` (a base path is kept).
    pub upstream: String,
    /// The recording to write (created or truncated, owner-readable only).
    pub file: PathBuf,
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// The base URL at which the service can reach this proxy's webhook relay; the proxy's
    /// own URL when `None`.
    pub webhook_relay_url: Option<String>,
    /// Secrets to mask from the first line on (kind, value), e.g. the `FLOWAI_*` keys of
    /// the recorder's environment; others are learned as they pass.
    pub known_secrets: Vec<(&'static str, String)>,
}

impl std::fmt::Debug for RecordOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordOptions")
            .field("upstream", &self.upstream)
            .field("file", &self.file)
            .field("port", &self.port)
            .field("webhook_relay_url", &self.webhook_relay_url)
            .finish_non_exhaustive()
    }
}

impl RecordOptions {
    /// Record `upstream` into `file` on a free port.
    pub fn new(upstream: impl Into<String>, file: impl Into<PathBuf>) -> Self {
        RecordOptions {
            upstream: upstream.into(),
            file: file.into(),
            port: 0,
            webhook_relay_url: None,
            known_secrets: Vec::new(),
        }
    }
}

/// The credentials among a process's `FLOWAI_*` variables (read through `lookup`), as
/// [`RecordOptions::known_secrets`]: masked from the recording's first line on, even before
/// the traffic shows them.
pub fn secrets_from(lookup: impl Fn(&str) -> Option<String>) -> Vec<(&'static str, String)> {
    [
        ("api-key", "FLOWAI_MESSAGING_KEY"),
        ("api-key", "FLOWAI_MANAGEMENT_KEY"),
        ("client-id", "FLOWAI_CLIENT_ID"),
        ("token", "FLOWAI_AIDA_TOKEN"),
    ]
    .into_iter()
    .filter_map(|(kind, name)| lookup(name).filter(|v| !v.is_empty()).map(|v| (kind, v)))
    .collect()
}

/// A running recorder. Dropping it stops the server and its socket relays; every line
/// written so far is in the file.
#[derive(Debug)]
pub struct RunningRecorder {
    addr: SocketAddr,
    base_url: String,
    server: Server,
    writer: Arc<RecordingWriter>,
    /// Set to true (or dropped) to end the socket relays, which outlive the server's task.
    closing: watch::Sender<bool>,
}

impl RunningRecorder {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`: the `FLOWAI_API_URL` (and `FLOWAI_AIDA_URL`) of the client.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Stop recording: end the socket relays, stop accepting connections, wait for the
    /// exchanges in flight to be written, then flush the file; nothing is written after.
    /// An error when the recording could not be completely written.
    pub async fn shutdown(self) -> std::io::Result<()> {
        let _ = self.closing.send(true);
        self.server.shutdown().await;
        self.writer.finish()
    }
}

/// Start recording.
pub async fn start(options: RecordOptions) -> Result<RunningRecorder, SetupError> {
    let upstream = parse_upstream(&options.upstream)?;
    let listener = bind(options.port).await?;
    let addr = listener.local_addr().map_err(|source| SetupError::Bind {
        port: options.port,
        source,
    })?;
    let base_url = format!("http://{addr}");
    let relay_base = match &options.webhook_relay_url {
        Some(url) => parse_upstream(url)?,
        None => base_url.clone(),
    };
    let writer = Arc::new(
        RecordingWriter::create(
            &options.file,
            &public_origin(&upstream),
            &options.known_secrets,
        )
        .map_err(|e| {
            SetupError::File(format!(
                "cannot write the recording {}: {e}",
                options.file.display()
            ))
        })?,
    );
    let (closing, closing_rx) = watch::channel(false);
    let client = reqwest::Client::builder()
        // Redirects are the client's business: pass them through as they are.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| SetupError::Invalid(format!("cannot build the HTTP client: {e}")))?;
    let proxy = Arc::new(Proxy {
        upstream,
        base_url: base_url.clone(),
        relay_base,
        client,
        writer: writer.clone(),
        closing: closing_rx,
        next_id: AtomicU64::new(0),
        next_conn: AtomicU64::new(0),
        messaging: Mutex::default(),
        endpoints: Mutex::default(),
        relays: Mutex::default(),
    });
    let app = Router::new()
        .route(&format!("{PREFIX}/ws/{{token}}"), any(flow_socket))
        .route(&format!("{PREFIX}/webhook/{{token}}"), any(relay))
        .fallback(forward)
        .with_state(proxy);
    Ok(RunningRecorder {
        addr,
        base_url,
        server: Server::spawn(listener, app),
        writer,
        closing,
    })
}

/// The upstream URL without a trailing slash; http(s) only, so that no other scheme is dialled.
fn parse_upstream(raw: &str) -> Result<String, SetupError> {
    let url = url::Url::parse(raw.trim())
        .map_err(|_| SetupError::Invalid("the upstream must be an absolute http(s) URL".into()))?;
    if !matches!(url.scheme(), "http" | "https") || !url.has_host() {
        return Err(SetupError::Invalid(
            "the upstream must be an absolute http(s) URL".into(),
        ));
    }
    if url.query().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(SetupError::Invalid(
            "the upstream URL must not carry a query or credentials".into(),
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// Scheme, host and port of a URL, for the recording's header.
fn public_origin(url: &str) -> String {
    url::Url::parse(url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default()
}

/// Bind 127.0.0.1 only: a recorder or replay serves this machine, never the network.
pub(crate) async fn bind(port: u16) -> Result<TcpListener, SetupError> {
    TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|source| SetupError::Bind { port, source })
}

/// An axum server on its own task, stopped through a watch channel.
#[derive(Debug)]
pub(crate) struct Server {
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl Server {
    pub(crate) fn spawn(listener: TcpListener, app: Router) -> Server {
        let (stop, mut stop_rx) = watch::channel(false);
        let task = tokio::spawn(async move {
            use axum::serve::ListenerExt as _;
            // As in the emulator: without TCP_NODELAY a frame written right after another
            // waits for the peer's delayed ACK.
            let listener = listener.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            let shutdown = async move {
                let _ = stop_rx.wait_for(|s| *s).await;
            };
            let service = app.into_make_service_with_connect_info::<SocketAddr>();
            if let Err(err) = axum::serve(listener, service)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::warn!("server stopped: {err}");
            }
        });
        Server {
            stop,
            task: Some(task),
        }
    }

    pub(crate) async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            // Open websockets keep a graceful shutdown waiting; they are cut after a moment.
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(2), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

#[derive(Debug, Default)]
struct Messaging {
    last_started: Option<u64>,
    in_flight: Vec<u64>,
    /// The latest exchange that sent a message to each thread: a webhook call about a
    /// thread belongs to it even when other calls were made meanwhile.
    by_thread: HashMap<String, u64>,
}

/// Threads remembered for webhook attribution; old ones are forgotten past this.
const MAX_THREADS: usize = 10_000;

#[derive(Debug)]
struct PendingEndpoint {
    url: String,
    info: u64,
    created: Instant,
}

#[derive(Debug, Default)]
struct Relays {
    by_token: HashMap<String, String>,
    by_url: HashMap<String, String>,
}

struct Proxy {
    upstream: String,
    base_url: String,
    relay_base: String,
    client: reqwest::Client,
    writer: Arc<RecordingWriter>,
    /// Becomes true when the recorder shuts down (or fails when it is dropped).
    closing: watch::Receiver<bool>,
    next_id: AtomicU64,
    next_conn: AtomicU64,
    messaging: Mutex<Messaging>,
    endpoints: Mutex<HashMap<String, PendingEndpoint>>,
    relays: Mutex<Relays>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock still holds valid plain data.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The Messaging API: the only calls that make the service call webhooks.
fn is_messaging(path: &str) -> bool {
    path.contains("/messaging/") || path.starts_with("/rest/")
}

fn is_webhook_crud(method: &axum::http::Method, path: &str) -> bool {
    matches!(method.as_str(), "POST" | "PUT" | "PATCH") && path.contains("/messaging/webhooks")
}

/// Headers that belong to one connection, not to the message.
fn is_hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "transfer-encoding"
            | "te"
            | "trailer"
            | "upgrade"
            | "host"
            | "content-length"
    )
}

/// Headers as recorded: lower-case names, repeated ones joined.
pub(crate) fn record_headers(headers: &HeaderMap) -> Map<String, Value> {
    let mut out = Map::new();
    for (name, value) in headers {
        if is_hop_by_hop(name) || name == header::ACCEPT_ENCODING {
            continue;
        }
        let value = String::from_utf8_lossy(value.as_bytes()).to_string();
        match out.get_mut(name.as_str()) {
            Some(Value::String(existing)) => {
                existing.push_str(", ");
                existing.push_str(&value);
            }
            _ => {
                out.insert(name.as_str().to_string(), Value::String(value));
            }
        }
    }
    out
}

fn query_map(query: Option<&str>) -> Map<String, Value> {
    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect()
}

/// The recorded form of a complete body.
async fn recorded_body(content_type: Option<&str>, bytes: &Bytes) -> Option<Body> {
    if bytes.is_empty() {
        return None;
    }
    if let Some(ct) = content_type.filter(|ct| is_multipart(Some(ct)))
        && bytes.len() <= MAX_RECORDED_BODY
        && let Some(parts) = crate::recording::parse_multipart(ct, bytes.clone()).await
    {
        return Some(Body::Multipart(parts));
    }
    Body::from_bytes(bytes)
}

/// Why a request to the service failed, without its URL (which may carry a client id).
fn failure(err: &reqwest::Error) -> &'static str {
    if err.is_timeout() {
        "timeout"
    } else if err.is_connect() {
        "connection failed"
    } else {
        "request failed"
    }
}

/// The first part of a body and its full size, kept while the body streams through.
#[derive(Debug, Default)]
struct Kept {
    bytes: Vec<u8>,
    total: u64,
}

impl Proxy {
    fn messaging_started(&self, id: u64) {
        let mut m = lock(&self.messaging);
        m.last_started = Some(id);
        m.in_flight.push(id);
    }

    fn messaging_finished(&self, id: u64) {
        lock(&self.messaging).in_flight.retain(|i| *i != id);
    }

    fn messaging_thread(&self, id: u64, thread_id: &str) {
        let mut m = lock(&self.messaging);
        if m.by_thread.len() >= MAX_THREADS {
            m.by_thread.clear();
        }
        m.by_thread.insert(thread_id.to_string(), id);
    }

    /// The exchange a webhook call belongs to (the latest message to the thread it is about,
    /// else the latest Messaging API call), and whether it is still waiting for its answer.
    fn messaging_cause(&self, body: &[u8]) -> (Option<u64>, bool) {
        let thread = serde_json::from_slice::<Value>(body).ok().and_then(|v| {
            v.pointer("/payload/threadId")
                .and_then(Value::as_str)
                .map(str::to_string)
        });
        let m = lock(&self.messaging);
        let cause = thread
            .and_then(|t| m.by_thread.get(&t).copied())
            .or(m.last_started);
        let during = cause.is_some_and(|id| m.in_flight.contains(&id));
        (cause, during)
    }

    fn relay_url(&self, original: &str) -> String {
        let mut relays = lock(&self.relays);
        let token = match relays.by_url.get(original) {
            Some(t) => t.clone(),
            None => {
                let token = uuid::Uuid::new_v4().simple().to_string();
                relays.by_url.insert(original.to_string(), token.clone());
                relays.by_token.insert(token.clone(), original.to_string());
                token
            }
        };
        format!("{}{PREFIX}/webhook/{token}", self.relay_base)
    }

    /// Every relay URL in an answer turned back into the receiver's URL.
    fn unrelay(&self, value: &mut Value) {
        let prefix = format!("{}{PREFIX}/webhook/", self.relay_base);
        match value {
            Value::String(s) => {
                if let Some(token) = s.strip_prefix(&prefix)
                    && let Some(original) = lock(&self.relays).by_token.get(token)
                {
                    *s = original.clone();
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.unrelay(v)),
            Value::Object(map) => map.values_mut().for_each(|v| self.unrelay(v)),
            _ => {}
        }
    }

    /// Swap the service's single-use endpoint for one of the proxy.
    fn relay_endpoint(&self, id: u64, body: &mut Value) {
        let Some(endpoint) = body.pointer_mut("/payload/endpoint") else {
            return;
        };
        let Some(url) = endpoint.as_str().map(str::to_string) else {
            return;
        };
        self.writer.learn("endpoint", &url);
        let token = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let ws_base = self.base_url.replacen("http", "ws", 1);
        *endpoint = Value::String(format!("{ws_base}{PREFIX}/ws/{token}"));
        let now = Instant::now();
        let mut endpoints = lock(&self.endpoints);
        endpoints.retain(|_, e| now.duration_since(e.created) < ENDPOINT_KEEP);
        endpoints.insert(
            token,
            PendingEndpoint {
                url,
                info: id,
                created: now,
            },
        );
    }
}

/// Every request that is not the proxy's own: forwarded to the service and recorded.
async fn forward(State(proxy): State<Arc<Proxy>>, request: Request) -> Response {
    if is_upgrade(request.headers()) {
        return websocket_passthrough(proxy, request).await;
    }
    let id = proxy.next_id.fetch_add(1, Ordering::Relaxed) + 1;
    let path = request.uri().path().to_string();
    let messaging = is_messaging(&path);
    if messaging {
        proxy.messaging_started(id);
    }
    let response = exchange(&proxy, id, request).await;
    if messaging {
        proxy.messaging_finished(id);
    }
    response
}

async fn exchange(proxy: &Proxy, id: u64, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().map(str::to_string);
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let content_length = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    // Large uploads (media up to 250 MB) stream through and only their start is kept;
    // everything else is read whole, so it can be recorded and, for webhooks, rewritten.
    let streamed =
        content_length.map_or(parts.headers.contains_key(header::TRANSFER_ENCODING), |n| {
            n > MAX_RECORDED_BODY as u64
        }) && !is_webhook_crud(&parts.method, &path);

    let mut url = format!("{}{path}", proxy.upstream);
    if let Some(q) = &query {
        url.push('?');
        url.push_str(q);
    }
    let mut upstream = proxy.client.request(parts.method.clone(), url);
    for (name, value) in &parts.headers {
        if is_hop_by_hop(name) || name == header::ACCEPT_ENCODING {
            continue;
        }
        upstream = upstream.header(name, value);
    }

    let kept = Arc::new(Mutex::new(Kept::default()));
    let mut request_bytes = None;
    if streamed {
        if let Some(n) = content_length {
            // With the length given, the stream goes out with it instead of chunked.
            upstream = upstream.header(header::CONTENT_LENGTH, n);
        }
        let tee = kept.clone();
        let stream = body.into_data_stream().map(move |chunk| {
            if let Ok(c) = &chunk {
                let mut k = lock(&tee);
                k.total += c.len() as u64;
                let room = (MAX_RECORDED_BODY + 1).saturating_sub(k.bytes.len());
                let take = room.min(c.len());
                k.bytes.extend_from_slice(&c[..take]);
            }
            chunk
        });
        upstream = upstream.body(reqwest::Body::wrap_stream(stream));
    } else {
        let bytes = match axum::body::to_bytes(body, MAX_RELAYED).await {
            Ok(b) => b,
            Err(_) => {
                return error_response(StatusCode::PAYLOAD_TOO_LARGE, "the body is too large");
            }
        };
        let outgoing = if is_webhook_crud(&parts.method, &path) {
            rewrite_webhook_url(proxy, &bytes)
        } else {
            bytes.clone()
        };
        upstream = upstream.body(outgoing);
        if is_messaging(&path)
            && let Some(thread) = json_thread_id(&bytes)
        {
            proxy.messaging_thread(id, &thread);
        }
        request_bytes = Some(bytes);
    }

    let (status, headers, response_bytes) = match upstream.send().await {
        Ok(resp) => {
            let status = resp.status();
            let headers = resp.headers().clone();
            match resp.bytes().await {
                Ok(b) if b.len() <= MAX_RELAYED => (status, headers, b),
                Ok(_) => (
                    StatusCode::BAD_GATEWAY,
                    HeaderMap::new(),
                    error_body("the service's answer is too large to relay"),
                ),
                Err(e) => (
                    StatusCode::BAD_GATEWAY,
                    HeaderMap::new(),
                    error_body(&format!("the service's answer broke off: {}", failure(&e))),
                ),
            }
        }
        Err(e) => (
            StatusCode::BAD_GATEWAY,
            HeaderMap::new(),
            error_body(&format!("cannot reach the service: {}", failure(&e))),
        ),
    };

    // What the client gets: the proxy's endpoint instead of the service's, the receiver's
    // URL instead of the relay's.
    let client_bytes = match serde_json::from_slice::<Value>(&response_bytes) {
        Ok(mut json) => {
            if is_socket_info(&path) {
                proxy.relay_endpoint(id, &mut json);
            }
            proxy.unrelay(&mut json);
            serde_json::to_vec(&json)
                .map(Bytes::from)
                .unwrap_or(response_bytes)
        }
        Err(_) => response_bytes,
    };
    let mut response = (status, client_bytes.clone()).into_response();
    for (name, value) in &headers {
        if is_hop_by_hop(name) {
            continue;
        }
        let value = match (name == header::LOCATION, value.to_str()) {
            (true, Ok(v)) if v.starts_with(&proxy.upstream) => {
                let local = v.replacen(&proxy.upstream, &proxy.base_url, 1);
                HeaderValue::from_str(&local).unwrap_or_else(|_| value.clone())
            }
            _ => value.clone(),
        };
        response.headers_mut().append(name.clone(), value);
    }

    let recorded_request_body = match request_bytes {
        Some(bytes) => recorded_body(content_type.as_deref(), &bytes).await,
        None => {
            let k = std::mem::take(&mut *lock(&kept));
            if k.total > MAX_RECORDED_BODY as u64 {
                Some(Body::Omitted { bytes: k.total })
            } else {
                recorded_body(content_type.as_deref(), &Bytes::from(k.bytes)).await
            }
        }
    };
    let mut response_headers = record_headers(response.headers());
    response_headers.remove("date");
    proxy.writer.write(Entry::Http(HttpExchange {
        id,
        request: HttpRequest {
            method: parts.method.to_string(),
            path,
            query: query_map(query.as_deref()),
            headers: record_headers(&parts.headers),
            body: recorded_request_body,
        },
        response: HttpResponse {
            status: status.as_u16(),
            headers: response_headers,
            body: Body::from_bytes(&client_bytes),
        },
    }));
    response
}

/// The `threadId` of a JSON message body.
fn json_thread_id(bytes: &[u8]) -> Option<String> {
    serde_json::from_slice::<Value>(bytes)
        .ok()?
        .get("threadId")?
        .as_str()
        .map(str::to_string)
}

fn error_body(message: &str) -> Bytes {
    Bytes::from(serde_json::json!({ "status": "error", "message": message }).to_string())
}

/// A webhook creation or update with its `url` pointing at the relay.
fn rewrite_webhook_url(proxy: &Proxy, bytes: &Bytes) -> Bytes {
    let Ok(Value::Object(mut body)) = serde_json::from_slice::<Value>(bytes) else {
        return bytes.clone();
    };
    let Some(Value::String(url)) = body.get("url").cloned() else {
        return bytes.clone();
    };
    body.insert("url".into(), Value::String(proxy.relay_url(&url)));
    serde_json::to_vec(&body)
        .map(Bytes::from)
        .unwrap_or_else(|_| bytes.clone())
}

/// A call of the service to a relay URL: recorded and passed on to the receiver.
async fn relay(
    State(proxy): State<Arc<Proxy>>,
    Path(token): Path<String>,
    request: Request,
) -> Response {
    let Some(url) = lock(&proxy.relays).by_token.get(&token).cloned() else {
        return error_response(StatusCode::NOT_FOUND, "unknown webhook relay");
    };
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_RELAYED).await else {
        return error_response(StatusCode::PAYLOAD_TOO_LARGE, "the body is too large");
    };
    let (cause, during) = proxy.messaging_cause(&bytes);
    let mut call = proxy
        .client
        .request(parts.method.clone(), &url)
        .timeout(RELAY_TIMEOUT)
        .body(bytes.clone());
    for (name, value) in &parts.headers {
        if !is_hop_by_hop(name) && name != header::ACCEPT_ENCODING {
            call = call.header(name, value);
        }
    }
    let request = HttpRequest {
        method: parts.method.to_string(),
        path: String::new(),
        query: Map::new(),
        headers: record_headers(&parts.headers),
        body: Body::from_bytes(&bytes),
    };
    let answer = match call.send().await {
        Ok(resp) => {
            let status = resp.status();
            let headers = resp.headers().clone();
            resp.bytes().await.map(|b| (status, headers, b))
        }
        Err(e) => Err(e),
    };
    match answer {
        Ok((status, headers, body)) => {
            let mut recorded_headers = record_headers(&headers);
            recorded_headers.remove("date");
            proxy.writer.write(Entry::Webhook(WebhookCall {
                cause,
                during,
                url,
                request,
                response: Some(HttpResponse {
                    status: status.as_u16(),
                    headers: recorded_headers,
                    body: Body::from_bytes(&body),
                }),
                error: None,
            }));
            let mut response = (status, body).into_response();
            if let Some(ct) = headers.get(header::CONTENT_TYPE) {
                response
                    .headers_mut()
                    .insert(header::CONTENT_TYPE, ct.clone());
            }
            response
        }
        Err(e) => {
            let reason = failure(&e);
            proxy.writer.write(Entry::Webhook(WebhookCall {
                cause,
                during,
                url,
                request,
                response: None,
                error: Some(reason.to_string()),
            }));
            error_response(
                StatusCode::BAD_GATEWAY,
                &format!("the receiver could not be reached: {reason}"),
            )
        }
    }
}

type Upstream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Open the service's side of a websocket; a refusal comes back as the status to give the client.
async fn connect_upstream(url: &str) -> Result<Upstream, Response> {
    match tokio_tungstenite::connect_async(url).await {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            let status =
                StatusCode::from_u16(resp.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
            let body = resp.body().clone().unwrap_or_default();
            Err((status, body).into_response())
        }
        Err(_) => Err(error_response(
            StatusCode::BAD_GATEWAY,
            "cannot open the service's websocket",
        )),
    }
}

/// A client connecting to an endpoint handed out in a socket.info answer.
async fn flow_socket(
    State(proxy): State<Arc<Proxy>>,
    Path(token): Path<String>,
    ws: WebSocketUpgrade,
) -> Response {
    // Single-use, like the service's own endpoints.
    let Some(pending) = lock(&proxy.endpoints).remove(&token) else {
        return error_response(StatusCode::UNAUTHORIZED, "unknown endpoint");
    };
    let upstream = match connect_upstream(&pending.url).await {
        Ok(u) => u,
        Err(resp) => return resp,
    };
    let info = pending.info;
    ws.on_upgrade(move |socket| {
        let conn = proxy.next_conn.fetch_add(1, Ordering::Relaxed) + 1;
        proxy.writer.write(Entry::SocketOpen(SocketOpen {
            conn,
            info: Some(info),
            path: None,
        }));
        pipe(proxy, conn, socket, upstream)
    })
}

/// Any other websocket (AIDA's Phoenix endpoint): opened on the service at the same path.
async fn websocket_passthrough(proxy: Arc<Proxy>, request: Request) -> Response {
    let (mut parts, _) = request.into_parts();
    let ws = match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(ws) => ws,
        Err(rejection) => return rejection.into_response(),
    };
    let path = parts.uri.path().to_string();
    let mut url = format!("{}{path}", proxy.upstream.replacen("http", "ws", 1));
    if let Some(q) = parts.uri.query() {
        url.push('?');
        url.push_str(q);
    }
    let upstream = match connect_upstream(&url).await {
        Ok(u) => u,
        Err(resp) => return resp,
    };
    ws.on_upgrade(move |socket| {
        let conn = proxy.next_conn.fetch_add(1, Ordering::Relaxed) + 1;
        proxy.writer.write(Entry::SocketOpen(SocketOpen {
            conn,
            info: None,
            path: Some(path),
        }));
        pipe(proxy, conn, socket, upstream)
    })
}

fn frame_body(text: &str) -> Body {
    Body::from_bytes(text.as_bytes()).unwrap_or(Body::Text(String::new()))
}

/// Relay frames both ways until either side closes, recording each.
async fn pipe(proxy: Arc<Proxy>, conn: u64, client: WebSocket, upstream: Upstream) {
    let (mut client_tx, mut client_rx) = client.split();
    let (mut upstream_tx, mut upstream_rx) = upstream.split();
    let mut closing = proxy.closing.clone();
    let record = |from: Side, body: Body| {
        proxy.writer.write(Entry::Frame(Frame { conn, from, body }));
    };
    let closed = |by: Side, code: Option<u16>, reason: Option<String>| {
        proxy.writer.write(Entry::SocketClose(SocketClose {
            conn,
            by,
            code,
            reason,
        }));
    };
    loop {
        tokio::select! {
            // The recorder is shutting down (or gone): both sides get a close below, and
            // nothing more is recorded, so the file ends where its owner stopped recording.
            // (The `Ref` it gives is dropped at once: it must not be held across an await.)
            _ = async { closing.wait_for(|c| *c).await.map(drop) } => break,
            msg = client_rx.next() => match msg {
                Some(Ok(AxumMessage::Text(t))) => {
                    record(Side::Client, frame_body(t.as_str()));
                    if upstream_tx.send(TMessage::text(t.as_str())).await.is_err() {
                        closed(Side::Server, None, None);
                        break;
                    }
                }
                Some(Ok(AxumMessage::Binary(b))) => {
                    record(Side::Client, Body::from_bytes(&b).unwrap_or(Body::Text(String::new())));
                    if upstream_tx.send(TMessage::Binary(b)).await.is_err() {
                        closed(Side::Server, None, None);
                        break;
                    }
                }
                Some(Ok(AxumMessage::Close(frame))) => {
                    let (code, reason) = match &frame {
                        Some(f) => (Some(f.code), Some(f.reason.to_string())),
                        None => (None, None),
                    };
                    closed(Side::Client, code, reason);
                    let frame = frame.map(|f| TClose { code: f.code.into(), reason: f.reason.as_str().into() });
                    let _ = upstream_tx.send(TMessage::Close(frame)).await;
                    break;
                }
                // Control frames are answered by each side's websocket stack.
                Some(Ok(AxumMessage::Ping(_) | AxumMessage::Pong(_))) => {}
                None | Some(Err(_)) => {
                    closed(Side::Client, None, None);
                    break;
                }
            },
            msg = upstream_rx.next() => match msg {
                Some(Ok(TMessage::Text(t))) => {
                    record(Side::Server, frame_body(t.as_str()));
                    if client_tx.send(AxumMessage::text(t.as_str())).await.is_err() {
                        closed(Side::Client, None, None);
                        break;
                    }
                }
                Some(Ok(TMessage::Binary(b))) => {
                    record(Side::Server, Body::from_bytes(&b).unwrap_or(Body::Text(String::new())));
                    if client_tx.send(AxumMessage::Binary(b)).await.is_err() {
                        closed(Side::Client, None, None);
                        break;
                    }
                }
                Some(Ok(TMessage::Close(frame))) => {
                    let (code, reason) = match &frame {
                        Some(f) => (Some(u16::from(f.code)), Some(f.reason.to_string())),
                        None => (None, None),
                    };
                    closed(Side::Server, code, reason);
                    let frame = frame.map(|f| AxumClose { code: f.code.into(), reason: f.reason.as_str().into() });
                    let _ = client_tx.send(AxumMessage::Close(frame)).await;
                    break;
                }
                Some(Ok(_)) => {}
                None | Some(Err(_)) => {
                    closed(Side::Server, None, None);
                    break;
                }
            },
        }
    }
    // Flush the close handshake (or a queued close reply) to both sides.
    let _ = client_tx.close().await;
    let _ = upstream_tx.close().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_urls_are_checked() {
        assert_eq!(
            parse_upstream("http://127.0.0.1:9/").unwrap(),
            "http://127.0.0.1:9"
        );
        assert_eq!(
            parse_upstream("https://api.flow.ai/base/").unwrap(),
            "https://api.flow.ai/base"
        );
        for bad in ["ftp://x", "nope", "https://u:p@host", "http://h/?k=v"] {
            assert!(parse_upstream(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hop_by_hop_headers_are_not_recorded() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("x"));
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        h.append("x-a", HeaderValue::from_static("1"));
        h.append("x-a", HeaderValue::from_static("2"));
        let r = record_headers(&h);
        assert!(!r.contains_key("host"));
        assert_eq!(r["content-type"], "application/json");
        assert_eq!(r["x-a"], "1, 2");
    }
}
