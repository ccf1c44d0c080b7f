//! The emulator's AIDA Phoenix endpoint at the frame level, with a plain websocket client.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use flowai_emulator::{Emulator, EmulatorOptions, RunningEmulator};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

const GUARD: Duration = Duration::from_secs(10);

async fn emulator() -> RunningEmulator {
    Emulator::new(EmulatorOptions::default())
        .start()
        .await
        .unwrap()
}

async fn open(emu: &RunningEmulator) -> Ws {
    let url = format!("ws://{}/socket/websocket?vsn=2.0.0", emu.addr());
    tokio_tungstenite::connect_async(url).await.unwrap().0
}

async fn send(ws: &mut Ws, frame: Value) {
    ws.send(Message::text(frame.to_string())).await.unwrap();
}

async fn recv(ws: &mut Ws) -> Value {
    loop {
        let msg = tokio::time::timeout(GUARD, ws.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        if let Message::Text(text) = msg {
            return serde_json::from_str(text.as_str()).unwrap();
        }
    }
}

fn bot_topic(emu: &RunningEmulator) -> String {
    format!("bot:{}", emu.credentials().aida_bot)
}

async fn join(ws: &mut Ws, emu: &RunningEmulator, join_ref: &str) {
    let token = emu.credentials().aida_token.clone();
    send(
        ws,
        json!([join_ref, join_ref, bot_topic(emu), "phx_join", {"access_token": token}]),
    )
    .await;
    let reply = recv(ws).await;
    assert_eq!(
        reply,
        json!([join_ref, join_ref, bot_topic(emu), "phx_reply", {"status": "ok", "response": {}}])
    );
}

#[tokio::test]
async fn requires_protocol_version_2() {
    let emu = emulator().await;
    let url = format!("ws://{}/socket/websocket", emu.addr());
    assert!(tokio_tungstenite::connect_async(url).await.is_err());
}

#[tokio::test]
async fn heartbeat_join_and_unauthorized() {
    let emu = emulator().await;
    let mut ws = open(&emu).await;
    send(&mut ws, json!([null, "1", "phoenix", "heartbeat", {}])).await;
    assert_eq!(
        recv(&mut ws).await,
        json!([null, "1", "phoenix", "phx_reply", {"status": "ok", "response": {}}])
    );
    send(
        &mut ws,
        json!(["2", "2", bot_topic(&emu), "phx_join", {"access_token": "bad"}]),
    )
    .await;
    assert_eq!(
        recv(&mut ws).await,
        json!(["2", "2", bot_topic(&emu), "phx_reply", {"status": "error", "response": {"reason": "unauthorized"}}])
    );
    let token = emu.credentials().aida_token.clone();
    send(&mut ws, json!(["3", "3", "bot:00000000-0000-0000-0000-000000000000", "phx_join", {"access_token": token}])).await;
    assert_eq!(recv(&mut ws).await[4]["response"]["reason"], "unauthorized");
    join(&mut ws, &emu, "4").await;
}

#[tokio::test]
async fn unjoined_topic_stale_join_ref_and_duplicate_join() {
    let emu = emulator().await;
    let mut ws = open(&emu).await;
    let topic = bot_topic(&emu);
    send(&mut ws, json!(["9", "1", topic, "new_session", {}])).await;
    assert_eq!(
        recv(&mut ws).await,
        json!(["9", "1", topic, "phx_reply", {"status": "error", "response": {"reason": "unmatched topic"}}])
    );
    join(&mut ws, &emu, "2").await;
    // A second join closes the first under its join_ref.
    let token = emu.credentials().aida_token.clone();
    send(
        &mut ws,
        json!(["3", "3", topic, "phx_join", {"access_token": token}]),
    )
    .await;
    assert_eq!(
        recv(&mut ws).await,
        json!(["2", "2", topic, "phx_close", {}])
    );
    assert_eq!(recv(&mut ws).await[4]["status"], "ok");
    // A push under the old join_ref is dropped: the heartbeat's reply comes first.
    send(&mut ws, json!(["2", "4", topic, "new_session", {}])).await;
    send(&mut ws, json!([null, "5", "phoenix", "heartbeat", {}])).await;
    assert_eq!(recv(&mut ws).await[1], "5");
    // Malformed frames are ignored, the connection lives on.
    ws.send(Message::text("not a frame")).await.unwrap();
    send(
        &mut ws,
        json!(["3", "6", topic, "new_session", {"data": {"a": 1}}]),
    )
    .await;
    let reply = recv(&mut ws).await;
    assert_eq!(reply[1], "6");
    let session = reply[4]["response"]["session"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        emu.state().aida.session_data(&session).unwrap(),
        json!({"a": 1})
    );
    send(
        &mut ws,
        json!(["3", "7", topic, "utb_msg", {"session": "nope", "text": "hi"}]),
    )
    .await;
    assert_eq!(
        recv(&mut ws).await[4]["response"]["reason"],
        "unknown session"
    );
}

#[tokio::test]
async fn bot_replies_go_to_every_joined_connection() {
    let emu = emulator().await;
    let topic = bot_topic(&emu);
    let mut a = open(&emu).await;
    let mut b = open(&emu).await;
    join(&mut a, &emu, "1").await;
    join(&mut b, &emu, "7").await;
    send(&mut a, json!(["1", "2", topic, "new_session", {}])).await;
    let session = recv(&mut a).await[4]["response"]["session"]
        .as_str()
        .unwrap()
        .to_string();
    send(
        &mut a,
        json!(["1", "3", topic, "utb_msg", {"session": session, "text": "hi"}]),
    )
    .await;
    assert_eq!(recv(&mut a).await[4]["status"], "ok");
    let on_a = recv(&mut a).await;
    let on_b = recv(&mut b).await;
    assert_eq!(on_a[3], "btu_msg");
    assert_eq!(on_a[0], "1");
    assert_eq!(on_b[0], "7");
    assert_eq!(on_a[4]["session"], session.as_str());
    assert_eq!(on_a[4], on_b[4]);
    assert!(on_a[4]["text"].as_str().unwrap().contains("demo bot"));
}

#[tokio::test]
async fn image_store_round_trip() {
    let emu = emulator().await;
    let mut ws = open(&emu).await;
    join(&mut ws, &emu, "1").await;
    send(
        &mut ws,
        json!(["1", "2", bot_topic(&emu), "new_session", {}]),
    )
    .await;
    let session = recv(&mut ws).await[4]["response"]["session"]
        .as_str()
        .unwrap()
        .to_string();
    let http = reqwest::Client::new();
    let bot = emu.credentials().aida_bot.clone();
    let part = reqwest::multipart::Part::bytes(vec![0u8, 255, 7, 42])
        .file_name("a.gif")
        .mime_str("image/gif")
        .unwrap();
    let url = format!("{}/content/image/{bot}/{session}", emu.base_url());
    let body: Value = http
        .post(&url)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = body["id"].as_str().unwrap();
    let got = http
        .get(format!("{}/content/image/{id}", emu.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(got.headers()["content-type"], "image/gif");
    assert_eq!(got.bytes().await.unwrap().as_ref(), &[0u8, 255, 7, 42]);
    let unknown = http
        .post(format!("{}/content/image/{bot}/no-session", emu.base_url()))
        .multipart(reqwest::multipart::Form::new().text("file", "x"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}
