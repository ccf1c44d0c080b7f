//! A Phoenix channels client (protocol 2.0.0), usable with any Phoenix server.
//!
//! One [`PhoenixSocket`] is one websocket driven by one task. It sends heartbeats,
//! reconnects with a configurable schedule (phoenix.js defaults), rejoins the channels
//! that were joined, and buffers pushes (bounded) while a channel is not joined.
//! [`Channel`]s are cheap handles: [`Channel::join`], [`Channel::push`] (matched to its
//! reply by ref, with a deadline), [`Channel::subscribe`] for the server's messages.
//!
//! The endpoint URL and its query parameters may carry credentials: they never appear
//! in Debug output, events or errors.

mod frame;
mod task;

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use crate::error::{Error, Result};
use crate::secret::Secret;

pub use frame::{
    EVENT_CLOSE, EVENT_ERROR, EVENT_HEARTBEAT, EVENT_JOIN, EVENT_LEAVE, EVENT_REPLY, Frame,
    PROTOCOL_VSN, Reply, TOPIC_PHOENIX,
};

/// phoenix.js's reconnect delays in milliseconds; the last one repeats.
pub const DEFAULT_RECONNECT_AFTER_MS: [u64; 10] =
    [10, 50, 100, 150, 200, 250, 500, 1000, 2000, 5000];

/// phoenix.js's rejoin delays in milliseconds; the last one repeats.
pub const DEFAULT_REJOIN_AFTER_MS: [u64; 4] = [1000, 2000, 5000, 10_000];

/// How many commands may wait for the socket task before callers wait themselves.
const COMMAND_QUEUE: usize = 256;

/// Timers and limits of a socket. `Default` gives phoenix.js's values.
#[derive(Debug, Clone, PartialEq)]
pub struct SocketSettings {
    /// Time between heartbeats.
    pub heartbeat_interval: Duration,
    /// A heartbeat unanswered for this long means the connection is dead.
    pub heartbeat_timeout: Duration,
    /// Default deadline of a push's (and a join's) reply.
    pub push_timeout: Duration,
    /// Deadline of one connection attempt (TCP, TLS and websocket handshake).
    pub connect_timeout: Duration,
    /// Delay before reconnect attempt n (0-based); the last entry repeats.
    pub reconnect_after: Vec<Duration>,
    /// Delay before rejoin attempt n of a channel whose rejoin failed; the last entry repeats.
    pub rejoin_after: Vec<Duration>,
    /// Largest incoming message accepted; a bigger one drops the connection.
    pub max_message_size: usize,
    /// Pushes per channel kept while it is not joined; more fail with `QueueFull`.
    pub max_buffered_pushes: usize,
}

impl Default for SocketSettings {
    fn default() -> Self {
        SocketSettings {
            heartbeat_interval: Duration::from_secs(30),
            heartbeat_timeout: Duration::from_secs(30),
            push_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(10),
            reconnect_after: DEFAULT_RECONNECT_AFTER_MS
                .iter()
                .map(|ms| Duration::from_millis(*ms))
                .collect(),
            rejoin_after: DEFAULT_REJOIN_AFTER_MS
                .iter()
                .map(|ms| Duration::from_millis(*ms))
                .collect(),
            max_message_size: 1024 * 1024,
            max_buffered_pushes: 1000,
        }
    }
}

impl SocketSettings {
    /// The reconnect delay of attempt `attempt` (0-based).
    pub fn reconnect_delay(&self, attempt: u32) -> Duration {
        schedule_delay(&self.reconnect_after, attempt)
    }

    /// The rejoin delay of attempt `attempt` (0-based).
    pub fn rejoin_delay(&self, attempt: u32) -> Duration {
        schedule_delay(&self.rejoin_after, attempt)
    }
}

