//! `Session`: a Flow Socket session whose events reach JS through one threadsafe function.

use std::sync::Arc;
use std::time::Duration;

use flowai_core::Error;
use flowai_core::socket::{
    OutgoingMessage, Session as CoreSession, SessionEvent, SessionOptions as CoreOptions,
};
use napi::Status;
use napi::bindgen_prelude::FnArgs;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use serde_json::{Value, json};

use crate::config::ClientOptions;
use crate::dispatch::{Dispatcher, EventCallback, pump};
use crate::{js_error, to_json};

/// `(bytesSent, totalBytes) => void`.
type ProgressCallback =
    ThreadsafeFunction<FnArgs<(f64, f64)>, (), FnArgs<(f64, f64)>, Status, false>;

/// How a socket session connects and behaves; unset fields come from `FLOWAI_*` or defaults.
#[napi(object)]
#[derive(Default)]
pub struct SessionOptions {
    /// Base URL (FLOWAI_API_URL).
    pub api_url: Option<String>,
    /// The channel's client id (FLOWAI_CLIENT_ID).
    pub client_id: Option<String>,
    /// The thread (end user) to talk as; generated when absent.
    pub thread_id: Option<String>,
    /// The session id sent to socket.info; generated when absent.
    pub session_id: Option<String>,
    /// Default originator of sends: `{ name, role, profile, metadata }`.
    pub originator: Option<Value>,
    /// Ping interval in ms (default 30000).
    pub ping_interval_ms: Option<u32>,
    /// A ping unanswered this long (ms) marks the connection dead (default 10000).
    pub pong_timeout_ms: Option<u32>,
    /// Deadline of one send, until its delivery (ms, default 30000).
    pub send_timeout_ms: Option<u32>,
    /// Deadline of connecting and of the thread REST calls (ms).
    pub connect_timeout_ms: Option<u32>,
    /// Most sends awaiting delivery at once (default 1000).
    pub queue_capacity: Option<u32>,
    /// Most events waiting unread before the session stops reading (default 1024).
    pub event_capacity: Option<u32>,
    /// First reconnect delay ceiling in ms (default 500).
    pub backoff_base_ms: Option<u32>,
    /// Largest reconnect delay ceiling in ms (default 30000).
    pub backoff_cap_ms: Option<u32>,
    /// Path of a PEM file with an extra root certificate to trust (FLOWAI_CA_CERT).
    pub ca_cert: Option<String>,
}

impl std::fmt::Debug for SessionOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionOptions")
            .field("api_url", &self.api_url)
            .field("thread_id", &self.thread_id)
            .finish_non_exhaustive()
    }
}

fn ms(value: u32) -> Duration {
    Duration::from_millis(u64::from(value))
}

impl SessionOptions {
    fn into_core(self) -> Result<CoreOptions, Error> {
        let config = ClientOptions {
            api_url: self.api_url,
            client_id: self.client_id,
            ca_cert: self.ca_cert,
            ..Default::default()
        }
        .into_config()?;
        let mut options = CoreOptions::from_config(&config)?;
        options.thread_id = self.thread_id;
        options.session_id = self.session_id;
        if let Some(originator) = self.originator.filter(|v| !v.is_null()) {
            options.originator = Some(
                serde_json::from_value(originator)
                    .map_err(|e| Error::invalid(format!("originator: {e}")))?,
            );
        }
        if let Some(v) = self.ping_interval_ms {
            options.ping_interval = ms(v);
        }
        if let Some(v) = self.pong_timeout_ms {
            options.pong_timeout = ms(v);
        }
        if let Some(v) = self.send_timeout_ms {
            options.send_timeout = ms(v);
        }
        if let Some(v) = self.connect_timeout_ms {
            options.connect_timeout = ms(v);
        }
        if let Some(v) = self.queue_capacity {
            options.queue_capacity = v as usize;
        }
        if let Some(v) = self.event_capacity {
            options.event_capacity = v as usize;
        }
        if let Some(v) = self.backoff_base_ms {
            options.backoff.base = ms(v);
        }
        if let Some(v) = self.backoff_cap_ms {
            options.backoff.cap = ms(v);
        }
        Ok(options)
    }
}

/// `{ code, message }` of an error carried inside an event.
pub(crate) fn error_json(err: &Error) -> Value {
    json!({ "code": err.code(), "message": err.message() })
}

