//! Webhook subscriptions (CRUD under `/v1/messaging/webhooks`) and event delivery with retries.
//!
//! The API reference's examples write the paths `/messages/v1/webhooks[/{id}]` while its
//! endpoint lines say `/v1/messaging/webhooks[/{id}]`; clients written from either work, and
//! the `Location` of a created webhook names the path its create used. Updates come as PUT
//! (its example) or POST (its endpoint line).
//!
//! Every event is posted as JSON `{"type", "payload"}` with the headers
//! `X-Flowai-Verify-Key` (the webhook's verify key) and `X-Flowai-Delivery-Id` (the same
//! for every retry of one event to one webhook). Only a 2xx answer counts as delivered;
//! redirects are failures and are not followed. Failed calls are retried with exponential
//! backoff (1 s doubling up to 30 min, times `time_scale`) until the retry window
//! (`webhook_retry_window`, times `time_scale`) would be exceeded. Each webhook has its own
//! queue and worker, so its deliveries arrive in order.
//!
//! To stand in for a load balancer in front of receiver replicas, a [`DeliveryPlan`]
//! (in-process, or `/_emulator/webhooks/delivery`) spreads a webhook's calls round robin
//! over several receiver URLs (every attempt goes to the next one, so a retry usually lands
//! on another replica), lets several calls be in flight at once, and as a fault re-delivers
//! a share of calls, with the same delivery id, to a different receiver.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use flowai_core::models::Webhook;
use flowai_core::secret::Secret;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::{Semaphore, mpsc};

use crate::auth::{error_response, require_bearer};
use crate::{AppState, EmulatorOptions};

/// Header carrying the webhook's verify key.
pub const VERIFY_KEY_HEADER: &str = "X-Flowai-Verify-Key";
/// Header carrying the delivery id, equal across retries of one event.
pub const DELIVERY_ID_HEADER: &str = "X-Flowai-Delivery-Id";
/// Wait before the first retry (before `time_scale`).
pub const BASE_RETRY_DELAY: Duration = Duration::from_secs(1);
/// Longest wait between two attempts (before `time_scale`).
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(30 * 60);

/// Events waiting per webhook; beyond this new events for it are dropped with a warning.
const QUEUE_CAPACITY: usize = 100_000;
/// Delivery attempts kept for inspection.
const MAX_ATTEMPT_RECORDS: usize = 10_000;

/// One call made to a webhook.
#[derive(Clone, Debug, PartialEq)]
pub struct DeliveryAttempt {
    /// The webhook called.
    pub webhook_id: String,
    /// The URL called.
    pub url: String,
    /// Event type (`message.reply`, ...).
    pub event_type: String,
    /// Delivery id, the same for every attempt of one event.
    pub delivery_id: String,
    /// 1 for the first call, 2 for the first retry, ...
    pub attempt: u32,
    /// How long the sender waited after the previous attempt (zero for the first).
    pub delay_before: Duration,
    /// HTTP status, when an answer came.
    pub status: Option<u16>,
    /// Why no answer came (timeout, refused connection).
    pub error: Option<String>,
    /// Whether the call counts as delivered (2xx).
    pub delivered: bool,
    /// Whether this was the last attempt because the retry window is used up.
    pub gave_up: bool,
}

/// How calls are spread over receivers; the default is the plain service: one URL per
/// webhook, one call at a time, no re-delivery.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct DeliveryPlan {
    /// Receiver URLs called round robin, one per attempt, instead of each webhook's url
    /// (the webhook's url still gets the verification GET). Empty: the webhook's url.
    pub receivers: Vec<String>,
    /// Calls of one webhook in flight at once; 0 and 1 deliver one at a time, in order.
    /// Takes effect for webhooks whose first event comes after it is set.
    pub concurrency: usize,
    /// Fault: this share of calls (in percent, 0 to 100) is delivered a second time, with
    /// the same delivery id and its own retries, to a different receiver.
    pub redeliver_percent: u8,
}

/// Counts over every delivery since the emulator started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryStats {
    /// Events queued (one per webhook they went to).
    pub queued: u64,
    /// Events acknowledged with 2xx (re-deliveries not counted).
    pub delivered: u64,
    /// Events given up after the retry window.
    pub gave_up: u64,
    /// Re-deliveries started by the `redeliver_percent` fault.
    pub redelivered: u64,
    /// Re-deliveries finished (acknowledged or given up).
    pub redeliveries_finished: u64,
    /// Calls made, first attempts, retries and re-deliveries together.
    pub calls: u64,
    /// Calls not answered with 2xx.
    pub failed_calls: u64,
    /// Calls answered 503: the receiver asked to be called again later.
    pub unavailable: u64,
}

