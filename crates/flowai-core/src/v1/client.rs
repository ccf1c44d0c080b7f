//! [`RestClient`]: every endpoint of the Flow REST API v1, with retries, deadlines and logging.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use reqwest::Method;
use reqwest::header::{AUTHORIZATION, HeaderValue, RETRY_AFTER};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use tracing::Instrument;

use super::pages::{PageFetcher, Pages};
use super::retry::{RetryPolicy, Safety, parse_retry_after};
use super::types::{
    Broadcast, BusinessHours, CallOptions, Page, PauseStatus, RestMessage, Segment,
    SegmentBroadcast, SendOptions, SendReceipt, ThreadSummary, TriggerEvent,
};
use crate::error::{Error, Result};
use crate::http::{USER_AGENT, read_error_detail};
use crate::secret::Secret;
use crate::tls::CaCert;

/// The public base URL of the Flow REST API v1.
pub const DEFAULT_REST_URL: &str = "https://api.flow.ai/rest/v1";

pub use crate::http::REQUEST_ID_HEADER;

/// Everything a [`RestClient`] needs. Debug shows neither the key nor the proxy (which may
/// carry credentials).
#[derive(Clone)]
pub struct RestOptions {
    /// The API's base URL, e.g. `https://api.flow.ai/rest/v1`, without a trailing slash.
    pub base_url: String,
    /// The messaging API key, sent raw in `Authorization`.
    pub messaging_key: Secret,
    /// Deadline of each attempt of a call.
    pub timeout: Duration,
    /// Retries of calls that are safe to repeat.
    pub retry: RetryPolicy,
    /// A proxy for every request; without one, reqwest's usual `HTTPS_PROXY`, `HTTP_PROXY`,
    /// `ALL_PROXY` and `NO_PROXY` environment applies.
    pub proxy: Option<Secret>,
    /// An extra root certificate to trust.
    pub ca_cert: Option<CaCert>,
}

impl fmt::Debug for RestOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RestOptions")
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .field("proxy", &self.proxy.as_ref().map(|_| "<set>"))
            .finish_non_exhaustive()
    }
}

impl RestOptions {
    /// Options for `base_url` with `messaging_key` and the defaults (30 s deadline, 2 retries).
    pub fn new(base_url: impl Into<String>, messaging_key: impl Into<Secret>) -> Self {
        RestOptions {
            base_url: base_url.into().trim().trim_end_matches('/').to_string(),
            messaging_key: messaging_key.into(),
            timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            proxy: None,
            ca_cert: None,
        }
    }
}

/// A client of the Flow REST API v1. Cheap to clone; clones share one connection pool.
#[derive(Clone)]
pub struct RestClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: url::Url,
    key: HeaderValue,
    timeout: Duration,
    retry: RetryPolicy,
}

impl fmt::Debug for RestClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RestClient")
            .field("base", &self.inner.base.as_str())
            .finish_non_exhaustive()
    }
}

/// One request before it is sent (kept to send it again).
struct Call<'a> {
    method: Method,
    segments: Vec<&'a str>,
    query: Vec<(&'static str, String)>,
    body: Option<Value>,
    safety: Safety,
    timeout: Option<Duration>,
}

impl<'a> Call<'a> {
    fn new(method: Method, segments: &[&'a str], safety: Safety) -> Self {
        Call {
            method,
            segments: segments.to_vec(),
            query: Vec::new(),
            body: None,
            safety,
            timeout: None,
        }
    }

    fn query(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.query.push((name, value.into()));
        self
    }

    fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }
}