/// Entry `attempt` of `schedule`, the last entry when past its end, 1 s when it is empty.
pub fn schedule_delay(schedule: &[Duration], attempt: u32) -> Duration {
    let index = usize::try_from(attempt).unwrap_or(usize::MAX);
    schedule
        .get(index)
        .or(schedule.last())
        .copied()
        .unwrap_or(Duration::from_secs(1))
}

/// Where and how to connect.
#[derive(Clone)]
pub struct PhoenixOptions {
    /// Server URL: `ws(s)://host/socket`, `.../socket/websocket`, or an `http(s)://host`
    /// base (mapped to `ws(s)://host/socket/websocket`).
    pub url: String,
    /// Extra query parameters of the connection (e.g. a token).
    pub params: Vec<(String, Secret)>,
    /// Timers and limits.
    pub settings: SocketSettings,
    /// An extra root certificate for `wss://`, besides the platform's roots.
    pub ca_cert: Option<crate::tls::CaCert>,
}

impl fmt::Debug for PhoenixOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PhoenixOptions")
            .field("url", &"[redacted]")
            .field("params", &self.params.len())
            .field("settings", &self.settings)
            .finish()
    }
}

impl PhoenixOptions {
    /// Options for `url` with default settings and no parameters.
    pub fn new(url: impl Into<String>) -> Self {
        PhoenixOptions {
            url: url.into(),
            params: Vec::new(),
            settings: SocketSettings::default(),
            ca_cert: None,
        }
    }

    /// The websocket URL: scheme mapped to ws(s), path ending in `/socket/websocket`,
    /// `vsn=2.0.0` and the parameters in the query.
    pub fn endpoint(&self) -> Result<url::Url> {
        let mut url = websocket_url(&self.url)?;
        {
            let kept: Vec<(String, String)> = url
                .query_pairs()
                .filter(|(k, _)| k != "vsn")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            let mut query = url.query_pairs_mut();
            query.clear();
            for (k, v) in &kept {
                query.append_pair(k, v);
            }
            for (k, v) in &self.params {
                query.append_pair(k, v.expose());
            }
            query.append_pair("vsn", PROTOCOL_VSN);
        }
        Ok(url)
    }
}

/// `url` as a ws(s) URL whose path ends in `/socket/websocket`; the query is kept.
pub fn websocket_url(url: &str) -> Result<url::Url> {
    let mut parsed = url::Url::parse(url.trim())
        .map_err(|_| Error::invalid("the Phoenix server URL is not a valid URL"))?;
    let scheme = match parsed.scheme() {
        "http" | "ws" => "ws",
        "https" | "wss" => "wss",
        _ => {
            return Err(Error::invalid(
                "the Phoenix server URL must be http, https, ws or wss",
            ));
        }
    };
    if parsed.set_scheme(scheme).is_err() || parsed.cannot_be_a_base() {
        return Err(Error::invalid("the Phoenix server URL cannot be used"));
    }
    let path = parsed.path().trim_end_matches('/').to_string();
    let path = if path.ends_with("/websocket") {
        path
    } else if path.ends_with("/socket") {
        format!("{path}/websocket")
    } else {
        format!("{path}/socket/websocket")
    };
    parsed.set_path(&path);
    Ok(parsed)
}

/// What happens to the connection of a socket.
#[derive(Debug, Clone, PartialEq)]
pub enum SocketEvent {
    /// The websocket is open (after a reconnect; the first connection is
    /// reported by [`PhoenixSocket::connect`] returning).
    Connected,
    /// The websocket closed or failed; a reconnect follows unless the socket is closing.
    Disconnected {
        /// Why, without the URL.
        reason: String,
    },
    /// A reconnect attempt is scheduled.
    Reconnecting {
        /// 1 for the first attempt after a disconnect.
        attempt: u32,
        /// Wait before the attempt.
        delay: Duration,
    },
    /// The server sent a frame that breaks the protocol; it was dropped.
    InvalidFrame {
        /// What was wrong.
        error: Error,
    },
    /// The socket is closed for good. Always the last event, exactly once.
    Closed,
}

