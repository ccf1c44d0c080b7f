//! An embedded HTTP server that receives webhook calls and hands verified events to the app, in order.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use super::verify::{DEFAULT_VERIFY_HEADER, Verifier};
use crate::error::{Error, ErrorKind, Result};
use crate::models::WebhookEvent;
use crate::recent::RecentKeys;
use crate::secret::Secret;

/// The header carrying a delivery id; retries of one delivery repeat it.
pub const DELIVERY_ID_HEADER: &str = "x-flowai-delivery-id";

/// The path the receiver serves unless configured otherwise.
pub const DEFAULT_PATH: &str = "/webhook";

/// How a [`WebhookReceiver`] listens and protects itself.
#[derive(Debug, Clone)]
pub struct ReceiverOptions {
    /// Address to bind; default `127.0.0.1:0` (a free port on loopback).
    pub addr: SocketAddr,
    /// The one path served (GET for the subscription check, POST for calls); default [`DEFAULT_PATH`].
    pub path: String,
    /// The verify key given when the webhook was created.
    pub verify_key: Secret,
    /// Header the verify key is read from; default [`DEFAULT_VERIFY_HEADER`].
    pub verify_header: String,
    /// Largest accepted body; bigger calls get 413. Default 1 MiB.
    pub max_body_bytes: usize,
    /// Events waiting for the handler; when full, calls get 503 so the sender retries. Default 1024.
    pub queue_capacity: usize,
    /// How many accepted delivery ids are at least remembered (up to twice as many) to drop
    /// retried duplicates; 0 turns deduplication off. Default 4096.
    pub dedupe_capacity: usize,
}

impl ReceiverOptions {
    /// Defaults with the given verify key.
    pub fn new(verify_key: impl Into<Secret>) -> Self {
        ReceiverOptions {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            path: DEFAULT_PATH.to_string(),
            verify_key: verify_key.into(),
            verify_header: DEFAULT_VERIFY_HEADER.to_string(),
            max_body_bytes: 1024 * 1024,
            queue_capacity: 1024,
            dedupe_capacity: 4096,
        }
    }

    fn validate(&self) -> Result<Verifier> {
        if !self.path.starts_with('/') {
            return Err(Error::invalid("the receiver path must start with '/'"));
        }
        if self.queue_capacity == 0 || self.max_body_bytes == 0 {
            return Err(Error::invalid(
                "queue_capacity and max_body_bytes must be positive",
            ));
        }
        Verifier::new(self.verify_key.clone())?.with_header_name(&self.verify_header)
    }
}

/// What a handler's return value means: accepted (the sender gets 200) or not (500, and
/// the sender retries later).
pub trait Ack {
    /// Whether the event was accepted.
    fn accepted(self) -> bool;
}

impl Ack for () {
    fn accepted(self) -> bool {
        true
    }
}

impl Ack for bool {
    fn accepted(self) -> bool {
        self
    }
}

impl<T, E> Ack for std::result::Result<T, E> {
    fn accepted(self) -> bool {
        self.is_ok()
    }
}

/// Delivery ids in flight and recently accepted, bounded.
#[derive(Debug)]
struct Deliveries {
    in_flight: HashSet<String>,
    done: RecentKeys<String>,
}

#[derive(Debug, PartialEq)]
enum Claim {
    New,
    Done,
    InFlight,
}

impl Deliveries {
    fn new(capacity: usize) -> Self {
        Deliveries {
            in_flight: HashSet::new(),
            done: RecentKeys::new(capacity),
        }
    }

    fn claim(&mut self, id: &str) -> Claim {
        if self.done.contains(id) {
            Claim::Done
        } else if !self.in_flight.insert(id.to_string()) {
            Claim::InFlight
        } else {
            Claim::New
        }
    }

    fn finish(&mut self, id: &str, accepted: bool) {
        // The id claimed moves from one set to the other, not copied again.
        let claimed = self.in_flight.take(id);
        if accepted {
            self.done.insert(claimed.unwrap_or_else(|| id.to_string()));
        }
    }
}

type SharedDeliveries = Arc<Mutex<Deliveries>>;

fn lock(d: &SharedDeliveries) -> std::sync::MutexGuard<'_, Deliveries> {
    // The set stays consistent even if a holder panicked.
    d.lock().unwrap_or_else(|e| e.into_inner())
}

