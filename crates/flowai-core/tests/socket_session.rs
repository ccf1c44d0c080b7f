//! The Flow Socket session end to end against the emulator over loopback: replies, reconnects, faults, queue, close.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use common::wait_for;
use flowai_core::ErrorKind;
use flowai_core::backoff::Backoff;
use flowai_core::socket::{Session, SessionEvent, SessionEvents, SessionOptions};
use flowai_emulator::{Emulator, EmulatorOptions, RunningEmulator};

async fn emulator() -> RunningEmulator {
    Emulator::new(EmulatorOptions::default())
        .start()
        .await
        .unwrap()
}

fn options(emu: &RunningEmulator) -> SessionOptions {
    let mut o = SessionOptions::new(emu.base_url(), emu.credentials().client_id.clone());
    o.backoff = Backoff {
        base: Duration::from_millis(5),
        cap: Duration::from_millis(20),
        reset_after: Duration::from_secs(1),
    };
    o.send_timeout = Duration::from_secs(10);
    o.connect_timeout = Duration::from_secs(5);
    o
}

/// Drain every event until the end, on its own task.
fn collect(mut events: SessionEvents) -> tokio::task::JoinHandle<Vec<SessionEvent>> {
    tokio::spawn(async move {
        let mut all = Vec::new();
        while let Some(ev) = events.next().await {
            all.push(ev);
        }
        all
    })
}

