//! The session task: one loop per session over commands, the websocket and the timers; connects, reconnects and tracks deliveries.

use std::collections::HashMap;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use super::endpoint::{Identity, is_final};
use super::frames::{self, Inbound, OutgoingMessage};
use super::{SessionEvent, SessionOptions};
use crate::backoff::{Backoff, ReconnectPacer};
use crate::error::{Error, ErrorKind, Result};
use crate::models::{Delivered, Originator, Received};
use crate::recent::RecentKeys;
use crate::secret::Secret;
use crate::websocket::{self, Ws};

/// How many delivered traceIds and reply keys are at least remembered to drop duplicates.
const RECENT: usize = 2048;
/// Largest inbound message; replies are small, this bounds what a peer can make us buffer.
const MAX_MESSAGE: usize = 1 << 20;
/// Initial read buffer of a connection, bytes.
const READ_BUFFER: usize = 1024;
/// Most queued sends written before one flush.
const BATCH: usize = 64;

/// What a [`super::Session`] handle asks of the task.
pub(crate) enum Command {
    /// The message's traceId is always set ([`super::Session::send`] assigns one).
    Send {
        // Boxed: an OutgoingMessage is ~700 bytes and a tokio channel allocates 32 slots
        // up front, so an unboxed Send cost every idle session ~23 KiB of queue; one small
        // allocation per send is cheap next to encoding the frame. Without a traceId
        // field beside it (the message carries it), a command is 24 bytes.
        message: Box<OutgoingMessage>,
        reply: oneshot::Sender<Result<Delivered>>,
    },
    /// Boxed, as is rare: the command queue allocates room for 32 commands up front.
    Frame(Box<(String, oneshot::Sender<Result<()>>)>),
    Close {
        done: oneshot::Sender<()>,
    },
}

struct Pending {
    seq: u64,
    message: Box<OutgoingMessage>,
    reply: oneshot::Sender<Result<Delivered>>,
}

/// Everything needed to open a connection, shared with the connect future.
struct Connector {
    identity: Identity,
    http: reqwest::Client,
    connect_timeout: Duration,
    nonce: Arc<Mutex<Option<Secret>>>,
    /// TLS for `wss://` endpoints: the SDK's provider and roots.
    tls: Arc<rustls::ClientConfig>,
}

impl Connector {
    /// The websocket is boxed: it would otherwise sit in the task's state twice.
    async fn open(&self) -> Result<Box<Ws>> {
        let nonce = self.nonce.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let deadline = Instant::now() + self.connect_timeout;
        let endpoint = self
            .identity
            .socket_info(&self.http, nonce.as_ref(), self.connect_timeout)
            .await?;
        if let Some(secret) = endpoint.secret {
            *self.nonce.lock().unwrap_or_else(|e| e.into_inner()) = Some(secret);
        }
        // The read buffer is allocated up front and kept for the connection's life; 1 KiB
        // holds a delivery and a typical reply, and grows for a frame that needs more.
        let config = WebSocketConfig::default()
            .read_buffer_size(READ_BUFFER)
            .write_buffer_size(4096)
            .max_write_buffer_size(4 * MAX_MESSAGE)
            .max_message_size(Some(MAX_MESSAGE))
            .max_frame_size(Some(MAX_MESSAGE));
        let connect = websocket::connect(endpoint.url.expose(), config, &self.tls);
        match tokio::time::timeout_at(deadline, connect).await {
            Ok(Ok(ws)) => Ok(Box::new(ws)),
            Ok(Err(e)) => Err(ws_error(e)),
            Err(_) => Err(Error::timeout("websocket handshake timed out")),
        }
    }
}

/// The outcome of a write under a deadline, as the reason the connection is lost.
fn written(
    result: std::result::Result<
        std::result::Result<(), tokio_tungstenite::tungstenite::Error>,
        tokio::time::error::Elapsed,
    >,
) -> std::result::Result<(), String> {
    match result {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(ws_error(e).message().to_string()),
        Err(_) => Err("writing to the websocket timed out".into()),
    }
}

/// A tungstenite error as an SDK error, without the endpoint URL.
fn ws_error(err: tokio_tungstenite::tungstenite::Error) -> Error {
    use tokio_tungstenite::tungstenite::Error as E;
    match err {
        E::Http(resp) => Error::connection(format!(
            "websocket handshake refused: HTTP {}",
            resp.status().as_u16()
        )),
        E::Io(e) => Error::connection(format!("websocket: {e}")),
        E::Url(_) => Error::protocol("socket.info gave an unusable websocket URL"),
        other => Error::connection(format!("websocket: {other}")),
    }
}

