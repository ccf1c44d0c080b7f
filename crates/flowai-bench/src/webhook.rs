//! The webhook receiver scenario: verified events per second into a callback, through
//! flowai-core's receiver and through a minimal axum handler doing the same verification.
//!
//! A load generator on a thread of its own plays the service: keep-alive HTTP/1.1
//! connections posting `message.reply` events with the verify key and a delivery id
//! header, as the emulator's webhook delivery does. The SDK's receiver runs with its
//! memory store, or with a Redis store as replicas share one.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use flowai_core::models::WebhookEvent;
use flowai_core::secret::constant_time_eq;
use flowai_core::webhook::{ReceiverOptions, WebhookReceiver};
use http_body_util::{BodyExt, Full};
use tokio::sync::oneshot;

use crate::stats;

/// Keep-alive connections of the load generator.
const CONNECTIONS: usize = 32;
/// The verify key both receivers expect.
const VERIFY_KEY: &str = "bench-verify-key-0123456789abcdef";
/// Largest body either receiver reads, as the SDK's default.
const MAX_BODY: usize = 1024 * 1024;

fn fail(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// A `message.reply` call body shaped like the emulator's.
fn event_body() -> Bytes {
    let body = serde_json::json!({
        "type": "message.reply",
        "payload": {
            "threadId": "0f8fad5bd9cb469fa165708e4bd8e5a1|b5b1c1a0",
            "traceId": 1_700_000_000_001u64,
            "messages": [{
                "fallback": "Hi there! How can I help you today?",
                "replyTo": "hello",
                "responses": [{
                    "type": "text",
                    "payload": {
                        "text": "Hi there! How can I help you today?",
                        "quickReplies": [
                            { "label": "Weather", "value": "weather", "type": "text" },
                            { "label": "Help", "value": "help", "type": "text" }
                        ]
                    },
                    "delay": 0
                }],
                "flow": { "flowId": "greeting", "title": "Greeting" }
            }],
            "originator": { "userId": "flowai|system", "name": "system", "role": "bot" }
        }
    });
    Bytes::from(body.to_string())
}

/// Which receiver to drive.
#[derive(Debug, Clone)]
pub enum Receiver {
    /// flowai-core's [`WebhookReceiver`], deduplicating in memory.
    Sdk,
    /// flowai-core's [`WebhookReceiver`], deduplicating through the Redis at this URL.
    SdkRedis(String),
    /// A minimal axum handler.
    Raw,
}

/// Verified events per second that reached the callback during `measure`.
pub async fn run(which: Receiver, warmup: Duration, measure: Duration) -> Result<f64, String> {
    let count = Arc::new(AtomicU64::new(0));
    let shared = match &which {
        Receiver::SdkRedis(url) => Some(url.clone()),
        Receiver::Sdk | Receiver::Raw => None,
    };
    let (addr, server) = match which {
        Receiver::Sdk | Receiver::SdkRedis(_) => {
            let counter = count.clone();
            let mut options = ReceiverOptions::new(VERIFY_KEY);
            options.dedup_url = shared.map(Into::into);
            let receiver = WebhookReceiver::bind(options, move |e| {
                if matches!(e, WebhookEvent::Reply(_)) {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            })
            .await
            .map_err(fail)?;
            (receiver.local_addr(), Server::Sdk(receiver))
        }
        Receiver::Raw => {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(fail)?;
            let addr = listener.local_addr().map_err(fail)?;
            let router = Router::new()
                .route("/webhook", post(raw_receive))
                .with_state(count.clone());
            let task = tokio::spawn(async move {
                let _ = axum::serve(listener, router).await;
            });
            (addr, Server::Raw(task))
        }
    };
    let (done_tx, done_rx) = oneshot::channel();
    let counter = count.clone();
    std::thread::Builder::new()
        .name("bench-webhook-load".into())
        .spawn(move || {
            let result = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(fail)
                .and_then(|rt| rt.block_on(load(addr, warmup, measure, counter)));
            let _ = done_tx.send(result);
        })
        .map_err(fail)?;
    let result = done_rx
        .await
        .map_err(|_| "the load generator stopped".to_string())?;
    match server {
        Server::Sdk(receiver) => receiver.shutdown().await,
        Server::Raw(task) => task.abort(),
    }
    let delivered = result?;
    Ok(stats::rate(delivered, measure))
}

enum Server {
    Sdk(WebhookReceiver),
    Raw(tokio::task::JoinHandle<()>),
}

/// The baseline: cap, verify in constant time, parse, hand to the callback.
async fn raw_receive(
    State(count): State<Arc<AtomicU64>>,
    headers: HeaderMap,
    body: Body,
) -> StatusCode {
    let key = headers
        .get("x-flowai-verify-key")
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if !constant_time_eq(key, VERIFY_KEY.as_bytes()) {
        return StatusCode::UNAUTHORIZED;
    }
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return StatusCode::PAYLOAD_TOO_LARGE;
    };
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return StatusCode::BAD_REQUEST;
    };
    match WebhookEvent::from_value(value) {
        Ok(WebhookEvent::Reply(_)) => {
            count.fetch_add(1, Ordering::Relaxed);
            StatusCode::OK
        }
        Ok(_) => StatusCode::OK,
        Err(_) => StatusCode::BAD_REQUEST,
    }
}

/// Post events over [`CONNECTIONS`] keep-alive connections; events the callback saw during `measure`.
async fn load(
    addr: SocketAddr,
    warmup: Duration,
    measure: Duration,
    counter: Arc<AtomicU64>,
) -> Result<u64, String> {
    let body = event_body();
    // Delivery ids new to a store that outlives one run.
    let run = uuid::Uuid::new_v4().simple().to_string();
    let next_id = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let end = start + warmup + measure;
    let mut tasks = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        let (body, next_id, run) = (body.clone(), next_id.clone(), run.clone());
        tasks.push(tokio::spawn(async move {
            let stream = tokio::net::TcpStream::connect(addr).await.map_err(fail)?;
            stream.set_nodelay(true).map_err(fail)?;
            let (mut sender, conn) =
                hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                    .await
                    .map_err(fail)?;
            tokio::spawn(conn);
            while Instant::now() < end {
                let id = next_id.fetch_add(1, Ordering::Relaxed);
                let request = hyper::Request::post("/webhook")
                    .header(hyper::header::HOST, addr.to_string())
                    .header(hyper::header::CONTENT_TYPE, "application/json")
                    .header("x-flowai-verify-key", VERIFY_KEY)
                    .header("x-flowai-delivery-id", format!("d-{run}-{id}"))
                    .body(Full::new(body.clone()))
                    .map_err(fail)?;
                sender.ready().await.map_err(fail)?;
                let response = sender.send_request(request).await.map_err(fail)?;
                let status = response.status();
                response.into_body().collect().await.map_err(fail)?;
                if status != hyper::StatusCode::OK {
                    return Err(format!("the receiver answered {status}"));
                }
            }
            Ok::<(), String>(())
        }));
    }
    tokio::time::sleep_until((start + warmup).into()).await;
    let before = counter.load(Ordering::Relaxed);
    tokio::time::sleep_until(end.into()).await;
    let after = counter.load(Ordering::Relaxed);
    for t in tasks {
        t.await.map_err(fail)??;
    }
    Ok(after - before)
}
