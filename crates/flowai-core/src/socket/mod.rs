//! The real-time Flow Socket session: socket.info, one websocket kept alive and reconnected, sends with delivery tracking, events in order.
//!
//! ```no_run
//! # async fn demo() -> flowai_core::Result<()> {
//! use flowai_core::socket::{Session, SessionEvent, SessionOptions};
//! let options = SessionOptions::from_config(&flowai_core::Config::from_env())?;
//! let (session, mut events) = Session::connect(options).await?;
//! session.send_event("INTRO").await?;
//! while let Some(event) = events.next().await {
//!     if let SessionEvent::Reply(reply) = &event {
//!         println!("{:?}", reply.messages.first().map(|m| m.texts()));
//!         session.close().await?;
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! One task per session drives the socket, the timers and the commands, so a session costs
//! a few KiB while idle. Events come out of [`SessionEvents`] in order, one at a time, and
//! [`SessionEvent::Closed`] is always the last one. The session applies backpressure: when
//! `event_capacity` events wait unread, it stops reading the socket until the app catches up.

#[doc(hidden)]
pub mod bench;
mod endpoint;
pub mod frames;
mod session;

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use crate::backoff::Backoff;
use crate::config::Config;
use crate::error::{Error, ErrorKind, Result};
use crate::models::{Delivered, Originator, Received};
use crate::secret::Secret;

pub use frames::{Attachment, MessageMetadata, OutgoingMessage};

use endpoint::Identity;
use session::{Command, Task};

/// Most bytes [`Session::upload`] sends (the service's media limit).
pub const MAX_UPLOAD_BYTES: u64 = 250 * 1024 * 1024;

/// How a session connects and behaves. Debug output never shows the client id.
#[derive(Clone)]
pub struct SessionOptions {
    /// Base URL of socket.info and the thread calls, e.g. `https://api.flow.ai`.
    pub api_url: String,
    /// The channel's client id: base64 of `<organisation>|<channelId>`.
    pub client_id: Secret,
    /// The thread (end user) to talk as; generated as `<32 hex>|<channelId>` when absent.
    pub thread_id: Option<String>,
    /// The session id sent to socket.info; generated when absent.
    pub session_id: Option<String>,
    /// Originator used for sends that carry none.
    pub originator: Option<Originator>,
    /// How often to ping (the service drops a connection after 50 s without inbound frames).
    pub ping_interval: Duration,
    /// A ping left unanswered this long marks the connection dead.
    pub pong_timeout: Duration,
    /// Deadline of one send, from the call to its `message.delivered`.
    pub send_timeout: Duration,
    /// Deadline of socket.info plus the websocket handshake, and of the thread REST calls.
    pub connect_timeout: Duration,
    /// Most sends awaiting delivery at once (queued while offline or in flight).
    pub queue_capacity: usize,
    /// Reconnect delays.
    pub backoff: Backoff,
    /// Most events waiting unread before the session stops reading the socket.
    pub event_capacity: usize,
    /// The HTTP client for socket.info and the thread calls; when absent, a process-wide
    /// client without connection pooling is shared by every session. An app opening many
    /// sessions on one runtime should pass one pooled client (a clone per session): every
    /// socket.info then reuses a few kept-alive connections instead of opening one each.
    pub http_client: Option<reqwest::Client>,
    /// An extra root certificate for socket.info, the thread calls (when `http_client` is
    /// absent) and the websocket, besides the platform's roots.
    pub ca_cert: Option<crate::tls::CaCert>,
}

impl std::fmt::Debug for SessionOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionOptions")
            .field("api_url", &self.api_url)
            .field("thread_id", &self.thread_id)
            .field("ping_interval", &self.ping_interval)
            .field("pong_timeout", &self.pong_timeout)
            .field("send_timeout", &self.send_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("queue_capacity", &self.queue_capacity)
            .field("backoff", &self.backoff)
            .field("event_capacity", &self.event_capacity)
            .finish_non_exhaustive()
    }
}

