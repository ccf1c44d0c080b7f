//! Flow REST API v1 control calls against the emulator over loopback: handover, takeover,
//! resolve, pause / resume / status (the bot really stays quiet while paused), triggered
//! events, business hours, segments and broadcasts, with their webhook calls.
#![allow(clippy::unwrap_used)]

mod v1_support;

use flowai_core::v1::{
    Broadcast, BroadcastChannel, CallOptions, Recipient, RestMessage, RestOriginator, RestPayload,
    Role, SegmentBroadcast, SendOptions,
};
use v1_support::{client, emulator, next_of, receiver};

const SYNC: SendOptions = SendOptions {
    sync: true,
    write_concern: false,
    timeout: None,
};
const NO: CallOptions = CallOptions { timeout: None };

async fn replies(api: &flowai_core::v1::RestClient, thread: &str) -> usize {
    api.send(Some(thread), &RestMessage::text("Hello"), &SYNC)
        .await
        .unwrap()
        .replies
        .len()
}

#[tokio::test]
async fn handover_pauses_the_bot_until_resolved() {
    let emu = emulator(1.0).await;
    let (hook, mut events) = receiver(&emu, &["paused", "resumed"]).await;
    let api = client(&emu);
    assert!(replies(&api, "ho").await > 0);
    let answer = api.handover("ho", Some(3600), &NO).await.unwrap();
    assert_eq!(answer["isPaused"], true);
    let paused = next_of(&mut events, "paused").await;
    assert_eq!(paused.thread_id(), Some("ho"));
    assert_eq!(paused.payload["secondsToPause"], 3600);
    assert_eq!(
        replies(&api, "ho").await,
        0,
        "the bot answered while paused"
    );
    assert!(
        replies(&api, "other-thread").await > 0,
        "only that thread pauses"
    );
    assert!(api.pause_status("ho", &NO).await.unwrap().is_paused);
    api.resolve("ho", &NO).await.unwrap();
    let resumed = next_of(&mut events, "resumed").await;
    assert_eq!(resumed.is_paused(), Some(false));
    assert!(!api.pause_status("ho", &NO).await.unwrap().is_paused);
    assert!(replies(&api, "ho").await > 0);
    hook.shutdown().await;
}

#[tokio::test]
async fn pause_runs_out_after_seconds_to_pause() {
    // 100 s of pause at time_scale 0.01 is one real second.
    let emu = emulator(0.01).await;
    let (hook, mut events) = receiver(&emu, &["paused", "resumed"]).await;
    let api = client(&emu);
    let status = api.pause("timed", Some(100), &NO).await.unwrap();
    assert!(status.is_paused);
    assert_eq!(status.thread_id, "timed");
    assert_eq!(status.raw["secondsToPause"], 100);
    next_of(&mut events, "paused").await;
    assert_eq!(replies(&api, "timed").await, 0);
    let resumed = next_of(&mut events, "resumed").await;
    assert_eq!(resumed.payload["reason"], "expired");
    assert!(!api.pause_status("timed", &NO).await.unwrap().is_paused);
    assert!(replies(&api, "timed").await > 0);
    hook.shutdown().await;
}

#[tokio::test]
async fn a_moderators_message_pauses_the_bot_and_resume_ends_it() {
    let emu = emulator(1.0).await;
    let api = client(&emu);
    let agent = RestOriginator {
        name: "Agent Smith".into(),
        role: Role::Moderator,
        profile: None,
    };
    let said = api
        .send(
            Some("mod"),
            &RestMessage::text("Hi, a human here").with_originator(agent),
            &SYNC,
        )
        .await
        .unwrap();
    assert!(said.replies.is_empty());
    assert!(api.pause_status("mod", &NO).await.unwrap().is_paused);
    assert_eq!(replies(&api, "mod").await, 0);
    let status = api.resume("mod", &NO).await.unwrap();
    assert!(!status.is_paused);
    assert!(replies(&api, "mod").await > 0);
}

#[tokio::test]
#[allow(deprecated)]
async fn takeover_and_the_is_paused_webhook() {
    let emu = emulator(1.0).await;
    let (hook, mut events) = receiver(&emu, &["takeover", "isPaused"]).await;
    let api = client(&emu);
    api.takeover("taken", &NO).await.unwrap();
    assert_eq!(
        next_of(&mut events, "takeover").await.thread_id(),
        Some("taken")
    );
    assert_eq!(replies(&api, "taken").await, 0);
    // Without sync the status comes as an `isPaused` webhook call.
    let raw = reqwest::Client::new()
        .get(format!("{}/rest/v1/pause/taken", emu.base_url()))
        .header("Authorization", emu.credentials().messaging_key.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 200);
    assert_eq!(
        next_of(&mut events, "isPaused").await.is_paused(),
        Some(true)
    );
    hook.shutdown().await;
}

