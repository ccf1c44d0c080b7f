//! The one task behind a socket: connection, heartbeats, refs, joins, buffers and timers.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use super::frame::{
    EVENT_CLOSE, EVENT_ERROR, EVENT_HEARTBEAT, EVENT_JOIN, EVENT_LEAVE, Frame, Reply,
    TOPIC_PHOENIX, quote,
};
use super::{
    ChannelEvent, ChannelEvents, Command, ReplyFilter, Shared, SocketEvent, SocketSettings,
};
use crate::backoff::ReconnectPacer;
use crate::error::{Error, ErrorKind, Result};
use crate::websocket::{self, Ws};

type Connecting = Pin<Box<dyn Future<Output = Result<Ws>> + Send>>;

/// Small buffers keep an idle socket cheap; the message cap bounds what a server can make us hold.
fn ws_config(settings: &SocketSettings) -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
        .max_write_buffer_size(settings.max_message_size.saturating_mul(4).max(64 * 1024))
        .max_message_size(Some(settings.max_message_size))
        .max_frame_size(Some(settings.max_message_size))
}

/// One connection attempt, bounded by the connect timeout. Errors never quote the URL.
pub(crate) async fn open(
    endpoint: &url::Url,
    settings: &SocketSettings,
    tls: &Arc<rustls::ClientConfig>,
) -> Result<Ws> {
    let attempt = websocket::connect(endpoint.as_str(), ws_config(settings), tls);
    match tokio::time::timeout(settings.connect_timeout, attempt).await {
        Err(_) => Err(Error::timeout("connecting to the Phoenix server timed out")),
        Ok(Err(err)) => Err(describe_ws_error(err)),
        Ok(Ok(ws)) => Ok(ws),
    }
}

fn describe_ws_error(err: tokio_tungstenite::tungstenite::Error) -> Error {
    use tokio_tungstenite::tungstenite::Error as E;
    match err {
        E::Http(response) => {
            let status = response.status().as_u16();
            Error::from_status(status, "websocket upgrade refused")
        }
        E::Io(io) => Error::connection(format!("cannot reach the Phoenix server: {io}")),
        E::Tls(tls) => Error::connection(format!("TLS failure: {tls}")),
        E::Url(_) => Error::invalid("the Phoenix server URL cannot be used"),
        other => Error::connection(format!("websocket failure: {other}")),
    }
}