/// Why a connection ended.
enum Ended {
    /// Close was asked for (or every handle dropped).
    Closing,
    /// The connection was lost; reconnect.
    Lost(String),
}

pub(crate) struct Task {
    connector: Arc<Connector>,
    thread_id: String,
    // Boxed: half a KiB that every idle session would otherwise carry in its task.
    originator: Option<Box<Originator>>,
    ping_interval: Duration,
    pong_timeout: Duration,
    write_timeout: Duration,
    queue_capacity: usize,
    backoff: Backoff,
    commands: mpsc::Receiver<Command>,
    events: flume::Sender<SessionEvent>,
    pending: HashMap<u64, Pending>,
    seq: u64,
    delivered: RecentKeys<u64>,
    replies: RecentKeys<u64>,
    close_waiters: Vec<oneshot::Sender<()>>,
    /// A delivery just resolved the last send awaiting one: its sender is likely about to
    /// send again, so the loop lets it run and takes its command before reading on.
    idle_again: bool,
}

impl Task {
    pub(crate) fn new(
        options: &SessionOptions,
        identity: Identity,
        http: reqwest::Client,
        commands: mpsc::Receiver<Command>,
        events: flume::Sender<SessionEvent>,
        nonce: Arc<Mutex<Option<Secret>>>,
        tls: Arc<rustls::ClientConfig>,
    ) -> Self {
        Task {
            thread_id: identity.thread_id.clone(),
            connector: Arc::new(Connector {
                identity,
                http,
                connect_timeout: options.connect_timeout,
                nonce,
                tls,
            }),
            originator: options.originator.clone().map(Box::new),
            ping_interval: options.ping_interval,
            pong_timeout: options.pong_timeout,
            write_timeout: options.send_timeout,
            queue_capacity: options.queue_capacity,
            backoff: options.backoff,
            commands,
            events,
            pending: HashMap::new(),
            seq: 0,
            delivered: RecentKeys::new(RECENT),
            replies: RecentKeys::new(RECENT),
            close_waiters: Vec::new(),
            idle_again: false,
        }
    }

    pub(crate) async fn run(mut self, ready: oneshot::Sender<Result<()>>) {
        let mut ready = Some(ready);
        let mut attempt: u32 = 0;
        let error = loop {
            let connector = self.connector.clone();
            // Boxed: the HTTP + websocket connect future is ~23 KiB, and inline it would
            // make every session's task that big for its whole life, idle or not.
            let open = Box::pin(async move { connector.open().await });
            let opened = match self.offline(open).await {
                Some(opened) => opened,
                None => break None,
            };
            match opened {
                Ok(ws) => {
                    if let Some(r) = ready.take() {
                        let _ = r.send(Ok(()));
                    }
                    self.emit(SessionEvent::Connected).await;
                    let since = Instant::now();
                    match self.connected(ws).await {
                        Ended::Closing => break None,
                        Ended::Lost(reason) => {
                            self.emit(SessionEvent::Disconnected { reason }).await;
                        }
                    }
                    if since.elapsed() >= self.backoff.reset_after {
                        attempt = 0;
                    }
                }
                Err(e) if is_final(&e) => match ready.take() {
                    Some(r) => {
                        let _ = r.send(Err(e));
                        return;
                    }
                    None => break Some(e),
                },
                Err(e) => {
                    tracing::debug!("flow socket connect failed: {e}");
                    if let Some(r) = ready.take() {
                        let _ = r.send(Ok(()));
                    }
                    // Say why, so an app can tell a refused certificate from a server restart.
                    self.emit(SessionEvent::Disconnected {
                        reason: format!("connect failed: {}", e.message()),
                    })
                    .await;
                }
            }
            let delay = ReconnectPacer::global().pace(self.backoff.delay(attempt));
            attempt = attempt.saturating_add(1);
            self.emit(SessionEvent::Reconnecting { attempt, delay })
                .await;
            if self.offline(tokio::time::sleep(delay)).await.is_none() {
                break None;
            }
        };
        for (_, p) in self.pending.drain() {
            let _ = p
                .reply
                .send(Err(Error::closed("the session closed before delivery")));
        }
        self.commands.close();
        while let Ok(command) = self.commands.try_recv() {
            reject(command);
        }
        let _ = self.events.send_async(SessionEvent::Closed { error }).await;
        for waiter in self.close_waiters.drain(..) {
            let _ = waiter.send(());
        }
    }