impl RestClient {
    /// A client with `options`; fails on a bad URL, key, proxy or certificate.
    pub fn new(options: RestOptions) -> Result<RestClient> {
        let base = crate::config::parse_http_url(&options.base_url, "api_url")?;
        if base.cannot_be_a_base() {
            return Err(Error::invalid("api_url cannot be a base URL"));
        }
        if options.messaging_key.is_empty() {
            return Err(Error::invalid("messaging_key must not be empty"));
        }
        let mut key = HeaderValue::from_str(options.messaging_key.expose())
            .map_err(|_| Error::invalid("messaging_key holds characters a header cannot"))?;
        key.set_sensitive(true);
        let mut builder = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            // A 3xx is an error: the key never travels to a host the caller did not name.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(options.timeout);
        if let Some(proxy) = &options.proxy {
            // The proxy URL may hold credentials: the error names the setting, not the value.
            let proxy = reqwest::Proxy::all(proxy.expose())
                .map_err(|_| Error::invalid("proxy is not a valid proxy URL"))?;
            builder = builder.proxy(proxy);
        }
        let http = crate::tls::add_roots(builder, options.ca_cert.as_ref())?
            .build()
            .map_err(|e| Error::internal(format!("cannot build the HTTP client: {e}")))?;
        Ok(RestClient {
            inner: Arc::new(Inner {
                http,
                base,
                key,
                timeout: options.timeout,
                retry: options.retry,
            }),
        })
    }

    /// Send a message: to a new thread (`POST messages`, the answer names the generated
    /// threadId) or to `thread_id` (`POST messages/:threadId`). In sync mode the receipt
    /// holds the bot's replies. Never retried: the API has no idempotency key.
    pub async fn send(
        &self,
        thread_id: Option<&str>,
        message: &RestMessage,
        options: &SendOptions,
    ) -> Result<SendReceipt> {
        message.validate()?;
        let owned;
        let segments: &[&str] = match thread_id {
            None => &["messages"],
            Some(id) => {
                owned = ["messages", non_empty(id, "threadId")?];
                &owned
            }
        };
        let mut call = Call::new(Method::POST, segments, Safety::Once)
            .body(message.to_body())
            .timeout(options.timeout);
        if options.sync {
            call = call.query("sync", "true");
        }
        if options.write_concern {
            call = call.query("writeConcern", "true");
        }
        let mut receipt: SendReceipt = self.parse(call).await?;
        if receipt.thread_id.is_empty() {
            if let Some(id) = thread_id {
                receipt.thread_id = id.to_string();
            }
        }
        Ok(receipt)
    }

    /// One page (1-based, 20 messages) of a thread's history, oldest first.
    pub async fn messages_page(
        &self,
        thread_id: &str,
        page: u32,
        options: &CallOptions,
    ) -> Result<Page<Value>> {
        let id = non_empty(thread_id, "threadId")?;
        self.page(&["messages", id], page, options).await
    }

    /// Every message of a thread, fetched 20 at a time as the stream is read.
    pub fn messages(&self, thread_id: &str) -> Pages<Value> {
        let client = self.clone();
        let thread_id = thread_id.to_string();
        let fetch: PageFetcher<Value> = Arc::new(move |n| {
            let client = client.clone();
            let thread_id = thread_id.clone();
            Box::pin(async move {
                client
                    .messages_page(&thread_id, n, &CallOptions::default())
                    .await
            })
        });
        Pages::new(fetch)
    }

    /// One page (1-based, 20 threads) of the project's threads, oldest first.
    pub async fn threads_page(
        &self,
        page: u32,
        options: &CallOptions,
    ) -> Result<Page<ThreadSummary>> {
        self.page(&["threads"], page, options).await
    }

    /// Every thread of the project, fetched 20 at a time as the stream is read.
    pub fn threads(&self) -> Pages<ThreadSummary> {
        let client = self.clone();
        let fetch: PageFetcher<ThreadSummary> = Arc::new(move |n| {
            let client = client.clone();
            Box::pin(async move { client.threads_page(n, &CallOptions::default()).await })
        });
        Pages::new(fetch)
    }

    /// Hand the thread to a human: the bot pauses for `seconds_to_pause` (or until resumed).
    /// Not retried.
    pub async fn handover(
        &self,
        thread_id: &str,
        seconds_to_pause: Option<u64>,
        options: &CallOptions,
    ) -> Result<Value> {
        let id = non_empty(thread_id, "threadId")?;
        let mut body = Map::new();
        if let Some(s) = seconds_to_pause {
            body.insert("secondsToPause".into(), json!(s));
        }
        let call = Call::new(Method::POST, &["handover", id], Safety::Once)
            .body(Value::Object(body))
            .timeout(options.timeout);
        self.parse(call).await
    }

