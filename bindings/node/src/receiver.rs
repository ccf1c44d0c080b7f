//! `WebhookReceiver`: the core's embedded webhook server, handing each verified event to JS.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Mutex, mpsc};
use std::time::Duration;

use flowai_core::Error;
use flowai_core::webhook::{ReceiverOptions as CoreOptions, WebhookReceiver as CoreReceiver};
use napi::Status;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;

use crate::js_error;

/// `(eventJson) => boolean`: true accepts the call (200), false or a throw declines it (500).
type HandlerCallback = ThreadsafeFunction<String, bool, String, Status, false>;

/// How long a call waits for the JS handler before it is declined (the sender retries).
const HANDLER_DEADLINE: Duration = Duration::from_secs(30);

/// Where and how the receiver listens.
#[napi(object)]
#[derive(Default)]
pub struct ReceiverOptions {
    /// The verify key given when the webhook was created (required).
    pub verify_key: String,
    /// Address to bind (default 127.0.0.1).
    pub host: Option<String>,
    /// Port (default 0: a free one).
    pub port: Option<u32>,
    /// Path served (default `/webhook`).
    pub path: Option<String>,
    /// Header carrying the verify key (default `X-Flowai-Verify-Key`).
    pub verify_header: Option<String>,
    /// Largest accepted body in bytes (default 1 MiB).
    pub max_body_bytes: Option<u32>,
    /// Events waiting for the handler before calls get 503 (default 1024).
    pub queue_capacity: Option<u32>,
}

impl std::fmt::Debug for ReceiverOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReceiverOptions")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl ReceiverOptions {
    fn into_core(self) -> Result<CoreOptions, Error> {
        let mut options = CoreOptions::new(self.verify_key);
        let host: IpAddr = match self.host.as_deref() {
            None => IpAddr::from([127, 0, 0, 1]),
            Some(h) => h
                .parse()
                .map_err(|_| Error::invalid("host must be an IP address"))?,
        };
        let port = u16::try_from(self.port.unwrap_or(0))
            .map_err(|_| Error::invalid("port must be at most 65535"))?;
        options.addr = SocketAddr::new(host, port);
        if let Some(path) = self.path {
            options.path = path;
        }
        if let Some(header) = self.verify_header {
            options.verify_header = header;
        }
        if let Some(v) = self.max_body_bytes {
            options.max_body_bytes = v as usize;
        }
        if let Some(v) = self.queue_capacity {
            options.queue_capacity = v as usize;
        }
        Ok(options)
    }
}

/// A running webhook receiver (created by `startReceiver`).
#[napi]
#[derive(Debug)]
pub struct WebhookReceiver {
    url: String,
    port: u32,
    server: Mutex<Option<CoreReceiver>>,
}

/// Start a receiver; `onEvent` runs for every verified new event, one at a time, in order,
/// and is released when the receiver is closed.
#[napi(
    ts_args_type = "options: ReceiverOptions, onEvent: (event: string) => boolean",
    ts_return_type = "Promise<WebhookReceiver>"
)]
pub async fn start_receiver(
    options: ReceiverOptions,
    on_event: HandlerCallback,
) -> napi::Result<WebhookReceiver> {
    let options = options.into_core().map_err(js_error)?;
    let handler = move |event: flowai_core::models::WebhookEvent| -> bool {
        let (tx, rx) = mpsc::channel();
        let status = on_event.call_with_return_value(
            event.to_value().to_string(),
            ThreadsafeFunctionCallMode::Blocking,
            move |result: napi::Result<bool>, _env| {
                let _ = tx.send(result.unwrap_or(false));
                Ok(())
            },
        );
        status == Status::Ok && rx.recv_timeout(HANDLER_DEADLINE).unwrap_or(false)
    };
    let server = CoreReceiver::bind(options, handler)
        .await
        .map_err(js_error)?;
    Ok(WebhookReceiver {
        url: server.url(),
        port: u32::from(server.local_addr().port()),
        server: Mutex::new(Some(server)),
    })
}

#[napi]
impl WebhookReceiver {
    /// The URL to register as a webhook.
    #[napi(getter)]
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The port listened on.
    #[napi(getter)]
    pub fn port(&self) -> u32 {
        self.port
    }

    /// Stop accepting calls, finish the ones in progress, release the handler.
    #[napi]
    pub async fn close(&self) -> napi::Result<()> {
        let server = self.server.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(server) = server {
            server.shutdown().await;
        }
        Ok(())
    }
}