#[derive(Debug, Default)]
struct Counters {
    queued: AtomicU64,
    delivered: AtomicU64,
    gave_up: AtomicU64,
    redelivered: AtomicU64,
    redeliveries_finished: AtomicU64,
    calls: AtomicU64,
    failed_calls: AtomicU64,
    unavailable: AtomicU64,
}

#[derive(Clone)]
struct Job {
    event_type: String,
    delivery_id: String,
    body: Bytes,
}

struct Inner {
    hooks: Mutex<Vec<Webhook>>,
    queues: Mutex<HashMap<String, mpsc::Sender<Job>>>,
    attempts: Mutex<VecDeque<DeliveryAttempt>>,
    plan: Mutex<DeliveryPlan>,
    /// Round robin position over the plan's receivers.
    next_receiver: AtomicU64,
    /// Calls seen, for picking which ones the re-delivery fault repeats.
    sequence: AtomicU64,
    counters: Counters,
    client: reqwest::Client,
    time_scale: f64,
    retry_window: Duration,
    timeout: Duration,
}

/// Webhook subscriptions, their delivery queues and a record of delivery attempts.
#[derive(Clone)]
pub struct WebhookState {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for WebhookState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookState")
            .field("webhooks", &lock(&self.inner.hooks).len())
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned lock still holds valid plain data.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl WebhookState {
    /// Fresh state with the emulator's timings.
    pub fn new(options: &EmulatorOptions) -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(options.webhook_timeout)
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        WebhookState {
            inner: Arc::new(Inner {
                hooks: Mutex::new(Vec::new()),
                queues: Mutex::new(HashMap::new()),
                attempts: Mutex::new(VecDeque::new()),
                plan: Mutex::new(DeliveryPlan::default()),
                next_receiver: AtomicU64::new(0),
                sequence: AtomicU64::new(0),
                counters: Counters::default(),
                client,
                time_scale: options.time_scale.max(0.0),
                retry_window: options.webhook_retry_window,
                timeout: options.webhook_timeout,
            }),
        }
    }

    /// Every webhook, oldest first.
    pub fn webhooks(&self) -> Vec<Webhook> {
        lock(&self.inner.hooks).clone()
    }

    /// How calls are spread over receivers now.
    pub fn delivery_plan(&self) -> DeliveryPlan {
        lock(&self.inner.plan).clone()
    }

