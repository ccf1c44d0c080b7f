//! The embedded webhook receiver: deliveries from the emulator and hostile calls over loopback.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use flowai_core::messaging::{MessageOptions, MessagingClient};
use flowai_core::models::{NewWebhook, WebhookEvent};
use flowai_core::webhook::{DELIVERY_ID_HEADER, ReceiverOptions, WebhookReceiver};
use flowai_core::{Config, Secret};
use flowai_emulator::{Emulator, EmulatorOptions, RunningEmulator};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

const KEY: &str = "vk-receiver-test";
const DELIVERED: &str = r#"{"type":"message.delivered","payload":{"threadId":"t","traceId":1}}"#;
/// A safety net so a broken peer fails the test instead of hanging it; never a timing assertion.
const PATIENCE: Duration = Duration::from_secs(20);

async fn emulator() -> RunningEmulator {
    let options = EmulatorOptions {
        time_scale: 0.001,
        ..Default::default()
    };
    Emulator::new(options).start().await.unwrap()
}

fn messaging(emu: &RunningEmulator) -> MessagingClient {
    let config = Config::new()
        .with_api_url(emu.base_url())
        .with_messaging_key(emu.credentials().messaging_key.clone());
    MessagingClient::new(config).unwrap()
}

async fn subscribe(emu: &RunningEmulator, receiver: &WebhookReceiver, events: &[&str]) {
    let new = NewWebhook {
        url: receiver.url(),
        verify_key: Secret::new(KEY),
        events: events.iter().map(|e| e.to_string()).collect(),
    };
    messaging(emu).create_webhook(&new).await.unwrap();
}

async fn next<T>(rx: &mut UnboundedReceiver<T>) -> T {
    tokio::time::timeout(PATIENCE, rx.recv())
        .await
        .expect("nothing arrived")
        .unwrap()
}

