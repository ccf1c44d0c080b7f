//! `AidaClient` and `AidaSession`: AIDA bots over Phoenix channels, with events to JS.

use std::sync::{Arc, Mutex};

use flowai_core::Error;
use flowai_core::aida::{AidaClient as CoreClient, AidaOptions, AidaSession as CoreSession};
use flowai_core::phoenix::SocketEvent;
use napi::Either;
use napi::bindgen_prelude::Buffer;
use napi_derive::napi;
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::config::ClientOptions;
use crate::dispatch::{Dispatcher, EventCallback};
use crate::js_error;
use crate::session::error_json;

/// How to reach one AIDA bot; unset fields come from `FLOWAI_AIDA_*`.
#[napi(object)]
#[derive(Default)]
pub struct AidaClientOptions {
    /// Server URL, http(s) or ws(s) (FLOWAI_AIDA_URL).
    pub url: Option<String>,
    /// Bot UUID (FLOWAI_AIDA_BOT).
    pub bot: Option<String>,
    /// Access token (FLOWAI_AIDA_TOKEN).
    pub token: Option<String>,
    /// Deadline of a push's reply in ms (default 10000).
    pub push_timeout_ms: Option<u32>,
    /// Heartbeat interval in ms (default 30000).
    pub heartbeat_interval_ms: Option<u32>,
    /// Path of a PEM file with an extra root certificate to trust (FLOWAI_CA_CERT).
    pub ca_cert: Option<String>,
}

impl std::fmt::Debug for AidaClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AidaClientOptions")
            .field("url", &self.url)
            .field("bot", &self.bot)
            .finish_non_exhaustive()
    }
}

impl AidaClientOptions {
    fn into_core(self) -> Result<AidaOptions, Error> {
        let config = ClientOptions {
            aida_url: self.url,
            aida_bot: self.bot,
            aida_token: self.token,
            ca_cert: self.ca_cert,
            ..Default::default()
        }
        .into_config()?;
        let mut options = AidaOptions::from_config(&config)?;
        let ms = |v: u32| std::time::Duration::from_millis(u64::from(v));
        if let Some(v) = self.push_timeout_ms {
            options.settings.push_timeout = ms(v);
        }
        if let Some(v) = self.heartbeat_interval_ms {
            options.settings.heartbeat_interval = ms(v);
        }
        Ok(options)
    }
}

fn socket_event_json(event: &SocketEvent) -> Value {
    match event {
        SocketEvent::Connected => json!({ "type": "connected" }),
        SocketEvent::Disconnected { reason } => json!({ "type": "disconnected", "reason": reason }),
        SocketEvent::Reconnecting { attempt, delay } => json!({
            "type": "reconnecting",
            "attempt": attempt,
            "delayMs": delay.as_secs_f64() * 1000.0,
        }),
        SocketEvent::InvalidFrame { error } => {
            json!({ "type": "error", "message": error.message(), "error": error_json(error) })
        }
        SocketEvent::Closed => json!({ "type": "closed", "error": null }),
    }
}

/// A connection to one AIDA bot (created by `connectAida`).
#[napi]
#[derive(Debug)]
pub struct AidaClient {
    inner: CoreClient,
}

/// Connect and join the bot's channel; `onEvent` gets connection events (`closed` last)
/// and is released after it.
#[napi(
    ts_args_type = "options: AidaClientOptions | undefined | null, onEvent: (events: string) => void",
    ts_return_type = "Promise<AidaClient>"
)]
pub async fn connect_aida(
    options: Option<AidaClientOptions>,
    on_event: EventCallback,
) -> napi::Result<AidaClient> {
    let options = options.unwrap_or_default().into_core().map_err(js_error)?;
    let inner = CoreClient::connect(options).await.map_err(js_error)?;
    let mut events = inner.events();
    napi::bindgen_prelude::spawn(async move {
        let dispatcher = Dispatcher::new(on_event);
        dispatcher.push_value(&json!({ "type": "connected" })).await;
        while let Some(event) = events.recv().await {
            let last = matches!(event, SocketEvent::Closed);
            dispatcher.push_value(&socket_event_json(&event)).await;
            if last {
                return;
            }
        }
        // The socket went away without a Closed event: still end the stream once.
        dispatcher
            .push_value(&json!({ "type": "closed", "error": null }))
            .await;
    });
    Ok(AidaClient { inner })
}

#[napi]
impl AidaClient {
    /// The bot UUID.
    #[napi(getter)]
    pub fn bot(&self) -> String {
        self.inner.bot().to_string()
    }