/// What a channel subscriber receives.
#[derive(Debug, Clone, PartialEq)]
pub enum ChannelEvent {
    /// A message from the server (a broadcast or a push to this client).
    Message {
        /// Event name.
        event: String,
        /// Payload.
        payload: Value,
    },
    /// The channel was joined again after a reconnect or a channel error.
    Rejoined,
    /// The channel is not joined any more and will rejoin.
    Errored {
        /// Why, e.g. "connection lost" or "phx_error".
        reason: String,
    },
    /// The channel is closed for good (left, closed by the server, refused, or socket closed).
    /// The last event of the subscription.
    Closed {
        /// The error when the close was not asked for.
        error: Option<Error>,
    },
}

/// Which messages a subscription receives; lifecycle events always pass.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MessageFilter {
    /// Only this event.
    pub event: Option<String>,
    /// Only payloads whose top-level `field` equals the value.
    pub field: Option<(String, Value)>,
}

impl MessageFilter {
    /// Every message.
    pub fn all() -> Self {
        MessageFilter::default()
    }

    /// Messages of one event.
    pub fn event(event: impl Into<String>) -> Self {
        MessageFilter {
            event: Some(event.into()),
            field: None,
        }
    }

    /// Also require `payload[name] == value`.
    pub fn with_field(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.field = Some((name.into(), value.into()));
        self
    }

    /// Whether a message passes.
    pub fn matches(&self, event: &str, payload: &Value) -> bool {
        if let Some(want) = &self.event
            && want != event
        {
            return false;
        }
        if let Some((name, value)) = &self.field
            && payload.get(name) != Some(value)
        {
            return false;
        }
        true
    }
}

/// A stream of [`ChannelEvent`]s. It ends after `Closed`.
///
/// Delivery never blocks the socket (a slow reader would otherwise stall every channel
/// and could deadlock on its own pushes), so read it steadily.
pub type ChannelEvents = mpsc::UnboundedReceiver<ChannelEvent>;

/// A stream of [`SocketEvent`]s. It ends after `Closed`.
pub type SocketEvents = mpsc::UnboundedReceiver<SocketEvent>;

/// Builds a subscription filter from an ok reply, inside the socket task, so that no
/// message following the reply can be missed.
pub type ReplyFilter = Box<dyn FnOnce(&Value) -> Option<MessageFilter> + Send>;

pub(crate) struct Subscriber {
    filter: MessageFilter,
    tx: mpsc::UnboundedSender<ChannelEvent>,
}

#[derive(Default)]
pub(crate) struct Registry {
    closed: bool,
    socket: Vec<mpsc::UnboundedSender<SocketEvent>>,
    channels: HashMap<String, Vec<Subscriber>>,
}

pub(crate) struct Shared {
    registry: Mutex<Registry>,
    connected: AtomicBool,
}

impl Shared {
    fn registry(&self) -> MutexGuard<'_, Registry> {
        // The registry holds plain data that stays valid if a holder panicked.
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn emit(&self, event: SocketEvent) {
        let mut reg = self.registry();
        reg.socket.retain(|tx| tx.send(event.clone()).is_ok());
    }

    pub(crate) fn emit_channel(&self, topic: &str, event: &ChannelEvent) {
        let mut reg = self.registry();
        let Some(subs) = reg.channels.get_mut(topic) else {
            return;
        };
        subs.retain(|sub| {
            if let ChannelEvent::Message {
                event: name,
                payload,
            } = event
                && !sub.filter.matches(name, payload)
            {
                return !sub.tx.is_closed();
            }
            sub.tx.send(event.clone()).is_ok()
        });
        if matches!(event, ChannelEvent::Closed { .. }) {
            reg.channels.remove(topic);
        }
    }