/// One event on its way to the handler, with where to report the outcome.
struct Job {
    event: WebhookEvent,
    delivery_id: Option<String>,
    done: oneshot::Sender<bool>,
}

struct Inner {
    verifier: Verifier,
    max_body: usize,
    queue: mpsc::Sender<Job>,
    deliveries: SharedDeliveries,
}

/// A running webhook receiver. Dropping it stops the server (gracefully, in the background).
///
/// Each POST is verified, parsed, queued, and answered once the handler has run: 200 when
/// it accepted the event, 500 when it declined or panicked. The handler runs on one
/// dedicated thread, so it sees events one at a time, in arrival order, and may block.
#[derive(Debug)]
pub struct WebhookReceiver {
    addr: SocketAddr,
    path: String,
    stop: watch::Sender<bool>,
    server: Option<JoinHandle<()>>,
}

impl WebhookReceiver {
    /// Bind and start serving on the current tokio runtime; `handler` gets every verified,
    /// new event and returns an [`Ack`] (`()`, `bool` or a `Result`).
    pub async fn bind<F, R>(options: ReceiverOptions, handler: F) -> Result<WebhookReceiver>
    where
        F: Fn(WebhookEvent) -> R + Send + 'static,
        R: Ack,
    {
        let verifier = options.validate()?;
        let (queue, jobs) = mpsc::channel(options.queue_capacity);
        let deliveries = Arc::new(Mutex::new(Deliveries::new(options.dedupe_capacity)));
        spawn_handler(jobs, deliveries.clone(), move |e| handler(e).accepted())?;
        let listener = tokio::net::TcpListener::bind(options.addr)
            .await
            .map_err(|e| Error::from(e).context("cannot bind the webhook receiver"))?;
        let addr = listener.local_addr()?;
        let inner = Arc::new(Inner {
            verifier,
            max_body: options.max_body_bytes,
            queue,
            deliveries,
        });
        let router = Router::new()
            .route(&options.path, get(answer_check).post(receive))
            .with_state(inner);
        let (stop, server) = serve(listener, router);
        Ok(WebhookReceiver {
            addr,
            path: options.path,
            stop,
            server: Some(server),
        })
    }

    /// Like [`WebhookReceiver::bind`], but events arrive on a channel. An event counts as
    /// accepted once it is in the channel; when the channel stays full the sender retries.
    pub async fn bind_channel(
        options: ReceiverOptions,
    ) -> Result<(WebhookReceiver, mpsc::Receiver<WebhookEvent>)> {
        let (tx, rx) = mpsc::channel(options.queue_capacity.max(1));
        let receiver = WebhookReceiver::bind(options, move |e| tx.blocking_send(e).is_ok()).await?;
        Ok((receiver, rx))
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL to register as a webhook, e.g. `http://127.0.0.1:PORT/webhook`.
    pub fn url(&self) -> String {
        format!("http://{}{}", self.addr, self.path)
    }

    /// Stop accepting calls, let the ones in progress finish, and wait for the server to end.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
) -> (watch::Sender<bool>, JoinHandle<()>) {
    let (stop, mut stopped) = watch::channel(false);
    let server = tokio::spawn(async move {
        let signal = async move {
            let _ = stopped.wait_for(|s| *s).await;
        };
        if let Err(e) = axum::serve(listener, router)
            .with_graceful_shutdown(signal)
            .await
        {
            tracing::warn!("webhook receiver stopped: {e}");
        }
    });
    (stop, server)
}

/// The handler thread: one event at a time, a panic turned into "not accepted".
fn spawn_handler<F>(
    mut jobs: mpsc::Receiver<Job>,
    deliveries: SharedDeliveries,
    handler: F,
) -> Result<()>
where
    F: Fn(WebhookEvent) -> bool + Send + 'static,
{
    let run = move || {
        while let Some(job) = next_job(&mut jobs) {
            let accepted = std::panic::catch_unwind(AssertUnwindSafe(|| handler(job.event)))
                .unwrap_or_else(|_| {
                    tracing::error!("webhook handler panicked; the call is answered 500");
                    false
                });
            if let Some(id) = &job.delivery_id {
                lock(&deliveries).finish(id, accepted);
            }
            let _ = job.done.send(accepted);
        }
    };
    std::thread::Builder::new()
        .name("flowai-webhook".into())
        .spawn(run)
        .map(drop)
        .map_err(|e| Error::internal(format!("cannot start the webhook handler thread: {e}")))
}

/// Yields to other threads before the handler thread sleeps on an empty queue.
const SPINS: u32 = 64;

/// The next job. Under load the next call is usually a few microseconds away and waking a
/// sleeping thread costs more than that, so the thread first yields its core a few times
/// (to the server's workers, when they have work) and checks again before it sleeps.
fn next_job(jobs: &mut mpsc::Receiver<Job>) -> Option<Job> {
    for _ in 0..SPINS {
        match jobs.try_recv() {
            Ok(job) => return Some(job),
            Err(mpsc::error::TryRecvError::Disconnected) => return None,
            Err(mpsc::error::TryRecvError::Empty) => std::thread::yield_now(),
        }
    }
    jobs.blocking_recv()
}

/// The subscription check Flow.ai makes when a webhook is created.
async fn answer_check() -> &'static str {
    "ok"
}