async fn post(
    receiver: &WebhookReceiver,
    key: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> u16 {
    post_with(receiver, key, None, body).await
}

async fn post_with(
    receiver: &WebhookReceiver,
    key: Option<&str>,
    delivery: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> u16 {
    let mut request = reqwest::Client::new().post(receiver.url()).body(body);
    if let Some(key) = key {
        request = request.header("X-Flowai-Verify-Key", key);
    }
    if let Some(id) = delivery {
        request = request.header(DELIVERY_ID_HEADER, id);
    }
    request.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn delivery_and_reply_reach_the_receiver() {
    let emu = emulator().await;
    let (tx, mut rx) = unbounded_channel();
    let receiver = WebhookReceiver::bind(ReceiverOptions::new(KEY), move |e| {
        tx.send(e).unwrap();
    })
    .await
    .unwrap();
    subscribe(&emu, &receiver, &["message.delivered", "message.reply"]).await;
    messaging(&emu)
        .send_text("thread-hook", "hi", MessageOptions::with_trace_id(42))
        .await
        .unwrap();
    let (mut delivered, mut replied) = (false, false);
    while !(delivered && replied) {
        match next(&mut rx).await {
            WebhookEvent::Delivered(d) => {
                assert_eq!(
                    (d.thread_id.as_str(), d.trace_id),
                    ("thread-hook", Some(42))
                );
                delivered = true;
            }
            WebhookEvent::Reply(r) => {
                let text: String = r.messages.iter().map(|m| m.fallback.as_str()).collect();
                assert!(text.contains("customer service demo bot"), "{text}");
                replied = true;
            }
            other => panic!("unexpected event {other:?}"),
        }
    }
    receiver.shutdown().await;
}

#[tokio::test]
async fn declined_delivery_is_retried_and_accepted_once() {
    let emu = emulator().await;
    let (tx, mut rx) = unbounded_channel();
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let receiver = WebhookReceiver::bind(ReceiverOptions::new(KEY), move |e| {
        // Decline the first call: the sender must retry with the same delivery.
        let accepted = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) > 0;
        tx.send((e, accepted)).unwrap();
        accepted
    })
    .await
    .unwrap();
    subscribe(&emu, &receiver, &["message.delivered"]).await;
    messaging(&emu)
        .send_text("thread-retry", "hello", MessageOptions::with_trace_id(7))
        .await
        .unwrap();
    let (first, accepted) = next(&mut rx).await;
    assert!(!accepted);
    let (second, accepted) = next(&mut rx).await;
    assert!(accepted);
    assert_eq!(first, second);
    receiver.shutdown().await;
}

#[tokio::test]
async fn duplicate_delivery_ids_reach_the_handler_once() {
    let (tx, mut rx) = unbounded_channel();
    let receiver = WebhookReceiver::bind(ReceiverOptions::new(KEY), move |e| {
        tx.send(e).unwrap();
    })
    .await
    .unwrap();
    assert_eq!(
        post_with(&receiver, Some(KEY), Some("d-1"), DELIVERED).await,
        200
    );
    assert_eq!(
        post_with(&receiver, Some(KEY), Some("d-1"), DELIVERED).await,
        200
    );
    assert_eq!(
        post_with(&receiver, Some(KEY), Some("d-2"), DELIVERED).await,
        200
    );
    receiver.shutdown().await;
    let mut count = 0;
    while rx.recv().await.is_some() {
        count += 1;
    }
    assert_eq!(count, 2);
}

#[tokio::test]
async fn hostile_calls_are_refused() {
    let mut options = ReceiverOptions::new(KEY);
    options.max_body_bytes = 1024;
    let (tx, mut rx) = unbounded_channel();
    let receiver = WebhookReceiver::bind(options, move |e| {
        tx.send(e).unwrap();
    })
    .await
    .unwrap();
    let check = reqwest::get(receiver.url()).await.unwrap();
    assert_eq!(check.status(), 200, "subscription check");
    assert_eq!(post(&receiver, Some("wrong"), DELIVERED).await, 401);
    assert_eq!(post(&receiver, None, DELIVERED).await, 401);
    assert_eq!(post(&receiver, Some(KEY), "{not json").await, 400);
    assert_eq!(post(&receiver, Some(KEY), "[1]").await, 400);
    let big = format!(r#"{{"type":"x","payload":"{}"}}"#, "a".repeat(2000));
    assert_eq!(post(&receiver, Some(KEY), big.clone()).await, 413);
    // Without a Content-Length the cap applies while streaming.
    let chunks = futures_util::stream::iter(
        big.into_bytes()
            .chunks(100)
            .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
            .collect::<Vec<_>>(),
    );
    let chunked = reqwest::Body::wrap_stream(chunks);
    assert_eq!(post(&receiver, Some(KEY), chunked).await, 413);
    // The other key forms work.
    let url = format!("{}?verifyKey={KEY}", receiver.url());
    let by_query = reqwest::Client::new()
        .post(url)
        .body(DELIVERED)
        .send()
        .await
        .unwrap();
    assert_eq!(by_query.status(), 200);
    let by_body = format!(r#"{{"verifyKey":"{KEY}","type":"control.handover","payload":{{}}}}"#);
    assert_eq!(post(&receiver, None, by_body).await, 200);
    receiver.shutdown().await;
    let mut kinds = Vec::new();
    while let Some(e) = rx.recv().await {
        kinds.push(e.kind().to_string());
    }
    assert_eq!(kinds, ["message.delivered", "control.handover"]);
}

#[tokio::test]
async fn full_queue_answers_503() {
    let mut options = ReceiverOptions::new(KEY);
    options.queue_capacity = 1;
    let (entered_tx, mut entered) = unbounded_channel();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let receiver = WebhookReceiver::bind(options, move |_| {
        entered_tx.send(()).unwrap();
        released.recv().unwrap();
    })
    .await
    .unwrap();
    let url = receiver.url();
    let busy = tokio::spawn(async move {
        let client = reqwest::Client::new();
        let r = client
            .post(url)
            .header("X-Flowai-Verify-Key", KEY)
            .body(DELIVERED);
        r.send().await.unwrap().status().as_u16()
    });
    next(&mut entered).await;
    {
        // The handler is blocked: one of these two fills the queue, the other finds it full.
        let b = post(&receiver, Some(KEY), DELIVERED);
        let c = post(&receiver, Some(KEY), DELIVERED);
        tokio::pin!(b, c);
        let (first, rest) = tokio::select! {
            s = &mut b => (s, futures_util::future::Either::Left(c)),
            s = &mut c => (s, futures_util::future::Either::Right(b)),
        };
        assert_eq!(first, 503);
        release.send(()).unwrap();
        release.send(()).unwrap();
        assert_eq!(rest.await, 200);
    }
    assert_eq!(busy.await.unwrap(), 200);
    receiver.shutdown().await;
}

#[tokio::test]
async fn panicking_handler_does_not_kill_the_server() {
    let (tx, mut rx) = unbounded_channel();
    let receiver = WebhookReceiver::bind(ReceiverOptions::new(KEY), move |e| {
        if e.kind() == "boom" {
            panic!("handler bug");
        }
        tx.send(e).unwrap();
    })
    .await
    .unwrap();
    assert_eq!(post(&receiver, Some(KEY), r#"{"type":"boom"}"#).await, 500);
    assert_eq!(post(&receiver, Some(KEY), DELIVERED).await, 200);
    assert_eq!(next(&mut rx).await.kind(), "message.delivered");
    receiver.shutdown().await;
}

#[tokio::test]
async fn channel_form_delivers_in_order() {
    let (receiver, mut events) = WebhookReceiver::bind_channel(ReceiverOptions::new(KEY))
        .await
        .unwrap();
    for trace in 1..=3 {
        let body = format!(
            r#"{{"type":"message.delivered","payload":{{"threadId":"t","traceId":{trace}}}}}"#
        );
        assert_eq!(post(&receiver, Some(KEY), body).await, 200);
    }
    for trace in 1..=3 {
        match events.recv().await.unwrap() {
            WebhookEvent::Delivered(d) => assert_eq!(d.trace_id, Some(trace)),
            other => panic!("unexpected {other:?}"),
        }
    }
    receiver.shutdown().await;
}
