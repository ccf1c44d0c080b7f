//! Webhook CRUD and delivery of the emulator, against a small receiver served by the test.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use flowai_emulator::{Emulator, EmulatorOptions, RunningEmulator};
use serde_json::{Value, json};
use tokio::sync::Notify;

/// One POST the receiver got.
#[derive(Clone, Debug)]
struct Call {
    verify_key: Option<String>,
    delivery_id: Option<String>,
    body: Value,
}

#[derive(Default)]
struct ReceiverState {
    calls: Mutex<Vec<Call>>,
    /// Statuses to answer the next POSTs with, before answering 200.
    fail_with: Mutex<Vec<u16>>,
    notify: Notify,
}

struct Receiver {
    url: String,
    state: Arc<ReceiverState>,
}

impl Receiver {
    async fn start() -> Receiver {
        let state = Arc::new(ReceiverState::default());
        let app = Router::new()
            .route("/hook", get(|| async { "ok" }).post(receive))
            .route("/missing", axum::routing::post(receive))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver {
            url: format!("http://{addr}/hook"),
            state,
        }
    }

    fn calls(&self) -> Vec<Call> {
        self.state.calls.lock().unwrap().clone()
    }

    /// Wait until `done` holds for the calls received (the test's own timeout bounds it).
    async fn wait_for(&self, done: impl Fn(&[Call]) -> bool) -> Vec<Call> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let notified = self.state.notify.notified();
            let calls = self.calls();
            if done(&calls) {
                return calls;
            }
            assert!(
                tokio::time::timeout_at(deadline, notified).await.is_ok(),
                "receiver waited too long; got {calls:?}"
            );
        }
    }
}

async fn receive(
    State(state): State<Arc<ReceiverState>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    state.calls.lock().unwrap().push(Call {
        verify_key: header("x-flowai-verify-key"),
        delivery_id: header("x-flowai-delivery-id"),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    });
    let status = {
        let mut fail = state.fail_with.lock().unwrap();
        if fail.is_empty() { 200 } else { fail.remove(0) }
    };
    state.notify.notify_waiters();
    StatusCode::from_u16(status).unwrap()
}

async fn start() -> RunningEmulator {
    Emulator::new(EmulatorOptions {
        time_scale: 0.001,
        ..Default::default()
    })
    .start()
    .await
    .unwrap()
}

fn hooks_url(emu: &RunningEmulator) -> String {
    format!("{}/v1/messaging/webhooks", emu.base_url())
}

async fn call(
    emu: &RunningEmulator,
    method: reqwest::Method,
    url: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut r = reqwest::Client::new()
        .request(method, url)
        .bearer_auth(&emu.credentials().messaging_key);
    if let Some(b) = body {
        r = r.json(&b);
    }
    r.send().await.unwrap()
}