    /// Spread calls as `plan` says; `Err` names what is wrong with it.
    pub fn set_delivery_plan(&self, plan: DeliveryPlan) -> Result<(), String> {
        if plan.redeliver_percent > 100 {
            return Err("redeliverPercent must be between 0 and 100".into());
        }
        for url in &plan.receivers {
            match url::Url::parse(url) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => {}
                _ => return Err(format!("receiver {url:?} is not an absolute http(s) URL")),
            }
        }
        *lock(&self.inner.plan) = plan;
        Ok(())
    }

    /// Counts over every delivery so far.
    pub fn delivery_stats(&self) -> DeliveryStats {
        let c = &self.inner.counters;
        let get = |a: &AtomicU64| a.load(Ordering::SeqCst);
        DeliveryStats {
            queued: get(&c.queued),
            delivered: get(&c.delivered),
            gave_up: get(&c.gave_up),
            redelivered: get(&c.redelivered),
            redeliveries_finished: get(&c.redeliveries_finished),
            calls: get(&c.calls),
            failed_calls: get(&c.failed_calls),
            unavailable: get(&c.unavailable),
        }
    }

    /// The delivery attempts made so far (the most recent 10,000), oldest first.
    pub fn attempts(&self) -> Vec<DeliveryAttempt> {
        lock(&self.inner.attempts).iter().cloned().collect()
    }

    /// The wait after failed attempt number `attempt` (1-based), after `time_scale`.
    pub fn retry_delay(&self, attempt: u32) -> Duration {
        retry_delay(self.inner.time_scale, attempt)
    }

    /// Whether any webhook of the organisation subscribes to `event_type` (a cheap check
    /// before building a payload).
    pub fn is_subscribed(&self, organisation_id: &str, event_type: &str) -> bool {
        lock(&self.inner.hooks).iter().any(|h| {
            h.organisation_id == organisation_id && h.events.iter().any(|e| e == event_type)
        })
    }

    /// Queue an event for every webhook of the organisation subscribed to `event_type`;
    /// returns how many webhooks it was queued for. Delivery runs in the background.
    pub fn enqueue(&self, organisation_id: &str, event_type: &str, payload: Value) -> usize {
        let targets: Vec<String> = lock(&self.inner.hooks)
            .iter()
            .filter(|h| h.organisation_id == organisation_id)
            .filter(|h| h.events.iter().any(|e| e == event_type))
            .map(|h| h.webhook_id.clone())
            .collect();
        if targets.is_empty() {
            return 0;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!("webhook event dropped: no tokio runtime");
            return 0;
        };
        let body = match serde_json::to_vec(&json!({ "type": event_type, "payload": payload })) {
            Ok(b) => Bytes::from(b),
            Err(_) => return 0,
        };
        let mut queued = 0;
        let concurrency = lock(&self.inner.plan).concurrency.max(1);
        let mut queues = lock(&self.inner.queues);
        for id in targets {
            let sender = queues.entry(id.clone()).or_insert_with(|| {
                let (tx, rx) = mpsc::channel(QUEUE_CAPACITY);
                let weak = Arc::downgrade(&self.inner);
                runtime.spawn(worker(weak, id.clone(), rx, concurrency));
                tx
            });
            let job = Job {
                event_type: event_type.to_string(),
                delivery_id: uuid::Uuid::new_v4().to_string(),
                body: body.clone(),
            };
            match sender.try_send(job) {
                Ok(()) => {
                    queued += 1;
                    self.inner.counters.queued.fetch_add(1, Ordering::SeqCst);
                }
                Err(_) => tracing::warn!("webhook queue full: {event_type} event dropped"),
            }
        }
        queued
    }

    fn find(&self, id: &str) -> Option<Webhook> {
        lock(&self.inner.hooks)
            .iter()
            .find(|h| h.webhook_id == id)
            .cloned()
    }

    /// Send the verification GET; `Err` is the message of a 400 answer.
    async fn verify_url(&self, url: &str, verify_key: &Secret) -> Result<(), String> {
        let mut request = self.inner.client.get(url).timeout(self.inner.timeout);
        if let Ok(v) = HeaderValue::from_str(verify_key.expose()) {
            request = request.header(VERIFY_KEY_HEADER, v);
        }
        match request.send().await {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => Err(format!(
                "webhook verification failed: the url answered GET with HTTP {} (2xx required)",
                r.status().as_u16()
            )),
            Err(e) if e.is_timeout() => {
                Err("webhook verification failed: the url did not answer GET in time".into())
            }
            Err(_) => Err("webhook verification failed: the url could not be reached".into()),
        }
    }
}

fn retry_delay(time_scale: f64, attempt: u32) -> Duration {
    let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(31));
    BASE_RETRY_DELAY
        .saturating_mul(factor)
        .min(MAX_RETRY_DELAY)
        .mul_f64(time_scale)
}

/// Delivers one webhook's events: in order, or up to `concurrency` at once. It holds the
/// state weakly, so it ends once the emulator is gone, even in the middle of a retry schedule.
async fn worker(
    inner: Weak<Inner>,
    webhook_id: String,
    mut rx: mpsc::Receiver<Job>,
    concurrency: usize,
) {
    let slots = Arc::new(Semaphore::new(concurrency));
    while let Some(job) = rx.recv().await {
        let Some(first) = inner
            .upgrade()
            .map(|i| i.next_receiver.fetch_add(1, Ordering::SeqCst))
        else {
            return;
        };
        redeliver_maybe(&inner, &webhook_id, &job, first);
        if concurrency <= 1 {
            deliver(&inner, &webhook_id, job, Kind::First, first).await;
            continue;
        }
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let (inner, webhook_id) = (inner.clone(), webhook_id.clone());
        tokio::spawn(async move {
            deliver(&inner, &webhook_id, job, Kind::First, first).await;
            drop(slot);
        });
    }
}

/// Whether a delivery is an event's own or a repeat made by the re-delivery fault.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    First,
    Repeat,
}

