//! The emulator as a load balancer: calls round robin over receiver replicas, retries on the next replica, and the re-delivery fault.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use flowai_core::models::WebhookEvent;
use flowai_core::webhook::{ReceiverOptions, WebhookReceiver};
use flowai_emulator::webhooks::DeliveryPlan;
use flowai_emulator::{Emulator, EmulatorOptions};
use serde_json::json;

const KEY: &str = "vk-replicas-1";
const CALLS: u64 = 40;

type Seen = Arc<Mutex<Vec<(usize, u64)>>>;

/// A replica recording (its number, trace id) for every call its handler saw; replica 0
/// declines every call, so each of its calls is retried elsewhere.
async fn replica(n: usize, seen: Seen) -> WebhookReceiver {
    let mut options = ReceiverOptions::new(KEY);
    // Each replica remembers on its own: the repeats are seen here, as without a shared store.
    options.dedupe_capacity = 0;
    WebhookReceiver::bind(options, move |e: WebhookEvent| {
        let trace = e.to_value()["payload"]["traceId"].as_u64().unwrap_or(0);
        seen.lock().unwrap().push((n, trace));
        n != 0
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_spread_round_robin_retry_on_the_next_replica_and_a_share_is_repeated() {
    let emu = Emulator::new(EmulatorOptions {
        time_scale: 0.001,
        ..Default::default()
    })
    .start()
    .await
    .unwrap();
    let seen: Seen = Arc::default();
    let mut replicas = Vec::new();
    for n in 0..3 {
        replicas.push(replica(n, seen.clone()).await);
    }
    let http = reqwest::Client::new();
    let key = &emu.credentials().messaging_key;
    let r = http
        .post(format!("{}/v1/messaging/webhooks", emu.base_url()))
        .bearer_auth(key)
        .json(&json!({"url": replicas[1].url(), "verifyKey": KEY, "events": ["message.delivered"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    let plan_url = format!("{}/_emulator/webhooks/delivery", emu.base_url());
    let bad = http
        .post(&plan_url)
        .json(&json!({"redeliverPercent": 101}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let urls: Vec<String> = replicas.iter().map(WebhookReceiver::url).collect();
    let set = http
        .post(&plan_url)
        .json(&json!({"receivers": urls, "concurrency": 1, "redeliverPercent": 25}))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 200);
    let webhooks = &emu.state().webhooks;
    assert_eq!(
        webhooks.delivery_plan(),
        DeliveryPlan {
            receivers: urls,
            concurrency: 1,
            redeliver_percent: 25
        }
    );

    let org = emu.credentials().organisation_id.clone();
    for trace in 1..=CALLS {
        webhooks.enqueue(
            &org,
            "message.delivered",
            json!({"threadId": "t", "traceId": trace}),
        );
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let s = webhooks.delivery_stats();
        if s.delivered == CALLS && s.redeliveries_finished == s.redelivered {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{s:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let stats = webhooks.delivery_stats();
    assert_eq!(stats.redelivered, CALLS / 4);
    assert_eq!(stats.gave_up, 0);

    let seen = seen.lock().unwrap().clone();
    let mut accepted: HashMap<u64, Vec<usize>> = HashMap::new();
    for (n, trace) in &seen {
        if *n != 0 {
            accepted.entry(*trace).or_default().push(*n);
        }
    }
    // Every call was accepted, the repeated ones twice (nothing shared dedupes them here).
    assert_eq!(accepted.len() as u64, CALLS);
    let twice = accepted.values().filter(|r| r.len() == 2).count() as u64;
    assert_eq!(twice, CALLS / 4);
    // Each replica got calls; those replica 0 declined were retried on replica 1.
    for n in 0..3 {
        assert!(seen.iter().any(|(r, _)| *r == n), "replica {n} got no call");
    }
    let attempts = webhooks.attempts();
    for a in attempts.iter().filter(|a| a.url == replicas[0].url()) {
        let retry = attempts
            .iter()
            .find(|b| b.delivery_id == a.delivery_id && b.attempt == a.attempt + 1)
            .expect("a declined call is retried");
        assert_eq!(retry.url, replicas[1].url());
    }
    emu.shutdown().await;
}
