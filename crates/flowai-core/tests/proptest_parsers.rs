//! Property tests over every parser the SDK exposes to the network: whatever arrives, no panic, and a typed error or a typed value.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use flowai_core::ErrorKind;
use flowai_core::backoff::Backoff;
use flowai_core::phoenix::Frame;
use flowai_core::secret::Secret;
use flowai_core::socket::frames::{Inbound, parse_inbound};
use flowai_core::socket::{Session, SessionEvent, SessionOptions};
use flowai_core::webhook::verify::{KeyCheck, Verifier};
use proptest::prelude::*;
use serde_json::{Value, json};

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::from),
        prop_oneof![
            Just("text"),
            Just("messages"),
            Just("traceId"),
            Just("threadId")
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((key(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Field names the parsers look at, and random ones.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop_oneof![
            Just("type"), Just("payload"), Just("message"), Just("messages"), Just("traceId"),
            Just("threadId"), Just("speech"), Just("nonce"), Just("secret"), Just("responses"),
            Just("originator"), Just("status"), Just("response"), Just("endpoint"), Just("error"),
            Just("verifyKey"), Just("fallback"), Just("quickReplies"), Just("delay"),
        ].prop_map(str::to_string),
        1 => any::<String>(),
    ]
}

/// A frame type the socket knows, or any other.
fn frame_type() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => prop_oneof![
            Just("pong"), Just("message.delivered"), Just("activities.delivered"),
            Just("message.received"), Just("activities.created"), Just("agent.typing"),
            Just("interruption.occurred"), Just("secret.generated"), Just("error"),
            Just("message.reply"), Just("control.handover"),
        ].prop_map(Value::from),
        1 => json_value(),
    ]
}