    pub(crate) fn add_channel_subscriber(
        &self,
        topic: &str,
        filter: MessageFilter,
    ) -> ChannelEvents {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut reg = self.registry();
        if reg.closed {
            let _ = tx.send(ChannelEvent::Closed {
                error: Some(Error::closed("the socket is closed")),
            });
        } else {
            reg.channels
                .entry(topic.to_string())
                .or_default()
                .push(Subscriber { filter, tx });
        }
        rx
    }

    /// Close every subscription: channels first, then the socket's `Closed`.
    pub(crate) fn finish(&self) {
        let mut reg = self.registry();
        reg.closed = true;
        for (_, subs) in reg.channels.drain() {
            for sub in subs {
                let _ = sub.tx.send(ChannelEvent::Closed {
                    error: Some(Error::closed("the socket is closed")),
                });
            }
        }
        for tx in reg.socket.drain(..) {
            let _ = tx.send(SocketEvent::Closed);
        }
    }
}

pub(crate) enum Command {
    Join {
        topic: String,
        params: Value,
        reply: oneshot::Sender<Result<Value>>,
    },
    Push {
        topic: String,
        event: String,
        payload: Value,
        timeout: Duration,
        on_ok: Option<(ReplyFilter, oneshot::Sender<ChannelEvents>)>,
        reply: oneshot::Sender<Result<Value>>,
    },
    Leave {
        topic: String,
        reply: oneshot::Sender<Result<()>>,
    },
    Close {
        reply: oneshot::Sender<()>,
    },
}

/// A Phoenix websocket connection with its channels. Cloning gives another handle to
/// the same connection; when every handle (sockets and channels) is dropped, it closes.
#[derive(Clone)]
pub struct PhoenixSocket {
    shared: Arc<Shared>,
    commands: mpsc::Sender<Command>,
    settings: Arc<SocketSettings>,
}

impl fmt::Debug for PhoenixSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PhoenixSocket")
            .field("connected", &self.is_connected())
            .finish_non_exhaustive()
    }
}

impl PhoenixSocket {
    /// Open the websocket and start its task on the current tokio runtime.
    ///
    /// Fails when the first connection cannot be made (bad URL, refused, handshake
    /// error); later drops are reconnected.
    pub async fn connect(options: PhoenixOptions) -> Result<PhoenixSocket> {
        let endpoint = options.endpoint()?;
        let settings = Arc::new(options.settings);
        let tls = crate::tls::websocket_config(options.ca_cert.as_ref())?;
        let ws = task::open(&endpoint, &settings, &tls).await?;
        let shared = Arc::new(Shared {
            registry: Mutex::new(Registry::default()),
            connected: AtomicBool::new(true),
        });
        let (tx, rx) = mpsc::channel(COMMAND_QUEUE);
        task::spawn(endpoint, settings.clone(), shared.clone(), rx, ws, tls);
        Ok(PhoenixSocket {
            shared,
            commands: tx,
            settings,
        })
    }

    /// A handle to the channel of `topic`, joined with `params` by [`Channel::join`].
    /// Handles to the same topic share one channel.
    pub fn channel(&self, topic: impl Into<String>, params: Value) -> Channel {
        Channel {
            topic: topic.into(),
            params,
            socket: self.clone(),
        }
    }

    /// A new stream of this socket's events. Subscribing after the close yields `Closed` only.
    pub fn events(&self) -> SocketEvents {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut reg = self.shared.registry();
        if reg.closed {
            let _ = tx.send(SocketEvent::Closed);
        } else {
            reg.socket.push(tx);
        }
        rx
    }

    /// Whether the websocket is open right now.
    pub fn is_connected(&self) -> bool {
        self.shared.connected.load(Ordering::Relaxed)
    }

    /// The settings the socket runs with.
    pub fn settings(&self) -> &SocketSettings {
        &self.settings
    }

    /// Close the websocket for good; pending pushes fail with `Closed`. Idempotent.
    pub async fn close(&self) {
        let (reply, done) = oneshot::channel();
        if self.commands.send(Command::Close { reply }).await.is_ok() {
            let _ = done.await;
        }
    }