impl SessionOptions {
    /// Options with default timings for `api_url` and `client_id`.
    pub fn new(api_url: impl AsRef<str>, client_id: impl Into<String>) -> Self {
        SessionOptions {
            api_url: api_url.as_ref().trim().trim_end_matches('/').to_string(),
            client_id: Secret::new(client_id),
            thread_id: None,
            session_id: None,
            originator: None,
            ping_interval: Duration::from_secs(30),
            pong_timeout: Duration::from_secs(10),
            send_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(15),
            queue_capacity: 1000,
            backoff: Backoff::default(),
            event_capacity: 1024,
            http_client: None,
            ca_cert: None,
        }
    }

    /// Options from a [`Config`]: its base URL and client id (required).
    pub fn from_config(config: &Config) -> Result<Self> {
        let client_id = config.require_client_id()?;
        let mut options = SessionOptions::new(&config.api_url, client_id.expose());
        options.connect_timeout = config.request_timeout;
        options.ca_cert = config.ca_cert.clone();
        Ok(options)
    }

    /// Set the thread id.
    pub fn with_thread_id(mut self, thread_id: impl Into<String>) -> Self {
        self.thread_id = Some(thread_id.into());
        self
    }

    fn validate(&self) -> Result<()> {
        if self.client_id.is_empty() {
            return Err(Error::invalid("client id is empty"));
        }
        crate::config::parse_http_url(&self.api_url, crate::config::env::API_URL)?;
        if matches!(&self.thread_id, Some(t) if t.trim().is_empty()) {
            return Err(Error::invalid("thread id is empty"));
        }
        if self.queue_capacity == 0 || self.event_capacity == 0 {
            return Err(Error::invalid(
                "queue_capacity and event_capacity must be at least 1",
            ));
        }
        if self.ping_interval.is_zero() || self.pong_timeout.is_zero() {
            return Err(Error::invalid(
                "ping_interval and pong_timeout must not be zero",
            ));
        }
        Ok(())
    }
}

/// What a session reports, in order.
///
/// Payloads larger than a pointer are boxed so the event stays small (40 bytes): the
/// session's event queue reserves its first slots up front, and with thousands of idle
/// sessions that reservation is a large share of each one's memory.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum SessionEvent {
    /// A websocket is open (after the first connect and after every reconnect).
    Connected,
    /// The service accepted a message (each traceId reported once).
    Delivered(Box<Delivered>),
    /// A reply from the bot or an agent.
    Reply(Box<Received>),
    /// An agent is typing (`agent.typing`).
    AgentTyping(Box<Value>),
    /// A human took over or the conversation was interrupted (`interruption.occurred`).
    Interruption(Box<Value>),
    /// The server sent an `error` frame, or a frame that could not be read; the session goes on.
    Error {
        /// What went wrong.
        message: String,
    },
    /// The next connect attempt starts after `delay`.
    Reconnecting {
        /// 1 for the first retry after a loss.
        attempt: u32,
        /// The jittered wait before it.
        delay: Duration,
    },
    /// The websocket was lost, or a connect attempt failed; the session reconnects.
    Disconnected {
        /// Why, without any URL.
        reason: String,
    },
    /// The session ended: `error` is None after [`Session::close`], else the final error. Always last, exactly once.
    Closed {
        /// The final error, when one ended the session.
        error: Option<Error>,
    },
    /// A frame of a type this version does not know.
    Unknown {
        /// Its `type`.
        kind: String,
        /// The whole frame.
        raw: Box<Value>,
    },
}

impl SessionEvent {
    /// A stable lowercase name of the event (`connected`, `delivered`, `reply`, `agent_typing`,
    /// `interruption`, `error`, `reconnecting`, `disconnected`, `closed`, `unknown`).
    pub fn name(&self) -> &'static str {
        match self {
            SessionEvent::Connected => "connected",
            SessionEvent::Delivered(_) => "delivered",
            SessionEvent::Reply(_) => "reply",
            SessionEvent::AgentTyping(_) => "agent_typing",
            SessionEvent::Interruption(_) => "interruption",
            SessionEvent::Error { .. } => "error",
            SessionEvent::Reconnecting { .. } => "reconnecting",
            SessionEvent::Disconnected { .. } => "disconnected",
            SessionEvent::Closed { .. } => "closed",
            SessionEvent::Unknown { .. } => "unknown",
        }
    }
}