/// One session event as the JSON object `index.js` emits: `{ type, ... }`.
pub(crate) fn event_json(event: &SessionEvent) -> Value {
    let to = |v: Result<Value, serde_json::Error>| v.unwrap_or(Value::Null);
    match event {
        SessionEvent::Connected => json!({ "type": "connected" }),
        SessionEvent::Delivered(d) => {
            json!({ "type": "delivered", "delivered": to(serde_json::to_value(d)) })
        }
        SessionEvent::Reply(r) => json!({ "type": "reply", "reply": to(serde_json::to_value(r)) }),
        SessionEvent::AgentTyping(p) => json!({ "type": "agentTyping", "payload": p }),
        SessionEvent::Interruption(p) => json!({ "type": "interruption", "payload": p }),
        SessionEvent::Error { message } => json!({ "type": "error", "message": message }),
        SessionEvent::Reconnecting { attempt, delay } => json!({
            "type": "reconnecting",
            "attempt": attempt,
            "delayMs": delay.as_secs_f64() * 1000.0,
        }),
        SessionEvent::Disconnected { reason } => {
            json!({ "type": "disconnected", "reason": reason })
        }
        SessionEvent::Closed { error } => match error {
            Some(e) => json!({ "type": "closed", "error": error_json(e) }),
            None => json!({ "type": "closed", "error": null }),
        },
        SessionEvent::Unknown { kind, raw } => {
            json!({ "type": "unknown", "frameType": kind, "raw": raw })
        }
        other => json!({ "type": "unknown", "frameType": other.name(), "raw": null }),
    }
}

/// A running Flow Socket session (created by `connectSession`).
#[napi]
#[derive(Debug)]
pub struct Session {
    inner: CoreSession,
}

/// Connect a session; `onEvent` gets every event, in order, in batches (a JSON array per
/// call), `closed` last, and is released after it.
#[napi(
    ts_args_type = "options: SessionOptions | undefined | null, onEvent: (events: string) => void",
    ts_return_type = "Promise<Session>"
)]
pub async fn connect_session(
    options: Option<SessionOptions>,
    on_event: EventCallback,
) -> napi::Result<Session> {
    let options = options.unwrap_or_default().into_core().map_err(js_error)?;
    let (inner, events) = CoreSession::connect(options).await.map_err(js_error)?;
    napi::bindgen_prelude::spawn(async move {
        let mut dispatcher = Dispatcher::new(on_event);
        pump(events, &mut dispatcher).await;
        // Dropping the callback here releases it (after the calls already queued), so a
        // closed session lets Node exit.
        drop(dispatcher);
    });
    Ok(Session { inner })
}

impl Session {
    /// FLOWAI_CLOSED once closed: the thread's REST calls do not go through the socket, so
    /// they would otherwise still work after `close`.
    fn open(&self) -> napi::Result<()> {
        if self.inner.is_closed() {
            return Err(js_error(Error::closed("the session is closed")));
        }
        Ok(())
    }
}

#[napi]
impl Session {
    /// The thread this session talks as.
    #[napi(getter)]
    pub fn thread_id(&self) -> String {
        self.inner.thread_id().to_string()
    }

    /// The session id sent to socket.info.
    #[napi(getter)]
    pub fn session_id(&self) -> String {
        self.inner.session_id().to_string()
    }

    /// Whether the session has ended.
    #[napi(getter)]
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// Send `{ speech, traceId?, attachment?, originator?, metadata? }`; resolves with the delivery.
    #[napi(ts_args_type = "message: any", ts_return_type = "Promise<any>")]
    pub async fn send(&self, message: Value) -> napi::Result<Value> {
        let message: OutgoingMessage = serde_json::from_value(message)
            .map_err(|e| js_error(Error::invalid(format!("message: {e}"))))?;
        let delivered = self.inner.send(message).await.map_err(js_error)?;
        to_json(&delivered)
    }

    /// Tell the service the user is typing.
    #[napi]
    pub async fn typing(&self) -> napi::Result<()> {
        self.inner.typing().await.map_err(js_error)
    }

    /// Tell the service the user saw the messages.
    #[napi]
    pub async fn noticed(&self) -> napi::Result<()> {
        self.inner.noticed().await.map_err(js_error)
    }

    /// The thread's messages as the service returns them.
    #[napi(ts_return_type = "Promise<any>")]
    pub async fn history(&self) -> napi::Result<Value> {
        self.open()?;
        self.inner.history().await.map_err(js_error)
    }

    /// The messages the user has not noticed yet.
    #[napi(ts_return_type = "Promise<any>")]
    pub async fn unnoticed(&self) -> napi::Result<Value> {
        self.open()?;
        self.inner.unnoticed().await.map_err(js_error)
    }

    /// Upload a file to the thread, streamed from disk.
    #[napi(
        ts_args_type = "path: string, progress?: ((bytesSent: number, totalBytes: number) => void) | undefined | null",
        ts_return_type = "Promise<any>"
    )]
    pub async fn upload(
        &self,
        path: String,
        progress: Option<ProgressCallback>,
    ) -> napi::Result<Value> {
        self.open()?;
        let progress = progress.map(|callback| {
            let callback = Arc::new(callback);
            Arc::new(move |sent: u64, total: u64| {
                callback.call(
                    FnArgs::from((sent as f64, total as f64)),
                    ThreadsafeFunctionCallMode::NonBlocking,
                );
            }) as flowai_core::socket::Progress
        });
        self.inner.upload(path, progress).await.map_err(js_error)
    }

    /// Close gracefully; the `closed` event follows. Closing twice is fine.
    #[napi]
    pub async fn close(&self) -> napi::Result<()> {
        self.inner.close().await.map_err(js_error)
    }
}