    /// Drive `fut` while answering commands as an offline session does; None when closing.
    async fn offline<F: Future>(&mut self, fut: F) -> Option<F::Output> {
        tokio::pin!(fut);
        loop {
            tokio::select! {
                out = &mut fut => return Some(out),
                command = self.commands.recv() => match command {
                    None => return None,
                    Some(Command::Close { done }) => {
                        self.close_waiters.push(done);
                        return None;
                    }
                    Some(Command::Send { message, reply }) => {
                        self.enqueue(trace_of(&message), message, reply);
                    }
                    Some(Command::Frame(frame)) => {
                        let (_, done) = *frame;
                        let _ = done.send(Err(Error::connection("the session is not connected")));
                    }
                },
            }
        }
    }

    /// Take a send into the pending table; false when it was refused (and answered).
    fn enqueue(
        &mut self,
        trace_id: u64,
        message: Box<OutgoingMessage>,
        reply: oneshot::Sender<Result<Delivered>>,
    ) -> bool {
        if self.pending.contains_key(&trace_id) {
            let _ = reply.send(Err(Error::invalid(
                "this traceId is already awaiting delivery",
            )));
            return false;
        }
        if self.pending.len() >= self.queue_capacity {
            // Callers that gave up do not hold a place.
            self.pending.retain(|_, p| !p.reply.is_closed());
            if self.pending.len() >= self.queue_capacity {
                let _ = reply.send(Err(Error::new(
                    ErrorKind::QueueFull,
                    format!("{} sends already await delivery", self.queue_capacity),
                )));
                return false;
            }
        }
        self.seq += 1;
        self.pending.insert(
            trace_id,
            Pending {
                seq: self.seq,
                message,
                reply,
            },
        );
        true
    }

    fn encode(&self, trace_id: u64, message: &OutgoingMessage) -> Result<String> {
        let nonce = self
            .connector
            .nonce
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        frames::message_send(
            &self.thread_id,
            trace_id,
            message,
            self.originator.as_deref(),
            nonce.as_ref().map(Secret::expose),
        )
    }

    async fn write(&self, ws: &mut Ws, text: String) -> std::result::Result<(), String> {
        written(tokio::time::timeout(self.write_timeout, ws.send(Message::text(text))).await)
    }

    /// Run one open connection until it is lost or the session closes.
    async fn connected(&mut self, mut ws: Box<Ws>) -> Ended {
        if let Err(reason) = Box::pin(self.resend_pending(&mut ws)).await {
            return Ended::Lost(reason);
        }
        let mut ping =
            tokio::time::interval_at(Instant::now() + self.ping_interval, self.ping_interval);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let pong_deadline = tokio::time::sleep(Duration::from_secs(86_400));
        tokio::pin!(pong_deadline);
        let mut awaiting_pong = false;
        loop {
            if std::mem::take(&mut self.idle_again) {
                // The woken sender runs first (yield_now defers this task behind it) and
                // its next message is written before the frames queued behind the delivery
                // are parsed: the peer works on that message meanwhile. One message in flight
                // is the only case this serves, so it is skipped while others are pending.
                tokio::task::yield_now().await;
                if let Ok(command) = self.commands.try_recv() {
                    if let Some(ended) = Box::pin(self.control(&mut ws, Some(command))).await {
                        return ended;
                    }
                    continue;
                }
            }
            tokio::select! {
                biased;
                frame = ws.next() => {
                    match frame {
                        None => return Ended::Lost("the connection closed".into()),
                        Some(Err(e)) => return Ended::Lost(ws_error(e).message().to_string()),
                        Some(Ok(Message::Text(text))) => {
                            awaiting_pong = false;
                            if let Some(event) = self.inbound(text.as_str()) {
                                self.wait_for_room(event).await;
                            }
                        }
                        Some(Ok(Message::Binary(bytes))) => {
                            awaiting_pong = false;
                            match std::str::from_utf8(&bytes) {
                                Ok(text) => {
                                    if let Some(event) = self.inbound(text) {
                                        self.wait_for_room(event).await;
                                    }
                                }
                                Err(_) => self.emit(SessionEvent::Error {
                                    message: "binary frame is not UTF-8".into(),
                                }).await,
                            }
                        }
                        Some(Ok(Message::Close(frame))) => {
                            let code = frame.map(|f| u16::from(f.code)).unwrap_or(1005);
                            return Ended::Lost(format!("the server closed the connection (code {code})"));
                        }
                        Some(Ok(_)) => awaiting_pong = false,
                    }
                }
                command = self.commands.recv() => {
                    let ended = match command {
                        Some(Command::Send { message, reply }) => {
                            let trace_id = trace_of(&message);
                            // Boxed, as are the others below: the task's size is that of
                            // its largest state, and every idle session carries it.
                            Box::pin(self.sends(&mut ws, trace_id, message, reply)).await
                        }
                        other => Box::pin(self.control(&mut ws, other)).await,
                    };
                    if let Some(ended) = ended {
                        return ended;
                    }
                }
                _ = ping.tick() => {
                    if let Err(reason) = self.write(&mut ws, frames::PING.to_string()).await {
                        return Ended::Lost(reason);
                    }
                    if !awaiting_pong {
                        awaiting_pong = true;
                        pong_deadline.as_mut().reset(Instant::now() + self.pong_timeout);
                    }
                }
                _ = &mut pong_deadline, if awaiting_pong => {
                    return Ended::Lost(format!(
                        "no pong within {} ms",
                        self.pong_timeout.as_millis()
                    ));
                }
            }
        }
    }