/// The events of one session, in order; `next` returns None after [`SessionEvent::Closed`].
#[derive(Debug)]
pub struct SessionEvents {
    rx: flume::Receiver<SessionEvent>,
}

impl SessionEvents {
    /// The next event, or None once the session has ended and every event was read.
    pub async fn next(&mut self) -> Option<SessionEvent> {
        self.rx.recv_async().await.ok()
    }

    /// Like [`SessionEvents::next`], blocking the thread; for threads outside the runtime
    /// (inside one it would stall a worker).
    pub fn blocking_next(&mut self) -> Option<SessionEvent> {
        self.rx.recv().ok()
    }

    /// An event when one is ready now.
    pub fn try_next(&mut self) -> Option<SessionEvent> {
        self.rx.try_recv().ok()
    }
}

/// Progress of an upload: `(bytes sent, total bytes)`.
pub type Progress = Arc<dyn Fn(u64, u64) + Send + Sync>;

struct Inner {
    commands: mpsc::Sender<Command>,
    identity: Identity,
    http: reqwest::Client,
    next_trace: AtomicU64,
    send_timeout: Duration,
    request_timeout: Duration,
    nonce: Arc<Mutex<Option<Secret>>>,
}

/// A running session; a cheap handle to clone and share. The session ends on
/// [`Session::close`], on a final error, or when every handle is dropped.
#[derive(Clone)]
pub struct Session {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("thread_id", &self.inner.identity.thread_id)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Start a session. Waits for the first connect attempt: a final refusal of socket.info
    /// (400, 401, 403) is returned as the error; anything else returns the running session,
    /// which keeps reconnecting on its own.
    pub async fn connect(options: SessionOptions) -> Result<(Session, SessionEvents)> {
        options.validate()?;
        let http = match (&options.http_client, &options.ca_cert) {
            (Some(c), _) => c.clone(),
            (None, None) => default_http_client()?,
            (None, Some(ca)) => crate::tls::add_roots(
                reqwest::Client::builder().pool_max_idle_per_host(0),
                Some(ca),
            )?
            .build()
            .map_err(|e| Error::internal(format!("cannot build the HTTP client: {e}")))?,
        };
        let tls = crate::tls::websocket_config(options.ca_cert.as_ref())?;
        let session_id = options
            .session_id
            .clone()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
        let thread_id = options
            .thread_id
            .clone()
            .unwrap_or_else(|| generate_thread_id(options.client_id.expose()));
        let identity = Identity {
            api_url: options.api_url.clone(),
            client_id: options.client_id.clone(),
            session_id,
            thread_id,
        };
        let (cmd_tx, cmd_rx) = mpsc::channel(options.queue_capacity.min(4096));
        // flume for events: its queue grows with use, where tokio's mpsc allocates room for
        // 32 events up front, nearly 2 KiB for every idle session.
        let (event_tx, event_rx) = flume::bounded(options.event_capacity);
        let nonce = Arc::new(Mutex::new(None));
        let (ready_tx, ready_rx) = oneshot::channel();
        let task = Task::new(
            &options,
            identity.clone(),
            http.clone(),
            cmd_rx,
            event_tx,
            nonce.clone(),
            tls,
        );
        tokio::spawn(task.run(ready_tx));
        match ready_rx.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(Error::internal("the session task ended while connecting")),
        }
        let inner = Inner {
            commands: cmd_tx,
            identity,
            http,
            next_trace: AtomicU64::new(initial_trace_id()),
            send_timeout: options.send_timeout,
            request_timeout: options.connect_timeout,
            nonce,
        };
        Ok((
            Session {
                inner: Arc::new(inner),
            },
            SessionEvents { rx: event_rx },
        ))
    }

    /// The thread this session talks as.
    pub fn thread_id(&self) -> &str {
        &self.inner.identity.thread_id
    }

    /// The session id sent to socket.info.
    pub fn session_id(&self) -> &str {
        &self.inner.identity.session_id
    }

    /// Whether the session has ended.
    pub fn is_closed(&self) -> bool {
        self.inner.commands.is_closed()
    }

    /// Send a message; resolves with its `message.delivered`, or fails with
    /// `FLOWAI_TIMEOUT` after `send_timeout`, `FLOWAI_QUEUE_FULL` when `queue_capacity`
    /// sends already wait, `FLOWAI_CLOSED` once the session ended. While offline the
    /// message waits and goes out after reconnect with the same traceId.
    pub async fn send(&self, mut message: OutgoingMessage) -> Result<Delivered> {
        message.validate()?;
        let trace_id = match message.trace_id {
            Some(t) => t,
            None => self.inner.next_trace.fetch_add(1, Ordering::Relaxed),
        };
        message.trace_id = Some(trace_id);
        let (tx, rx) = oneshot::channel();
        let command = Command::Send {
            message: Box::new(message),
            reply: tx,
        };
        let deadline = tokio::time::Instant::now() + self.inner.send_timeout;
        match tokio::time::timeout_at(deadline, self.inner.commands.send(command)).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return Err(closed()),
            Err(_) => return Err(send_timed_out()),
        }
        match tokio::time::timeout_at(deadline, rx).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(closed()),
            Err(_) => Err(send_timed_out()),
        }
    }

    /// Send a text message.
    pub async fn send_text(&self, speech: impl Into<String>) -> Result<Delivered> {
        self.send(OutgoingMessage::text(speech)).await
    }

    /// Trigger the event `name`.
    pub async fn send_event(&self, name: impl Into<String>) -> Result<Delivered> {
        self.send(OutgoingMessage::event(name)).await
    }

    /// Tell the service the user is typing (`activity.user.typing`); fails with `FLOWAI_CONNECTION` while offline.
    pub async fn typing(&self) -> Result<()> {
        self.frame("activity.user.typing").await
    }

    /// Tell the service the user saw the messages (`thread.noticed`); fails with `FLOWAI_CONNECTION` while offline.
    pub async fn noticed(&self) -> Result<()> {
        self.frame("thread.noticed").await
    }

    async fn frame(&self, kind: &str) -> Result<()> {
        let text = frames::thread_frame(kind, &self.inner.identity.thread_id)?;
        let (tx, rx) = oneshot::channel();
        self.inner
            .commands
            .send(Command::Frame(Box::new((text, tx))))
            .await
            .map_err(|_| closed())?;
        match tokio::time::timeout(self.inner.send_timeout, rx).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(closed()),
            Err(_) => Err(send_timed_out()),
        }
    }

    /// The messages of the thread (`GET /thread.history`), as the service returns them.
    pub async fn history(&self) -> Result<Value> {
        self.get("thread.history").await
    }

    /// The messages the user has not noticed yet (`GET /thread.unnoticed`).
    pub async fn unnoticed(&self) -> Result<Value> {
        self.get("thread.unnoticed").await
    }

    /// `FLOWAI_CLOSED` once the session ended: its REST calls end with it.
    fn ensure_open(&self) -> Result<()> {
        if self.is_closed() {
            Err(Error::closed("the session is closed"))
        } else {
            Ok(())
        }
    }

    async fn get(&self, path: &str) -> Result<Value> {
        self.ensure_open()?;
        let nonce = self.current_nonce();
        self.inner
            .identity
            .get_json(
                &self.inner.http,
                path,
                nonce.as_ref(),
                self.inner.request_timeout,
            )
            .await
    }

    fn current_nonce(&self) -> Option<Secret> {
        self.inner
            .nonce
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Upload a file to the thread (`POST /thread.upload`, multipart `file` + `payload`),
    /// streamed from disk; `progress` is called with `(sent, total)` bytes as it goes.
    pub async fn upload(
        &self,
        path: impl AsRef<Path>,
        progress: Option<Progress>,
    ) -> Result<Value> {
        use futures_util::StreamExt;

        self.ensure_open()?;
        let path = path.as_ref();
        let file = tokio::fs::File::open(path).await?;
        let total = file.metadata().await?.len();
        if total > MAX_UPLOAD_BYTES {
            return Err(Error::invalid("file is larger than 250 MB"));
        }
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("upload")
            .to_string();
        let mut sent = 0u64;
        let stream =
            tokio_util::io::ReaderStream::with_capacity(file, 64 * 1024).map(move |chunk| {
                if let (Ok(bytes), Some(p)) = (&chunk, &progress) {
                    sent += bytes.len() as u64;
                    p(sent, total);
                }
                chunk
            });
        let part =
            reqwest::multipart::Part::stream_with_length(reqwest::Body::wrap_stream(stream), total)
                .file_name(name.clone());
        let payload = serde_json::json!({
            "threadId": self.inner.identity.thread_id,
            "speech": name,
        });
        let form = reqwest::multipart::Form::new()
            .part("file", part)
            .text("payload", payload.to_string());
        let nonce = self.current_nonce();
        self.inner
            .identity
            .post_multipart(&self.inner.http, "thread.upload", form, nonce.as_ref())
            .await
    }

    /// Close the session gracefully: pending sends fail with `FLOWAI_CLOSED`, the last event
    /// is `Closed { error: None }`. Returns once the session has ended; closing twice is fine.
    pub async fn close(&self) -> Result<()> {
        let (tx, rx) = oneshot::channel();
        if self
            .inner
            .commands
            .send(Command::Close { done: tx })
            .await
            .is_err()
        {
            return Ok(());
        }
        let _ = rx.await;
        Ok(())
    }
}

