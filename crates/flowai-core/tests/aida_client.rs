//! The AIDA client against the emulator over loopback: join, sessions, images, data, faults.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use flowai_core::aida::{AidaClient, AidaOptions};
use flowai_core::phoenix::{SocketEvent, SocketEvents, SocketSettings};
use flowai_core::{Config, ErrorKind};
use flowai_emulator::{Emulator, EmulatorOptions, RunningEmulator};
use serde_json::json;

/// Generous guard so a broken test fails instead of hanging; never a timing assertion.
const GUARD: Duration = Duration::from_secs(10);

async fn emulator() -> RunningEmulator {
    Emulator::new(EmulatorOptions::default())
        .start()
        .await
        .unwrap()
}

fn fast_settings() -> SocketSettings {
    SocketSettings {
        reconnect_after: vec![Duration::from_millis(5), Duration::from_millis(20)],
        rejoin_after: vec![Duration::from_millis(10), Duration::from_millis(20)],
        push_timeout: Duration::from_secs(5),
        ..SocketSettings::default()
    }
}

fn options(emu: &RunningEmulator) -> AidaOptions {
    let creds = emu.credentials();
    let mut options = AidaOptions::new(emu.aida_url(), &creds.aida_bot, creds.aida_token.as_str());
    options.settings = fast_settings();
    options
}

async fn wait_for(events: &mut SocketEvents, want: impl Fn(&SocketEvent) -> bool) -> SocketEvent {
    tokio::time::timeout(GUARD, async {
        loop {
            let event = events.recv().await.expect("event stream ended");
            if want(&event) {
                return event;
            }
        }
    })
    .await
    .expect("event did not come")
}