/// The re-delivery fault: every so many calls (as `redeliver_percent` says), deliver the
/// call again, by itself, a moment later, starting at the receiver after the one the
/// first delivery starts at.
fn redeliver_maybe(weak: &Weak<Inner>, webhook_id: &str, job: &Job, first: u64) {
    let Some(inner) = weak.upgrade() else {
        return;
    };
    let percent = u64::from(lock(&inner.plan).redeliver_percent);
    let n = inner.sequence.fetch_add(1, Ordering::SeqCst);
    // Spread evenly: call n is repeated when the running share crosses a whole call.
    if percent == 0 || (n + 1) * percent / 100 == n * percent / 100 {
        return;
    }
    inner.counters.redelivered.fetch_add(1, Ordering::SeqCst);
    let (weak, webhook_id, job) = (weak.clone(), webhook_id.to_string(), job.clone());
    // A varying head start: some repeats race the first delivery, others come after it.
    let head_start = Duration::from_millis(n % 4 * 5);
    tokio::spawn(async move {
        tokio::time::sleep(head_start).await;
        deliver(&weak, &webhook_id, job, Kind::Repeat, first.wrapping_add(1)).await;
    });
}

/// The URL of an attempt: receiver number `slot` (round robin) of the plan, or the
/// webhook's url. A delivery's attempts take consecutive slots, so a retry goes to the
/// next receiver.
fn target(inner: &Inner, hook: &Webhook, slot: u64) -> String {
    let plan = lock(&inner.plan);
    let len = plan.receivers.len() as u64;
    match usize::try_from(slot % len.max(1)) {
        Ok(i) if len > 0 => plan.receivers[i].clone(),
        _ => hook.url.clone(),
    }
}

async fn deliver(weak: &Weak<Inner>, webhook_id: &str, job: Job, kind: Kind, first: u64) {
    let Some(mut inner) = weak.upgrade() else {
        return;
    };
    let window = inner.retry_window.mul_f64(inner.time_scale);
    let started = Instant::now();
    let mut delay_before = Duration::ZERO;
    let mut attempt: u32 = 0;
    loop {
        attempt = attempt.saturating_add(1);
        // A webhook deleted or changed meanwhile: use what is current, or stop.
        let Some(hook) = lock(&inner.hooks)
            .iter()
            .find(|h| h.webhook_id == webhook_id)
            .cloned()
        else {
            return;
        };
        let slot = first.wrapping_add(u64::from(attempt - 1));
        let url = target(&inner, &hook, slot);
        let mut request = inner
            .client
            .post(&url)
            .header(header::CONTENT_TYPE, "application/json")
            .header(DELIVERY_ID_HEADER, &job.delivery_id)
            .body(job.body.clone());
        if let Ok(v) = HeaderValue::from_str(hook.verify_key.expose()) {
            request = request.header(VERIFY_KEY_HEADER, v);
        }
        let (status, error) = match request.send().await {
            Ok(r) => (Some(r.status().as_u16()), None),
            Err(e) if e.is_timeout() => (None, Some("timeout".to_string())),
            Err(e) if e.is_connect() => (None, Some("connection failed".to_string())),
            Err(_) => (None, Some("request failed".to_string())),
        };
        let delivered = status.is_some_and(|s| (200..300).contains(&s));
        let next = retry_delay(inner.time_scale, attempt);
        let gave_up = !delivered && started.elapsed() + next > window;
        count(&inner.counters, kind, status, gave_up);
        {
            let mut attempts = lock(&inner.attempts);
            if attempts.len() >= MAX_ATTEMPT_RECORDS {
                attempts.pop_front();
            }
            attempts.push_back(DeliveryAttempt {
                webhook_id: webhook_id.to_string(),
                url,
                event_type: job.event_type.clone(),
                delivery_id: job.delivery_id.clone(),
                attempt,
                delay_before,
                status,
                error,
                delivered,
                gave_up,
            });
        }
        if delivered || gave_up {
            return;
        }
        drop(inner);
        tokio::time::sleep(next).await;
        let Some(again) = weak.upgrade() else {
            return;
        };
        inner = again;
        delay_before = next;
    }
}

fn count(c: &Counters, kind: Kind, status: Option<u16>, gave_up: bool) {
    let delivered = status.is_some_and(|s| (200..300).contains(&s));
    c.calls.fetch_add(1, Ordering::SeqCst);
    if !delivered {
        c.failed_calls.fetch_add(1, Ordering::SeqCst);
    }
    if status == Some(503) {
        c.unavailable.fetch_add(1, Ordering::SeqCst);
    }
    let finished = match kind {
        Kind::Repeat => &c.redeliveries_finished,
        Kind::First if delivered => &c.delivered,
        Kind::First => &c.gave_up,
    };
    if delivered || gave_up {
        finished.fetch_add(1, Ordering::SeqCst);
    }
}