/// The HTTP client sessions share when none is given, so that thousands of sessions do
/// not each load TLS roots. It keeps no idle connections: a pooled connection belongs to
/// the runtime that opened it, and sessions may run on different runtimes.
fn default_http_client() -> Result<reqwest::Client> {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    if let Some(c) = CLIENT.get() {
        return Ok(c.clone());
    }
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .map_err(|e| Error::internal(format!("cannot build the HTTP client: {e}")))?;
    Ok(CLIENT.get_or_init(|| client).clone())
}

fn closed() -> Error {
    Error::closed("the session is closed")
}

fn send_timed_out() -> Error {
    Error::new(
        ErrorKind::Timeout,
        "no message.delivered before the send deadline",
    )
}

/// A trace id base that differs between sessions and processes; ids stay below 2^53 so
/// JavaScript peers read them exactly.
fn initial_trace_id() -> u64 {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let jitter: u64 = rand::random::<u64>() % 1_000_000;
    (millis % (1 << 42)) * 1000 + jitter
}

/// `<32 hex>|<channelId>` as the official SDK builds it, or 32 hex when the client id is not base64 of `<org>|<channel>`.
pub fn generate_thread_id(client_id: &str) -> String {
    use base64::Engine as _;
    let hex = uuid::Uuid::new_v4().simple().to_string();
    let channel = base64::engine::general_purpose::STANDARD
        .decode(client_id.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| {
            text.split_once('|')
                .map(|(_, channel)| channel.trim().to_string())
        })
        .filter(|c| !c.is_empty());
    match channel {
        Some(channel) => format!("{hex}|{channel}"),
        None => hex,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_id_uses_channel() {
        use base64::Engine as _;
        let cid = base64::engine::general_purpose::STANDARD.encode("org|chan42");
        let t = generate_thread_id(&cid);
        assert!(t.ends_with("|chan42"), "{t}");
        assert_eq!(t.len(), 32 + 1 + 6);
        assert_eq!(generate_thread_id("not base64!").len(), 32);
    }

    #[test]
    fn debug_hides_client_id() {
        let o = SessionOptions::new("http://127.0.0.1:1", "very-secret-client");
        assert!(!format!("{o:?}").contains("very-secret-client"));
    }

    #[test]
    fn events_stay_small() {
        assert!(std::mem::size_of::<SessionEvent>() <= 40);
    }

    #[test]
    fn trace_ids_fit_javascript_numbers() {
        assert!(initial_trace_id() < (1u64 << 53));
    }
}
