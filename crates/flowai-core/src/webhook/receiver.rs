//! An embedded HTTP server that receives webhook calls and hands verified events to the app, in order.

use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use super::dedupe::{Claim, DedupeStore, MemoryStore, dedupe_key};
use super::verify::{DEFAULT_VERIFY_HEADER, Verifier};
use crate::error::{Error, ErrorKind, Result};
use crate::models::WebhookEvent;
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
    /// retried duplicates; 0 turns deduplication off. Default 4096. Used without `dedup_url`.
    pub dedupe_capacity: usize,
    /// A Redis shared by every replica (`redis://host:port`) instead of this process's
    /// memory; needs the `redis` feature. Default none.
    pub dedup_url: Option<Secret>,
    /// How long a shared claim holds a call; longer than the slowest handler. Default 60 s.
    pub dedup_claim_ttl: Duration,
    /// How long a handled call is remembered in the shared store. Default 24 h.
    pub dedup_done_ttl: Duration,
    /// When the shared store cannot be reached, handle calls anyway (they may then be
    /// handled twice) instead of answering 503. Default false.
    pub dedup_fail_open: bool,
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
            dedup_url: None,
            dedup_claim_ttl: Duration::from_secs(60),
            dedup_done_ttl: Duration::from_secs(24 * 3600),
            dedup_fail_open: false,
        }
    }

    /// The store these options ask for; `None` when deduplication is off.
    fn store(&self) -> Result<Option<Arc<dyn DedupeStore>>> {
        let Some(url) = &self.dedup_url else {
            return Ok((self.dedupe_capacity > 0).then(|| {
                Arc::new(MemoryStore::new(self.dedupe_capacity)) as Arc<dyn DedupeStore>
            }));
        };
        if self.dedup_claim_ttl.is_zero() || self.dedup_done_ttl.is_zero() {
            return Err(Error::invalid(
                "dedup_claim_ttl_ms and dedup_done_ttl_ms must be greater than 0",
            ));
        }
        shared_store(url, self)
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

#[cfg(feature = "redis")]
fn shared_store(url: &Secret, o: &ReceiverOptions) -> Result<Option<Arc<dyn DedupeStore>>> {
    use super::redis_store::{RedisStore, RedisStoreOptions};
    let options = RedisStoreOptions {
        claim_ttl: o.dedup_claim_ttl,
        done_ttl: o.dedup_done_ttl,
        ..RedisStoreOptions::default()
    };
    Ok(Some(Arc::new(RedisStore::new(url.expose(), options)?)))
}

#[cfg(not(feature = "redis"))]
fn shared_store(url: &Secret, _: &ReceiverOptions) -> Result<Option<Arc<dyn DedupeStore>>> {
    super::dedupe::redis_target(url.expose())?;
    Err(Error::invalid(
        "dedup_url needs flowai-core built with its `redis` feature",
    ))
}

/// One event on its way to the handler, with where to report the outcome.
struct Job {
    event: WebhookEvent,
    done: oneshot::Sender<bool>,
}

/// A call claimed in the store: its key and the claim's token.
struct Claimed {
    key: String,
    token: String,
}

struct Inner {
    verifier: Verifier,
    max_body: usize,
    queue: mpsc::Sender<Job>,
    store: Option<Arc<dyn DedupeStore>>,
    fail_open: bool,
    claim_ttl: Duration,
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
        let store = options.store()?;
        WebhookReceiver::bind_with_store(options, store, handler).await
    }

    /// Like [`WebhookReceiver::bind`], with a dedupe store of the app's own (or none):
    /// `options.dedup_url` and `options.dedupe_capacity` are not used.
    pub async fn bind_with_store<F, R>(
        options: ReceiverOptions,
        store: Option<Arc<dyn DedupeStore>>,
        handler: F,
    ) -> Result<WebhookReceiver>
    where
        F: Fn(WebhookEvent) -> R + Send + 'static,
        R: Ack,
    {
        let verifier = options.validate()?;
        let (queue, jobs) = mpsc::channel(options.queue_capacity);
        spawn_handler(jobs, move |e| handler(e).accepted())?;
        let listener = tokio::net::TcpListener::bind(options.addr)
            .await
            .map_err(|e| Error::from(e).context("cannot bind the webhook receiver"))?;
        let addr = listener.local_addr()?;
        let inner = Arc::new(Inner {
            verifier,
            max_body: options.max_body_bytes,
            queue,
            store,
            fail_open: options.dedup_fail_open,
            claim_ttl: options.dedup_claim_ttl,
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
fn spawn_handler<F>(mut jobs: mpsc::Receiver<Job>, handler: F) -> Result<()>
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
    let claimed = match &inner.store {
        Some(store) => claim(inner, store, headers, &bytes).await?,
        None => None,
    };
    hand_over(inner, event, claimed).await
}

/// Claim the call in the store: `Ok(None)` when it has no key (or the store is away and
/// the receiver fails open), `Err` with the answer when the handler must not run (200
/// for a call handled already, 503 for one held elsewhere or a store that is away).
async fn claim(
    inner: &Inner,
    store: &Arc<dyn DedupeStore>,
    headers: &HeaderMap,
    body: &[u8],
) -> std::result::Result<Option<Claimed>, StatusCode> {
    let Some(key) = dedupe_key(delivery_id(headers), body, store.keys_bodies()) else {
        return Ok(None);
    };
    match store.claim(&key).await {
        Ok(Claim::New(token)) => Ok(Some(Claimed { key, token })),
        Ok(Claim::Done) => Err(StatusCode::OK),
        Ok(Claim::InFlight) => Err(StatusCode::SERVICE_UNAVAILABLE),
        Err(e) if inner.fail_open => {
            tracing::warn!("{e}; handling the call without deduplication (fail open)");
            Ok(None)
        }
        Err(e) => {
            tracing::warn!("{e}; the call is answered 503 so that the sender retries");
            Err(StatusCode::SERVICE_UNAVAILABLE)
        }
    }
}

/// Queue the event and wait for the handler's verdict, written to the store before the
/// answer goes out.
async fn hand_over(
    inner: &Inner,
    event: WebhookEvent,
    claimed: Option<Claimed>,
) -> std::result::Result<StatusCode, StatusCode> {
    let (done, verdict) = oneshot::channel();
    let job = Job { event, done };
    if inner.queue.try_send(job).is_err() {
        if let (Some(store), Some(c)) = (&inner.store, &claimed) {
            let _ = store.release(&c.key, &c.token).await;
        }
        return Err(StatusCode::SERVICE_UNAVAILABLE);
    }
    let outcome = match (&inner.store, claimed) {
        (Some(store), Some(c)) => {
            let mut pending = Pending {
                store: store.clone(),
                claimed: Some(c),
                verdict: Some(verdict),
                accepted: None,
                claim_ttl: inner.claim_ttl,
            };
            pending.finish().await
        }
        _ => verdict.await.ok(),
    };
    match outcome {
        Some(true) => Ok(StatusCode::OK),
        Some(false) => Err(StatusCode::INTERNAL_SERVER_ERROR),
        None => Err(StatusCode::SERVICE_UNAVAILABLE),
    }
}

/// A claimed call whose verdict is still to be written to the store. When the sender
/// hangs up, axum drops the request's future; dropped unfinished, this finishes in a
/// task of its own, so a call never leaves a claim held until it expires (which would
/// make a handled call run again, or hold a declined one back).
struct Pending {
    store: Arc<dyn DedupeStore>,
    claimed: Option<Claimed>,
    verdict: Option<oneshot::Receiver<bool>>,
    accepted: Option<bool>,
    claim_ttl: Duration,
}

impl Pending {
    /// Wait for the verdict and record it; `None` when the handler thread is gone.
    async fn finish(&mut self) -> Option<bool> {
        let verdict = match self.verdict.as_mut() {
            Some(v) => v.await.ok(),
            None => None,
        };
        self.verdict = None;
        self.accepted = Some(verdict == Some(true));
        if let Some(c) = &self.claimed {
            record(&self.store, c, verdict == Some(true), self.claim_ttl).await;
        }
        self.claimed = None;
        verdict
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        let Some(claimed) = self.claimed.take() else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let mut rest = Pending {
            store: self.store.clone(),
            claimed: Some(claimed),
            verdict: self.verdict.take(),
            accepted: self.accepted,
            claim_ttl: self.claim_ttl,
        };
        runtime.spawn(async move {
            match rest.accepted {
                Some(accepted) => {
                    if let Some(c) = rest.claimed.take() {
                        record(&rest.store, &c, accepted, rest.claim_ttl).await;
                    }
                }
                None => {
                    rest.finish().await;
                }
            }
        });
    }
}

/// Write a handler's verdict to the store. A done mark that cannot be written now is
/// retried in the background while the claim still holds the call (the handler ran, so
/// the call is answered 200 either way); a release that fails leaves the claim to expire.
async fn record(store: &Arc<dyn DedupeStore>, c: &Claimed, accepted: bool, claim_ttl: Duration) {
    if !accepted {
        if let Err(e) = store.release(&c.key, &c.token).await {
            tracing::warn!("{e}; the declined call is retried once its claim expires");
        }
        return;
    }
    if store.done(&c.key, &c.token).await.is_ok() {
        return;
    }
    let (store, key, token) = (store.clone(), c.key.clone(), c.token.clone());
    tokio::spawn(async move {
        let deadline = tokio::time::Instant::now() + claim_ttl;
        let mut wait = Duration::from_millis(20);
        loop {
            tokio::time::sleep(wait).await;
            match store.done(&key, &token).await {
                Ok(()) => return,
                Err(e) if tokio::time::Instant::now() + wait >= deadline => {
                    tracing::warn!(
                        "{e}; a handled call may be handled again once its claim expires"
                    );
                    return;
                }
                Err(_) => wait = (wait * 2).min(Duration::from_millis(250)),
            }
        }
    });
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

fn delivery_id(headers: &HeaderMap) -> Option<&str> {
    let id = headers.get(DELIVERY_ID_HEADER)?.to_str().ok()?.trim();
    (!id.is_empty()).then_some(id)
}
