//! Webhook delivery from the emulator to the SDK's receiver while it fails, times out and recovers: every event reaches the callback once, retries follow the backoff.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use flowai_core::models::WebhookEvent;
use flowai_core::webhook::{ReceiverOptions, WebhookReceiver};
use flowai_emulator::{Emulator, EmulatorOptions};
use serde_json::json;

const MESSAGES: u64 = 40;
const KEY: &str = "vk-webhook-faults-1";
/// Handler calls refused with 500 first, then calls that outlast the sender's deadline.
const REFUSED: usize = 6;
const SLOW: usize = 2;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_reaches_the_callback_once_through_failures_and_timeouts() {
    let emu = Emulator::new(EmulatorOptions {
        time_scale: 0.001,
        webhook_timeout: Duration::from_millis(150),
        ..Default::default()
    })
    .start()
    .await
    .unwrap();

    let calls = Arc::new(AtomicUsize::new(0));
    let accepted: Arc<Mutex<HashMap<(String, u64), usize>>> = Arc::default();
    let receiver = {
        let calls = calls.clone();
        let accepted = accepted.clone();
        WebhookReceiver::bind(ReceiverOptions::new(KEY), move |event: WebhookEvent| {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            if n < REFUSED {
                return false;
            }
            if n < REFUSED + SLOW {
                // Longer than the sender waits: it times out and retries; the retry is a duplicate.
                std::thread::sleep(Duration::from_millis(400));
            }
            let trace = event.to_value()["payload"]["traceId"].as_u64().unwrap_or(0);
            *accepted
                .lock()
                .unwrap()
                .entry((event.kind().to_string(), trace))
                .or_default() += 1;
            true
        })
        .await
        .unwrap()
    };

    let http = reqwest::Client::new();
    let key = &emu.credentials().messaging_key;
    let r = http
        .post(format!("{}/v1/messaging/webhooks", emu.base_url()))
        .bearer_auth(key)
        .json(&json!({"url": receiver.url(), "verifyKey": KEY, "events": ["message.delivered", "message.reply"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    for trace in 1..=MESSAGES {
        let r = http
            .post(format!("{}/v1/messaging/message", emu.base_url()))
            .bearer_auth(key)
            .json(&json!({"threadId": format!("t{trace}"), "type": "text", "text": "hi", "traceId": trace}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }

    // Every message's delivered event arrives (the demo bot's replies come too).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let done = {
            let a = accepted.lock().unwrap();
            (1..=MESSAGES).all(|t| a.contains_key(&("message.delivered".to_string(), t)))
        };
        if done {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "events missing: {:?} after {:?}",
            accepted.lock().unwrap().keys().collect::<Vec<_>>(),
            emu.state()
                .webhooks
                .attempts()
                .iter()
                .map(|a| (a.attempt, a.status, a.error.clone()))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Let retries of the slow calls land: they must be dropped as duplicates.
    let webhooks = &emu.state().webhooks;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let accepted = accepted.lock().unwrap().clone();
    for ((kind, trace), n) in &accepted {
        assert_eq!(*n, 1, "{kind} of {trace} reached the callback {n} times");
    }
    assert!(accepted.keys().any(|(k, _)| k == "message.reply"));

    let attempts = webhooks.attempts();
    let mut by_delivery: HashMap<&str, Vec<_>> = HashMap::new();
    for a in &attempts {
        by_delivery.entry(&a.delivery_id).or_default().push(a);
    }
    let mut retried = 0;
    let mut timeouts = 0;
    for list in by_delivery.values() {
        for (i, a) in list.iter().enumerate() {
            assert_eq!(a.attempt as usize, i + 1);
            let expected = if i == 0 {
                Duration::ZERO
            } else {
                webhooks.retry_delay(i as u32)
            };
            assert_eq!(a.delay_before, expected, "{a:?}");
            timeouts += usize::from(a.error.is_some());
        }
        retried += usize::from(list.len() > 1);
        assert!(list.last().unwrap().delivered, "{list:?}");
    }
    assert!(
        retried >= 1 && timeouts >= 1,
        "{retried} retried, {timeouts} timed out"
    );
    eprintln!(
        "{} events, {} attempts, {retried} retried, {timeouts} timed out",
        by_delivery.len(),
        attempts.len()
    );
    receiver.shutdown().await;
}