    /// Write a send and every send already queued behind it (up to [`BATCH`]), then flush
    /// once: one syscall for a burst instead of one per message. A command of another kind
    /// found in the queue is handled after the flush, so order is kept.
    async fn sends(
        &mut self,
        ws: &mut Ws,
        trace_id: u64,
        message: Box<OutgoingMessage>,
        reply: oneshot::Sender<Result<Delivered>>,
    ) -> Option<Ended> {
        let mut next = Some((trace_id, message, reply));
        let mut carried = None;
        let mut fed = 0usize;
        while let Some((trace_id, message, reply)) = next.take() {
            match self.encode(trace_id, &message) {
                Err(e) => {
                    let _ = reply.send(Err(e));
                }
                Ok(text) => {
                    if self.enqueue(trace_id, message, reply) {
                        if let Err(reason) = self.feed(ws, text).await {
                            return Some(Ended::Lost(reason));
                        }
                        fed += 1;
                    }
                }
            }
            if fed < BATCH {
                match self.commands.try_recv() {
                    Ok(Command::Send { message, reply }) => {
                        next = Some((trace_of(&message), message, reply));
                    }
                    Ok(other) => carried = Some(other),
                    Err(_) => {}
                }
            }
        }
        if fed > 0
            && let Err(reason) = self.flush(ws).await
        {
            return Some(Ended::Lost(reason));
        }
        match carried {
            Some(command) => self.control(ws, Some(command)).await,
            None => None,
        }
    }

    async fn feed(&self, ws: &mut Ws, text: String) -> std::result::Result<(), String> {
        written(tokio::time::timeout(self.write_timeout, ws.feed(Message::text(text))).await)
    }

    async fn flush(&self, ws: &mut Ws) -> std::result::Result<(), String> {
        written(tokio::time::timeout(self.write_timeout, ws.flush()).await)
    }

    /// Every command but a send (None: every handle was dropped); Some when the connection ends.
    async fn control(&mut self, ws: &mut Ws, command: Option<Command>) -> Option<Ended> {
        match command {
            None => {
                close_gracefully(ws).await;
                Some(Ended::Closing)
            }
            Some(Command::Close { done }) => {
                self.close_waiters.push(done);
                close_gracefully(ws).await;
                Some(Ended::Closing)
            }
            Some(Command::Send { message, reply }) => {
                let trace_id = trace_of(&message);
                Box::pin(self.sends(ws, trace_id, message, reply)).await
            }
            Some(Command::Frame(frame)) => {
                let (text, done) = *frame;
                match self.write(ws, text).await {
                    Ok(()) => {
                        let _ = done.send(Ok(()));
                        None
                    }
                    Err(reason) => {
                        let _ = done.send(Err(Error::connection(reason.clone())));
                        Some(Ended::Lost(reason))
                    }
                }
            }
        }
    }

    /// Send every message still awaiting delivery, oldest first, with its original traceId.
    async fn resend_pending(&mut self, ws: &mut Ws) -> std::result::Result<(), String> {
        self.pending.retain(|_, p| !p.reply.is_closed());
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut order: Vec<(u64, u64)> = self.pending.iter().map(|(t, p)| (p.seq, *t)).collect();
        order.sort_unstable();
        for (_, trace_id) in order {
            let Some(p) = self.pending.get(&trace_id) else {
                continue;
            };
            let text = match self.encode(trace_id, &p.message) {
                Ok(text) => text,
                Err(_) => continue,
            };
            self.feed(ws, text).await?;
        }
        self.flush(ws).await
    }