async fn receive(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Body,
) -> Response {
    match accept(&inner, &headers, query.as_deref(), body).await {
        Ok(status) => (status, status.canonical_reason().unwrap_or("")).into_response(),
        Err(status) => (status, status.canonical_reason().unwrap_or("")).into_response(),
    }
}

/// The whole life of one call; `Err` holds the refusal status.
async fn accept(
    inner: &Inner,
    headers: &HeaderMap,
    query: Option<&str>,
    body: Body,
) -> std::result::Result<StatusCode, StatusCode> {
    if declared_length(headers).is_some_and(|n| n > inner.max_body as u64) {
        return Err(StatusCode::PAYLOAD_TOO_LARGE);
    }
    let check = inner
        .verifier
        .check_headers(headers, query)
        .map_err(refusal)?;
    let bytes = axum::body::to_bytes(body, inner.max_body)
        .await
        .map_err(|_| StatusCode::PAYLOAD_TOO_LARGE)?;
    let event = inner
        .verifier
        .parse_checked(check, &bytes)
        .map_err(refusal)?;
    let delivery_id = delivery_id(headers);
    if let Some(id) = &delivery_id {
        match lock(&inner.deliveries).claim(id) {
            Claim::New => {}
            Claim::Done => return Ok(StatusCode::OK),
            Claim::InFlight => return Err(StatusCode::SERVICE_UNAVAILABLE),
        }
    }
    hand_over(inner, event, delivery_id).await
}

/// Queue the event and wait for the handler's verdict.
async fn hand_over(
    inner: &Inner,
    event: WebhookEvent,
    delivery_id: Option<String>,
) -> std::result::Result<StatusCode, StatusCode> {
    let (done, verdict) = oneshot::channel();
    let job = Job {
        event,
        delivery_id: delivery_id.clone(),
        done,
    };
    if inner.queue.try_send(job).is_err() {
        if let Some(id) = &delivery_id {
            lock(&inner.deliveries).finish(id, false);
        }
        return Err(StatusCode::SERVICE_UNAVAILABLE);
    }
    match verdict.await {
        Ok(true) => Ok(StatusCode::OK),
        Ok(false) => Err(StatusCode::INTERNAL_SERVER_ERROR),
        Err(_) => Err(StatusCode::SERVICE_UNAVAILABLE),
    }
}

fn refusal(err: Error) -> StatusCode {
    match err.kind() {
        ErrorKind::Verification => StatusCode::UNAUTHORIZED,
        _ => StatusCode::BAD_REQUEST,
    }
}

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn delivery_id(headers: &HeaderMap) -> Option<String> {
    let id = headers.get(DELIVERY_ID_HEADER)?.to_str().ok()?.trim();
    (!id.is_empty()).then(|| id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deliveries_remember_accepted_ids_boundedly() {
        let mut d = Deliveries::new(2);
        assert_eq!(d.claim("a"), Claim::New);
        assert_eq!(d.claim("a"), Claim::InFlight);
        d.finish("a", false);
        assert_eq!(d.claim("a"), Claim::New);
        d.finish("a", true);
        assert_eq!(d.claim("a"), Claim::Done);
        // At least the latest two are remembered, at most four.
        for id in ["b", "c", "d", "e"] {
            d.claim(id);
            d.finish(id, true);
        }
        assert_eq!(d.claim("a"), Claim::New);
    }
}
