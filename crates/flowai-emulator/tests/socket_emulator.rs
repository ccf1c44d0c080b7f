//! The emulator's Flow Socket API checked with a raw tungstenite client: socket.info forms, single-use endpoints, frames, faults.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use flowai_emulator::{Emulator, EmulatorOptions, RunningEmulator};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn start(options: EmulatorOptions) -> RunningEmulator {
    Emulator::new(options).start().await.unwrap()
}

async fn endpoint(emu: &RunningEmulator) -> String {
    let url = format!(
        "{}/socket.info?clientId={}&sessionId=s1",
        emu.base_url(),
        urlencode(&emu.credentials().client_id)
    );
    let body: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
    assert_eq!(body["status"], "ok");
    body["payload"]["endpoint"].as_str().unwrap().to_string()
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn open(emu: &RunningEmulator) -> Ws {
    let url = endpoint(emu).await;
    tokio_tungstenite::connect_async(url).await.unwrap().0
}

async fn next_json(ws: &mut Ws) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("no frame")
            .expect("closed")
            .unwrap();
        if let Message::Text(t) = msg {
            return serde_json::from_str(t.as_str()).unwrap();
        }
    }
}

async fn send(ws: &mut Ws, value: Value) {
    ws.send(Message::text(value.to_string())).await.unwrap();
}

#[tokio::test]
async fn socket_info_accepts_query_or_headers_and_checks_the_client() {
    let emu = start(EmulatorOptions::default()).await;
    let client = reqwest::Client::new();
    let body: Value = client
        .get(format!("{}/socket.info", emu.base_url()))
        .header("x-flowai-clientid", &emu.credentials().client_id)
        .header("x-flowai-sessionid", "s2")
        .header("x-flowai-threadid", "t|c")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["status"], "ok");
    assert!(
        body["payload"]["endpoint"]
            .as_str()
            .unwrap()
            .starts_with("ws://127.0.0.1:")
    );

    let resp = client
        .get(format!(
            "{}/socket.info?clientId=wrong&sessionId=1",
            emu.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "error");

    let resp = client
        .get(format!(
            "{}/socket.info?clientId={}",
            emu.base_url(),
            urlencode(&emu.credentials().client_id)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(emu.state().socket.socket_info_calls(), 3);
}

#[tokio::test]
async fn endpoints_are_single_use_and_expire() {
    let emu = start(EmulatorOptions {
        endpoint_ttl: Duration::from_millis(50),
        ..EmulatorOptions::default()
    })
    .await;
    let url = endpoint(&emu).await;
    let _first = tokio_tungstenite::connect_async(&url).await.unwrap();
    let again = tokio_tungstenite::connect_async(&url).await.unwrap_err();
    assert!(again.to_string().contains("410"), "{again}");

    let url = endpoint(&emu).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let expired = tokio_tungstenite::connect_async(&url).await.unwrap_err();
    assert!(expired.to_string().contains("410"), "{expired}");

    let bogus = format!("{}/ws/nope", emu.base_url().replace("http", "ws"));
    let unknown = tokio_tungstenite::connect_async(bogus).await.unwrap_err();
    assert!(unknown.to_string().contains("401"), "{unknown}");
}

#[tokio::test]
async fn ping_send_delivered_and_reply() {
    let emu = start(EmulatorOptions::default()).await;
    let mut ws = open(&emu).await;
    send(&mut ws, json!({"type": "ping"})).await;
    assert_eq!(next_json(&mut ws).await["type"], "pong");

    let frame = json!({"type": "message.send", "payload": {
        "threadId": "jane.doe", "traceId": 1519091841665u64, "speech": "event attachment",
        "attachment": {"type": "event", "payload": {"name": "INTRO"}},
        "originator": {"name": "Jane Doe", "role": "external"}
    }});
    send(&mut ws, frame.clone()).await;
    let delivered = next_json(&mut ws).await;
    assert_eq!(delivered["type"], "message.delivered");
    assert_eq!(delivered["payload"]["traceId"], 1519091841665u64);
    assert_eq!(delivered["payload"]["threadId"], "jane.doe");
    let reply = next_json(&mut ws).await;
    assert_eq!(reply["type"], "message.received");
    assert_eq!(
        reply["payload"]["messages"][0]["responses"][0]["payload"]["text"],
        "Hi, how can we help?"
    );

    // A resend of an answered traceId gets its echo again, not a second reply.
    send(&mut ws, frame).await;
    assert_eq!(next_json(&mut ws).await["type"], "message.delivered");
    send(&mut ws, json!({"type": "ping"})).await;
    assert_eq!(next_json(&mut ws).await["type"], "pong");
    assert_eq!(emu.state().socket.answered("jane.doe"), 1);
    assert_eq!(emu.state().socket.history("jane.doe").len(), 2);
}

#[tokio::test]
async fn bad_frames_get_an_error_frame_and_the_connection_stays() {
    let emu = start(EmulatorOptions::default()).await;
    let mut ws = open(&emu).await;
    for bad in [
        "not json at all".to_string(),
        json!({"payload": {}}).to_string(),
        json!({"type": "no.such.type", "payload": {}}).to_string(),
        json!({"type": "message.send", "payload": {"threadId": "t"}}).to_string(),
        json!({"type": "message.send", "payload": {"speech": "no thread"}}).to_string(),
    ] {
        ws.send(Message::text(bad.clone())).await.unwrap();
        let answer = next_json(&mut ws).await;
        assert_eq!(answer["type"], "error", "{bad}");
        assert!(answer["message"].as_str().unwrap().len() > 3);
    }
    send(
        &mut ws,
        json!({"type": "message.send", "payload": {"threadId": "t", "speech": "hi"}}),
    )
    .await;
    assert_eq!(next_json(&mut ws).await["type"], "message.delivered");
}

#[tokio::test]
async fn idle_connections_are_dropped() {
    let emu = start(EmulatorOptions {
        idle_timeout: Duration::from_millis(100),
        ..EmulatorOptions::default()
    })
    .await;
    let mut ws = open(&emu).await;
    let end = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match ws.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(end.is_ok(), "the idle socket was not dropped");
}

#[tokio::test]
async fn drop_fault_closes_after_n_frames_and_refusal_fault_refuses() {
    let emu = start(EmulatorOptions::default()).await;
    emu.faults().update(|f| f.drop_after_frames = Some(2));
    let mut ws = open(&emu).await;
    send(&mut ws, json!({"type": "ping"})).await;
    send(&mut ws, json!({"type": "ping"})).await;
    assert_eq!(next_json(&mut ws).await["type"], "pong");
    assert_eq!(next_json(&mut ws).await["type"], "pong");
    let end = tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .unwrap();
    assert!(!matches!(end, Some(Ok(Message::Text(_)))));

    emu.faults().update(|f| {
        f.refuse_socket_info = 1;
        f.refuse_status = Some(503);
    });
    let resp = reqwest::get(format!(
        "{}/socket.info?clientId={}&sessionId=1",
        emu.base_url(),
        urlencode(&emu.credentials().client_id)
    ))
    .await
    .unwrap();
    assert_eq!(resp.status(), 503);
}