    /// Whether the websocket is open right now.
    #[napi(getter)]
    pub fn is_connected(&self) -> bool {
        self.inner.is_connected()
    }

    /// Start a session; `onEvent` gets its bot messages, then `closed`.
    #[napi(
        ts_args_type = "data: any | undefined | null, onEvent: (events: string) => void",
        ts_return_type = "Promise<AidaSession>"
    )]
    pub async fn new_session(
        &self,
        data: Option<Value>,
        on_event: EventCallback,
    ) -> napi::Result<AidaSession> {
        let session = self
            .inner
            .new_session(data.filter(|d| !d.is_null()))
            .await
            .map_err(js_error)?;
        Ok(AidaSession::start(session, on_event))
    }

    /// A handle to an existing session by id; replies sent before this call are not seen.
    #[napi(ts_args_type = "id: string, onEvent: (events: string) => void")]
    pub fn session(&self, id: String, on_event: EventCallback) -> napi::Result<AidaSession> {
        if id.trim().is_empty() {
            return Err(js_error(Error::invalid("the session id is empty")));
        }
        Ok(AidaSession::start(self.inner.session(id), on_event))
    }

    /// Fetch an uploaded image by id.
    #[napi]
    pub async fn download_image(&self, id: String) -> napi::Result<Buffer> {
        let bytes = self.inner.download_image(&id).await.map_err(js_error)?;
        Ok(Buffer::from(bytes.to_vec()))
    }

    /// Close the connection; every session then ends with `closed`.
    #[napi]
    pub async fn close(&self) -> napi::Result<()> {
        self.inner.close().await;
        Ok(())
    }
}

/// One conversation with the bot (created by `AidaClient.newSession` or `session`).
#[napi]
#[derive(Debug)]
pub struct AidaSession {
    inner: Arc<CoreSession>,
    stop: Mutex<Option<oneshot::Sender<()>>>,
}

impl AidaSession {
    fn start(session: CoreSession, on_event: EventCallback) -> AidaSession {
        let inner = Arc::new(session);
        let (stop, mut stopped) = oneshot::channel::<()>();
        let pump = inner.clone();
        napi::bindgen_prelude::spawn(async move {
            let dispatcher = Dispatcher::new(on_event);
            loop {
                let message = tokio::select! {
                    message = pump.recv() => message,
                    _ = &mut stopped => None,
                };
                let Some(message) = message else { break };
                let event = json!({
                    "type": "message",
                    "session": message.session,
                    "text": message.text,
                    "payload": message.payload,
                });
                dispatcher.push_value(&event).await;
            }
            dispatcher
                .push_value(&json!({ "type": "closed", "error": null }))
                .await;
        });
        AidaSession {
            inner,
            stop: Mutex::new(Some(stop)),
        }
    }
}

#[napi]
impl AidaSession {
    /// The session id given by the server.
    #[napi(getter)]
    pub fn id(&self) -> String {
        self.inner.id().to_string()
    }

    /// Send the user's text; resolves with the server's acknowledgement.
    #[napi(ts_return_type = "Promise<any>")]
    pub async fn send_text(&self, text: String) -> napi::Result<Value> {
        self.inner.send_text(&text).await.map_err(js_error)
    }

    /// Merge `data` into the session's data on the server.
    #[napi(ts_args_type = "data: any", ts_return_type = "Promise<any>")]
    pub async fn put_data(&self, data: Value) -> napi::Result<Value> {
        self.inner.put_data(data).await.map_err(js_error)
    }

    /// Upload an image (a file path or bytes) and send it; resolves with the image id.
    #[napi]
    pub async fn send_image(
        &self,
        image: Either<String, Buffer>,
        filename: String,
        content_type: String,
    ) -> napi::Result<String> {
        let source = match image {
            Either::A(path) => flowai_core::aida::ImageSource::Path(path.into()),
            Either::B(bytes) => flowai_core::aida::ImageSource::from(bytes.to_vec()),
        };
        self.inner
            .send_image(source, &filename, &content_type)
            .await
            .map_err(js_error)
    }

    /// Delete the session on the server; `closed` follows.
    #[napi]
    pub async fn delete(&self) -> napi::Result<()> {
        self.inner.delete().await.map_err(js_error)
    }

    /// Stop receiving this session's messages (the session stays on the server); `closed` follows.
    #[napi]
    pub fn close(&self) {
        if let Some(stop) = self.stop.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = stop.send(());
        }
    }
}