    /// The deprecated takeover action (`POST takeover` with the threadId in the body); use
    /// [`RestClient::handover`]. Not retried.
    #[deprecated(note = "the API deprecates takeover: use handover")]
    pub async fn takeover(&self, thread_id: &str, options: &CallOptions) -> Result<Value> {
        let id = non_empty(thread_id, "threadId")?;
        let call = Call::new(Method::POST, &["takeover"], Safety::Once)
            .body(json!({ "threadId": id }))
            .timeout(options.timeout);
        self.parse(call).await
    }

    /// End a handover: the bot takes the thread back.
    pub async fn resolve(&self, thread_id: &str, options: &CallOptions) -> Result<Value> {
        let id = non_empty(thread_id, "threadId")?;
        let call =
            Call::new(Method::POST, &["resolve", id], Safety::Repeatable).timeout(options.timeout);
        self.parse(call).await
    }

    /// The events that can be triggered by hand.
    pub async fn trigger_events(&self, options: &CallOptions) -> Result<Vec<TriggerEvent>> {
        let call = Call::new(Method::GET, &["trigger", "event"], Safety::Repeatable)
            .query("sync", "true")
            .timeout(options.timeout);
        let value: Value = self.parse(call).await?;
        list_field(value, &["events", "items"])
    }

    /// Trigger event `event_name` in a thread. Not retried.
    pub async fn trigger_event(
        &self,
        thread_id: &str,
        event_name: &str,
        options: &CallOptions,
    ) -> Result<Value> {
        let id = non_empty(thread_id, "threadId")?;
        let name = non_empty(event_name, "eventName")?;
        let call = Call::new(Method::POST, &["trigger", "event", id], Safety::Once)
            .query("eventName", name)
            .timeout(options.timeout);
        self.parse(call).await
    }

    /// The project's business hours.
    pub async fn business_hours(&self, options: &CallOptions) -> Result<BusinessHours> {
        let call = Call::new(Method::GET, &["businesshours"], Safety::Repeatable)
            .query("sync", "true")
            .timeout(options.timeout);
        let value: Value = self.parse(call).await?;
        let inner = match value {
            Value::Object(mut m) if m.get("businessHours").is_some_and(Value::is_object) => {
                m.remove("businessHours").unwrap_or(Value::Null)
            }
            other => other,
        };
        serde_json::from_value(inner).map_err(|e| Error::protocol(format!("business hours: {e}")))
    }

    /// Pause the bot for a thread, for `seconds` or until resumed.
    pub async fn pause(
        &self,
        thread_id: &str,
        seconds: Option<u64>,
        options: &CallOptions,
    ) -> Result<PauseStatus> {
        let id = non_empty(thread_id, "threadId")?;
        let mut body = Map::new();
        if let Some(s) = seconds {
            body.insert("secondsToPause".into(), json!(s));
        }
        let call = Call::new(Method::POST, &["pause", id], Safety::Repeatable)
            .body(Value::Object(body))
            .timeout(options.timeout);
        self.pause_answer(id, call).await
    }

    /// Resume the bot for a thread (`DELETE pause/:threadId`).
    pub async fn resume(&self, thread_id: &str, options: &CallOptions) -> Result<PauseStatus> {
        let id = non_empty(thread_id, "threadId")?;
        let call =
            Call::new(Method::DELETE, &["pause", id], Safety::Repeatable).timeout(options.timeout);
        self.pause_answer(id, call).await
    }

    /// Whether the bot is paused for a thread.
    pub async fn pause_status(
        &self,
        thread_id: &str,
        options: &CallOptions,
    ) -> Result<PauseStatus> {
        let id = non_empty(thread_id, "threadId")?;
        let call = Call::new(Method::GET, &["pause", id], Safety::Repeatable)
            .query("sync", "true")
            .timeout(options.timeout);
        self.pause_answer(id, call).await
    }

    /// Send a text or event to a list of phone numbers (`POST broadcast/instant`). Not retried.
    pub async fn broadcast(&self, request: &Broadcast, options: &CallOptions) -> Result<Value> {
        request.validate()?;
        let body = serde_json::to_value(request)?;
        let call = Call::new(Method::POST, &["broadcast", "instant"], Safety::Once)
            .body(body)
            .timeout(options.timeout);
        self.parse(call).await
    }