/// A `{type, payload}` object with a plausible or random shape.
fn typed_object() -> impl Strategy<Value = Value> {
    (frame_type(), json_value(), json_value())
        .prop_map(|(t, payload, extra)| json!({ "type": t, "payload": payload, "message": extra }))
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 2000,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn flow_frames_from_any_text(text in any::<String>()) {
        let _ = parse_inbound(&text);
    }

    #[test]
    fn flow_frames_from_any_object(value in typed_object()) {
        let text = value.to_string();
        match parse_inbound(&text) {
            Inbound::Malformed(m) => prop_assert!(!m.is_empty()),
            Inbound::ServerError(m) => prop_assert!(m.chars().count() <= 1000),
            _ => {}
        }
    }

    #[test]
    fn phoenix_frames_from_any_text(text in any::<String>()) {
        if let Err(e) = Frame::parse(&text) {
            prop_assert_eq!(e.kind(), ErrorKind::Protocol);
        }
    }

    #[test]
    fn phoenix_frames_from_any_array(items in proptest::collection::vec(json_value(), 0..7)) {
        let text = Value::Array(items.clone()).to_string();
        match Frame::parse(&text) {
            Ok(frame) => {
                prop_assert_eq!(items.len(), 5);
                // What parses, prints back to a frame that parses the same.
                let again = Frame::parse(&frame.to_json()).unwrap();
                prop_assert_eq!(again, frame);
            }
            Err(e) => prop_assert_eq!(e.kind(), ErrorKind::Protocol),
        }
    }

    #[test]
    fn webhook_bodies_from_any_bytes(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        let v = Verifier::new(Secret::new("proptest-verify-key")).unwrap();
        for check in [KeyCheck::Verified, KeyCheck::Absent] {
            if let Err(e) = v.parse_checked(check, &body) {
                prop_assert!(matches!(e.kind(), ErrorKind::Protocol | ErrorKind::Verification), "{e:?}");
                prop_assert!(!e.message().contains("proptest-verify-key"));
            }
        }
    }

    #[test]
    fn webhook_bodies_from_any_object(value in typed_object(), with_key in any::<bool>()) {
        let v = Verifier::new(Secret::new("proptest-verify-key")).unwrap();
        let mut value = value;
        if with_key {
            value["verifyKey"] = json!("proptest-verify-key");
        }
        let body = value.to_string();
        for check in [KeyCheck::Verified, KeyCheck::Absent] {
            match v.parse_checked(check, body.as_bytes()) {
                Ok(event) => prop_assert!(!event.kind().is_empty() || value["type"] == ""),
                Err(e) => prop_assert!(matches!(e.kind(), ErrorKind::Protocol | ErrorKind::Verification), "{e:?}"),
            }
        }
    }

    #[test]
    fn webhook_headers_from_any_pairs(name in any::<String>(), value in any::<String>(), query in any::<String>()) {
        let v = Verifier::new(Secret::new("proptest-verify-key")).unwrap();
        let r = v.verify_and_parse_pairs([(name.as_str(), value.as_str())], Some(&query), br#"{"type":"x"}"#);
        if let Err(e) = r {
            prop_assert!(matches!(e.kind(), ErrorKind::Verification | ErrorKind::Protocol), "{e:?}");
        }
    }

    #[test]
    fn rest_error_bodies(status in 0u16..1000, body in proptest::collection::vec(any::<u8>(), 0..512)) {
        let detail = flowai_core::http::error_detail(&body);
        let e = flowai_core::Error::from_status(status, &detail);
        prop_assert!(!e.code().is_empty());
        if (200..300).contains(&status) {
            return Ok(());
        }
        prop_assert_eq!(e.status(), Some(status));
    }

    #[test]
    fn rest_error_json_bodies(status in 400u16..600, value in json_value()) {
        let detail = flowai_core::http::error_detail(value.to_string().as_bytes());
        let e = flowai_core::Error::from_status(status, &detail);
        let expected = match status {
            401 | 403 => ErrorKind::Auth,
            429 => ErrorKind::RateLimited,
            _ => e.kind(),
        };
        prop_assert_eq!(e.kind(), expected);
    }
}

/// A local server answering socket.info with whatever the test gives, to feed the session's real parser.
async fn socket_info_server(
    answers: Arc<std::sync::Mutex<(u16, Vec<u8>)>>,
) -> (String, tokio::task::JoinHandle<()>) {
    use axum::response::IntoResponse;
    let app = axum::Router::new().route(
        "/socket.info",
        axum::routing::get(move || {
            let answers = answers.clone();
            async move {
                let (status, body) = answers.lock().unwrap().clone();
                let status =
                    axum::http::StatusCode::from_u16(status).unwrap_or(axum::http::StatusCode::OK);
                (status, body).into_response()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, task)
}

/// socket.info answers of every shape: the session either refuses them as final (with a typed
/// error) or keeps retrying; it never panics, and `Closed` still comes last once.
#[test]
fn socket_info_answers() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let answers = Arc::new(std::sync::Mutex::new((200u16, Vec::new())));
    let (url, server) = rt.block_on(socket_info_server(answers.clone()));
    let http = reqwest::Client::new();
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 300,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let status = prop_oneof![
        4 => Just(200u16),
        1 => prop_oneof![Just(400u16), Just(401), Just(403), Just(404), Just(429), Just(500), Just(503)],
        1 => 100u16..600,
    ];
    let body = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..256),
        json_value().prop_map(|v| v.to_string().into_bytes()),
        (json_value(), json_value(), any::<String>()).prop_map(|(status, endpoint, secret)| {
            json!({"status": status, "payload": {"endpoint": endpoint}, "secret": secret})
                .to_string()
                .into_bytes()
        }),
        prop_oneof![
            Just("ws://127.0.0.1:1/ws/x"),
            Just("http://[::1"),
            Just("ftp://a/b"),
            Just("wss://"),
            Just(""),
            Just("ws://127.0.0.1:1/ws/\u{0}"),
        ]
        .prop_map(|e| json!({"status": "OK", "payload": {"endpoint": e}})
            .to_string()
            .into_bytes()),
    ];
    runner
        .run(&(status, body), |(status, body)| {
            *answers.lock().unwrap() = (status, body);
            rt.block_on(async {
                let mut o = SessionOptions::new(&url, "proptest-client-id");
                o.http_client = Some(http.clone());
                o.backoff = Backoff {
                    base: Duration::from_millis(1),
                    cap: Duration::from_millis(2),
                    reset_after: Duration::from_secs(1),
                };
                o.connect_timeout = Duration::from_secs(2);
                match Session::connect(o).await {
                    Err(e) => {
                        prop_assert!(
                            matches!(
                                e.kind(),
                                ErrorKind::Auth
                                    | ErrorKind::Http
                                    | ErrorKind::InvalidArgument
                                    | ErrorKind::Protocol
                            ),
                            "{e:?}"
                        );
                        prop_assert!(!e.to_string().contains("proptest-client-id"));
                    }
                    Ok((session, mut events)) => {
                        session.close().await.unwrap();
                        let mut last = None;
                        while let Some(ev) = events.next().await {
                            last = Some(ev);
                        }
                        prop_assert!(
                            matches!(last, Some(SessionEvent::Closed { .. })),
                            "{last:?}"
                        );
                    }
                }
                Ok(())
            })
        })
        .unwrap();
    server.abort();
}

/// A peer sending a 4 MiB frame: the session refuses it (1 MiB cap) by dropping that connection,
/// never buffering it, and reconnects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_flow_frame_is_refused() {
    use axum::extract::ws::{Message, WebSocketUpgrade};
    use axum::response::IntoResponse;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new()
        .route(
            "/socket.info",
            axum::routing::get(move || async move {
                axum::Json(
                    json!({"status": "ok", "payload": {"endpoint": format!("ws://{addr}/ws")}}),
                )
            }),
        )
        .route(
            "/ws",
            axum::routing::get(|ws: WebSocketUpgrade| async move {
                ws.on_upgrade(|mut socket| async move {
                    let huge = format!(
                        r#"{{"type":"agent.typing","payload":"{}"}}"#,
                        "x".repeat(4 << 20)
                    );
                    let _ = socket.send(Message::text(huge)).await;
                    tokio::time::sleep(Duration::from_secs(5)).await;
                })
                .into_response()
            }),
        );
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let mut o = SessionOptions::new(format!("http://{addr}"), "oversize-client");
    o.backoff = Backoff {
        base: Duration::from_millis(5),
        cap: Duration::from_millis(10),
        reset_after: Duration::from_secs(1),
    };
    let (session, mut events) = Session::connect(o).await.unwrap();
    let reason = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match events.next().await.unwrap() {
                SessionEvent::Disconnected { reason } => return reason,
                SessionEvent::AgentTyping(_) => panic!("an oversized frame was accepted"),
                _ => {}
            }
        }
    })
    .await
    .unwrap();
    assert!(!reason.contains(&addr.to_string()), "{reason}");
    session.close().await.unwrap();
    server.abort();
}
