//! Record a real exchange through the recording proxy (a second emulator plays the real service), replay it, and run the SDK against the replay as against the live service.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::Duration;

use flowai_core::Config;
use flowai_core::Secret;
use flowai_core::aida::{AidaClient, AidaOptions};
use flowai_core::backoff::Backoff;
use flowai_core::messaging::{MessageOptions, MessagingClient};
use flowai_core::models::{NewWebhook, Received, WebhookEvent};
use flowai_core::socket::{Session, SessionEvent, SessionEvents, SessionOptions};
use flowai_core::webhook::{ReceiverOptions, WebhookReceiver};
use flowai_emulator::record::{self, RecordOptions};
use flowai_emulator::recording::{Body, Entry, Recording, Side};
use flowai_emulator::replay::{self, ReplayOptions};
use flowai_emulator::{Emulator, EmulatorOptions, RunningEmulator};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc::Receiver;
use tokio_tungstenite::tungstenite::Message;

/// A guard so that a broken test fails instead of hanging; never a timing assertion.
const PATIENCE: Duration = Duration::from_secs(20);

/// A recording file of its own, removed when the test ends.
struct TempFile(PathBuf);

impl TempFile {
    fn new() -> Self {
        TempFile(std::env::temp_dir().join(format!(
            "flowai-recording-{}.jsonl",
            uuid::Uuid::new_v4().simple()
        )))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

async fn upstream() -> RunningEmulator {
    Emulator::new(EmulatorOptions {
        time_scale: 0.001,
        ..EmulatorOptions::default()
    })
    .start()
    .await
    .unwrap()
}

fn session_options(api_url: &str, client_id: &str) -> SessionOptions {
    let mut o = SessionOptions::new(api_url, client_id);
    o.backoff = Backoff {
        base: Duration::from_millis(5),
        cap: Duration::from_millis(20),
        reset_after: Duration::from_secs(1),
    };
    o.send_timeout = Duration::from_secs(10);
    o
}

async fn wait_for(
    events: &mut SessionEvents,
    mut pred: impl FnMut(&SessionEvent) -> bool,
) -> SessionEvent {
    tokio::time::timeout(PATIENCE, async {
        loop {
            let ev = events.next().await.expect("events ended early");
            if pred(&ev) {
                return ev;
            }
        }
    })
    .await
    .expect("timed out waiting for an event")
}

async fn next_reply(events: &mut SessionEvents) -> Received {
    match wait_for(events, |e| matches!(e, SessionEvent::Reply(_))).await {
        SessionEvent::Reply(r) => *r,
        _ => unreachable!(),
    }
}

fn texts(r: &Received) -> Vec<String> {
    r.messages
        .iter()
        .flat_map(|m| m.texts().into_iter().map(str::to_string))
        .collect()
}

/// What a socket conversation showed the app, for comparing the live run with the replay.
#[derive(Debug, PartialEq)]
struct Transcript {
    intro: Vec<String>,
    quick_replies: usize,
    greeting: Vec<String>,
}

/// The conversation of the socket test: INTRO, then "hi", then the thread history. Checks
/// on the way that each delivery and reply carries this session's own thread and traceId.
async fn socket_conversation(api_url: &str, client_id: &str) -> Transcript {
    let (session, mut events) = Session::connect(session_options(api_url, client_id))
        .await
        .unwrap();
    wait_for(&mut events, |e| matches!(e, SessionEvent::Connected)).await;

    let delivered = session.send_event("INTRO").await.unwrap();
    assert_eq!(delivered.thread_id, session.thread_id());
    let intro = next_reply(&mut events).await;
    assert_eq!(intro.thread_id, session.thread_id());
    assert_eq!(intro.extra["traceId"], json!(delivered.trace_id.unwrap()));

    let delivered = session.send_text("hi").await.unwrap();
    assert_eq!(delivered.speech.as_deref(), Some("hi"));
    let greeting = next_reply(&mut events).await;
    assert_eq!(
        greeting.extra["traceId"],
        json!(delivered.trace_id.unwrap())
    );

    // Whatever the history's shape, it holds the conversation under this session's thread.
    let history = session.history().await.unwrap();
    assert!(
        history.to_string().contains("Hi, how can we help?"),
        "{history}"
    );
    let mut threads = Vec::new();
    collect_thread_ids(&history, &mut threads);
    assert!(
        threads.iter().all(|t| t == session.thread_id()),
        "{threads:?} in {history}"
    );

    session.close().await.unwrap();
    let closed = wait_for(&mut events, |e| matches!(e, SessionEvent::Closed { .. })).await;
    assert!(matches!(closed, SessionEvent::Closed { error: None }));
    Transcript {
        quick_replies: intro.messages[0].quick_replies().len(),
        intro: texts(&intro),
        greeting: texts(&greeting),
    }
}

/// Every value under a `threadId` name, at any depth.
fn collect_thread_ids(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("threadId", Value::String(t)) => out.push(t.clone()),
                    _ => collect_thread_ids(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_thread_ids(v, out)),
        _ => {}
    }
}

fn frames(recording: &Recording, from: Side) -> Vec<Value> {
    recording
        .lines
        .iter()
        .filter_map(|l| match &l.entry {
            Entry::Frame(f) if f.from == from => f.body.json().cloned(),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_conversation_is_recorded_and_replayed() {
    let service = upstream().await;
    let file = TempFile::new();
    let recorder = record::start(RecordOptions::new(service.base_url(), &file.0))
        .await
        .unwrap();
    let live = socket_conversation(recorder.base_url(), &service.credentials().client_id).await;
    assert_eq!(live.intro, ["Hi, how can we help?"]);
    assert_eq!(live.quick_replies, 3);
    assert!(
        live.greeting
            .join(" ")
            .contains("customer service demo bot")
    );
    recorder.shutdown().await.unwrap();

    // The recording: socket.info, the connection it opened, the frames both ways.
    let recording = Recording::load(&file.0).unwrap();
    assert_eq!(recording.header.version, 1);
    let info = recording
        .lines
        .iter()
        .find_map(|l| match &l.entry {
            Entry::Http(x) if x.request.path == "/socket.info" => Some(x.clone()),
            _ => None,
        })
        .expect("socket.info is recorded");
    assert_eq!(info.response.status, 200);
    let endpoint = &info.response.body.as_ref().unwrap().json().unwrap()["payload"]["endpoint"];
    assert!(
        endpoint.as_str().unwrap().starts_with("<masked:endpoint:"),
        "{endpoint}"
    );
    assert!(recording.lines.iter().any(|l| matches!(&l.entry,
        Entry::SocketOpen(o) if o.info == Some(info.id))));
    let sent: Vec<Value> = frames(&recording, Side::Client)
        .into_iter()
        .filter(|f| f["type"] == "message.send")
        .collect();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1]["payload"]["speech"], "hi");
    let kinds: Vec<Value> = frames(&recording, Side::Server)
        .iter()
        .map(|f| f["type"].clone())
        .filter(|t| t != "pong")
        .collect();
    assert_eq!(
        kinds,
        [
            "message.delivered",
            "message.received",
            "message.delivered",
            "message.received"
        ]
    );

    // The replay: another client id, so another thread, and new traceIds; the SDK's
    // delivery tracking only resolves a send if its own traceId comes back.
    let replay = replay::start(ReplayOptions::new(recording)).await.unwrap();
    assert_ne!(
        replay.credentials().client_id,
        service.credentials().client_id
    );
    let replayed = socket_conversation(replay.base_url(), &replay.credentials().client_id).await;
    assert_eq!(replayed, live);
    assert_eq!(replay.misses(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_not_in_the_recording_gets_an_error_frame() {
    let service = upstream().await;
    let file = TempFile::new();
    let recorder = record::start(RecordOptions::new(service.base_url(), &file.0))
        .await
        .unwrap();
    socket_conversation(recorder.base_url(), &service.credentials().client_id).await;
    recorder.shutdown().await.unwrap();

    let replay = replay::start(ReplayOptions::new(Recording::load(&file.0).unwrap()))
        .await
        .unwrap();
    let (session, mut events) = Session::connect(session_options(
        replay.base_url(),
        &replay.credentials().client_id,
    ))
    .await
    .unwrap();
    wait_for(&mut events, |e| matches!(e, SessionEvent::Connected)).await;
    // Its delivery never comes: the send waits (until its deadline) while the error arrives.
    let sender = session.clone();
    let unsent = tokio::spawn(async move { sender.send_text("something never said").await });
    let error = wait_for(&mut events, |e| matches!(e, SessionEvent::Error { .. })).await;
    let SessionEvent::Error { message } = error else {
        unreachable!()
    };
    assert!(message.contains("not in the recording"), "{message}");
    assert_eq!(replay.misses(), 1);
    session.close().await.unwrap();
    let result = unsent.await.unwrap();
    assert!(
        result.is_err(),
        "an unrecorded message was delivered: {result:?}"
    );
}

const RECORD_KEY: &str = "vk-recorded-run-0123456789";
const REPLAY_KEY: &str = "vk-replayed-run-9876543210";

async fn receiver(key: &str) -> (WebhookReceiver, Receiver<WebhookEvent>) {
    WebhookReceiver::bind_channel(ReceiverOptions::new(key))
        .await
        .unwrap()
}

fn messaging(api_url: &str, key: &str) -> MessagingClient {
    MessagingClient::new(
        Config::new()
            .with_api_url(api_url)
            .with_messaging_key(key.to_string()),
    )
    .unwrap()
}

/// Subscribe the receiver, send "hi" to `thread`, and return the texts of the reply that
/// reaches the receiver (after checking its delivery echo).
async fn rest_conversation(
    client: &MessagingClient,
    hooks: &mut Receiver<WebhookEvent>,
    url: String,
    key: &str,
    thread: &str,
) -> Vec<String> {
    let hook = client
        .create_webhook(&NewWebhook {
            url: url.clone(),
            verify_key: Secret::new(key),
            events: vec!["message.delivered".into(), "message.reply".into()],
        })
        .await
        .unwrap();
    assert_eq!(hook.url, url, "the client sees its own receiver URL");
    client
        .send_text(thread, "hi", MessageOptions::with_trace_id(4242))
        .await
        .unwrap();
    let (mut delivered, mut reply) = (false, None);
    while !delivered || reply.is_none() {
        let event = tokio::time::timeout(PATIENCE, hooks.recv())
            .await
            .expect("no webhook call came")
            .unwrap();
        match event {
            WebhookEvent::Delivered(d) => {
                assert_eq!((d.thread_id.as_str(), d.trace_id), (thread, Some(4242)));
                delivered = true;
            }
            WebhookEvent::Reply(r) => {
                assert_eq!(r.thread_id, thread);
                reply = Some(texts(&r));
            }
            other => panic!("unexpected event {other:?}"),
        }
    }
    let listed = client.list_webhooks().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].url, url);
    reply.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rest_message_and_its_webhook_calls_are_recorded_and_replayed() {
    let service = upstream().await;
    let file = TempFile::new();
    let recorder = record::start(RecordOptions::new(service.base_url(), &file.0))
        .await
        .unwrap();
    let (hook, mut hooks) = receiver(RECORD_KEY).await;
    let client = messaging(recorder.base_url(), &service.credentials().messaging_key);
    let live = rest_conversation(
        &client,
        &mut hooks,
        hook.url(),
        RECORD_KEY,
        "thread-recorded",
    )
    .await;
    assert!(
        live.join(" ").contains("customer service demo bot"),
        "{live:?}"
    );
    // Every call went through the relay: the service never saw the receiver's own URL.
    let registered = service.state().webhooks.webhooks();
    assert!(!registered[0].url.contains(&hook.local_addr().to_string()));
    recorder.shutdown().await.unwrap();

    let recording = Recording::load(&file.0).unwrap();
    let exchange_id = |path: &str, method: &str| {
        recording
            .lines
            .iter()
            .find_map(|l| match &l.entry {
                Entry::Http(x) if x.request.path == path && x.request.method == method => {
                    Some(x.id)
                }
                _ => None,
            })
            .unwrap()
    };
    let create = exchange_id("/v1/messaging/webhooks", "POST");
    let message = exchange_id("/v1/messaging/message", "POST");
    let calls: Vec<_> = recording
        .lines
        .iter()
        .filter_map(|l| match &l.entry {
            Entry::Webhook(c) => Some(c.clone()),
            _ => None,
        })
        .collect();
    // The verification GET came while the creation waited for its answer.
    assert!(calls.iter().any(|c| c.request.method == "GET"
        && c.cause == Some(create)
        && c.during
        && c.url == hook.url()));
    let posted: Vec<_> = calls
        .iter()
        .filter(|c| c.request.method == "POST")
        .collect();
    assert_eq!(posted.len(), 2);
    assert!(posted.iter().all(|c| {
        c.cause == Some(message)
            && c.response.as_ref().unwrap().status == 200
            && c.request.headers["x-flowai-verify-key"]
                .as_str()
                .unwrap()
                .starts_with("<masked:verify-key:")
    }));

    // The replay: another receiver with another key, another thread, any messaging key.
    let replay = replay::start(ReplayOptions::new(recording)).await.unwrap();
    let (hook2, mut hooks2) = receiver(REPLAY_KEY).await;
    let client = messaging(replay.base_url(), &replay.credentials().messaging_key);
    let replayed = rest_conversation(
        &client,
        &mut hooks2,
        hook2.url(),
        REPLAY_KEY,
        "thread-replayed",
    )
    .await;
    assert_eq!(replayed, live);
    // Verification GET, delivery and reply: every recorded call was made again.
    assert_eq!(replay.webhook_calls(), 3);

    // A message the recording does not hold is an error, and nothing reaches the receiver.
    let err = client
        .send_text(
            "thread-replayed",
            "something else",
            MessageOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404), "{err}");
    assert!(
        tokio::time::timeout(Duration::from_millis(300), hooks2.recv())
            .await
            .is_err()
    );
    assert_eq!(replay.misses(), 1);
    drop(hook);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aida_session_is_recorded_and_replayed() {
    let service = upstream().await;
    let creds = service.credentials().clone();
    let file = TempFile::new();
    let recorder = record::start(RecordOptions::new(service.base_url(), &file.0))
        .await
        .unwrap();

    async fn chat(url: &str, bot: &str, token: &str) -> (String, String) {
        let client = AidaClient::connect(AidaOptions::new(url, bot, token))
            .await
            .unwrap();
        let session = client.new_session(None).await.unwrap();
        session.send_text("hi").await.unwrap();
        let reply = tokio::time::timeout(PATIENCE, session.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(reply.session, session.id());
        let id = session.id().to_string();
        client.close().await;
        (id, reply.text.unwrap_or_default())
    }
    let (session, live) = chat(recorder.base_url(), &creds.aida_bot, &creds.aida_token).await;
    assert!(live.contains("demo bot"), "{live}");
    recorder.shutdown().await.unwrap();

    let text = std::fs::read_to_string(&file.0).unwrap();
    assert!(!text.contains(&creds.aida_token));
    assert!(text.contains("<masked:token:1>"));

    let replay = replay::start(ReplayOptions::new(Recording::load(&file.0).unwrap()))
        .await
        .unwrap();
    // The bot is part of the conversation (its topic): the replay offers the recorded one.
    // The token is any.
    assert_eq!(replay.credentials().aida_bot, creds.aida_bot);
    let (replayed_session, replayed) =
        chat(replay.base_url(), &creds.aida_bot, "any-token-at-all").await;
    assert_eq!((replayed_session, replayed), (session, live));
    assert_eq!(replay.misses(), 0);
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next_json(ws: &mut Ws) -> Value {
    loop {
        let msg = tokio::time::timeout(PATIENCE, ws.next())
            .await
            .expect("no frame")
            .expect("closed")
            .unwrap();
        if let Message::Text(t) = msg {
            return serde_json::from_str(t.as_str()).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_of_the_run_is_in_the_recording() {
    let service = upstream().await;
    let creds = service.credentials().clone();
    let file = TempFile::new();
    // No secret is given up front: the recorder learns each one from the traffic.
    let recorder = record::start(RecordOptions::new(service.base_url(), &file.0))
        .await
        .unwrap();
    let base = recorder.base_url().to_string();

    // Socket: an SDK session, then a raw client that sends the socket.info secret back and a nonce.
    socket_conversation(&base, &creds.client_id).await;
    let http = reqwest::Client::new();
    let info: Value = http
        .get(format!("{base}/socket.info"))
        .query(&[
            ("clientId", creds.client_id.as_str()),
            ("sessionId", "s-raw"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let socket_secret = info["secret"].as_str().unwrap().to_string();
    let endpoint = info["payload"]["endpoint"].as_str().unwrap().to_string();
    let (mut ws, _) = tokio_tungstenite::connect_async(&endpoint).await.unwrap();
    let nonce = format!("nonce-{}", uuid::Uuid::new_v4().simple());
    ws.send(Message::text(
        json!({"type": "message.send", "payload": {
            "threadId": "raw-thread", "traceId": 1, "speech": "hi", "nonce": nonce}})
        .to_string(),
    ))
    .await
    .unwrap();
    // The service may answer with a nonce of its own first (`secret.generated`).
    let mut server_nonces = Vec::new();
    loop {
        let frame = next_json(&mut ws).await;
        for at in ["/payload/nonce", "/message/secret"] {
            if let Some(n) = frame.pointer(at).and_then(Value::as_str) {
                server_nonces.push(n.to_string());
            }
        }
        if frame["type"] == "message.delivered" {
            break;
        }
    }
    ws.close(None).await.unwrap();
    let again = http
        .get(format!("{base}/socket.info"))
        .header("x-flowai-clientid", &creds.client_id)
        .header("x-flowai-sessionid", "s-raw")
        .header("x-flowai-secret", &socket_secret)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200);

    // REST: a message and its webhook calls; the Management API.
    let (hook, mut hooks) = receiver(RECORD_KEY).await;
    let client = messaging(&base, &creds.messaging_key);
    rest_conversation(
        &client,
        &mut hooks,
        hook.url(),
        RECORD_KEY,
        "thread-secrets",
    )
    .await;
    let flows = http
        .get(format!("{base}/v1/management/flows/list"))
        .bearer_auth(&creds.management_key)
        .send()
        .await
        .unwrap();
    assert_eq!(flows.status(), 200);

    // AIDA: the access token of a join.
    let client = AidaClient::connect(AidaOptions::new(
        base.as_str(),
        creds.aida_bot.as_str(),
        creds.aida_token.as_str(),
    ))
    .await
    .unwrap();
    client.new_session(None).await.unwrap();
    client.close().await;
    recorder.shutdown().await.unwrap();

    let text = std::fs::read_to_string(&file.0).unwrap();
    let url_encoded =
        |s: &str| -> String { url::form_urlencoded::byte_serialize(s.as_bytes()).collect() };
    let mut secrets = vec![
        ("messaging key", creds.messaging_key.clone()),
        ("management key", creds.management_key.clone()),
        ("client id", creds.client_id.clone()),
        ("client id, URL-encoded", url_encoded(&creds.client_id)),
        (
            "organisation of the client id",
            creds.organisation_id.clone(),
        ),
        ("verify key", RECORD_KEY.to_string()),
        ("AIDA token", creds.aida_token.clone()),
        ("socket.info secret", socket_secret.clone()),
        ("nonce", nonce.clone()),
        ("socket endpoint of the proxy", endpoint.clone()),
        (
            "a websocket URL of the service",
            format!("ws://{}", service.addr()),
        ),
    ];
    secrets.extend(
        server_nonces
            .into_iter()
            .map(|n| ("nonce of the service", n)),
    );
    for (what, secret) in &secrets {
        assert!(
            !text.contains(secret.as_str()),
            "the {what} is in the recording"
        );
    }
    // They were recorded, masked, not left out.
    for placeholder in [
        "Bearer <masked:api-key:",
        "<masked:client-id:",
        "<masked:verify-key:",
        "<masked:token:",
        "<masked:socket-secret:",
        "<masked:nonce:",
        "<masked:endpoint:",
    ] {
        assert!(
            text.contains(placeholder),
            "no {placeholder} in the recording"
        );
    }
    // Owner-only: a recording holds conversations.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&file.0).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "mode {mode:o}");
    }
}

#[tokio::test]
async fn a_large_upload_streams_through_and_only_its_size_is_kept() {
    let service = upstream().await;
    let file = TempFile::new();
    let recorder = record::start(RecordOptions::new(service.base_url(), &file.0))
        .await
        .unwrap();
    let media = TempFile::new();
    std::fs::write(&media.0, vec![7u8; 3 * 1024 * 1024]).unwrap();
    let client = messaging(recorder.base_url(), &service.credentials().messaging_key);
    let upload = flowai_core::messaging::MediaUpload::new(
        "thread-media",
        &media.0,
        flowai_core::messaging::MediaType::Image,
    );
    client.send_media(&upload, None).await.unwrap();
    let received = service.state().rest.messages();
    assert_eq!(received[0].media.as_ref().unwrap().size, 3 * 1024 * 1024);
    recorder.shutdown().await.unwrap();
    let recording = Recording::load(&file.0).unwrap();
    let body = recording
        .lines
        .iter()
        .find_map(|l| match &l.entry {
            Entry::Http(x) if x.request.path == "/v1/messaging/message" => x.request.body.clone(),
            _ => None,
        })
        .unwrap();
    assert!(
        matches!(body, Body::Omitted { bytes } if bytes > 3 * 1024 * 1024),
        "{body:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_media_message_is_matched_by_its_form_and_replayed_to_a_receiver_on_the_same_url() {
    let service = upstream().await;
    let file = TempFile::new();
    let recorder = record::start(RecordOptions::new(service.base_url(), &file.0))
        .await
        .unwrap();
    // The same file in both runs: its name and size are part of the message.
    let media = TempFile::new();
    std::fs::write(&media.0, vec![1u8; 10_000]).unwrap();
    let send = |client: MessagingClient, thread: &'static str| {
        let path = media.0.clone();
        async move {
            let upload = flowai_core::messaging::MediaUpload::new(
                thread,
                path,
                flowai_core::messaging::MediaType::Image,
            );
            client.send_media(&upload, None).await
        }
    };
    let (hook, mut hooks) = receiver(RECORD_KEY).await;
    let client = messaging(recorder.base_url(), &service.credentials().messaging_key);
    client
        .create_webhook(&NewWebhook {
            url: hook.url(),
            verify_key: Secret::new(RECORD_KEY),
            events: vec!["message.reply".into()],
        })
        .await
        .unwrap();
    send(client, "thread-media-recorded").await.unwrap();
    let reply = |event: WebhookEvent| match event {
        WebhookEvent::Reply(r) => r,
        other => panic!("unexpected event {other:?}"),
    };
    let live = reply(
        tokio::time::timeout(PATIENCE, hooks.recv())
            .await
            .unwrap()
            .unwrap(),
    );
    assert_eq!(live.thread_id, "thread-media-recorded");
    recorder.shutdown().await.unwrap();

    let recording = Recording::load(&file.0).unwrap();
    let form = recording
        .lines
        .iter()
        .find_map(|l| match &l.entry {
            Entry::Http(x) if x.request.path == "/v1/messaging/message" => x.request.body.clone(),
            _ => None,
        })
        .unwrap();
    let Body::Multipart(parts) = form else {
        panic!("{form:?}")
    };
    let file_part = parts.iter().find(|p| p.name == "file").unwrap();
    assert_eq!((file_part.bytes, &file_part.body), (Some(10_000), &None));

    // The receiver keeps its URL and key this time: the replay calls it all the same.
    let replay = replay::start(ReplayOptions::new(recording)).await.unwrap();
    let client = messaging(replay.base_url(), "any-key");
    client
        .create_webhook(&NewWebhook {
            url: hook.url(),
            verify_key: Secret::new(RECORD_KEY),
            events: vec!["message.reply".into()],
        })
        .await
        .unwrap();
    send(client.clone(), "thread-media-replayed").await.unwrap();
    let replayed = reply(
        tokio::time::timeout(PATIENCE, hooks.recv())
            .await
            .unwrap()
            .unwrap(),
    );
    assert_eq!(replayed.thread_id, "thread-media-replayed");
    assert_eq!(texts(&replayed), texts(&live));
    // Another file is another message.
    std::fs::write(&media.0, vec![1u8; 20_000]).unwrap();
    let err = send(client, "thread-media-replayed").await.unwrap_err();
    assert_eq!(err.status(), Some(404));
}
