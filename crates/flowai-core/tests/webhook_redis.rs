//! Receivers deduplicating through Redis: fail closed or open while it is away, and (with a real redis-server) one handling per call across replicas.
#![cfg(feature = "redis")]
#![allow(clippy::unwrap_used)]

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use flowai_core::Secret;
use flowai_core::models::WebhookEvent;
use flowai_core::webhook::{DELIVERY_ID_HEADER, ReceiverOptions, WebhookReceiver};

const KEY: &str = "vk-redis-test";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn options(port: u16) -> ReceiverOptions {
    let mut o = ReceiverOptions::new(KEY);
    o.dedup_url = Some(Secret::new(format!("redis://127.0.0.1:{port}")));
    o.dedup_claim_ttl = Duration::from_secs(5);
    o
}

async fn post(url: &str, delivery: Option<&str>, body: &str) -> u16 {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("X-Flowai-Verify-Key", KEY)
        .body(body.to_string());
    if let Some(id) = delivery {
        request = request.header(DELIVERY_ID_HEADER, id);
    }
    request.send().await.unwrap().status().as_u16()
}

fn body(trace: u64) -> String {
    format!(r#"{{"type":"message.delivered","payload":{{"threadId":"t","traceId":{trace}}}}}"#)
}

/// A receiver counting the calls its handler saw; `decline` decides on each one.
async fn counting(
    options: ReceiverOptions,
    decline: impl Fn(u64) -> bool + Send + 'static,
) -> (WebhookReceiver, Arc<AtomicUsize>) {
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let receiver = WebhookReceiver::bind(options, move |e: WebhookEvent| {
        counter.fetch_add(1, Ordering::SeqCst);
        let trace = e.to_value()["payload"]["traceId"].as_u64().unwrap_or(0);
        if trace == 666 {
            panic!("handler bug");
        }
        !decline(trace)
    })
    .await
    .unwrap();
    (receiver, seen)
}

#[tokio::test]
async fn an_unreachable_store_fails_closed_by_default_and_open_when_asked() {
    // Nothing listens on this port: every claim fails at once.
    let port = free_port();
    let (closed, seen) = counting(options(port), |_| false).await;
    assert_eq!(post(&closed.url(), Some("d1"), &body(1)).await, 503);
    assert_eq!(post(&closed.url(), None, &body(2)).await, 503);
    assert_eq!(seen.load(Ordering::SeqCst), 0, "no call may run unclaimed");

    let mut open = options(port);
    open.dedup_fail_open = true;
    let (open, seen) = counting(open, |_| false).await;
    assert_eq!(post(&open.url(), Some("d1"), &body(1)).await, 200);
    assert_eq!(seen.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_bad_dedup_url_is_refused_at_bind_without_its_password() {
    let mut o = ReceiverOptions::new(KEY);
    o.dedup_url = Some(Secret::new("memcached://:hunter2@127.0.0.1:1"));
    let err = WebhookReceiver::bind(o, |_| true).await.unwrap_err();
    assert_eq!(err.code(), "FLOWAI_INVALID_ARGUMENT");
    assert!(!err.message().contains("hunter2"), "{}", err.message());
}

struct Redis(Child);

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_redis(port: u16) -> Redis {
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server must be on PATH (tests/scaling/run.sh installs it)");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "redis-server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    Redis(child)
}

#[tokio::test]
#[ignore = "needs redis-server; run by tests/scaling/run.sh"]
async fn replicas_handle_each_call_once_and_retry_what_a_handler_declined() {
    let port = free_port();
    let _redis = start_redis(port);
    // Trace 7 is declined by the first replica's handler only; 666 panics on either.
    let (a, seen_a) = counting(options(port), |t| t == 7).await;
    let (b, seen_b) = counting(options(port), |_| false).await;

    // By delivery id: the retry on the other replica is answered without running again.
    assert_eq!(post(&a.url(), Some("d-1"), &body(1)).await, 200);
    assert_eq!(post(&b.url(), Some("d-1"), &body(1)).await, 200);
    // Without an id (as the real service sends): the same body is the same call.
    assert_eq!(post(&b.url(), None, &body(2)).await, 200);
    assert_eq!(post(&a.url(), None, &body(2)).await, 200);
    assert_eq!(post(&a.url(), None, &body(3)).await, 200);
    assert_eq!(
        (seen_a.load(Ordering::SeqCst), seen_b.load(Ordering::SeqCst)),
        (2, 1)
    );

    // A declined call releases its claim: the retry on the other replica runs it.
    assert_eq!(post(&a.url(), Some("d-7"), &body(7)).await, 500);
    assert_eq!(post(&b.url(), Some("d-7"), &body(7)).await, 200);
    assert_eq!(post(&a.url(), Some("d-7"), &body(7)).await, 200);
    // So does a handler that panics: each retry runs it again, none is lost to a claim.
    assert_eq!(post(&a.url(), Some("d-666"), &body(666)).await, 500);
    assert_eq!(post(&b.url(), Some("d-666"), &body(666)).await, 500);
    assert_eq!(
        (seen_a.load(Ordering::SeqCst), seen_b.load(Ordering::SeqCst)),
        (4, 3)
    );
}