/// `GET` reads, `POST` replaces the [`DeliveryPlan`]; the stats come with both.
async fn read_plan(State(state): State<AppState>) -> Response {
    plan_json(&state.webhooks)
}

async fn replace_plan(State(state): State<AppState>, body: Bytes) -> Response {
    let plan = match serde_json::from_slice::<DeliveryPlan>(&body) {
        Ok(p) => p,
        Err(e) => return bad_request(&format!("invalid delivery plan: {e}")),
    };
    match state.webhooks.set_delivery_plan(plan) {
        Ok(()) => plan_json(&state.webhooks),
        Err(message) => bad_request(&message),
    }
}

fn plan_json(webhooks: &WebhookState) -> Response {
    Json(json!({
        "plan": webhooks.delivery_plan(),
        "stats": webhooks.delivery_stats(),
    }))
    .into_response()
}

/// CRUD routes under `/v1/messaging/webhooks` and its alias `/messages/v1/webhooks`, and
/// the emulator's own `/_emulator/webhooks/delivery`.
pub fn router() -> Router<AppState> {
    let mut router = Router::new().route(
        "/_emulator/webhooks/delivery",
        get(read_plan).post(replace_plan),
    );
    for base in ["/v1/messaging/webhooks", "/messages/v1/webhooks"] {
        router = router
            .route(
                base,
                get(list)
                    .post(create)
                    .fallback(crate::rest::method_not_allowed),
            )
            .route(
                &format!("{base}/"),
                get(list)
                    .post(create)
                    .fallback(crate::rest::method_not_allowed),
            )
            .route(
                &format!("{base}/{{id}}"),
                get(retrieve)
                    .put(update)
                    .post(update)
                    .delete(remove)
                    .fallback(crate::rest::method_not_allowed),
            );
    }
    router
        .route("/messages", axum::routing::any(crate::rest::not_found))
        .route(
            "/messages/{*rest}",
            axum::routing::any(crate::rest::not_found),
        )
        .layer(axum::middleware::from_fn(crate::rest::cors))
}

#[allow(clippy::result_large_err)]
fn check(state: &AppState, headers: &HeaderMap) -> Result<(), Response> {
    require_bearer(headers, &state.options.credentials.messaging_key)?;
    if state.faults.take_http_failure() {
        return Err(error_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal server error (injected)",
        ));
    }
    Ok(())
}

fn bad_request(message: &str) -> Response {
    error_response(StatusCode::BAD_REQUEST, message)
}

fn not_found() -> Response {
    error_response(StatusCode::NOT_FOUND, "webhook not found")
}

#[allow(clippy::result_large_err)]
fn parse_body(body: &Bytes) -> Result<serde_json::Map<String, Value>, Response> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(bad_request("the body must be a JSON object")),
        Err(_) => Err(bad_request("the body is not valid JSON")),
    }
}

#[allow(clippy::result_large_err)]
fn parse_url(v: &Value) -> Result<String, Response> {
    let s = v
        .as_str()
        .ok_or_else(|| bad_request("url must be a string"))?;
    match url::Url::parse(s) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => Ok(s.to_string()),
        _ => Err(bad_request("url must be an absolute http(s) URL")),
    }
}

#[allow(clippy::result_large_err)]
fn parse_verify_key(v: &Value) -> Result<Secret, Response> {
    let s = v
        .as_str()
        .ok_or_else(|| bad_request("verifyKey must be a string"))?;
    if s.is_empty() {
        return Err(bad_request("verifyKey must not be empty"));
    }
    if HeaderValue::from_str(s).is_err() {
        return Err(bad_request("verifyKey must be printable ASCII"));
    }
    Ok(Secret::new(s))
}

#[allow(clippy::result_large_err)]
fn parse_events(v: &Value) -> Result<Vec<String>, Response> {
    let list = v
        .as_array()
        .ok_or_else(|| bad_request("events must be a list of event types"))?;
    let mut events = Vec::with_capacity(list.len());
    for e in list {
        match e.as_str() {
            Some(s) if !s.trim().is_empty() => {
                if !events.iter().any(|x| x == s) {
                    events.push(s.to_string());
                }
            }
            _ => return Err(bad_request("every event must be a non-empty string")),
        }
    }
    if events.is_empty() {
        return Err(bad_request("a webhook needs at least one event"));
    }
    Ok(events)
}