    async fn request<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T>>) -> Command,
    ) -> Result<T> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(make(reply))
            .await
            .map_err(|_| Error::closed("the socket is closed"))?;
        answer
            .await
            .unwrap_or_else(|_| Err(Error::closed("the socket is closed")))
    }
}

/// A channel (topic) on a [`PhoenixSocket`].
#[derive(Clone)]
pub struct Channel {
    topic: String,
    params: Value,
    socket: PhoenixSocket,
}

impl fmt::Debug for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Join parameters often hold tokens: leave them out.
        f.debug_struct("Channel")
            .field("topic", &self.topic)
            .finish_non_exhaustive()
    }
}

impl Channel {
    /// The topic.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The socket the channel lives on.
    pub fn socket(&self) -> &PhoenixSocket {
        &self.socket
    }

    /// Join and return the server's response. An error reply is an `Err` holding the
    /// response; `unauthorized` is [`crate::ErrorKind::Auth`]. A failed first join
    /// leaves the channel closed; once joined, the channel rejoins by itself after
    /// reconnects and channel errors until it is left or refused.
    pub async fn join(&self) -> Result<Value> {
        let topic = self.topic.clone();
        let params = self.params.clone();
        self.socket
            .request(|reply| Command::Join {
                topic,
                params,
                reply,
            })
            .await
    }

    /// Push `event` and wait for its reply, with the socket's default deadline.
    pub async fn push(&self, event: impl Into<String>, payload: Value) -> Result<Value> {
        let timeout = self.socket.settings.push_timeout;
        self.push_with_timeout(event, payload, timeout).await
    }

    /// Push `event` and wait at most `timeout` for its reply. `ok` gives the response;
    /// `error` is a [`crate::ErrorKind::Protocol`] error quoting the response; no reply in
    /// time is [`crate::ErrorKind::Timeout`]. While the channel is not joined, the push
    /// waits in a bounded buffer (overflow: [`crate::ErrorKind::QueueFull`]).
    pub async fn push_with_timeout(
        &self,
        event: impl Into<String>,
        payload: Value,
        timeout: Duration,
    ) -> Result<Value> {
        let topic = self.topic.clone();
        let event = event.into();
        self.socket
            .request(|reply| Command::Push {
                topic,
                event,
                payload,
                timeout,
                on_ok: None,
                reply,
            })
            .await
    }

    /// Push, and on an ok reply subscribe with the filter `make_filter` derives from the
    /// response, before any later message is dispatched (so none is missed).
    pub async fn push_and_subscribe(
        &self,
        event: impl Into<String>,
        payload: Value,
        make_filter: ReplyFilter,
    ) -> Result<(Value, Option<ChannelEvents>)> {
        let topic = self.topic.clone();
        let event = event.into();
        let timeout = self.socket.settings.push_timeout;
        let (sub_tx, mut sub_rx) = oneshot::channel();
        let response = self
            .socket
            .request(|reply| Command::Push {
                topic,
                event,
                payload,
                timeout,
                on_ok: Some((make_filter, sub_tx)),
                reply,
            })
            .await?;
        Ok((response, sub_rx.try_recv().ok()))
    }

    /// A stream of this channel's messages that pass `filter`, plus its lifecycle events.
    pub fn subscribe(&self, filter: MessageFilter) -> ChannelEvents {
        self.socket
            .shared
            .add_channel_subscriber(&self.topic, filter)
    }

    /// A stream of the messages of one event (plus lifecycle events).
    pub fn on(&self, event: &str) -> ChannelEvents {
        self.subscribe(MessageFilter::event(event))
    }

    /// Leave the channel: buffered pushes fail with `Closed`, subscribers get `Closed`.
    pub async fn leave(&self) -> Result<()> {
        let topic = self.topic.clone();
        self.socket
            .request(|reply| Command::Leave { topic, reply })
            .await
    }
}