async fn create(emu: &RunningEmulator, url: &str, events: &[&str]) -> Value {
    let r = call(
        emu,
        reqwest::Method::POST,
        &hooks_url(emu),
        Some(json!({"url": url, "verifyKey": "vk-1234567", "events": events})),
    )
    .await;
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

async fn send_text(emu: &RunningEmulator, thread: &str, text: &str, trace: u64) {
    let r = call(
        emu,
        reqwest::Method::POST,
        &format!("{}/v1/messaging/message", emu.base_url()),
        Some(json!({"threadId": thread, "type": "text", "text": text, "traceId": trace})),
    )
    .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn webhook_crud() {
    let emu = start().await;
    let receiver = Receiver::start().await;
    let r = call(
        &emu,
        reqwest::Method::POST,
        &hooks_url(&emu),
        Some(json!({"url": receiver.url, "verifyKey": "vk-1", "events": ["message.reply"]})),
    )
    .await;
    assert_eq!(r.status(), 201);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let first: Value = r.json().await.unwrap();
    let id = first["webhookId"].as_str().unwrap().to_string();
    assert_eq!(location, format!("/v1/messaging/webhooks/{id}"));
    assert_eq!(first["organisationId"], emu.credentials().organisation_id);
    assert_eq!(first["url"], receiver.url.as_str());
    assert_eq!(first["verifyKey"], "vk-1");
    assert_eq!(first["events"], json!(["message.reply"]));
    assert!(uuid::Uuid::parse_str(&id).is_ok());

    let second = create(&emu, &receiver.url, &["message.delivered"]).await;
    // Verify keys never show in the emulator's Debug output.
    let debug = format!("{:?}", emu.state());
    assert!(!debug.contains("vk-1") && !debug.contains("vk-1234567"));

    let r = call(
        &emu,
        reqwest::Method::GET,
        &format!("{}{location}", emu.base_url()),
        None,
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap(), first);

    // Newest first.
    let list: Value = call(&emu, reqwest::Method::GET, &hooks_url(&emu), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"], json!([second, first]));

    // Partial updates with PUT and POST.
    let one = format!("{}/{id}", hooks_url(&emu));
    let r = call(
        &emu,
        reqwest::Method::PUT,
        &one,
        Some(json!({"events": ["message.reply", "control.handover"]})),
    )
    .await;
    assert_eq!(r.status(), 200);
    let updated: Value = r.json().await.unwrap();
    assert_eq!(
        updated["events"],
        json!(["message.reply", "control.handover"])
    );
    assert_eq!(updated["verifyKey"], "vk-1");
    let r = call(
        &emu,
        reqwest::Method::POST,
        &one,
        Some(json!({"verifyKey": "vk-2"})),
    )
    .await;
    assert_eq!(r.status(), 200);
    let updated: Value = r.json().await.unwrap();
    assert_eq!(updated["verifyKey"], "vk-2");
    assert_eq!(updated["url"], receiver.url.as_str());
    let r = call(
        &emu,
        reqwest::Method::PUT,
        &one,
        Some(json!({"events": []})),
    )
    .await;
    assert_eq!(r.status(), 400);

    let r = call(&emu, reqwest::Method::DELETE, &one, None).await;
    assert_eq!(r.status(), 204);
    assert_eq!(
        call(&emu, reqwest::Method::GET, &one, None).await.status(),
        404
    );
    assert_eq!(
        call(&emu, reqwest::Method::DELETE, &one, None)
            .await
            .status(),
        404
    );
    let list: Value = call(&emu, reqwest::Method::GET, &hooks_url(&emu), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"], json!([second]));
}

#[tokio::test]
async fn webhook_create_is_validated() {
    let emu = start().await;
    let receiver = Receiver::start().await;
    let missing = receiver.url.replace("/hook", "/missing");
    for (body, needle) in [
        (
            json!({"url": receiver.url, "verifyKey": "k", "events": []}),
            "event",
        ),
        (json!({"url": receiver.url, "verifyKey": "k"}), "events"),
        (
            json!({"verifyKey": "k", "events": ["message.reply"]}),
            "url",
        ),
        (
            json!({"url": "not a url", "verifyKey": "k", "events": ["message.reply"]}),
            "url",
        ),
        (
            json!({"url": receiver.url, "events": ["message.reply"]}),
            "verifyKey",
        ),
        // The url must answer the verification GET with 2xx.
        (
            json!({"url": missing, "verifyKey": "k", "events": ["message.reply"]}),
            "verification",
        ),
    ] {
        let r = call(
            &emu,
            reqwest::Method::POST,
            &hooks_url(&emu),
            Some(body.clone()),
        )
        .await;
        assert_eq!(r.status(), 400, "{body}");
        let b: Value = r.json().await.unwrap();
        assert_eq!(b["status"], "error");
        assert!(b["message"].as_str().unwrap().contains(needle), "{b}");
    }
    let r = reqwest::Client::new()
        .get(hooks_url(&emu))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(emu.state().webhooks.webhooks().is_empty());
}

#[tokio::test]
async fn delivered_and_reply_reach_the_receiver() {
    let emu = start().await;
    let receiver = Receiver::start().await;
    create(&emu, &receiver.url, &["message.delivered", "message.reply"]).await;
    send_text(&emu, "thread-1", "Hello", 42).await;
    let calls = receiver.wait_for(|c| c.len() >= 2).await;
    assert_eq!(calls[0].body["type"], "message.delivered");
    assert_eq!(calls[0].body["payload"]["threadId"], "thread-1");
    assert_eq!(calls[0].body["payload"]["traceId"], 42);
    assert_eq!(calls[0].body["payload"]["speech"], "Hello");
    assert_eq!(calls[1].body["type"], "message.reply");
    let payload = &calls[1].body["payload"];
    assert_eq!(payload["threadId"], "thread-1");
    assert_eq!(payload["originator"]["userId"], "flowai|system");
    let message = &payload["messages"][0];
    assert_eq!(
        message["fallback"],
        "Hi there! This is a customer service demo bot! "
    );
    assert_eq!(message["replyTo"], "Hello");
    assert_eq!(message["flow"]["title"], "Hello World");
    assert_eq!(message["step"]["type"], "INTENT");
    assert_eq!(message["responses"][0]["type"], "text");
    for c in &calls {
        assert_eq!(c.verify_key.as_deref(), Some("vk-1234567"));
        assert!(c.delivery_id.is_some());
    }
    assert_ne!(calls[0].delivery_id, calls[1].delivery_id);
    // The SDK's own model reads the reply.
    let event = flowai_core::models::WebhookEvent::from_value(calls[1].body.clone()).unwrap();
    assert!(matches!(event, flowai_core::models::WebhookEvent::Reply(_)));

    // A webhook only gets the events it subscribed to, in order.
    let only_replies = Receiver::start().await;
    create(&emu, &only_replies.url, &["message.reply"]).await;
    send_text(&emu, "thread-1", "weather forecast", 43).await;
    send_text(&emu, "thread-1", "Amsterdam", 44).await;
    let calls = only_replies.wait_for(|c| c.len() >= 2).await;
    assert!(calls.iter().all(|c| c.body["type"] == "message.reply"));
    assert_eq!(
        calls[0].body["payload"]["messages"][0]["fallback"],
        "Which city?"
    );
    assert_eq!(
        calls[1].body["payload"]["messages"][0]["fallback"],
        "The weather in Amsterdam is sunny."
    );
}

#[tokio::test]
async fn failed_deliveries_are_retried_with_the_same_id() {
    let emu = start().await;
    let receiver = Receiver::start().await;
    // A 500 and a redirect both count as failures.
    *receiver.state.fail_with.lock().unwrap() = vec![500, 302];
    let hook = create(&emu, &receiver.url, &["message.delivered"]).await;
    send_text(&emu, "retry", "hi", 1).await;
    let calls = receiver.wait_for(|c| c.len() >= 3).await;
    assert!(calls.iter().all(|c| c.body["type"] == "message.delivered"));
    assert!(calls[0].delivery_id.is_some());
    assert!(calls.iter().all(|c| c.delivery_id == calls[0].delivery_id));

    // The emulator's record shows the backoff: 1 s, then 2 s (scaled).
    let webhooks = &emu.state().webhooks;
    // The receiver may see the call before the emulator has recorded its answer.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !webhooks.attempts().iter().any(|a| a.delivered) {
        assert!(tokio::time::Instant::now() < deadline, "never recorded");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let attempts = webhooks.attempts();
    let mine: Vec<_> = attempts
        .iter()
        .filter(|a| a.webhook_id == hook["webhookId"])
        .collect();
    assert_eq!(mine.len(), 3);
    assert_eq!(
        mine.iter().map(|a| a.attempt).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(
        mine.iter().map(|a| a.status).collect::<Vec<_>>(),
        [Some(500), Some(302), Some(200)]
    );
    assert_eq!(mine[0].delay_before, Duration::ZERO);
    assert_eq!(mine[1].delay_before, webhooks.retry_delay(1));
    assert_eq!(mine[2].delay_before, webhooks.retry_delay(2));
    assert_eq!(webhooks.retry_delay(2), webhooks.retry_delay(1) * 2);
    assert!(mine[2].delivered);
    assert!(mine.iter().all(|a| a.delivery_id == mine[0].delivery_id));
}

#[tokio::test]
async fn delivery_gives_up_after_the_retry_window() {
    let emu = Emulator::new(EmulatorOptions {
        time_scale: 0.001,
        // 16 s scaled to 16 ms: attempts after 0, 1, 3, 7 ms fit, the next (15 + 16) does not.
        webhook_retry_window: Duration::from_secs(16),
        ..Default::default()
    })
    .start()
    .await
    .unwrap();
    let receiver = Receiver::start().await;
    *receiver.state.fail_with.lock().unwrap() = vec![503; 100];
    create(&emu, &receiver.url, &["message.delivered"]).await;
    send_text(&emu, "gives-up", "hi", 1).await;
    let webhooks = &emu.state().webhooks;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !webhooks.attempts().iter().any(|a| a.gave_up) {
        assert!(tokio::time::Instant::now() < deadline, "never gave up");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let attempts = webhooks.attempts();
    assert!(attempts.iter().all(|a| !a.delivered));
    assert!(!attempts.is_empty() && attempts.len() <= 5, "{attempts:?}");
    assert!(attempts.last().unwrap().gave_up);
}

#[tokio::test]
async fn the_reference_example_paths_work_and_location_follows_them() {
    let emu = start().await;
    let receiver = Receiver::start().await;
    let alias = format!("{}/messages/v1/webhooks", emu.base_url());
    let r = call(
        &emu,
        reqwest::Method::POST,
        &alias,
        Some(json!({"url": receiver.url, "verifyKey": "1234567", "events": ["message.reply"]})),
    )
    .await;
    assert_eq!(r.status(), 201);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let created: Value = r.json().await.unwrap();
    let id = created["webhookId"].as_str().unwrap();
    assert_eq!(location, format!("/messages/v1/webhooks/{id}"));
    let one = format!("{}{location}", emu.base_url());
    let r = call(&emu, reqwest::Method::GET, &one, None).await;
    assert_eq!(r.json::<Value>().await.unwrap(), created);
    // The update example sends organisationId: accepted, the webhook stays where it is.
    let r = call(
        &emu,
        reqwest::Method::PUT,
        &one,
        Some(json!({"organisationId": "853a-448f-9f91-ef397588ff87-6ecfd199", "events": ["message.delivered"]})),
    )
    .await;
    assert_eq!(r.status(), 200);
    let updated: Value = r.json().await.unwrap();
    assert_eq!(updated["organisationId"], emu.credentials().organisation_id);
    assert_eq!(updated["events"], json!(["message.delivered"]));
    let list: Value = call(&emu, reqwest::Method::GET, &alias, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"], json!([updated]));
    let r = call(&emu, reqwest::Method::DELETE, &one, None).await;
    assert_eq!(r.status(), 204);
    assert_eq!(
        call(&emu, reqwest::Method::GET, &one, None).await.status(),
        404
    );
}

#[tokio::test]
async fn delivered_is_the_message_as_sent_and_handover_is_announced() {
    let emu = start().await;
    let receiver = Receiver::start().await;
    create(
        &emu,
        &receiver.url,
        &["message.delivered", "message.reply", "control.handover"],
    )
    .await;
    let r = call(
        &emu,
        reqwest::Method::POST,
        &format!("{}/v1/messaging/message", emu.base_url()),
        Some(
            json!({"threadId": "t-event", "type": "event", "eventName": "INTRO", "traceId": "9",
            "lang": "en", "timezone": 2, "params": {"seats": [{"value": "Business class"}]}}),
        ),
    )
    .await;
    assert_eq!(r.status(), 200);
    let calls = receiver.wait_for(|c| c.len() >= 2).await;
    // The echo of the socket: the message as sent, with the speech an attachment gets and
    // the traceId as a number.
    assert_eq!(
        calls[0].body,
        json!({"type": "message.delivered", "payload": {
            "threadId": "t-event", "traceId": 9, "speech": "event attachment", "type": "event",
            "eventName": "INTRO", "lang": "en", "timezone": 2,
            "params": {"seats": [{"value": "Business class"}]}}})
    );
    let message = &calls[1].body["payload"]["messages"][0];
    assert_eq!(message["replyTo"], "event attachment");
    assert_eq!(message["params"]["event"][0]["value"]["name"], "INTRO");
    assert_eq!(message["responses"][0]["delay"], 0);

    // The quick reply "Chat with flow.ai" hands the thread over.
    send_text(&emu, "t-handover", "Chat with someone from flow.ai", 10).await;
    let calls = receiver
        .wait_for(|c| c.iter().any(|c| c.body["type"] == "control.handover"))
        .await;
    let handover = calls
        .iter()
        .find(|c| c.body["type"] == "control.handover")
        .unwrap();
    let payload = &handover.body["payload"];
    assert_eq!(payload["threadId"], "t-handover");
    assert_eq!(payload["traceId"], 10);
    let responses = payload["messages"][0]["responses"].as_array().unwrap();
    assert!(responses.iter().any(|r| r["type"] == "handover"));
    // The reply that hands over is a message.reply too; a plain reply is no handover.
    send_text(&emu, "t-plain", "hi", 11).await;
    receiver
        .wait_for(|c| {
            c.iter()
                .any(|c| c.body["type"] == "message.reply" && c.body["payload"]["traceId"] == 11)
        })
        .await;
    let handovers = receiver
        .calls()
        .iter()
        .filter(|c| c.body["type"] == "control.handover")
        .count();
    assert_eq!(handovers, 1);
}
