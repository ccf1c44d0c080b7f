//! Flow REST API v1 messages and listings against the emulator over loopback: sync and
//! webhook sends, every message type, history pages, threads, and refused input.
#![allow(clippy::unwrap_used)]

mod v1_support;

use flowai_core::ErrorKind;
use flowai_core::v1::{CallOptions, RestMessage, RestOriginator, RestPayload, Role, SendOptions};
use futures_util::StreamExt;
use serde_json::json;
use v1_support::{client, client_with, emulator, next_of, receiver, requests};

const SYNC: SendOptions = SendOptions {
    sync: true,
    write_concern: false,
    timeout: None,
};

fn texts(receipt: &flowai_core::v1::SendReceipt) -> String {
    receipt
        .replies
        .iter()
        .flat_map(|m| m.texts())
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::test]
async fn sync_send_answers_with_the_bots_replies() {
    let emu = emulator(1.0).await;
    let api = client(&emu);
    let first = api
        .send(None, &RestMessage::text("Hello"), &SYNC)
        .await
        .unwrap();
    // A generated thread is `<unique>|w_<channelId>`.
    let (unique, channel) = first.thread_id.split_once('|').unwrap();
    assert_eq!(unique.len(), 32, "{}", first.thread_id);
    assert!(channel.starts_with("w_"), "{}", first.thread_id);
    assert!(!first.replies.is_empty());
    assert!(!texts(&first).contains("Sorry"), "{}", texts(&first));
    assert_eq!(first.raw["status"], "ok");

    let thread = first.thread_id.clone();
    let located = RestMessage::new(RestPayload::Location {
        lat: 52.37,
        long: 4.89,
        title: Some("Dam".into()),
    });
    let second = api.send(Some(&thread), &located, &SYNC).await.unwrap();
    assert_eq!(second.thread_id, thread);
    assert!(texts(&second).contains("location"), "{}", texts(&second));
    let media = RestMessage::new(RestPayload::Media {
        url: "https://example.com/cat.png".into(),
        media_type: "image".into(),
        mime_type: Some("image/png".into()),
    });
    let third = api.send(Some(&thread), &media, &SYNC).await.unwrap();
    assert!(texts(&third).contains("image"), "{}", texts(&third));
    let intro = api
        .send(Some(&thread), &RestMessage::event("INTRO"), &SYNC)
        .await
        .unwrap();
    assert!(!intro.replies.is_empty());
    // Sent without sync: accepted, replies go to webhooks instead.
    let quiet = api
        .send(
            Some(&thread),
            &RestMessage::text("Hello"),
            &SendOptions {
                write_concern: true,
                ..SendOptions::default()
            },
        )
        .await
        .unwrap();
    assert!(quiet.replies.is_empty());
    assert_eq!(quiet.raw["writeConcern"], true);
    let sent = requests(&emu, "POST", &format!("/rest/v1/messages/{thread}"));
    assert_eq!(sent.len(), 4);
    assert_eq!(sent[3].query, "writeConcern=true");
}

#[tokio::test]
async fn replies_reach_the_message_webhook_without_sync() {
    let emu = emulator(0.001).await;
    let (hook, mut events) = receiver(&emu, &["message"]).await;
    let api = client(&emu);
    let originator = RestOriginator {
        name: "Ann".into(),
        role: Role::External,
        profile: Some(json!({"email": "ann@example.com"})),
    };
    let message = RestMessage::text("Hello").with_originator(originator);
    let receipt = api
        .send(Some("hook-thread"), &message, &SendOptions::default())
        .await
        .unwrap();
    assert!(receipt.replies.is_empty());
    let event = next_of(&mut events, "message").await;
    assert_eq!(event.thread_id(), Some("hook-thread"));
    assert!(!event.replies().unwrap().is_empty());
    hook.shutdown().await;
}

#[tokio::test]
async fn history_pages_hold_twenty_oldest_first() {
    let emu = emulator(1.0).await;
    let api = client(&emu);
    // 15 texts with one reply each: 30 history items, two pages.
    for i in 0..15 {
        api.send(
            Some("long-thread"),
            &RestMessage::text(format!("message {i}")),
            &SYNC,
        )
        .await
        .unwrap();
    }
    let first = api
        .messages_page("long-thread", 1, &CallOptions::default())
        .await
        .unwrap();
    assert_eq!(
        (first.page, first.items.len(), first.has_more),
        (1, 20, true)
    );
    assert_eq!(first.items[0]["direction"], "inbound");
    assert_eq!(first.items[0]["payload"]["speech"], "message 0");
    assert_eq!(first.items[1]["direction"], "outbound");
    let second = api
        .messages_page("long-thread", 2, &CallOptions::default())
        .await
        .unwrap();
    assert_eq!((second.items.len(), second.has_more), (10, false));
    let all: Vec<_> = api
        .messages("long-thread")
        .map(|m| m.unwrap())
        .collect()
        .await;
    assert_eq!(all.len(), 30);
    assert_eq!(all[28]["payload"]["speech"], "message 14");
    let err = api
        .messages_page("long-thread", 0, &CallOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    let err = api
        .messages_page("no-such-thread", 1, &CallOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
    assert!(err.request_id().is_some_and(|id| !id.is_empty()));
}

#[tokio::test]
async fn threads_list_every_thread_with_its_state() {
    let emu = emulator(1.0).await;
    let api = client(&emu);
    for name in ["t-a", "t-b", "t-c"] {
        api.send(Some(name), &RestMessage::text("Hello"), &SYNC)
            .await
            .unwrap();
    }
    api.pause("t-b", None, &CallOptions::default())
        .await
        .unwrap();
    let page = api.threads_page(1, &CallOptions::default()).await.unwrap();
    assert!(!page.has_more);
    let ids: Vec<&str> = page.items.iter().map(|t| t.thread_id.as_str()).collect();
    assert_eq!(ids, ["t-a", "t-b", "t-c"]);
    assert_eq!(page.items[0].message_count, Some(2));
    assert_eq!(page.items[1].is_paused, Some(true));
    assert_eq!(page.items[0].is_paused, Some(false));
    assert!(
        page.items[0]
            .last_message_at
            .as_deref()
            .unwrap()
            .ends_with('Z')
    );
}

#[tokio::test]
async fn bad_input_and_bad_keys_are_refused() {
    let emu = emulator(1.0).await;
    let api = client(&emu);
    let too_long = RestMessage::text("x".repeat(256));
    let err = api.send(None, &too_long, &SYNC).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    let err = api
        .send(Some(" "), &RestMessage::text("hi"), &SYNC)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(
        emu.state().v1.requests().is_empty(),
        "refused input must not reach the server"
    );
    let wrong = client_with(&emu, json!({"messaging_key": "not-the-key"}));
    let err = wrong
        .threads_page(1, &CallOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(err.status(), Some(401));
    assert!(err.request_id().is_some());
    assert!(!err.to_string().contains("not-the-key"));
    // The server's own checks, for clients that skip validation.
    let raw = reqwest::Client::new()
        .post(format!("{}/rest/v1/messages", emu.base_url()))
        .header("Authorization", emu.credentials().messaging_key.clone())
        .json(&json!({"payload": {"type": "text", "speech": "x".repeat(256)}}))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 400);
}
