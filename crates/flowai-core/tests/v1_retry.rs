//! Flow REST API v1 client behaviour under faults, against the emulator over loopback:
//! sends and broadcasts are never retried, reads are, and wait what `Retry-After` asks;
//! per-call timeouts; the explicit proxy setting; request ids on errors.
#![allow(clippy::unwrap_used)]

mod v1_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use flowai_core::ErrorKind;
use flowai_core::v1::{CallOptions, RestMessage, SegmentBroadcast, SendOptions};
use flowai_emulator::faults::FaultConfig;
use serde_json::json;
use v1_support::{client, client_with, emulator, requests};

const NO: CallOptions = CallOptions { timeout: None };

fn fail_next(
    emu: &flowai_emulator::RunningEmulator,
    n: u32,
    status: u16,
    retry_after: Option<&str>,
) {
    emu.faults().set(FaultConfig {
        rest_v1_failures: n,
        rest_v1_status: Some(status),
        rest_v1_retry_after: retry_after.map(str::to_string),
        ..Default::default()
    });
}

#[tokio::test]
async fn a_send_is_never_retried_after_a_5xx() {
    let emu = emulator(1.0).await;
    let api = client(&emu);
    fail_next(&emu, 1, 500, None);
    let err = api
        .send(
            Some("once"),
            &RestMessage::text("Hello"),
            &SendOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(500));
    assert!(err.request_id().is_some_and(|id| !id.is_empty()));
    let sent = requests(&emu, "POST", "/rest/v1/messages/once");
    assert_eq!(sent.len(), 1, "the send was retried");
    // The same call succeeds once the fault is used up: only the retry policy held it back.
    api.send(
        Some("once"),
        &RestMessage::text("Hello"),
        &SendOptions::default(),
    )
    .await
    .unwrap();
    // A broadcast is not retried either, even after a 429 with Retry-After.
    fail_next(&emu, 1, 429, Some("0"));
    let err = api
        .broadcast_segment(&SegmentBroadcast::event_to_segment("seg-vip", "INTRO"), &NO)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(
        requests(&emu, "POST", "/rest/v1/broadcast/instant/segment").len(),
        1
    );
}

#[tokio::test]
async fn a_read_is_retried_and_waits_for_retry_after() {
    let emu = emulator(1.0).await;
    let api = client(&emu);
    fail_next(&emu, 1, 429, Some("1"));
    let started = Instant::now();
    let page = api.threads_page(1, &NO).await.unwrap();
    let client_elapsed = started.elapsed();
    assert_eq!(page.page, 1);
    let calls = requests(&emu, "GET", "/rest/v1/threads");
    assert_eq!(calls.len(), 2);
    assert_eq!((calls[0].status, calls[1].status), (429, 200));
    // The measured requirement: the retry waits Retry-After (1 s) within 20 %.
    // Measured between the two arrivals at the server; 0.1 s more is allowed for
    // scheduling on a loaded 2-core machine.
    let wait = calls[1].at.duration_since(calls[0].at);
    println!("Retry-After: 1 -> measured wait {wait:?} (client call took {client_elapsed:?})");
    assert!(
        wait >= Duration::from_millis(800) && wait <= Duration::from_millis(1300),
        "waited {wait:?} for Retry-After: 1"
    );
}

#[tokio::test]
async fn reads_back_off_on_5xx_and_give_up_after_max_retries() {
    let emu = emulator(1.0).await;
    let api = client_with(&emu, json!({"retry_base_ms": 20, "max_retries": 2}));
    fail_next(&emu, 2, 503, None);
    api.segments(&NO).await.unwrap();
    let calls = requests(&emu, "GET", "/rest/v1/broadcast/segments");
    assert_eq!(
        calls.iter().map(|c| c.status).collect::<Vec<_>>(),
        [503, 503, 200]
    );
    fail_next(&emu, 3, 502, None);
    let err = api.pause_status("x", &NO).await.unwrap_err();
    assert_eq!(err.status(), Some(502));
    assert_eq!(requests(&emu, "GET", "/rest/v1/pause/x").len(), 3);
    // An HTTP date works as Retry-After too.
    let soon = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(1));
    fail_next(&emu, 1, 503, Some(&soon));
    api.business_hours(&NO).await.unwrap();
    assert_eq!(requests(&emu, "GET", "/rest/v1/businesshours").len(), 2);
    // A Retry-After beyond retry_max_ms is not waited for: the error comes back at once.
    fail_next(&emu, 1, 429, Some("3600"));
    let err = api.trigger_events(&NO).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(requests(&emu, "GET", "/rest/v1/trigger/event").len(), 1);
    // Client errors are final.
    let no_retry = client_with(&emu, json!({"messaging_key": "wrong"}));
    no_retry.segments(&NO).await.unwrap_err();
    assert_eq!(
        requests(&emu, "GET", "/rest/v1/broadcast/segments").len(),
        4
    );
}

#[tokio::test]
async fn a_stalled_call_times_out_per_call() {
    let emu = emulator(1.0).await;
    let api = client_with(&emu, json!({"max_retries": 0}));
    emu.faults().set(FaultConfig {
        rest_v1_stalls: 1,
        rest_v1_stall_ms: 5_000,
        ..Default::default()
    });
    let short = CallOptions {
        timeout: Some(Duration::from_millis(200)),
    };
    let err = api.threads_page(1, &short).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    // With retries, the stalled attempt times out and the next one is served.
    let retrying = client_with(&emu, json!({"retry_base_ms": 10}));
    emu.faults().set(FaultConfig {
        rest_v1_stalls: 1,
        rest_v1_stall_ms: 5_000,
        ..Default::default()
    });
    retrying.threads_page(1, &short).await.unwrap();
}

#[tokio::test]
async fn the_proxy_setting_routes_every_request() {
    let emu = emulator(1.0).await;
    // The emulator doubles as the proxy: a plain-HTTP proxy receives the absolute URL, and
    // `unreachable.invalid` can only be served by way of it.
    let api = client_with(
        &emu,
        json!({"rest_url": "http://unreachable.invalid/rest/v1", "proxy": emu.base_url()}),
    );
    api.threads_page(1, &NO).await.unwrap();
    assert_eq!(requests(&emu, "GET", "/rest/v1/threads").len(), 1);
    let direct = client_with(
        &emu,
        json!({"rest_url": "http://unreachable.invalid/rest/v1", "max_retries": 0}),
    );
    let quick = CallOptions {
        timeout: Some(Duration::from_secs(5)),
    };
    // Without the setting the request goes elsewhere (nowhere, or an environment proxy).
    direct.threads_page(1, &quick).await.unwrap_err();
    assert_eq!(requests(&emu, "GET", "/rest/v1/threads").len(), 1);
}

/// A server that accepts connections and drops them unanswered, counting them.
async fn dropping_server() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/rest/v1", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    (url, accepted)
}

#[tokio::test]
async fn connection_errors_are_retried_only_for_safe_calls() {
    let emu = emulator(1.0).await;
    let (url, accepted) = dropping_server().await;
    let api = client_with(&emu, json!({"rest_url": url, "retry_base_ms": 5}));
    let err = api.threads_page(1, &NO).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connection);
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        3,
        "one try and two retries"
    );
    let err = api
        .send(
            Some("t"),
            &RestMessage::text("Hello"),
            &SendOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connection);
    assert_eq!(accepted.load(Ordering::SeqCst), 4, "a send is tried once");
}
