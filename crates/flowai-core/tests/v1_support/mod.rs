//! Helpers shared by the Flow REST API v1 test files: an emulator, a client, a receiver.
#![allow(dead_code, clippy::unwrap_used)]

use std::time::Duration;

use flowai_core::messaging::MessagingClient;
use flowai_core::models::{NewWebhook, WebhookEvent};
use flowai_core::settings::{RestSettings, resolve};
use flowai_core::v1::{RestClient, RestWebhookEvent};
use flowai_core::webhook::{ReceiverOptions, WebhookReceiver};
use flowai_core::{Config, Secret};
use flowai_emulator::v1::V1Request;
use flowai_emulator::{Emulator, EmulatorOptions, RunningEmulator};
use serde_json::{Value, json};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

/// A safety net so a broken peer fails the test instead of hanging it; never a timing assertion.
pub const PATIENCE: Duration = Duration::from_secs(20);
const VERIFY_KEY: &str = "vk-v1-tests";

/// An emulator on 127.0.0.1 with service-side waits scaled by `time_scale`.
pub async fn emulator(time_scale: f64) -> RunningEmulator {
    let options = EmulatorOptions {
        time_scale,
        ..Default::default()
    };
    Emulator::new(options).start().await.unwrap()
}

/// A v1 client of the emulator, built from settings as every binding builds it.
pub fn client_with(emu: &RunningEmulator, extra: Value) -> RestClient {
    let mut settings = json!({
        "api_url": emu.base_url(),
        "messaging_key": emu.credentials().messaging_key,
    });
    if let (Value::Object(s), Value::Object(e)) = (&mut settings, extra) {
        s.extend(e);
    }
    let lookup = |_: &str| None;
    let options = resolve::<RestSettings>(&settings, lookup, RestSettings::FIELDS)
        .unwrap()
        .into_options()
        .unwrap();
    RestClient::new(options).unwrap()
}

/// A v1 client with the default settings.
pub fn client(emu: &RunningEmulator) -> RestClient {
    client_with(emu, json!({}))
}

/// A webhook receiver subscribed to `events`, and the v1 events it receives.
pub async fn receiver(
    emu: &RunningEmulator,
    events: &[&str],
) -> (WebhookReceiver, UnboundedReceiver<RestWebhookEvent>) {
    let (tx, rx) = unbounded_channel();
    let receiver =
        WebhookReceiver::bind(ReceiverOptions::new(VERIFY_KEY), move |e: WebhookEvent| {
            if let Some(v1) = RestWebhookEvent::from_webhook_event(&e) {
                let _ = tx.send(v1);
            }
        })
        .await
        .unwrap();
    let config = Config::new()
        .with_api_url(emu.base_url())
        .with_messaging_key(emu.credentials().messaging_key.clone());
    MessagingClient::new(config)
        .unwrap()
        .create_webhook(&NewWebhook {
            url: receiver.url(),
            verify_key: Secret::new(VERIFY_KEY),
            events: events.iter().map(|e| e.to_string()).collect(),
        })
        .await
        .unwrap();
    (receiver, rx)
}

/// The next v1 event of kind `kind` (others are skipped).
pub async fn next_of(rx: &mut UnboundedReceiver<RestWebhookEvent>, kind: &str) -> RestWebhookEvent {
    tokio::time::timeout(PATIENCE, async {
        loop {
            let event = rx.recv().await.expect("receiver closed");
            if event.kind == kind {
                return event;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {kind} event arrived"))
}

/// The emulator's logged v1 requests with `method` and exactly `path`.
pub fn requests(emu: &RunningEmulator, method: &str, path: &str) -> Vec<V1Request> {
    emu.state()
        .v1
        .requests()
        .into_iter()
        .filter(|r| r.method == method && r.path == path)
        .collect()
}
