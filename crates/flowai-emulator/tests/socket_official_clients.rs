//! The emulator's Flow socket answers the way the official clients (flow-ai/flowai-js, flow-ai/flowai-swift) need: the full delivered echo, nonces where flowai-js reads them, the aliases, pushed frames and the calls beside the socket, each sent in the form those clients send.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use flowai_core::socket::{Session, SessionEvent, SessionOptions};
use flowai_emulator::{Emulator, EmulatorOptions, RunningEmulator};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn start() -> RunningEmulator {
    Emulator::new(EmulatorOptions::default())
        .start()
        .await
        .unwrap()
}

/// socket.info as flowai-js calls it: every identity in an `x-flowai-*` header, an unset
/// secret sent as the word "undefined".
async fn socket_info(emu: &RunningEmulator, thread: &str, secret: Option<&str>) -> Value {
    reqwest::Client::new()
        .get(format!("{}/socket.info", emu.base_url()))
        .header("x-flowai-clientid", &emu.credentials().client_id)
        .header("x-flowai-sessionid", "session-1")
        .header("x-flowai-threadid", thread)
        .header("x-flowai-secret", secret.unwrap_or("undefined"))
        .header("x-flowai-ott", "null")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// A socket opened for `thread`, and the nonce socket.info gave with it.
async fn open(emu: &RunningEmulator, thread: &str) -> (Ws, String) {
    let info = socket_info(emu, thread, None).await;
    assert_eq!(info["status"], "ok", "{info}");
    let secret = info["secret"].as_str().unwrap().to_string();
    let url = info["payload"]["endpoint"].as_str().unwrap();
    (
        tokio_tungstenite::connect_async(url).await.unwrap().0,
        secret,
    )
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

async fn send(ws: &mut Ws, value: &Value) {
    ws.send(Message::text(value.to_string())).await.unwrap();
}

/// Ping and expect the pong as the very next frame: nothing was answered in between.
async fn nothing_pending(ws: &mut Ws) {
    send(ws, &json!({"type": "ping"})).await;
    let next = next_json(ws).await;
    assert_eq!(next["type"], "pong", "an unexpected frame: {next}");
}

/// The originator of the seed's vanilla example, every profile field filled.
fn full_originator() -> Value {
    json!({
        "name": "Jane Doe",
        "role": "external",
        "profile": {
            "fullName": "Jane Doe",
            "firstName": "Jane",
            "lastName": "Doe",
            "email": "janedoe@example.com",
            "locale": "en-US",
            "timezone": -5,
            "gender": "F",
            "country": "us",
            "picture": "https://example.com/jane.jpg"
        },
        "metadata": {"clientNumber": "12345", "preference": "A,B,G"}
    })
}

fn full_metadata() -> Value {
    json!({
        "language": "en-US",
        "timezone": -6,
        "params": {"seats": [{"value": "Business class"}], "food": [{"value": "f-22", "match": "Pizza"}]},
        "contexts": [],
        "domain": {"realm": "browser", "title": "Shop"}
    })
}

#[tokio::test]
async fn delivered_echoes_originator_metadata_and_attachment_exactly_as_sent() {
    let emu = start().await;
    let thread = "4a5b6c7d8e9f00112233445566778899|channel";
    let (mut ws, secret) = open(&emu, thread).await;
    let sent = json!({
        "threadId": thread,
        "traceId": 1519091841667u64,
        "speech": "event attachment",
        "originator": full_originator(),
        "metadata": full_metadata(),
        "attachment": {"type": "event", "payload": {"name": "INTRO", "label": "Start"}},
        "nonce": secret,
    });
    send(&mut ws, &json!({"type": "message.send", "payload": sent})).await;
    let delivered = next_json(&mut ws).await;
    assert_eq!(delivered["type"], "message.delivered", "{delivered}");
    let echo = &delivered["payload"];
    assert_eq!(echo["originator"], full_originator());
    assert_eq!(echo["metadata"], full_metadata());
    assert_eq!(echo["attachment"], sent["attachment"]);
    assert_eq!(echo["threadId"], thread);
    assert_eq!(echo["traceId"], 1519091841667u64);
    assert_eq!(echo["speech"], "event attachment");
    // The whole message and nothing else: the nonce is a credential, not part of it.
    let mut expected = sent.clone();
    expected.as_object_mut().unwrap().remove("nonce");
    assert_eq!(echo, &expected);
    // flowai-js's Message.build reads metadata.language of the echo: it must be there.
    assert_eq!(echo["metadata"]["language"], "en-US");

    let reply = next_json(&mut ws).await;
    assert_eq!(reply["type"], "message.received");
    assert_eq!(
        reply["payload"]["messages"][0]["fallback"],
        "Hi, how can we help?"
    );
    nothing_pending(&mut ws).await;
}

#[tokio::test]
async fn the_echo_names_the_thread_and_speech_a_message_left_out() {
    let emu = start().await;
    let (mut ws, _) = open(&emu, "default-thread").await;
    // No threadId (the socket.info one is used) and a flow attachment without speech.
    send(
        &mut ws,
        &json!({"type": "message.send", "payload": {
            "traceId": 3,
            "attachment": {"type": "flow", "payload": {"flowImmutableId": "f-1"}},
        }}),
    )
    .await;
    let delivered = next_json(&mut ws).await;
    assert_eq!(delivered["type"], "message.delivered");
    assert_eq!(
        delivered["payload"],
        json!({
            "threadId": "default-thread",
            "traceId": 3,
            "attachment": {"type": "flow", "payload": {"flowImmutableId": "f-1"}},
            "speech": "flow attachment",
        })
    );
}

#[tokio::test]
async fn secret_generated_carries_the_nonce_where_flowai_js_and_our_core_read_it() {
    let emu = start().await;
    let (mut ws, secret) = open(&emu, "t1").await;
    assert_eq!(secret.len(), 32, "a fresh nonce, not the word undefined");
    assert_eq!(
        emu.state().socket.secret_of("t1").as_deref(),
        Some(&*secret)
    );
    // The same thread keeps its nonce on the next socket.info.
    let again = socket_info(&emu, "t1", Some(&secret)).await;
    assert_eq!(again["secret"], secret.as_str());

    // The thread's own nonce: no new one.
    let hi = |thread: &str, trace: u64, nonce: &str| {
        json!({"type": "message.send", "payload": {
            "threadId": thread, "traceId": trace, "speech": "hi", "nonce": nonce,
        }})
    };
    send(&mut ws, &hi("t1", 1, &secret)).await;
    assert_eq!(next_json(&mut ws).await["type"], "message.delivered");
    assert_eq!(next_json(&mut ws).await["type"], "message.received");

    // Another thread (flowai-js lets a message name its own): that thread's nonce comes
    // first, in `message.secret` and in `payload.nonce`.
    send(&mut ws, &hi("t2", 2, &secret)).await;
    let generated = next_json(&mut ws).await;
    assert_eq!(generated["type"], "secret.generated", "{generated}");
    let fresh = generated["message"]["secret"].as_str().unwrap().to_string();
    assert_eq!(generated["payload"]["nonce"], fresh.as_str());
    assert_eq!(generated["payload"]["threadId"], "t2");
    assert_ne!(fresh, secret);
    assert_eq!(emu.state().socket.secret_of("t2").as_deref(), Some(&*fresh));
    assert_eq!(next_json(&mut ws).await["type"], "message.delivered");
    assert_eq!(next_json(&mut ws).await["type"], "message.received");

    // With it, no further secret.generated.
    send(&mut ws, &hi("t2", 3, &fresh)).await;
    assert_eq!(next_json(&mut ws).await["type"], "message.delivered");
    assert_eq!(next_json(&mut ws).await["type"], "message.received");
    assert_eq!(emu.state().socket.secrets_announced(), 1);

    // A client that never sends a nonce (the seed's vanilla example) is not sent one.
    send(
        &mut ws,
        &json!({"type": "message.send", "payload": {"threadId": "t3", "speech": "hi"}}),
    )
    .await;
    assert_eq!(next_json(&mut ws).await["type"], "message.delivered");
    assert_eq!(emu.state().socket.secrets_announced(), 1);
}

#[tokio::test]
async fn pushed_frames_reach_the_sockets_of_the_thread() {
    let emu = start().await;
    let (mut ws, _) = open(&emu, "t-push").await;
    let (mut other, _) = open(&emu, "t-other").await;
    let http = reqwest::Client::new();
    let push = |kind: &str, body: Value| {
        http.post(format!("{}/_emulator/socket/push/{kind}", emu.base_url()))
            .json(&body)
            .send()
    };

    let answer: Value = push(
        "agent.typing",
        json!({"threadId": "t-push", "originator": {"name": "Sam", "role": "moderator"}}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(answer["payload"]["connections"], 1, "{answer}");
    let typing = next_json(&mut ws).await;
    assert_eq!(typing["type"], "agent.typing");
    assert_eq!(typing["payload"]["threadId"], "t-push");
    assert_eq!(typing["payload"]["originator"]["name"], "Sam");

    push("interruption.occurred", json!({"threadId": "t-push"}))
        .await
        .unwrap();
    let interruption = next_json(&mut ws).await;
    assert_eq!(interruption["type"], "interruption.occurred");
    assert_eq!(interruption["payload"]["threadId"], "t-push");

    let before = emu.state().socket.secret_of("t-push").unwrap();
    push("secret.generated", json!({"threadId": "t-push"}))
        .await
        .unwrap();
    let generated = next_json(&mut ws).await;
    let after = emu.state().socket.secret_of("t-push").unwrap();
    assert_ne!(before, after);
    assert_eq!(generated["type"], "secret.generated");
    assert_eq!(generated["message"]["secret"], after.as_str());
    assert_eq!(generated["payload"]["nonce"], after.as_str());

    // Nothing went to the other thread's socket, and a thread without sockets reaches none.
    nothing_pending(&mut other).await;
    let none: Value = push("agent.typing", json!({"threadId": "nobody"}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(none["payload"]["connections"], 0);
    let unknown = push("message.received", json!({"threadId": "t-push"}))
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);

    // A thread a socket used in a frame reaches it too.
    send(
        &mut other,
        &json!({"type": "activity.user.typing", "payload": {"threadId": "t-used"}}),
    )
    .await;
    nothing_pending(&mut other).await;
    assert_eq!(emu.state().socket.connections_of("t-used"), 1);
    assert_eq!(emu.state().socket.push_interruption("t-used"), 1);
    assert_eq!(next_json(&mut other).await["type"], "interruption.occurred");

    // A closed socket is forgotten.
    drop(ws);
    let deadline = Instant::now() + Duration::from_secs(5);
    while emu.state().socket.connections_of("t-push") > 0 {
        assert!(
            Instant::now() < deadline,
            "a closed socket stayed reachable"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn aliases_name_echoes_and_replies_activities() {
    let emu = start().await;
    let http = reqwest::Client::new();
    let set: Value = http
        .post(format!("{}/_emulator/socket/aliases", emu.base_url()))
        .json(&json!({"enabled": true}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(set["enabled"], true);
    assert!(emu.state().socket.activity_aliases());

    let (mut ws, _) = open(&emu, "t-alias").await;
    send(
        &mut ws,
        &json!({"type": "message.send", "payload": {"threadId": "t-alias", "traceId": 8, "speech": "hi"}}),
    )
    .await;
    let delivered = next_json(&mut ws).await;
    assert_eq!(delivered["type"], "activities.delivered");
    assert_eq!(delivered["payload"]["traceId"], 8);
    let created = next_json(&mut ws).await;
    assert_eq!(created["type"], "activities.created");
    assert!(created["payload"]["messages"][0]["fallback"].is_string());
    // History reads the reply whatever name it went out under.
    let history = emu.state().socket.history("t-alias");
    assert_eq!(history.len(), 2);
    assert_eq!(history[1], created["payload"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_core_session_works_under_the_aliases_and_takes_a_pushed_nonce() {
    let emu = start().await;
    emu.state().socket.set_activity_aliases(true);
    let options = SessionOptions::new(emu.base_url(), &emu.credentials().client_id)
        .with_thread_id("core-thread");
    let (session, mut events) = Session::connect(options).await.unwrap();
    let delivered = session.send_text("hi").await.unwrap();
    assert_eq!(delivered.speech.as_deref(), Some("hi"));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let event = tokio::time::timeout_at(deadline.into(), events.next())
            .await
            .expect("no reply")
            .expect("the session ended");
        if matches!(event, SessionEvent::Reply(_)) {
            break;
        }
    }

    // The session sends the nonce socket.info gave it: nothing to announce.
    let socket = &emu.state().socket;
    assert_eq!(socket.secrets_announced(), 0);
    // A nonce the session does not know: its next message is answered with the thread's
    // nonce in secret.generated, and the message after that carries it.
    socket.set_secret("core-thread", "silently-changed");
    session.send_text("stale").await.unwrap();
    assert_eq!(socket.secrets_announced(), 1);
    session.send_text("fresh").await.unwrap();
    assert_eq!(socket.secrets_announced(), 1);
    // A nonce pushed in secret.generated is what the next message carries.
    assert_eq!(socket.rotate_secret("core-thread"), 1);
    tokio::time::sleep(Duration::from_millis(200)).await;
    session.send_text("again").await.unwrap();
    assert_eq!(socket.secrets_announced(), 1);
    session.close().await.unwrap();
}

#[tokio::test]
async fn client_frames_are_taken_without_an_answer() {
    let emu = start().await;
    let (mut ws, _) = open(&emu, "t-frames").await;
    let client_id = emu.credentials().client_id.clone();
    // The frames flowai-js sends beside message.send, in its shapes.
    send(
        &mut ws,
        &json!({"type": "activity.user.typing", "payload": {
            "clientId": client_id, "threadId": "t-frames", "originator": {},
        }}),
    )
    .await;
    send(
        &mut ws,
        &json!({"type": "log", "payload": {
            "text": "Connection opened source=start", "threadId": "t-frames",
            "clientId": client_id, "sessionId": "session-1",
        }}),
    )
    .await;
    send(
        &mut ws,
        &json!({"type": "thread.noticed", "payload": {"threadId": "t-frames"}}),
    )
    .await;
    nothing_pending(&mut ws).await;
    assert_eq!(emu.state().socket.user_typing("t-frames"), 1);
    let logs = emu.state().socket.logs("t-frames");
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0]["text"], "Connection opened source=start");

    // What the service does not know is still an error frame with its text on top.
    send(&mut ws, &json!({"type": "no.such.frame", "payload": {}})).await;
    let error = next_json(&mut ws).await;
    assert_eq!(error["type"], "error");
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
}

#[tokio::test]
async fn history_and_unnoticed_in_the_shapes_the_official_clients_read() {
    let emu = start().await;
    let thread = "t-history";
    let (mut ws, secret) = open(&emu, thread).await;
    send(
        &mut ws,
        &json!({"type": "message.send", "payload": {
            "threadId": thread, "traceId": 1, "speech": "hi",
            "originator": full_originator(), "metadata": full_metadata(), "nonce": secret,
        }}),
    )
    .await;
    next_json(&mut ws).await;
    next_json(&mut ws).await;

    let http = reqwest::Client::new();
    // flowai-js: identity in headers.
    let js: Value = http
        .get(format!("{}/thread.history", emu.base_url()))
        .header("Content-Type", "application/json")
        .header("x-flowai-clientid", &emu.credentials().client_id)
        .header("x-flowai-threadid", thread)
        .header("x-flowai-secret", &secret)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // flowai-swift: identity in the query, the client id as a bearer token.
    let swift: Value = http
        .get(format!("{}/thread.history", emu.base_url()))
        .query(&[
            ("clientId", emu.credentials().client_id.as_str()),
            ("threadId", thread),
        ])
        .bearer_auth(&emu.credentials().client_id)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(js, swift);
    assert_eq!(js["status"], "ok");
    // flowai-swift wants an array of reply-shaped objects: threadId, and messages each with
    // a fallback; an entry whose originator's role is external is the user's own.
    let entries = js["payload"].as_array().expect("payload is an array");
    assert_eq!(entries.len(), 2, "{js}");
    let mine = &entries[0];
    assert_eq!(mine["threadId"], thread);
    assert_eq!(mine["originator"], full_originator());
    assert_eq!(mine["metadata"], full_metadata());
    assert_eq!(mine["messages"][0]["fallback"], "hi");
    assert_eq!(mine["messages"][0]["responses"][0]["payload"]["text"], "hi");
    let bot = &entries[1];
    assert_eq!(bot["threadId"], thread);
    assert_eq!(bot["originator"]["role"], "bot");
    assert!(bot["messages"][0]["fallback"].is_string());
    assert!(bot["messages"][0]["responses"].is_array());
    assert!(!js.to_string().contains(&secret), "the nonce is not kept");

    let before = unnoticed(&emu, thread).await;
    assert_eq!(before["payload"]["unnoticed"], 1, "{before}");
    assert_eq!(before["payload"]["messages"][0], entries[1]);
    send(
        &mut ws,
        &json!({"type": "thread.noticed", "payload": {"threadId": thread}}),
    )
    .await;
    nothing_pending(&mut ws).await;
    assert_eq!(unnoticed(&emu, thread).await["payload"]["unnoticed"], 0);

    // A wrong client id: 401, with the text where the official clients read it.
    let refused = http
        .get(format!("{}/thread.history", emu.base_url()))
        .header("x-flowai-clientid", "nope")
        .header("x-flowai-threadid", thread)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["status"], "error");
    assert!(body["payload"]["message"].is_string());
    assert_eq!(body["payload"]["message"], body["message"]);
}

/// `GET /thread.unnoticed` as flowai-js calls it.
async fn unnoticed(emu: &RunningEmulator, thread: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{}/thread.unnoticed", emu.base_url()))
        .header("x-flowai-clientid", &emu.credentials().client_id)
        .header("x-flowai-threadid", thread)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn upload_as_flowai_js_sends_it_is_delivered_and_answered() {
    let emu = start().await;
    let thread = "t-upload";
    let (mut ws, secret) = open(&emu, thread).await;
    // The file part first, the payload (with clientId and sessionId) after it, and only
    // the secret as a header: flowai-js's form.
    let payload = json!({
        "threadId": thread,
        "traceId": 77,
        "speech": "file attachment",
        "originator": full_originator(),
        "metadata": full_metadata(),
        "clientId": emu.credentials().client_id,
        "sessionId": "session-1",
    });
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(vec![1u8; 4096])
                .file_name("photo.png")
                .mime_str("image/png")
                .unwrap(),
        )
        .text("payload", payload.to_string());
    let resp = reqwest::Client::new()
        .post(format!("{}/thread.upload", emu.base_url()))
        .header("x-flowai-secret", &secret)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let answer: Value = resp.json().await.unwrap();
    assert_eq!(answer["status"], "ok");
    // flowai-js emits this payload as the delivered message.
    let delivered = &answer["payload"];
    assert_eq!(delivered["threadId"], thread);
    assert_eq!(delivered["traceId"], 77);
    assert_eq!(delivered["speech"], "file attachment");
    assert_eq!(delivered["originator"], full_originator());
    assert_eq!(delivered["metadata"], full_metadata());
    assert_eq!(delivered["attachment"]["type"], "image");
    assert_eq!(delivered["attachment"]["payload"]["size"], 4096);
    assert_eq!(delivered["attachment"]["payload"]["name"], "photo.png");
    assert!(delivered.get("clientId").is_none() && delivered.get("sessionId").is_none());
    let id = delivered["id"].as_str().unwrap();
    assert_eq!(emu.state().socket.upload_size(id), Some(4096));

    // The bot answers the image over the thread's socket.
    let reply = next_json(&mut ws).await;
    assert_eq!(reply["type"], "message.received");
    assert_eq!(
        reply["payload"]["messages"][0]["fallback"],
        "Thanks for the image!"
    );
    let history = emu.state().socket.history(thread);
    assert_eq!(history[0]["messages"][0]["responses"][0]["type"], "image");

    // Without a client id anywhere: refused.
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(vec![1u8; 10]))
        .text("payload", json!({"threadId": thread}).to_string());
    let refused = reqwest::Client::new()
        .post(format!("{}/thread.upload", emu.base_url()))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
}

#[tokio::test]
async fn merger_is_accepted_as_flowai_js_posts_it() {
    let emu = start().await;
    let http = reqwest::Client::new();
    let post = |body: Value| {
        http.post(format!("{}/thread.merger", emu.base_url()))
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
    };
    let client_id = emu.credentials().client_id.clone();
    let ok = post(json!({
        "clientId": client_id, "threadId": "t-merge", "sessionId": "s", "mergerKey": "mk-1",
    }))
    .await
    .unwrap();
    assert_eq!(ok.status(), 200);
    let body: Value = ok.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    let merges = emu.state().socket.merges();
    assert_eq!(merges.len(), 1);
    assert_eq!(merges[0]["mergerKey"], "mk-1");
    assert_eq!(merges[0]["threadId"], "t-merge");
    assert!(merges[0].get("clientId").is_none());

    let missing = post(json!({"clientId": client_id, "threadId": "t-merge"}))
        .await
        .unwrap();
    assert_eq!(missing.status(), 400);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["payload"]["message"], "mergerKey is required");
    let wrong = post(json!({"clientId": "nope", "threadId": "t", "mergerKey": "k"}))
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let garbage = http
        .post(format!("{}/thread.merger", emu.base_url()))
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), 400);
}

#[tokio::test]
async fn a_browser_page_may_call_the_socket_side() {
    let emu = start().await;
    let http = reqwest::Client::new();
    let origin = "https://shop.example";
    let preflight = http
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/socket.info", emu.base_url()),
        )
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "GET")
        .header(
            "Access-Control-Request-Headers",
            "content-type,x-flowai-clientid,x-flowai-sessionid,x-flowai-threadid,x-flowai-secret",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    let h = preflight.headers();
    assert_eq!(h["access-control-allow-origin"], origin);
    assert!(
        h["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("x-flowai-secret")
    );
    assert!(
        h["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST")
    );

    let info = http
        .get(format!("{}/socket.info", emu.base_url()))
        .header("Origin", origin)
        .header("x-flowai-clientid", &emu.credentials().client_id)
        .header("x-flowai-sessionid", "s")
        .header("x-flowai-threadid", "t")
        .send()
        .await
        .unwrap();
    assert_eq!(info.status(), 200);
    assert_eq!(info.headers()["access-control-allow-origin"], origin);

    // A browser's websocket handshake carries the page's Origin too.
    let body: Value = info.json().await.unwrap();
    let mut request = body["payload"]["endpoint"]
        .as_str()
        .unwrap()
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("Origin", origin.parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    nothing_pending(&mut ws).await;
}

#[tokio::test]
async fn a_close_from_the_client_is_answered_with_a_close() {
    let emu = start().await;
    let (mut ws, _) = open(&emu, "t-close").await;
    ws.send(Message::Close(None)).await.unwrap();
    // Without the answer the client sees the connection reset (1006), which flowai-js
    // reports as an abnormal closure on every clean stop.
    let answer = tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .expect("no answer to the close");
    assert!(
        matches!(answer, Some(Ok(Message::Close(_)))),
        "the close was not answered: {answer:?}"
    );
}

#[tokio::test]
async fn an_attachment_missing_a_required_field_is_an_error_frame() {
    let emu = start().await;
    let (mut ws, _) = open(&emu, "t-attach").await;
    for (attachment, missing) in [
        (json!({"payload": {"name": "INTRO"}}), "type"),
        (json!({"type": "event"}), "payload"),
        (json!({"type": "event", "payload": {}}), "name"),
        (json!({"type": "flow", "payload": {}}), "flowImmutableId"),
    ] {
        send(
            &mut ws,
            &json!({"type": "message.send", "payload": {
                "threadId": "t-attach", "speech": "event attachment", "attachment": attachment,
            }}),
        )
        .await;
        let error = next_json(&mut ws).await;
        assert_eq!(error["type"], "error", "{attachment}");
        assert!(
            error["message"].as_str().unwrap().contains(missing),
            "{error}"
        );
    }
    // Nothing was kept or answered, and the socket goes on.
    assert!(emu.state().socket.history("t-attach").is_empty());
    nothing_pending(&mut ws).await;
}

#[tokio::test]
async fn an_upload_past_250_mb_is_refused_with_413() {
    let emu = start().await;
    // Streamed, so the test holds one chunk, not the file; the payload part comes first
    // here so that the refusal cannot come from a missing client id.
    let chunk = bytes::Bytes::from(vec![0u8; 1 << 20]);
    let stream = futures_util::stream::iter(
        (0..251).map(move |_| Ok::<bytes::Bytes, std::io::Error>(chunk.clone())),
    );
    let payload = json!({"threadId": "t-big", "clientId": emu.credentials().client_id});
    let form = reqwest::multipart::Form::new()
        .text("payload", payload.to_string())
        .part(
            "file",
            reqwest::multipart::Part::stream(reqwest::Body::wrap_stream(stream))
                .file_name("big.bin"),
        );
    let resp = reqwest::Client::new()
        .post(format!("{}/thread.upload", emu.base_url()))
        .multipart(form)
        .send()
        .await;
    // The emulator may answer before the whole body is sent; the answer still arrives.
    match resp {
        Ok(resp) => assert_eq!(resp.status(), 413),
        Err(e) => panic!("no answer to the large upload: {e}"),
    }
}