fn hook_json(hook: &Webhook) -> Value {
    serde_json::to_value(hook).unwrap_or(Value::Null)
}

async fn list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(r) = check(&state, &headers) {
        return r;
    }
    let org = &state.options.credentials.organisation_id;
    let items: Vec<Value> = state
        .webhooks
        .webhooks()
        .iter()
        .rev()
        .filter(|h| &h.organisation_id == org)
        .map(hook_json)
        .collect();
    Json(json!({ "items": items })).into_response()
}

async fn create(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = check(&state, &headers) {
        return r;
    }
    let result = async {
        let body = parse_body(&body)?;
        let url = parse_url(
            body.get("url")
                .ok_or_else(|| bad_request("url is required"))?,
        )?;
        let verify_key = parse_verify_key(
            body.get("verifyKey")
                .ok_or_else(|| bad_request("verifyKey is required"))?,
        )?;
        let events = parse_events(
            body.get("events")
                .ok_or_else(|| bad_request("events is required"))?,
        )?;
        state
            .webhooks
            .verify_url(&url, &verify_key)
            .await
            .map_err(|m| bad_request(&m))?;
        Ok::<_, Response>(Webhook {
            webhook_id: uuid::Uuid::new_v4().to_string(),
            organisation_id: state.options.credentials.organisation_id.clone(),
            url,
            verify_key,
            events,
            extra: Default::default(),
        })
    }
    .await;
    let hook = match result {
        Ok(h) => h,
        Err(r) => return r,
    };
    let location = format!("{}/{}", uri.path().trim_end_matches('/'), hook.webhook_id);
    let body = hook_json(&hook);
    lock(&state.webhooks.inner.hooks).push(hook);
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

async fn retrieve(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(r) = check(&state, &headers) {
        return r;
    }
    match state.webhooks.find(&id) {
        Some(h) if h.organisation_id == state.options.credentials.organisation_id => {
            Json(hook_json(&h)).into_response()
        }
        _ => not_found(),
    }
}

async fn update(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(r) = check(&state, &headers) {
        return r;
    }
    let org = &state.options.credentials.organisation_id;
    let Some(current) = state
        .webhooks
        .find(&id)
        .filter(|h| &h.organisation_id == org)
    else {
        return not_found();
    };
    let result = async {
        let body = parse_body(&body)?;
        // The reference's update example sends organisationId too: a webhook stays in its
        // organisation, so that field (like webhookId) is read as part of the object and
        // left unchanged.
        let url = body.get("url").map(parse_url).transpose()?;
        let verify_key = body.get("verifyKey").map(parse_verify_key).transpose()?;
        let events = body.get("events").map(parse_events).transpose()?;
        if let Some(u) = url.as_ref().filter(|u| **u != current.url) {
            let key = verify_key.as_ref().unwrap_or(&current.verify_key);
            state
                .webhooks
                .verify_url(u, key)
                .await
                .map_err(|m| bad_request(&m))?;
        }
        Ok::<_, Response>((url, verify_key, events))
    }
    .await;
    let (url, verify_key, events) = match result {
        Ok(parts) => parts,
        Err(r) => return r,
    };
    let mut hooks = lock(&state.webhooks.inner.hooks);
    let Some(hook) = hooks.iter_mut().find(|h| h.webhook_id == id) else {
        return not_found();
    };
    if let Some(u) = url {
        hook.url = u;
    }
    if let Some(k) = verify_key {
        hook.verify_key = k;
    }
    if let Some(e) = events {
        hook.events = e;
    }
    let body = hook_json(hook);
    drop(hooks);
    Json(body).into_response()
}

async fn remove(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(r) = check(&state, &headers) {
        return r;
    }
    let org = &state.options.credentials.organisation_id;
    let mut hooks = lock(&state.webhooks.inner.hooks);
    let before = hooks.len();
    // Another organisation's webhook is not found, as on retrieve.
    hooks.retain(|h| h.webhook_id != id || &h.organisation_id != org);
    let removed = hooks.len() != before;
    drop(hooks);
    if !removed {
        return not_found();
    }
    // Dropping the sender ends the worker once its queue is drained.
    lock(&state.webhooks.inner.queues).remove(&id);
    StatusCode::NO_CONTENT.into_response()
}
