//! The v1 client logs each request through `tracing` (method, path, attempt, status, request
//! id) and never its key. Alone in its test binary: a callsite first reached by a parallel
//! test while no subscriber listens is cached as uninteresting and would not reach this one.
#![allow(clippy::unwrap_used)]

mod v1_support;

use std::fmt::Debug;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use flowai_core::v1::{CallOptions, RestMessage, SendOptions};
use flowai_emulator::faults::FaultConfig;
use serde_json::json;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};
use v1_support::{client_with, emulator};

/// Every span and event field, as `name=value` text.
#[derive(Clone, Default)]
struct Capture {
    text: Arc<Mutex<String>>,
    ids: Arc<AtomicU64>,
}

struct Fields<'a>(&'a Mutex<String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        let line = format!("{}={value:?} ", field.name());
        self.0.lock().unwrap().push_str(&line);
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        self.text
            .lock()
            .unwrap()
            .push_str(&format!("\nspan {} ", span.metadata().name()));
        span.record(&mut Fields(&self.text));
        Id::from_u64(self.ids.fetch_add(1, Ordering::SeqCst) + 1)
    }
    fn record(&self, _: &Id, values: &Record<'_>) {
        values.record(&mut Fields(&self.text));
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        self.text.lock().unwrap().push_str("\nevent ");
        event.record(&mut Fields(&self.text));
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[tokio::test]
async fn requests_are_logged_without_the_key() {
    let emu = emulator(1.0).await;
    let key = emu.credentials().messaging_key.clone();
    let capture = Capture::default();
    // The test runtime has one thread: the client and the emulator log into this subscriber.
    let _guard = tracing::subscriber::set_default(capture.clone());
    let api = client_with(&emu, json!({"retry_base_ms": 5}));
    api.send(
        Some("logged"),
        &RestMessage::text("Hello"),
        &SendOptions::default(),
    )
    .await
    .unwrap();
    emu.faults().set(FaultConfig {
        rest_v1_failures: 1,
        rest_v1_status: Some(503),
        ..Default::default()
    });
    api.threads_page(1, &CallOptions::default()).await.unwrap();
    let text = capture.text.lock().unwrap().clone();
    assert!(
        text.contains("span flow_rest method=POST path=/rest/v1/messages/logged"),
        "{text}"
    );
    assert!(text.contains("path=/rest/v1/threads"), "{text}");
    assert!(text.contains("status=503"), "{text}");
    assert!(text.contains("attempt=2"), "the retry is logged: {text}");
    assert!(text.contains("request_id=\""), "{text}");
    assert!(!text.contains(&key), "the key was logged: {text}");
}