fn reply_texts(ev: &SessionEvent) -> Option<Vec<String>> {
    match ev {
        SessionEvent::Reply(r) => Some(
            r.messages
                .iter()
                .flat_map(|m| m.texts().into_iter().map(str::to_string))
                .collect(),
        ),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intro_event_and_greeting_are_answered() {
    let emu = emulator().await;
    let (session, mut events) = Session::connect(options(&emu)).await.unwrap();
    assert!(
        session.thread_id().contains('|'),
        "threadId carries the channel"
    );
    wait_for(&mut events, |e| matches!(e, SessionEvent::Connected)).await;

    let delivered = session.send_event("INTRO").await.unwrap();
    assert_eq!(delivered.thread_id, session.thread_id());
    let reply = wait_for(&mut events, |e| matches!(e, SessionEvent::Reply(_))).await;
    let SessionEvent::Reply(received) = &reply else {
        unreachable!()
    };
    let message = &received.messages[0];
    assert_eq!(message.texts(), vec!["Hi, how can we help?"]);
    assert_eq!(message.quick_replies().len(), 3);

    session.send_text("hi").await.unwrap();
    let reply = wait_for(&mut events, |e| matches!(e, SessionEvent::Reply(_))).await;
    let texts = reply_texts(&reply).unwrap().join(" ");
    assert!(texts.contains("customer service demo bot"), "{texts}");

    session.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_sends_survive_drops_every_100_frames() {
    let emu = emulator().await;
    emu.faults().update(|f| f.drop_after_frames = Some(100));
    let (session, events) = Session::connect(options(&emu)).await.unwrap();
    let collector = collect(events);

    let mut tasks = tokio::task::JoinSet::new();
    let in_flight = Arc::new(tokio::sync::Semaphore::new(64));
    for i in 0..1000 {
        let session = session.clone();
        let permit = in_flight.clone().acquire_owned().await.unwrap();
        tasks.spawn(async move {
            let d = session.send_text(format!("message {i}")).await;
            drop(permit);
            d
        });
    }
    let mut traces = HashSet::new();
    while let Some(result) = tasks.join_next().await {
        let delivered = result.unwrap().unwrap();
        assert!(traces.insert(delivered.trace_id.unwrap()), "resolved twice");
    }
    assert_eq!(traces.len(), 1000);
    assert_eq!(emu.state().socket.answered(session.thread_id()), 1000);
    assert!(emu.state().socket.connections() >= 10);

    session.close().await.unwrap();
    let all = collector.await.unwrap();
    let mut seen = HashSet::new();
    for ev in &all {
        if let SessionEvent::Delivered(d) = ev {
            assert!(seen.insert(d.trace_id.unwrap()), "delivery reported twice");
        }
    }
    assert_eq!(seen, traces, "every delivery reported exactly once");
    let replies = all
        .iter()
        .filter(|e| matches!(e, SessionEvent::Reply(_)))
        .count();
    assert!(replies <= 1000, "no reply reported twice");
    assert!(matches!(
        all.last(),
        Some(SessionEvent::Closed { error: None })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_made_while_disconnected_go_out_after_reconnect() {
    let emu = emulator().await;
    let (session, mut events) = Session::connect(options(&emu)).await.unwrap();
    wait_for(&mut events, |e| matches!(e, SessionEvent::Connected)).await;

    emu.faults().update(|f| {
        f.drop_after_frames = Some(1);
        f.refuse_socket_info = 1_000_000;
    });
    let first = session.send_text("before the drop").await.unwrap();
    wait_for(&mut events, |e| {
        matches!(e, SessionEvent::Disconnected { .. })
    })
    .await;

    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..5 {
        let session = session.clone();
        tasks.spawn(async move { session.send_text(format!("offline {i}")).await });
    }
    // Keep the session offline for a few more attempts, so every send waits in the queue.
    let calls = emu.state().socket.socket_info_calls();
    while emu.state().socket.socket_info_calls() < calls + 3 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(emu.state().socket.answered(session.thread_id()), 1);
    emu.faults().clear();
    wait_for(&mut events, |e| matches!(e, SessionEvent::Connected)).await;
    let mut traces = HashSet::new();
    while let Some(result) = tasks.join_next().await {
        traces.insert(result.unwrap().unwrap().trace_id.unwrap());
    }
    assert_eq!(traces.len(), 5);
    assert!(!traces.contains(&first.trace_id.unwrap()));
    assert_eq!(emu.state().socket.answered(session.thread_id()), 6);
    session.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn used_endpoints_are_refused_and_the_client_recovers() {
    let emu = emulator().await;
    emu.faults().update(|f| f.stale_socket_endpoints = 2);
    let (session, mut events) = Session::connect(options(&emu)).await.unwrap();
    let ev = wait_for(&mut events, |e| {
        matches!(
            e,
            SessionEvent::Connected | SessionEvent::Reconnecting { .. }
        )
    })
    .await;
    assert!(
        matches!(ev, SessionEvent::Reconnecting { attempt: 1, .. }),
        "{ev:?}"
    );
    wait_for(&mut events, |e| matches!(e, SessionEvent::Connected)).await;
    assert_eq!(
        emu.state().socket.socket_info_calls(),
        3,
        "a fresh endpoint per attempt"
    );
    session.send_text("after recovery").await.unwrap();
    session.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_stay_out_of_debug_and_events() {
    let emu = emulator().await;
    let client_id = emu.credentials().client_id.clone();
    emu.faults().update(|f| {
        f.stale_socket_endpoints = 1;
        f.drop_after_frames = Some(1);
    });
    let o = options(&emu);
    assert!(!format!("{o:?}").contains(&client_id));
    let (session, events) = Session::connect(o).await.unwrap();
    let collector = collect(events);
    session.send_text("x").await.unwrap();
    session.close().await.unwrap();
    let text = format!("{session:?} {:?}", collector.await.unwrap());
    assert!(!text.contains(&client_id), "{text}");
    assert!(!text.contains("/ws/"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_connection_is_detected_by_the_pong_deadline() {
    let emu = emulator().await;
    let mut o = options(&emu);
    o.ping_interval = Duration::from_millis(50);
    o.pong_timeout = Duration::from_millis(100);
    emu.faults().update(|f| f.stall_after_frames = Some(1));
    let (session, mut events) = Session::connect(o).await.unwrap();
    wait_for(&mut events, |e| matches!(e, SessionEvent::Connected)).await;
    session.send_text("one").await.unwrap();
    let ev = wait_for(&mut events, |e| {
        matches!(e, SessionEvent::Disconnected { .. })
    })
    .await;
    let SessionEvent::Disconnected { reason } = ev else {
        unreachable!()
    };
    assert!(reason.contains("pong"), "{reason}");
    emu.faults().clear();
    wait_for(&mut events, |e| matches!(e, SessionEvent::Connected)).await;
    session.send_text("two").await.unwrap();
    session.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthorized_socket_info_is_final() {
    let emu = emulator().await;
    let mut o = options(&emu);
    o.client_id = flowai_core::Secret::new("not-the-client-id");
    let err = Session::connect(o).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(err.code(), "FLOWAI_AUTH");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(emu.state().socket.socket_info_calls(), 1, "no retry");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_socket_info_after_connect_closes_with_the_error() {
    let emu = emulator().await;
    let (session, mut events) = Session::connect(options(&emu)).await.unwrap();
    wait_for(&mut events, |e| matches!(e, SessionEvent::Connected)).await;
    emu.faults().update(|f| {
        f.refuse_socket_info = 1;
        f.refuse_status = Some(403);
        f.drop_after_frames = Some(1);
    });
    session.send_text("x").await.unwrap();
    let ev = wait_for(&mut events, |e| matches!(e, SessionEvent::Closed { .. })).await;
    let SessionEvent::Closed { error: Some(err) } = ev else {
        panic!("{ev:?}")
    };
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert!(events.next().await.is_none());
    assert_eq!(
        session.send_text("y").await.unwrap_err().kind(),
        ErrorKind::Closed
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_server_frame_is_an_error_event_and_the_session_goes_on() {
    let emu = emulator().await;
    emu.faults().update(|f| f.socket_garbage_frames = 1);
    let (session, mut events) = Session::connect(options(&emu)).await.unwrap();
    let sent = session.send_text("hello").await.unwrap();
    let ev = wait_for(&mut events, |e| matches!(e, SessionEvent::Error { .. })).await;
    let SessionEvent::Error { message } = ev else {
        unreachable!()
    };
    assert!(message.contains("not JSON"), "{message}");
    let ev = wait_for(&mut events, |e| matches!(e, SessionEvent::Delivered(_))).await;
    let SessionEvent::Delivered(d) = ev else {
        unreachable!()
    };
    assert_eq!(d.trace_id, sent.trace_id);
    session.send_text("still working").await.unwrap();
    session.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_offline_queue_refuses_at_once() {
    let emu = emulator().await;
    emu.faults().update(|f| f.refuse_socket_info = 1_000_000);
    let mut o = options(&emu);
    o.queue_capacity = 2;
    let (session, mut events) = Session::connect(o).await.unwrap();
    let a = tokio::spawn({
        let s = session.clone();
        async move { s.send_text("a").await }
    });
    let b = tokio::spawn({
        let s = session.clone();
        async move { s.send_text("b").await }
    });
    // Let both reach the queue.
    while emu.state().socket.socket_info_calls() < 5 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let err = session.send_text("c").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::QueueFull);
    assert_eq!(err.code(), "FLOWAI_QUEUE_FULL");
    emu.faults().clear();
    wait_for(&mut events, |e| matches!(e, SessionEvent::Connected)).await;
    a.await.unwrap().unwrap();
    b.await.unwrap().unwrap();
    session.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_times_out_without_delivery() {
    let emu = emulator().await;
    let mut o = options(&emu);
    o.send_timeout = Duration::from_millis(100);
    emu.faults().update(|f| f.reply_delay_ms = 1000);
    let (session, _events) = Session::connect(o).await.unwrap();
    let err = session.send_text("slow").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    session.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_comes_once_and_last() {
    let emu = emulator().await;
    let (session, events) = Session::connect(options(&emu)).await.unwrap();
    let collector = collect(events);
    session.send_text("hi").await.unwrap();
    session.typing().await.unwrap();
    session.noticed().await.unwrap();
    session.close().await.unwrap();
    session.close().await.unwrap();
    assert!(session.is_closed());
    assert_eq!(
        session.send_text("late").await.unwrap_err().kind(),
        ErrorKind::Closed
    );
    for late in [
        session.typing().await.unwrap_err(),
        session.history().await.unwrap_err(),
        session.unnoticed().await.unwrap_err(),
        session.upload("Cargo.toml", None).await.unwrap_err(),
    ] {
        assert_eq!(late.kind(), ErrorKind::Closed, "{late}");
    }
    let all = collector.await.unwrap();
    let closed = all
        .iter()
        .filter(|e| matches!(e, SessionEvent::Closed { .. }))
        .count();
    assert_eq!(closed, 1);
    assert!(matches!(
        all.last(),
        Some(SessionEvent::Closed { error: None })
    ));
    assert!(matches!(all.first(), Some(SessionEvent::Connected)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_unnoticed_and_upload() {
    let emu = emulator().await;
    let (session, mut events) = Session::connect(options(&emu)).await.unwrap();
    session.send_event("INTRO").await.unwrap();
    wait_for(&mut events, |e| matches!(e, SessionEvent::Reply(_))).await;

    // The shape flowai-swift reads: `payload` is a list of reply-shaped entries, the
    // user's own marked by the `external` role.
    let history = session.history().await.unwrap();
    let items = history["payload"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{history}");
    assert_eq!(items[0]["originator"]["role"], "external", "{history}");
    assert_eq!(items[0]["messages"][0]["fallback"], "event attachment");
    assert_eq!(items[1]["originator"]["role"], "bot", "{history}");
    let unnoticed = session.unnoticed().await.unwrap();
    assert_eq!(unnoticed["payload"]["unnoticed"], 1);
    session.noticed().await.unwrap();
    // The frame and the GET travel different connections: poll until it is applied.
    let mut cleared = false;
    for _ in 0..100 {
        if session.unnoticed().await.unwrap()["payload"]["unnoticed"] == 0 {
            cleared = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(cleared);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("photo.bin");
    std::fs::write(&path, vec![7u8; 200_000]).unwrap();
    let last = Arc::new(AtomicU64::new(0));
    let seen = last.clone();
    let answer = session
        .upload(
            &path,
            Some(Arc::new(move |sent, total| {
                assert!(sent <= total);
                seen.store(sent, Ordering::Relaxed);
            })),
        )
        .await
        .unwrap();
    assert_eq!(answer["payload"]["size"], 200_000);
    assert_eq!(last.load(Ordering::Relaxed), 200_000);
    let id = answer["payload"]["id"].as_str().unwrap();
    assert_eq!(emu.state().socket.upload_size(id), Some(200_000));
    session.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_messages_are_rejected_before_sending() {
    let emu = emulator().await;
    let (session, _events) = Session::connect(options(&emu)).await.unwrap();
    let err = session.send_text("x".repeat(256)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    let err = session.send_text("").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    session.close().await.unwrap();
}