    /// Send an event to every contact of some segments (`POST broadcast/instant/segment`).
    /// Not retried.
    pub async fn broadcast_segment(
        &self,
        request: &SegmentBroadcast,
        options: &CallOptions,
    ) -> Result<Value> {
        request.validate()?;
        let body = serde_json::to_value(request)?;
        let call = Call::new(
            Method::POST,
            &["broadcast", "instant", "segment"],
            Safety::Once,
        )
        .body(body)
        .timeout(options.timeout);
        self.parse(call).await
    }

    /// The project's audience segments.
    pub async fn segments(&self, options: &CallOptions) -> Result<Vec<Segment>> {
        let call = Call::new(Method::GET, &["broadcast", "segments"], Safety::Repeatable)
            .query("sync", "true")
            .timeout(options.timeout);
        let value: Value = self.parse(call).await?;
        list_field(value, &["segments", "items"])
    }

    async fn pause_answer(&self, thread_id: &str, call: Call<'_>) -> Result<PauseStatus> {
        let mut status: PauseStatus = self.parse(call).await?;
        if status.thread_id.is_empty() {
            status.thread_id = thread_id.to_string();
        }
        Ok(status)
    }

    async fn page<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        page: u32,
        options: &CallOptions,
    ) -> Result<Page<T>> {
        if page == 0 {
            return Err(Error::invalid("page numbers start at 1"));
        }
        let call = Call::new(Method::GET, segments, Safety::Repeatable)
            .query("sync", "true")
            .query("page", page.to_string())
            .timeout(options.timeout);
        let value: Value = self.parse(call).await?;
        parse_page(value, page)
    }

    async fn parse<T: DeserializeOwned>(&self, call: Call<'_>) -> Result<T> {
        let value = self.execute(call).await?;
        serde_json::from_value(value)
            .map_err(|e| Error::protocol(format!("unexpected answer: {e}")))
    }

    /// Send `call`, retrying what its safety allows; the answer's JSON (null when empty).
    async fn execute(&self, call: Call<'_>) -> Result<Value> {
        let mut url = self.inner.base.clone();
        url.path_segments_mut()
            .map_err(|()| Error::invalid("api_url cannot be a base URL"))?
            .pop_if_empty()
            .extend(&call.segments);
        if !call.query.is_empty() {
            url.query_pairs_mut().extend_pairs(call.query.iter());
        }
        let timeout = call.timeout.unwrap_or(self.inner.timeout);
        let span = tracing::debug_span!(
            "flow_rest",
            method = %call.method,
            path = %url.path(),
        );
        async {
            let mut retry = 0u32;
            loop {
                let started = Instant::now();
                let outcome = self.attempt(&call, url.clone(), timeout).await;
                let (error, retry_after) = match outcome {
                    Ok((value, request_id)) => {
                        tracing::debug!(
                            attempt = retry + 1,
                            request_id = request_id.as_deref().unwrap_or(""),
                            elapsed_ms = started.elapsed().as_millis() as u64,
                            "ok"
                        );
                        return Ok(value);
                    }
                    Err(failure) => failure,
                };
                let wait = self
                    .inner
                    .retry
                    .next_wait(call.safety, retry, &error, retry_after);
                tracing::debug!(
                    attempt = retry + 1,
                    status = error.status().unwrap_or(0),
                    request_id = error.request_id().unwrap_or(""),
                    error = %error,
                    retry_in_ms = wait.map(|w| w.as_millis() as u64),
                    "failed"
                );
                let Some(wait) = wait else {
                    return Err(error);
                };
                tokio::time::sleep(wait).await;
                retry += 1;
            }
        }
        .instrument(span)
        .await
    }

    /// One attempt: the answer's JSON and request id, or the error and the wait its
    /// `Retry-After` asked for.
    async fn attempt(
        &self,
        call: &Call<'_>,
        url: url::Url,
        timeout: Duration,
    ) -> std::result::Result<(Value, Option<String>), (Error, Option<Duration>)> {
        let mut request = self
            .inner
            .http
            .request(call.method.clone(), url)
            .header(AUTHORIZATION, self.inner.key.clone())
            .timeout(timeout);
        if let Some(body) = &call.body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| (Error::from(e), None))?;
        let request_id = crate::http::request_id(&response);
        let status = response.status();
        if !status.is_success() {
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, SystemTime::now()));
            let detail = read_error_detail(response).await;
            let error = Error::from_status(status.as_u16(), &detail).with_request_id(request_id);
            return Err((error, retry_after));
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|e| (Error::from(e).with_request_id(request_id.clone()), None))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok((Value::Null, request_id));
        }
        let value = serde_json::from_slice(&bytes)
            .map_err(|e| (Error::from(e).with_request_id(request_id.clone()), None))?;
        Ok((value, request_id))
    }
}