pub(crate) fn spawn(
    endpoint: url::Url,
    settings: Arc<SocketSettings>,
    shared: Arc<Shared>,
    commands: mpsc::Receiver<Command>,
    ws: Ws,
    tls: Arc<rustls::ClientConfig>,
) {
    let task = Task {
        endpoint,
        tls,
        settings,
        shared,
        commands,
        conn: Some(ws),
        connecting: None,
        reconnect_at: None,
        reconnect_attempt: 0,
        next_ref: 0,
        channels: HashMap::new(),
        pushes: HashMap::new(),
        deadlines: BTreeSet::new(),
        join_refs: HashMap::new(),
        heartbeat_at: None,
        heartbeat_pending: None,
        closing: None,
    };
    tokio::spawn(task.run());
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum ChanState {
    /// A join is in flight or waits for the connection.
    Joining,
    Joined,
    /// Waiting for `rejoin_at` or the connection.
    Errored,
}

struct Chan {
    params: Value,
    state: ChanState,
    join_ref: Option<u64>,
    /// The caller of the first `join`, answered once.
    join_waiter: Option<oneshot::Sender<Result<Value>>>,
    join_deadline: Option<Instant>,
    ever_joined: bool,
    rejoin_attempt: u32,
    rejoin_at: Option<Instant>,
    /// Refs of pushes waiting for the join, oldest first (entries of finished pushes are skipped).
    buffer: VecDeque<u64>,
}

struct PushState {
    topic: String,
    event: String,
    /// `Some` until sent.
    payload: Option<Value>,
    deadline: Instant,
    on_ok: Option<(ReplyFilter, oneshot::Sender<ChannelEvents>)>,
    reply: oneshot::Sender<Result<Value>>,
}

struct Task {
    endpoint: url::Url,
    /// TLS for `wss://` reconnects: the SDK's provider and roots.
    tls: Arc<rustls::ClientConfig>,
    settings: Arc<SocketSettings>,
    shared: Arc<Shared>,
    commands: mpsc::Receiver<Command>,
    conn: Option<Ws>,
    connecting: Option<Connecting>,
    reconnect_at: Option<Instant>,
    reconnect_attempt: u32,
    next_ref: u64,
    channels: HashMap<String, Chan>,
    pushes: HashMap<u64, PushState>,
    deadlines: BTreeSet<(Instant, u64)>,
    /// ref of an in-flight join -> its topic.
    join_refs: HashMap<u64, String>,
    heartbeat_at: Option<Instant>,
    heartbeat_pending: Option<(u64, Instant)>,
    closing: Option<Vec<oneshot::Sender<()>>>,
}

enum Wake {
    Command(Option<Command>),
    Inbound(Option<std::result::Result<Message, tokio_tungstenite::tungstenite::Error>>),
    Opened(Result<Box<Ws>>),
    Timer,
}

async fn next_inbound(
    conn: &mut Option<Ws>,
) -> Option<std::result::Result<Message, tokio_tungstenite::tungstenite::Error>> {
    match conn {
        Some(ws) => ws.next().await,
        None => std::future::pending().await,
    }
}

async fn opened(connecting: &mut Option<Connecting>) -> Result<Ws> {
    match connecting {
        Some(fut) => fut.await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

impl Task {
    async fn run(mut self) {
        self.on_open();
        while self.closing.is_none() {
            let deadline = self.next_deadline();
            let wake = tokio::select! {
                cmd = self.commands.recv() => Wake::Command(cmd),
                msg = next_inbound(&mut self.conn) => Wake::Inbound(msg),
                res = opened(&mut self.connecting) => Wake::Opened(res.map(Box::new)),
                () = sleep_until(deadline) => Wake::Timer,
            };
            match wake {
                Wake::Command(Some(cmd)) => self.on_command(cmd).await,
                Wake::Command(None) => self.closing = Some(Vec::new()),
                Wake::Inbound(Some(Ok(msg))) => self.on_message(msg).await,
                Wake::Inbound(Some(Err(err))) => {
                    self.lost(format!("websocket error: {err}"));
                }
                Wake::Inbound(None) => self.lost("the server closed the connection".into()),
                Wake::Opened(res) => {
                    self.connecting = None;
                    match res {
                        Ok(ws) => {
                            self.conn = Some(*ws);
                            self.shared.emit(SocketEvent::Connected);
                            self.on_open();
                            self.rejoin_all().await;
                        }
                        Err(err) => {
                            tracing::debug!("phoenix reconnect failed: {err}");
                            self.schedule_reconnect();
                        }
                    }
                }
                Wake::Timer => self.on_timers().await,
            }
        }
        self.shutdown().await;
    }

    fn take_ref(&mut self) -> u64 {
        self.next_ref += 1;
        self.next_ref
    }

    fn on_open(&mut self) {
        self.shared.connected.store(true, Ordering::Relaxed);
        self.heartbeat_at = Some(Instant::now() + self.settings.heartbeat_interval);
        self.heartbeat_pending = None;
    }

    fn next_deadline(&self) -> Option<Instant> {
        let mut next: Option<Instant> = None;
        let mut consider = |at: Option<Instant>| {
            if let Some(at) = at {
                next = Some(next.map_or(at, |n| n.min(at)));
            }
        };
        consider(self.deadlines.first().map(|(at, _)| *at));
        consider(self.reconnect_at);
        if self.conn.is_some() {
            consider(self.heartbeat_at);
            consider(self.heartbeat_pending.map(|(_, at)| at));
        }
        for chan in self.channels.values() {
            consider(chan.join_deadline);
            consider(chan.rejoin_at);
        }
        next
    }

    async fn send(&mut self, frame: Frame) -> bool {
        let Some(ws) = self.conn.as_mut() else {
            return false;
        };
        match ws.send(Message::text(frame.to_json())).await {
            Ok(()) => true,
            Err(err) => {
                self.lost(format!("websocket write failed: {err}"));
                false
            }
        }
    }

    async fn on_command(&mut self, cmd: Command) {
        match cmd {
            Command::Join {
                topic,
                params,
                reply,
            } => {
                if self.channels.contains_key(&topic) {
                    let _ = reply.send(Err(Error::invalid(
                        "the channel is already joined or joining",
                    )));
                    return;
                }
                self.channels.insert(
                    topic.clone(),
                    Chan {
                        params,
                        state: ChanState::Joining,
                        join_ref: None,
                        join_waiter: Some(reply),
                        join_deadline: Some(Instant::now() + self.settings.push_timeout),
                        ever_joined: false,
                        rejoin_attempt: 0,
                        rejoin_at: None,
                        buffer: VecDeque::new(),
                    },
                );
                if self.conn.is_some() {
                    self.send_join(&topic).await;
                }
            }
            Command::Push {
                topic,
                event,
                payload,
                timeout,
                on_ok,
                reply,
            } => {
                self.push(topic, event, payload, timeout, on_ok, reply)
                    .await
            }
            Command::Leave { topic, reply } => {
                if let Some(chan) = self.channels.get(&topic) {
                    let join_ref = chan.join_ref;
                    let joined = chan.state == ChanState::Joined;
                    if joined && let Some(join_ref) = join_ref {
                        let r = self.take_ref();
                        let frame = Frame::new(
                            Some(join_ref.to_string()),
                            Some(r.to_string()),
                            topic.clone(),
                            EVENT_LEAVE,
                            json!({}),
                        );
                        self.send(frame).await;
                    }
                    self.close_channel(&topic, None, || Error::closed("the channel was left"));
                }
                let _ = reply.send(Ok(()));
            }
            Command::Close { reply } => {
                self.closing = Some(vec![reply]);
            }
        }
    }

    async fn push(
        &mut self,
        topic: String,
        event: String,
        payload: Value,
        timeout: Duration,
        on_ok: Option<(ReplyFilter, oneshot::Sender<ChannelEvents>)>,
        reply: oneshot::Sender<Result<Value>>,
    ) {
        let max = self.settings.max_buffered_pushes;
        let (state, join_ref) = match self.channels.get_mut(&topic) {
            None => {
                let _ = reply.send(Err(Error::closed(format!(
                    "push to {topic:?} before joining it"
                ))));
                return;
            }
            Some(chan) => {
                if chan.state != ChanState::Joined || self.conn.is_none() {
                    let pushes = &self.pushes;
                    if chan.buffer.len() >= max {
                        chan.buffer.retain(|r| pushes.contains_key(r));
                    }
                    if chan.buffer.len() >= max {
                        let _ = reply.send(Err(Error::new(
                            ErrorKind::QueueFull,
                            format!("{max} pushes already wait for the channel to join"),
                        )));
                        return;
                    }
                }
                (chan.state, chan.join_ref)
            }
        };
        let r = self.take_ref();
        let deadline = Instant::now() + timeout;
        self.deadlines.insert((deadline, r));
        let joined = state == ChanState::Joined && self.conn.is_some();
        self.pushes.insert(
            r,
            PushState {
                topic: topic.clone(),
                event: event.clone(),
                payload: if joined { None } else { Some(payload.clone()) },
                deadline,
                on_ok,
                reply,
            },
        );
        if joined {
            let frame = Frame::new(
                join_ref.map(|j| j.to_string()),
                Some(r.to_string()),
                topic,
                event,
                payload,
            );
            self.send(frame).await;
        } else if let Some(chan) = self.channels.get_mut(&topic) {
            chan.buffer.push_back(r);
        }
    }

    async fn send_join(&mut self, topic: &str) {
        let r = self.take_ref();
        let Some(chan) = self.channels.get_mut(topic) else {
            return;
        };
        if let Some(old) = chan.join_ref.replace(r) {
            self.join_refs.remove(&old);
        }
        chan.state = ChanState::Joining;
        chan.rejoin_at = None;
        if chan.join_deadline.is_none() {
            chan.join_deadline = Some(Instant::now() + self.settings.push_timeout);
        }
        let params = chan.params.clone();
        self.join_refs.insert(r, topic.to_string());
        let id = r.to_string();
        self.send(Frame::new(
            Some(id.clone()),
            Some(id),
            topic,
            EVENT_JOIN,
            params,
        ))
        .await;
    }

    async fn rejoin_all(&mut self) {
        let topics: Vec<String> = self
            .channels
            .iter()
            .filter(|(_, c)| c.state != ChanState::Joined && c.rejoin_at.is_none())
            .map(|(t, _)| t.clone())
            .collect();
        for topic in topics {
            if self.conn.is_none() {
                break;
            }
            self.send_join(&topic).await;
        }
    }

    async fn on_message(&mut self, msg: Message) {
        let text = match msg {
            Message::Text(text) => text,
            Message::Binary(_) => {
                self.invalid(Error::protocol(
                    "binary frames are not part of the JSON protocol",
                ));
                return;
            }
            Message::Close(_) => {
                self.lost("the server closed the connection".into());
                return;
            }
            _ => return,
        };
        let frame = match Frame::parse(text.as_str()) {
            Ok(frame) => frame,
            Err(err) => {
                self.invalid(err);
                return;
            }
        };
        if frame.topic == TOPIC_PHOENIX {
            if let (Some((hb, _)), Some(r)) = (self.heartbeat_pending, parse_ref(&frame.reference))
                && hb == r
            {
                self.heartbeat_pending = None;
                self.reconnect_attempt = 0;
            }
            return;
        }
        let Some(chan) = self.channels.get(&frame.topic) else {
            tracing::debug!("phoenix frame for an unknown topic dropped");
            return;
        };
        if let Some(join_ref) = &frame.join_ref
            && parse_ref(&Some(join_ref.clone())) != chan.join_ref
        {
            tracing::debug!("phoenix frame with a stale join_ref dropped");
            return;
        }
        if let Some(reply) = frame.reply() {
            if let Some(r) = parse_ref(&frame.reference) {
                self.on_reply(&frame.topic, r, reply).await;
            }
            return;
        }
        match frame.event.as_str() {
            EVENT_CLOSE => {
                self.close_channel(
                    &frame.topic,
                    Some(Error::closed("the server closed the channel")),
                    || Error::closed("the server closed the channel"),
                );
            }
            EVENT_ERROR => self.channel_errored(&frame.topic, "the channel crashed on the server"),
            _ => {
                let event = ChannelEvent::Message {
                    event: frame.event,
                    payload: frame.payload,
                };
                self.shared.emit_channel(&frame.topic, &event);
            }
        }
    }

    fn invalid(&mut self, err: Error) {
        tracing::warn!("{err}");
        self.shared.emit(SocketEvent::InvalidFrame { error: err });
    }

    async fn on_reply(&mut self, topic: &str, r: u64, reply: Reply) {
        if self.join_refs.get(&r).is_some_and(|t| t == topic) {
            self.join_refs.remove(&r);
            self.on_join_reply(topic, reply).await;
            return;
        }
        let Some(push) = self.pushes.remove(&r) else {
            return;
        };
        self.deadlines.remove(&(push.deadline, r));
        let result = if reply.is_ok() {
            if let Some((make_filter, sub_tx)) = push.on_ok
                && let Some(filter) = make_filter(&reply.response)
            {
                let _ = sub_tx.send(self.shared.add_channel_subscriber(topic, filter));
            }
            Ok(reply.response)
        } else {
            Err(reply_error(&push.event, &reply))
        };
        let _ = push.reply.send(result);
    }

    async fn on_join_reply(&mut self, topic: &str, reply: Reply) {
        let Some(chan) = self.channels.get_mut(topic) else {
            return;
        };
        chan.join_deadline = None;
        if reply.is_ok() {
            let rejoined = chan.ever_joined;
            chan.state = ChanState::Joined;
            chan.ever_joined = true;
            chan.rejoin_attempt = 0;
            chan.rejoin_at = None;
            if let Some(waiter) = chan.join_waiter.take() {
                let _ = waiter.send(Ok(reply.response));
            }
            self.reconnect_attempt = 0;
            if rejoined {
                self.shared.emit_channel(topic, &ChannelEvent::Rejoined);
            }
            self.flush(topic).await;
            return;
        }
        let err = reply_error(EVENT_JOIN, &reply);
        if err.kind() == ErrorKind::Auth || !chan.ever_joined {
            let e = err.clone();
            self.close_channel(topic, Some(err), move || e.clone());
        } else {
            tracing::debug!("phoenix rejoin refused: {err}");
            self.schedule_rejoin(topic);
        }
    }

    async fn flush(&mut self, topic: &str) {
        let Some(chan) = self.channels.get_mut(topic) else {
            return;
        };
        let join_ref = chan.join_ref.map(|j| j.to_string());
        let queued: Vec<u64> = chan.buffer.drain(..).collect();
        for r in queued {
            let Some(push) = self.pushes.get_mut(&r) else {
                continue;
            };
            let Some(payload) = push.payload.take() else {
                continue;
            };
            let frame = Frame::new(
                join_ref.clone(),
                Some(r.to_string()),
                topic,
                push.event.clone(),
                payload,
            );
            if !self.send(frame).await {
                break;
            }
        }
    }

    fn schedule_rejoin(&mut self, topic: &str) {
        let settings = self.settings.clone();
        if let Some(chan) = self.channels.get_mut(topic) {
            chan.state = ChanState::Errored;
            let delay = settings.rejoin_delay(chan.rejoin_attempt);
            chan.rejoin_attempt = chan.rejoin_attempt.saturating_add(1);
            chan.rejoin_at = Some(Instant::now() + delay);
        }
    }

    fn channel_errored(&mut self, topic: &str, reason: &str) {
        self.fail_sent(Some(topic), reason);
        if let Some(chan) = self.channels.get(topic)
            && chan.ever_joined
        {
            self.shared.emit_channel(
                topic,
                &ChannelEvent::Errored {
                    reason: reason.to_string(),
                },
            );
        }
        self.schedule_rejoin(topic);
    }

    /// Fail pushes already on the wire (their outcome is unknown); buffered ones stay.
    fn fail_sent(&mut self, topic: Option<&str>, reason: &str) {
        let sent: Vec<u64> = self
            .pushes
            .iter()
            .filter(|(_, p)| p.payload.is_none() && topic.is_none_or(|t| t == p.topic))
            .map(|(r, _)| *r)
            .collect();
        for r in sent {
            if let Some(push) = self.pushes.remove(&r) {
                self.deadlines.remove(&(push.deadline, r));
                let _ = push.reply.send(Err(Error::connection(format!(
                    "{reason} before the reply to {:?}",
                    push.event
                ))));
            }
        }
    }

    fn close_channel(&mut self, topic: &str, error: Option<Error>, push_error: impl Fn() -> Error) {
        let Some(mut chan) = self.channels.remove(topic) else {
            return;
        };
        if let Some(r) = chan.join_ref {
            self.join_refs.remove(&r);
        }
        if let Some(waiter) = chan.join_waiter.take() {
            let _ = waiter.send(Err(error.clone().unwrap_or_else(&push_error)));
        }
        let mine: Vec<u64> = self
            .pushes
            .iter()
            .filter(|(_, p)| p.topic == topic)
            .map(|(r, _)| *r)
            .collect();
        for r in mine {
            if let Some(push) = self.pushes.remove(&r) {
                self.deadlines.remove(&(push.deadline, r));
                let _ = push.reply.send(Err(push_error()));
            }
        }
        self.shared
            .emit_channel(topic, &ChannelEvent::Closed { error });
    }

    fn lost(&mut self, reason: String) {
        if self.conn.take().is_none() {
            return;
        }
        self.shared.connected.store(false, Ordering::Relaxed);
        self.heartbeat_pending = None;
        self.heartbeat_at = None;
        self.join_refs.clear();
        self.fail_sent(None, "the connection was lost");
        let topics: Vec<String> = self.channels.keys().cloned().collect();
        for topic in topics {
            let was_joined = self
                .channels
                .get(&topic)
                .is_some_and(|c| c.state == ChanState::Joined);
            if let Some(chan) = self.channels.get_mut(&topic) {
                chan.state = if chan.ever_joined {
                    ChanState::Errored
                } else {
                    ChanState::Joining
                };
                chan.rejoin_at = None;
            }
            if was_joined {
                self.shared.emit_channel(
                    &topic,
                    &ChannelEvent::Errored {
                        reason: "connection lost".into(),
                    },
                );
            }
        }
        tracing::debug!("phoenix connection lost: {reason}");
        self.shared.emit(SocketEvent::Disconnected { reason });
        self.schedule_reconnect();
    }

    fn schedule_reconnect(&mut self) {
        let delay =
            ReconnectPacer::global().pace(self.settings.reconnect_delay(self.reconnect_attempt));
        self.reconnect_attempt = self.reconnect_attempt.saturating_add(1);
        self.reconnect_at = Some(Instant::now() + delay);
        self.shared.emit(SocketEvent::Reconnecting {
            attempt: self.reconnect_attempt,
            delay,
        });
    }

    async fn on_timers(&mut self) {
        let now = Instant::now();
        if self.reconnect_at.is_some_and(|at| at <= now) {
            self.reconnect_at = None;
            let endpoint = self.endpoint.clone();
            let settings = self.settings.clone();
            let tls = self.tls.clone();
            self.connecting = Some(Box::pin(
                async move { open(&endpoint, &settings, &tls).await },
            ));
        }
        while let Some(&(at, r)) = self.deadlines.first() {
            if at > now {
                break;
            }
            self.deadlines.pop_first();
            if let Some(push) = self.pushes.remove(&r) {
                let _ = push.reply.send(Err(Error::timeout(format!(
                    "no reply to {:?} in time",
                    push.event
                ))));
            }
        }
        let topics: Vec<String> = self.channels.keys().cloned().collect();
        for topic in topics {
            let Some(chan) = self.channels.get_mut(&topic) else {
                continue;
            };
            if chan.join_deadline.is_some_and(|at| at <= now) {
                chan.join_deadline = None;
                if let Some(r) = chan.join_ref {
                    self.join_refs.remove(&r);
                }
                if chan.ever_joined {
                    self.schedule_rejoin(&topic);
                } else {
                    self.close_channel(
                        &topic,
                        Some(Error::timeout("no reply to the join in time")),
                        || Error::timeout("no reply to the join in time"),
                    );
                }
                continue;
            }
            if chan.rejoin_at.is_some_and(|at| at <= now) {
                chan.rejoin_at = None;
                if self.conn.is_some() {
                    self.send_join(&topic).await;
                }
            }
        }
        if self.conn.is_none() {
            return;
        }
        if self.heartbeat_pending.is_some_and(|(_, at)| at <= now) {
            self.lost("no heartbeat reply in time".into());
            return;
        }
        if self.heartbeat_at.is_some_and(|at| at <= now) {
            self.heartbeat_at = Some(now + self.settings.heartbeat_interval);
            if self.heartbeat_pending.is_none() {
                let r = self.take_ref();
                self.heartbeat_pending = Some((r, now + self.settings.heartbeat_timeout));
                let frame = Frame::new(
                    None,
                    Some(r.to_string()),
                    TOPIC_PHOENIX,
                    EVENT_HEARTBEAT,
                    json!({}),
                );
                self.send(frame).await;
            }
        }
    }

    async fn shutdown(mut self) {
        self.commands.close();
        if let Some(mut ws) = self.conn.take() {
            let _ = tokio::time::timeout(Duration::from_secs(1), ws.close(None)).await;
        }
        self.shared.connected.store(false, Ordering::Relaxed);
        let topics: Vec<String> = self.channels.keys().cloned().collect();
        for topic in topics {
            self.close_channel(&topic, None, || Error::closed("the socket is closed"));
        }
        for (_, push) in self.pushes.drain() {
            let _ = push.reply.send(Err(Error::closed("the socket is closed")));
        }
        // Commands that raced the close get a clear answer instead of a dropped sender.
        while let Ok(cmd) = self.commands.try_recv() {
            match cmd {
                Command::Join { reply, .. } | Command::Push { reply, .. } => {
                    let _ = reply.send(Err(Error::closed("the socket is closed")));
                }
                Command::Leave { reply, .. } => {
                    let _ = reply.send(Ok(()));
                }
                Command::Close { reply } => {
                    let _ = reply.send(());
                }
            }
        }
        self.shared.finish();
        for waiter in self.closing.take().unwrap_or_default() {
            let _ = waiter.send(());
        }
    }
}

fn parse_ref(value: &Option<String>) -> Option<u64> {
    value.as_deref().and_then(|s| s.parse().ok())
}

/// The error for a non-ok reply, quoting the response (capped).
fn reply_error(event: &str, reply: &Reply) -> Error {
    let response = quote(&reply.response.to_string());
    let kind = if reply.reason() == Some("unauthorized") {
        ErrorKind::Auth
    } else if reply.status == "timeout" {
        ErrorKind::Timeout
    } else {
        ErrorKind::Protocol
    };
    Error::new(
        kind,
        format!("{event:?} answered {:?}: {response}", reply.status),
    )
}