    /// Handle one inbound frame; returns an event that found the app's queue full, which
    /// the caller waits to hand over before reading on. Synchronous, so the common path
    /// adds nothing to the size of the session's task.
    fn inbound(&mut self, text: &str) -> Option<SessionEvent> {
        let event = match frames::parse_inbound(text) {
            Inbound::Pong => return None,
            Inbound::Delivered(d) => return self.on_delivered(d),
            Inbound::Received(r) => {
                if let Some(key) = reply_key(&r, text)
                    && !self.replies.insert(key)
                {
                    return None;
                }
                SessionEvent::Reply(r)
            }
            Inbound::AgentTyping(v) => SessionEvent::AgentTyping(Box::new(v)),
            Inbound::Interruption(v) => SessionEvent::Interruption(Box::new(v)),
            Inbound::Secret(nonce) => {
                // A frame without a nonce changes nothing: forgetting the one we hold would
                // make every later send go out without it.
                if let Some(nonce) = nonce {
                    *self
                        .connector
                        .nonce
                        .lock()
                        .unwrap_or_else(|e| e.into_inner()) = Some(Secret::new(nonce));
                }
                return None;
            }
            Inbound::ServerError(message) | Inbound::Malformed(message) => {
                SessionEvent::Error { message }
            }
            Inbound::Unknown { kind, raw } => SessionEvent::Unknown {
                kind,
                raw: Box::new(raw),
            },
        };
        self.offer(event)
    }

    fn on_delivered(&mut self, delivered: Delivered) -> Option<SessionEvent> {
        if let Some(trace_id) = delivered.trace_id {
            if let Some(p) = self.pending.remove(&trace_id) {
                let _ = p.reply.send(Ok(delivered.clone()));
                self.idle_again = self.pending.is_empty();
            } else if self.delivered.contains(&trace_id) {
                return None;
            }
            self.delivered.insert(trace_id);
        }
        self.offer(SessionEvent::Delivered(Box::new(delivered)))
    }

    /// Queue `event` for the app if there is room; gives it back when the queue is full.
    /// A dropped SessionEvents only means nobody listens.
    fn offer(&self, event: SessionEvent) -> Option<SessionEvent> {
        match self.events.try_send(event) {
            Err(flume::TrySendError::Full(event)) => Some(event),
            _ => None,
        }
    }

    async fn emit(&self, event: SessionEvent) {
        if let Some(event) = self.offer(event) {
            self.wait_for_room(event).await;
        }
    }

    /// Hand over an event once the app made room. Rare (the app is behind), so the wait is
    /// boxed and does not enlarge every session's task.
    async fn wait_for_room(&self, event: SessionEvent) {
        let _ = Box::pin(self.events.send_async(event)).await;
    }
}

/// The traceId of a message sent through [`super::Session::send`], which always sets it.
fn trace_of(message: &OutgoingMessage) -> u64 {
    message.trace_id.unwrap_or_default()
}

/// A key identifying one reply across resends: the service's message id when it gives one,
/// else its traceId with the content. Replies with neither are never dropped.
fn reply_key(received: &Received, text: &str) -> Option<u64> {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for id_field in ["messageId", "id"] {
        if let Some(id) = received.extra.get(id_field)
            && !id.is_null()
        {
            id_field.hash(&mut hasher);
            id.to_string().hash(&mut hasher);
            return Some(hasher.finish());
        }
    }
    let trace = received.extra.get("traceId").and_then(|v| v.as_u64())?;
    trace.hash(&mut hasher);
    text.hash(&mut hasher);
    Some(hasher.finish())
}

async fn close_gracefully(ws: &mut Ws) {
    let _ = tokio::time::timeout(Duration::from_secs(2), ws.close(None)).await;
}

fn reject(command: Command) {
    match command {
        Command::Send { reply, .. } => {
            let _ = reply.send(Err(Error::closed("the session is closed")));
        }
        Command::Frame(frame) => {
            let (_, done) = *frame;
            let _ = done.send(Err(Error::closed("the session is closed")));
        }
        Command::Close { done } => {
            let _ = done.send(());
        }
    }
}
