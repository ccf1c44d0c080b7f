//! The generic Phoenix client against the emulator's Phoenix endpoint: URLs, join errors, buffering, timeouts.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use flowai_core::ErrorKind;
use flowai_core::phoenix::{
    ChannelEvent, PhoenixOptions, PhoenixSocket, SocketEvent, SocketSettings, schedule_delay,
};
use flowai_emulator::{Emulator, EmulatorOptions, RunningEmulator};
use serde_json::json;

const GUARD: Duration = Duration::from_secs(10);

async fn emulator() -> RunningEmulator {
    Emulator::new(EmulatorOptions::default())
        .start()
        .await
        .unwrap()
}

fn topic(emu: &RunningEmulator) -> String {
    format!("bot:{}", emu.credentials().aida_bot)
}

fn join_params(emu: &RunningEmulator) -> serde_json::Value {
    json!({"access_token": emu.credentials().aida_token})
}

#[test]
fn endpoint_mapping() {
    let cases = [
        (
            "http://127.0.0.1:4000",
            "ws://127.0.0.1:4000/socket/websocket?vsn=2.0.0",
        ),
        (
            "https://aida.example/",
            "wss://aida.example/socket/websocket?vsn=2.0.0",
        ),
        (
            "wss://aida.example/socket",
            "wss://aida.example/socket/websocket?vsn=2.0.0",
        ),
        (
            "ws://h/socket/websocket?vsn=1.0.0&x=1",
            "ws://h/socket/websocket?x=1&vsn=2.0.0",
        ),
    ];
    for (input, want) in cases {
        assert_eq!(
            PhoenixOptions::new(input).endpoint().unwrap().as_str(),
            want
        );
    }
    assert!(PhoenixOptions::new("ftp://x").endpoint().is_err());
    let mut with_token = PhoenixOptions::new("http://h");
    with_token
        .params
        .push(("token".into(), "tk-secret-1".into()));
    assert!(
        with_token
            .endpoint()
            .unwrap()
            .as_str()
            .contains("token=tk-secret-1")
    );
    assert!(!format!("{with_token:?}").contains("tk-secret-1"));
}

#[test]
fn phoenix_js_default_schedules() {
    let s = SocketSettings::default();
    let ms = |d: Duration| d.as_millis() as u64;
    let reconnect: Vec<u64> = (0..12).map(|n| ms(s.reconnect_delay(n))).collect();
    assert_eq!(
        reconnect,
        [
            10, 50, 100, 150, 200, 250, 500, 1000, 2000, 5000, 5000, 5000
        ]
    );
    let rejoin: Vec<u64> = (0..6).map(|n| ms(s.rejoin_delay(n))).collect();
    assert_eq!(rejoin, [1000, 2000, 5000, 10_000, 10_000, 10_000]);
    assert_eq!(schedule_delay(&[], 3), Duration::from_secs(1));
    assert_eq!(s.heartbeat_interval, Duration::from_secs(30));
    assert_eq!(s.push_timeout, Duration::from_secs(10));
}

#[tokio::test]
async fn connect_failure_is_a_connection_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let err = PhoenixSocket::connect(PhoenixOptions::new(format!("http://127.0.0.1:{port}")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connection);
    assert!(!err.to_string().contains(&port.to_string()) || err.to_string().contains("reach"));
}

#[tokio::test]
async fn join_errors_and_pushes_before_join() {
    let emu = emulator().await;
    let socket = PhoenixSocket::connect(PhoenixOptions::new(emu.base_url()))
        .await
        .unwrap();
    let other = socket.channel("room:lobby", json!({}));
    let err = other.join().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(err.message().contains("unmatched topic"), "{err}");

    let refused = socket.channel(topic(&emu), json!({"access_token": "nope"}));
    assert_eq!(refused.join().await.unwrap_err().kind(), ErrorKind::Auth);
    // A refused join is final: the channel is closed, pushes are refused.
    let err = refused.push("new_session", json!({})).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Closed);

    let channel = socket.channel(topic(&emu), join_params(&emu));
    assert_eq!(
        channel.push("x", json!({})).await.unwrap_err().kind(),
        ErrorKind::Closed
    );
    channel.join().await.unwrap();
    assert_eq!(
        channel.join().await.unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    let err = channel.push("no_such_event", json!({})).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    let mut events = channel.subscribe(Default::default());
    channel.leave().await.unwrap();
    let last = tokio::time::timeout(GUARD, events.recv()).await.unwrap();
    assert_eq!(last, Some(ChannelEvent::Closed { error: None }));
    socket.close().await;
}

#[tokio::test]
async fn pushes_buffer_while_disconnected_then_queue_full_and_timeout() {
    let emu = emulator().await;
    let mut options = PhoenixOptions::new(emu.base_url());
    // Reconnect far in the future so the channel stays unjoined during the test.
    options.settings.reconnect_after = vec![Duration::from_secs(3600)];
    options.settings.max_buffered_pushes = 2;
    let socket = PhoenixSocket::connect(options).await.unwrap();
    let mut socket_events = socket.events();
    let channel = socket.channel(topic(&emu), join_params(&emu));
    let mut channel_events = channel.subscribe(Default::default());
    channel.join().await.unwrap();
    emu.faults().update(|f| f.aida_drop_after_frames = Some(1));
    let _ = channel.push("new_session", json!({})).await;
    emu.faults().clear();
    loop {
        let e = tokio::time::timeout(GUARD, socket_events.recv())
            .await
            .unwrap()
            .unwrap();
        if let SocketEvent::Reconnecting { attempt, delay } = e {
            assert_eq!((attempt, delay), (1, Duration::from_secs(3600)));
            break;
        }
    }
    assert!(!socket.is_connected());
    assert!(matches!(
        channel_events.recv().await,
        Some(ChannelEvent::Errored { .. })
    ));

    let short = Duration::from_millis(20);
    let timed = channel
        .push_with_timeout("new_session", json!({}), short)
        .await;
    assert_eq!(timed.unwrap_err().kind(), ErrorKind::Timeout);
    let spawn_push = |c: flowai_core::phoenix::Channel| {
        tokio::spawn(async move { c.push("new_session", json!({})).await })
    };
    let a = spawn_push(channel.clone());
    let b = spawn_push(channel.clone());
    // On this single-threaded runtime, yielding lets both tasks queue their pushes first.
    for _ in 0..3 {
        tokio::task::yield_now().await;
    }
    let overflow = channel.push("new_session", json!({})).await.unwrap_err();
    assert_eq!(overflow.kind(), ErrorKind::QueueFull);
    socket.close().await;
    assert_eq!(a.await.unwrap().unwrap_err().kind(), ErrorKind::Closed);
    assert_eq!(b.await.unwrap().unwrap_err().kind(), ErrorKind::Closed);
    let mut rest = Vec::new();
    while let Some(e) = socket_events.recv().await {
        rest.push(e);
    }
    assert_eq!(rest, vec![SocketEvent::Closed]);
}