#[tokio::test]
async fn events_can_be_listed_and_triggered() {
    let emu = emulator(1.0).await;
    let (hook, mut events) = receiver(&emu, &["message"]).await;
    let api = client(&emu);
    let listed = api.trigger_events(&NO).await.unwrap();
    assert!(listed.iter().any(|e| e.name == "INTRO"), "{listed:?}");
    assert!(listed.iter().all(|e| e.raw["flowTitle"].is_string()));
    let answer = api.trigger_event("trig", "INTRO", &NO).await.unwrap();
    assert_eq!(answer["eventName"], "INTRO");
    let event = next_of(&mut events, "message").await;
    assert_eq!(event.thread_id(), Some("trig"));
    assert!(!event.replies().unwrap().is_empty());
    let err = api
        .trigger_event("trig", "NOBODY_LISTENS", &NO)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
    hook.shutdown().await;
}

#[tokio::test]
async fn business_hours_and_segments_come_from_the_project() {
    let emu = emulator(1.0).await;
    let api = client(&emu);
    let hours = api.business_hours(&NO).await.unwrap();
    assert_eq!(hours.timezone.as_deref(), Some("Europe/Amsterdam"));
    assert_eq!(hours.days.len(), 7);
    assert_eq!(hours.days[0].day, "monday");
    assert_eq!(hours.days[0].open.as_deref(), Some("09:00"));
    assert!(hours.days[6].open.is_none());
    assert!(hours.raw["holidays"].is_array());
    let segments = api.segments(&NO).await.unwrap();
    let names: Vec<&str> = segments.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["All contacts", "VIP"]);
    assert_eq!(segments[1].id, "seg-vip");
    assert_eq!(segments[1].raw["size"], 2);
}

#[tokio::test]
async fn broadcasts_reach_their_audience() {
    let emu = emulator(0.001).await;
    let (hook, mut events) = receiver(&emu, &["message", "outbound"]).await;
    let api = client(&emu);
    let vip = SegmentBroadcast::event_to_segment("seg-vip", "INTRO");
    let answer = api.broadcast_segment(&vip, &NO).await.unwrap();
    assert_eq!(answer["recipients"], 2);
    let mut reached = vec![
        next_of(&mut events, "message")
            .await
            .thread_id()
            .unwrap()
            .to_string(),
        next_of(&mut events, "message")
            .await
            .thread_id()
            .unwrap()
            .to_string(),
    ];
    reached.sort();
    assert_eq!(reached, ["vip-anna|w_demo", "vip-ben|w_demo"]);
    let instant = Broadcast {
        audience: vec![Recipient {
            name: Some("John Doe".into()),
            phone_number: "+12345678901".into(),
            profile: None,
        }],
        channel: BroadcastChannel {
            channel_name: "whatsapp".into(),
            external_id: "+12345678902".into(),
        },
        payload: RestPayload::Text {
            speech: "Our store opens at nine".into(),
        },
    };
    let answer = api.broadcast(&instant, &NO).await.unwrap();
    assert_eq!(answer["recipients"], 1);
    let out = next_of(&mut events, "outbound").await;
    assert_eq!(out.thread_id(), Some("+12345678901|whatsapp"));
    assert_eq!(
        out.payload["messages"][0]["speech"],
        "Our store opens at nine"
    );
    let bad = SegmentBroadcast::event_to_segment("seg-unknown", "INTRO");
    assert_eq!(
        api.broadcast_segment(&bad, &NO).await.unwrap_err().status(),
        Some(404)
    );
    hook.shutdown().await;
}

#[tokio::test]
async fn reads_without_sync_answer_through_webhooks() {
    let emu = emulator(0.001).await;
    let kinds = ["history", "threads", "trigger.events", "businessHours"];
    let (hook, mut events) = receiver(&emu, &kinds).await;
    let api = client(&emu);
    api.send(Some("async-reads"), &RestMessage::text("Hello"), &SYNC)
        .await
        .unwrap();
    let http = reqwest::Client::new();
    for path in [
        "messages/async-reads?page=1",
        "threads?page=1",
        "trigger/event",
        "businesshours",
    ] {
        let answer: serde_json::Value = http
            .get(format!("{}/rest/v1/{path}", emu.base_url()))
            .header("Authorization", emu.credentials().messaging_key.clone())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(answer, serde_json::json!({"status": "ok"}), "{path}");
    }
    let history = next_of(&mut events, "history").await;
    assert_eq!(history.thread_id(), Some("async-reads"));
    assert_eq!(history.payload["items"].as_array().unwrap().len(), 2);
    let threads = next_of(&mut events, "threads").await;
    assert_eq!(threads.payload["items"][0]["threadId"], "async-reads");
    let triggers = next_of(&mut events, "trigger.events").await;
    assert!(triggers.payload["events"].as_array().unwrap().len() >= 2);
    let hours = next_of(&mut events, "businessHours").await;
    assert_eq!(
        hours.payload["businessHours"]["timezone"],
        "Europe/Amsterdam"
    );
    assert!(hours.is_known());
    hook.shutdown().await;
}