#[tokio::test]
async fn join_ok_from_config() {
    let emu = emulator().await;
    let env: Vec<(String, String)> = emu
        .env_lines()
        .iter()
        .filter_map(|l| {
            l.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect();
    let config =
        Config::from_lookup(|name| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()));
    let options = AidaOptions::from_config(&config).unwrap();
    let client = AidaClient::connect(options).await.unwrap();
    assert!(client.is_connected());
    client.close().await;
    assert!(!client.is_connected());
}

#[tokio::test]
async fn unauthorized_join_is_final_auth_error() {
    let emu = emulator().await;
    let mut bad_token = options(&emu);
    bad_token.token = "wrong-token-123".into();
    let err = AidaClient::connect(bad_token).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert!(!err.to_string().contains("wrong-token-123"));

    let mut bad_bot = options(&emu);
    bad_bot.bot = uuid::Uuid::new_v4().to_string();
    let err = AidaClient::connect(bad_bot).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
}

#[tokio::test]
async fn secrets_stay_out_of_debug() {
    let emu = emulator().await;
    let options = options(&emu);
    let token = emu.credentials().aida_token.clone();
    assert!(!format!("{options:?}").contains(&token));
    let client = AidaClient::connect(options).await.unwrap();
    assert!(!format!("{client:?}").contains(&token));
}

#[tokio::test]
async fn two_sessions_receive_only_their_own_replies() {
    let emu = emulator().await;
    let client = AidaClient::connect(options(&emu)).await.unwrap();
    let a = client.new_session(None).await.unwrap();
    let b = client.new_session(None).await.unwrap();
    assert_ne!(a.id(), b.id());
    let mut all = client.messages();

    a.send_text("hi").await.unwrap();
    let reply = tokio::time::timeout(GUARD, a.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(reply.session, a.id());
    assert!(
        reply.text.as_deref().unwrap_or("").contains("demo bot"),
        "{reply:?}"
    );

    b.send_text("what is the weather like").await.unwrap();
    let reply_b = tokio::time::timeout(GUARD, b.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(reply_b.session, b.id());

    // The unfiltered stream saw both sessions' traffic, A's first.
    let mut sessions = Vec::new();
    while sessions.len() < 2 {
        if let Some(flowai_core::phoenix::ChannelEvent::Message { payload, .. }) =
            tokio::time::timeout(GUARD, all.recv()).await.unwrap()
        {
            let s = payload["session"].as_str().unwrap().to_string();
            if sessions.last() != Some(&s) {
                sessions.push(s);
            }
        }
    }
    assert_eq!(sessions, vec![a.id().to_string(), b.id().to_string()]);

    // A marker round trip on A proves nothing of B's is queued for A.
    a.send_text("hello").await.unwrap();
    loop {
        let m = tokio::time::timeout(GUARD, a.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(m.session, a.id());
        if m.text.as_deref().unwrap_or("").contains("demo bot") {
            break;
        }
    }
}

#[tokio::test]
async fn image_upload_send_and_download_are_byte_exact() {
    let emu = emulator().await;
    let client = AidaClient::connect(options(&emu)).await.unwrap();
    let session = client.new_session(None).await.unwrap();
    let bytes: Vec<u8> = (0..70_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let id = session
        .send_image(bytes.clone(), "pic.png", "image/png")
        .await
        .unwrap();
    let image = client.fetch_image(&id).await.unwrap();
    assert_eq!(image.bytes.as_ref(), bytes.as_slice());
    assert_eq!(image.content_type.as_deref(), Some("image/png"));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("photo.jpg");
    std::fs::write(&path, &bytes[..1000]).unwrap();
    let id2 = session
        .send_image(path.as_path(), "photo.jpg", "image/jpeg")
        .await
        .unwrap();
    assert_eq!(
        client.download_image(&id2).await.unwrap().as_ref(),
        &bytes[..1000]
    );

    let missing = client.download_image("no-such-image").await.unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::Http);
    assert_eq!(missing.status(), Some(404));
}

#[tokio::test]
async fn image_of_another_session_is_refused() {
    let emu = emulator().await;
    let client = AidaClient::connect(options(&emu)).await.unwrap();
    let a = client.new_session(None).await.unwrap();
    let b = client.new_session(None).await.unwrap();
    let id = a
        .send_image(vec![1, 2, 3], "x.png", "image/png")
        .await
        .unwrap();
    // utb_img with A's image on B's session, as a foreign client could push it.
    let err = client
        .channel()
        .push("utb_img", json!({"session": b.id(), "image": id}))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(err.message().contains("unknown image"), "{err}");
    client
        .channel()
        .push("utb_img", json!({"session": a.id(), "image": id}))
        .await
        .unwrap();
}

#[tokio::test]
async fn put_data_is_merged_into_session_data() {
    let emu = emulator().await;
    let client = AidaClient::connect(options(&emu)).await.unwrap();
    let session = client
        .new_session(Some(json!({"first_name": "Ada", "lang": "en"})))
        .await
        .unwrap();
    session
        .put_data(json!({"last_name": "Lovelace", "lang": "nl"}))
        .await
        .unwrap();
    let data = emu.state().aida.session_data(session.id()).unwrap();
    assert_eq!(
        data,
        json!({"first_name": "Ada", "lang": "nl", "last_name": "Lovelace"})
    );
    let view: serde_json::Value = reqwest::get(format!(
        "{}/_emulator/aida/sessions/{}",
        emu.base_url(),
        session.id()
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(view["data"], data);
}

#[tokio::test]
async fn deleted_session_is_unusable() {
    let emu = emulator().await;
    let client = AidaClient::connect(options(&emu)).await.unwrap();
    let session = client.new_session(None).await.unwrap();
    let id = session.id().to_string();
    session.delete().await.unwrap();
    assert!(!emu.state().aida.has_session(&id));
    assert_eq!(
        session.send_text("hi").await.unwrap_err().kind(),
        ErrorKind::Closed
    );
    assert_eq!(
        session.put_data(json!({})).await.unwrap_err().kind(),
        ErrorKind::Closed
    );
    assert_eq!(
        session.delete().await.unwrap_err().kind(),
        ErrorKind::Closed
    );
    assert!(session.recv().await.is_none());
    // The server forgot it too: a handle re-attached by id is refused.
    let again = client.session(id);
    let err = again.send_text("hi").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(err.message().contains("unknown session"), "{err}");
}

#[tokio::test]
async fn dropped_connection_rejoins_and_buffered_pushes_go_out() {
    let emu = emulator().await;
    let client = AidaClient::connect(options(&emu)).await.unwrap();
    let mut events = client.events();
    let session = client.new_session(None).await.unwrap();
    // The next inbound frame is the last one this connection processes.
    emu.faults().update(|f| f.aida_drop_after_frames = Some(1));
    let _ = session.put_data(json!({"n": 1})).await;
    wait_for(&mut events, |e| {
        matches!(e, SocketEvent::Disconnected { .. })
    })
    .await;
    emu.faults().clear();
    // Sent while disconnected or rejoining: buffered and sent after the rejoin.
    session.put_data(json!({"n": 2})).await.unwrap();
    wait_for(&mut events, |e| matches!(e, SocketEvent::Connected)).await;
    session.send_text("hi").await.unwrap();
    let reply = tokio::time::timeout(GUARD, session.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(reply.session, session.id());
    assert_eq!(emu.state().aida.session_data(session.id()).unwrap()["n"], 2);
}

#[tokio::test]
async fn missed_heartbeat_reply_triggers_reconnect() {
    let emu = emulator().await;
    let mut options = options(&emu);
    options.settings.heartbeat_interval = Duration::from_millis(30);
    options.settings.heartbeat_timeout = Duration::from_millis(30);
    let client = AidaClient::connect(options).await.unwrap();
    let mut events = client.events();
    emu.faults().update(|f| f.aida_ignore_heartbeats = true);
    let gone = wait_for(&mut events, |e| {
        matches!(e, SocketEvent::Disconnected { .. })
    })
    .await;
    assert!(format!("{gone:?}").contains("heartbeat"), "{gone:?}");
    wait_for(&mut events, |e| {
        matches!(e, SocketEvent::Reconnecting { .. })
    })
    .await;
    emu.faults().clear();
    wait_for(&mut events, |e| matches!(e, SocketEvent::Connected)).await;
    let session = client.new_session(None).await.unwrap();
    session.send_text("hi").await.unwrap();
}

#[tokio::test]
async fn closed_event_comes_once_and_last() {
    let emu = emulator().await;
    let client = AidaClient::connect(options(&emu)).await.unwrap();
    let mut events = client.events();
    let session = client.new_session(None).await.unwrap();
    client.close().await;
    let mut seen = Vec::new();
    while let Some(e) = tokio::time::timeout(GUARD, events.recv()).await.unwrap() {
        seen.push(e);
    }
    assert_eq!(seen.last(), Some(&SocketEvent::Closed));
    assert_eq!(
        seen.iter().filter(|e| **e == SocketEvent::Closed).count(),
        1
    );
    assert_eq!(
        session.send_text("hi").await.unwrap_err().kind(),
        ErrorKind::Closed
    );
    assert!(session.recv().await.is_none());
    // Subscribing after the close still gets exactly the Closed event.
    let mut late = client.events();
    assert_eq!(late.recv().await, Some(SocketEvent::Closed));
    assert_eq!(late.recv().await, None);
}