fn non_empty<'a>(value: &'a str, name: &str) -> Result<&'a str> {
    if value.trim().is_empty() {
        return Err(Error::invalid(format!("{name} must not be empty")));
    }
    Ok(value)
}

/// The list in the first of `fields` an object answer has (or the answer itself when it
/// is a list).
fn list_field<T: DeserializeOwned>(value: Value, fields: &[&str]) -> Result<Vec<T>> {
    let list = match value {
        Value::Array(_) => value,
        Value::Object(mut m) => fields
            .iter()
            .find_map(|f| m.remove(*f).filter(Value::is_array))
            .unwrap_or(Value::Array(Vec::new())),
        _ => return Err(Error::protocol("unexpected answer: not a list")),
    };
    serde_json::from_value(list).map_err(|e| Error::protocol(format!("unexpected answer: {e}")))
}

/// A page answer: `{page, items (or messages / threads), hasMore}`. Without `hasMore`, a
/// full page means there may be more.
fn parse_page<T: DeserializeOwned>(value: Value, asked: u32) -> Result<Page<T>> {
    let Value::Object(mut m) = value else {
        return Err(Error::protocol(
            "unexpected answer: a page must be an object",
        ));
    };
    let items = ["items", "messages", "threads", "data"]
        .iter()
        .find_map(|f| m.remove(*f).filter(Value::is_array))
        .unwrap_or(Value::Array(Vec::new()));
    let items: Vec<T> = serde_json::from_value(items)
        .map_err(|e| Error::protocol(format!("unexpected answer: {e}")))?;
    let page = m
        .get("page")
        .and_then(|p| p.as_u64().or_else(|| p.as_str()?.parse().ok()))
        .and_then(|p| u32::try_from(p).ok())
        .unwrap_or(asked);
    let has_more = match m.get("hasMore").and_then(Value::as_bool) {
        Some(more) => more,
        None => match m.get("pages").and_then(Value::as_u64) {
            Some(pages) => u64::from(page) < pages,
            None => items.len() >= super::types::PAGE_SIZE,
        },
    };
    Ok(Page {
        page,
        items,
        has_more,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_key_and_proxy() {
        let mut options = RestOptions::new("http://127.0.0.1:9/rest/v1/", "sk-hidden-91");
        options.proxy = Some(Secret::new("http://user:pw-hidden@127.0.0.1:3128"));
        assert_eq!(options.base_url, "http://127.0.0.1:9/rest/v1");
        let text = format!("{options:?}");
        assert!(
            !text.contains("sk-hidden") && !text.contains("pw-hidden"),
            "{text}"
        );
        let client = RestClient::new(options).unwrap();
        assert!(!format!("{client:?}").contains("sk-hidden"));
    }

    #[test]
    fn pages_parse_with_or_without_has_more() {
        let p: Page<Value> =
            parse_page(json!({"page": "2", "items": [1, 2], "hasMore": true}), 2).unwrap();
        assert_eq!((p.page, p.items.len(), p.has_more), (2, 2, true));
        let p: Page<Value> = parse_page(json!({"messages": [1], "pages": 1}), 1).unwrap();
        assert!(!p.has_more);
        assert!(parse_page::<Value>(json!([1]), 1).is_err());
    }
}
