//! Every kind and method of the table on real objects against the in-process emulator: results, argument checks, event fields, `closed` once and last, the receiver and the verifier, settings errors as flowai-core words them.
//!
//! Each test opens its own `emulator` object (a real server on loopback, in this process),
//! so the tests are independent and may run in parallel. Waits are bounded by `WAIT` and
//! are for events the emulator always sends, so a failure means a missing event, never a
//! slow machine.

use std::collections::{BTreeSet, VecDeque};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use base64::Engine;
use flowai_core::settings::{
    AidaSettings, EmulatorSettings, ManagementSettings, MessagingSettings, ReceiverSettings,
    SessionSettings, process_env, resolve,
};
use flowai_ffi::api::{self, KINDS, METHODS, Type};
use flowai_ffi::queue::{MAX_BATCH, Queued, Taken};
use flowai_ffi::{Case, Error, Handle, Reply};
use serde_json::{Value, json};

/// Longest wait for an event the emulator always sends.
const WAIT: Duration = Duration::from_secs(10);

/// The webhook body of the conformance scenario.
const REPLY_BODY: &str = r#"{"type":"message.reply","payload":{"threadId":"hook-thread","messages":[{"fallback":"hello","silent":false,"responses":[{"type":"text","payload":{"text":"hello"},"delay":0}]}]}}"#;

fn open(kind: &str, settings: Value) -> Handle {
    Handle::open_blocking(kind, settings, Case::Snake)
        .unwrap_or_else(|e| panic!("open {kind}: {} {}", e.code(), e.message()))
}

fn open_err(kind: &str, settings: Value) -> Error {
    match Handle::open_blocking(kind, settings.clone(), Case::Snake) {
        Ok(_) => panic!("open {kind} with {settings} succeeded"),
        Err(e) => e,
    }
}

fn call_err(handle: &Handle, method: &str, args: Value) -> Error {
    match handle.call_blocking(method, args.clone()) {
        Ok(r) => panic!("{method}({args}) succeeded: {r:?}"),
        Err(e) => e,
    }
}

/// The emulator and the settings that point every client at it.
fn emulator() -> (Handle, Value) {
    let emulator = open("emulator", json!({}));
    let settings = emulator
        .call_blocking("info", json!({}))
        .expect("emulator.info")
        .into_value();
    (emulator, settings)
}

/// One event as the tests read it.
#[derive(Debug, Clone)]
struct Ev {
    name: String,
    payload: Value,
}

impl Ev {
    fn from(q: &Queued) -> Ev {
        Ev {
            name: q.cased_name.clone(),
            payload: serde_json::from_str(&q.payload).expect("a payload is JSON"),
        }
    }
}

/// An object's events, taken in order; what came after an awaited event stays for later.
struct Watch {
    handle: Handle,
    kept: VecDeque<Ev>,
}

impl Watch {
    fn new(handle: Handle) -> Watch {
        Watch {
            handle,
            kept: VecDeque::new(),
        }
    }

    fn fill(&mut self, deadline: Instant) -> bool {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.handle.events().take_blocking(MAX_BATCH, Some(left)) {
            Taken::Events(batch) => {
                self.kept.extend(batch.iter().map(Ev::from));
                true
            }
            Taken::Empty | Taken::End => false,
        }
    }

    /// Events up to and including the first `name`.
    fn until(&mut self, name: &str) -> Vec<Ev> {
        let deadline = Instant::now() + WAIT;
        let mut seen = Vec::new();
        loop {
            while let Some(event) = self.kept.pop_front() {
                let done = event.name == name;
                seen.push(event);
                if done {
                    return seen;
                }
            }
            assert!(
                self.fill(deadline),
                "{}: no `{name}` event; got {seen:?}",
                self.handle.kind()
            );
        }
    }

    /// The first `name` event, skipping others.
    fn next(&mut self, name: &str) -> Ev {
        self.until(name)
            .pop()
            .expect("until returns the awaited event")
    }

    /// Every event left, up to the end of the stream (which must come).
    fn rest(&mut self) -> Vec<Ev> {
        let deadline = Instant::now() + WAIT;
        loop {
            match self.handle.events().take_blocking(
                MAX_BATCH,
                Some(deadline.saturating_duration_since(Instant::now())),
            ) {
                Taken::Events(batch) => self.kept.extend(batch.iter().map(Ev::from)),
                Taken::End => return self.kept.drain(..).collect(),
                Taken::Empty => panic!(
                    "{}: the events did not end; got {:?}",
                    self.handle.kind(),
                    self.kept
                ),
            }
        }
    }
}

/// Asserts that `events` end with exactly one `closed`, and returns its error field.
fn closed_once_and_last(kind: &str, events: &[Ev]) -> Value {
    let closed: Vec<usize> = (0..events.len())
        .filter(|&i| events[i].name == "closed")
        .collect();
    assert_eq!(
        closed,
        vec![events.len() - 1],
        "{kind}: `closed` once and last in {events:?}"
    );
    events[events.len() - 1].payload["error"].clone()
}

/// The (kind, method) pairs that ran successfully on a real object.
#[derive(Default)]
struct Coverage(BTreeSet<(&'static str, String)>);

impl Coverage {
    fn reply(&mut self, handle: &Handle, method: &str, args: Value) -> Reply {
        let reply = handle
            .call_blocking(method, args.clone())
            .unwrap_or_else(|e| {
                panic!(
                    "{}.{method}({args}): {} {}",
                    handle.kind(),
                    e.code(),
                    e.message()
                )
            });
        self.0.insert((handle.kind(), method.to_string()));
        reply
    }

    fn value(&mut self, handle: &Handle, method: &str, args: Value) -> Value {
        match self.reply(handle, method, args) {
            Reply::Value(v) => v,
            Reply::Handle(h) => panic!("{method} made a {} object, not a value", h.kind()),
        }
    }

    fn handle(&mut self, handle: &Handle, method: &str, args: Value) -> Handle {
        match self.reply(handle, method, args) {
            Reply::Handle(h) => h,
            Reply::Value(v) => panic!("{method} returned {v}, not an object"),
        }
    }
}

/// A file of `size` bytes under the temp dir, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, size: usize) -> TempFile {
        let path =
            std::env::temp_dir().join(format!("flowai-ffi-objects-{}-{name}", std::process::id()));
        let bytes: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, bytes).expect("write a temp file");
        TempFile(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().expect("a UTF-8 temp path")
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Upload progress: at least one event, `sent` never going back, the last equal to `total`.
fn assert_progress(what: &str, events: &[Ev], size: u64) {
    let progress: Vec<&Ev> = events.iter().filter(|e| e.name == "progress").collect();
    assert!(!progress.is_empty(), "{what}: no progress in {events:?}");
    let mut last = 0;
    for p in &progress {
        let sent = p.payload["sent"].as_u64().expect("sent");
        assert_eq!(p.payload["total"], size, "{what}: total is the file size");
        assert!(
            sent >= last && sent <= size,
            "{what}: sent {sent} after {last}"
        );
        last = sent;
    }
    assert_eq!(last, size, "{what}: the last progress is the whole file");
}

#[test]
fn every_method_of_the_table_runs_on_a_real_object() {
    let mut cov = Coverage::default();
    let (emu, settings) = emulator();

    // emulator.info: the settings of every client, on loopback.
    let info = cov.value(&emu, "info", json!({}));
    for key in [
        "api_url",
        "messaging_key",
        "management_key",
        "client_id",
        "aida_url",
        "aida_bot",
        "aida_token",
    ] {
        assert!(
            info[key].as_str().is_some_and(|v| !v.is_empty()),
            "info has {key}: {info}"
        );
    }
    assert!(
        info["api_url"]
            .as_str()
            .is_some_and(|u| u.starts_with("http://127.0.0.1:"))
    );
    // emulator.env: the same settings under the variables the clients read.
    let env = cov.value(&emu, "env", json!({}));
    assert_eq!(env["FLOWAI_API_URL"], info["api_url"], "{env}");
    assert_eq!(env["FLOWAI_AIDA_TOKEN"], info["aida_token"], "{env}");
    assert_eq!(env.as_object().map(|m| m.len()), Some(7), "{env}");

    webhooks_and_messaging(&mut cov, &emu, &settings);
    management(&mut cov, &settings);
    session(&mut cov, &settings);
    aida(&mut cov, &settings);
    verifier_and_bench(&mut cov);
    rest(&mut cov, &emu, &settings);

    let missing: Vec<String> = METHODS
        .iter()
        .filter(|m| !cov.0.contains(&(m.kind, m.name.to_string())))
        .map(|m| format!("{}.{}", m.kind, m.name))
        .collect();
    assert!(
        missing.is_empty(),
        "table rows never run on a real object: {missing:?}"
    );
    emu.close_blocking().expect("close the emulator");
}

/// receiver.info, emulator.post_webhook, and every messaging method, with the webhook
/// deliveries of the REST sends arriving at a real receiver.
fn webhooks_and_messaging(cov: &mut Coverage, emu: &Handle, settings: &Value) {
    let mut receiver = Watch::new(open("receiver", json!({"verify_key": "hook-key"})));
    let info = cov.value(&receiver.handle, "info", json!({}));
    let url = info["url"].as_str().expect("url").to_string();
    let port = info["port"].as_u64().expect("port");
    assert_eq!(url, format!("http://127.0.0.1:{port}/webhook"));
    let status = cov.value(
        emu,
        "post_webhook",
        json!({"url": url, "body": REPLY_BODY, "verify_key": "hook-key", "delivery_id": "x-1"}),
    );
    assert_eq!(status, json!({"status": 200}));
    let reply = receiver.next("reply");
    assert_eq!(reply.payload["thread_id"], "hook-thread");

    let mut messaging = Watch::new(open("messaging", settings.clone()));
    let m = messaging.handle.clone();
    let events = json!(["message.delivered", "message.reply"]);
    let created = cov.value(
        &m,
        "create_webhook",
        json!({"url": url, "verify_key": "hook-key", "events": events}),
    );
    let id = created["webhookId"]
        .as_str()
        .expect("webhookId")
        .to_string();
    assert_eq!(created["url"], url.as_str());
    assert_eq!(created["events"], events);
    let got = cov.value(&m, "get_webhook", json!({"webhook_id": id}));
    assert_eq!(got["webhookId"], id.as_str());
    assert_eq!(got["url"], url.as_str());
    let updated = cov.value(
        &m,
        "update_webhook",
        json!({"webhook_id": id, "events": ["message.reply", "message.delivered"]}),
    );
    assert_eq!(
        updated["events"],
        json!(["message.reply", "message.delivered"])
    );
    let list = cov.value(&m, "list_webhooks", json!({}));
    assert!(
        list.as_array()
            .is_some_and(|l| l.iter().any(|w| w["webhookId"] == id.as_str())),
        "{list}"
    );

    // A REST send is answered at once; its delivery and the bot's reply come as webhook
    // calls to the receiver, in order.
    let sent = cov.value(
        &m,
        "send_text",
        json!({"thread_id": "rest-1", "text": "hi", "trace_id": 42, "lang": "en"}),
    );
    assert_eq!(sent, Value::Null);
    let got = receiver.until("reply");
    let delivered = got
        .iter()
        .find(|e| e.name == "delivered")
        .expect("a delivered call before the reply");
    assert_eq!(delivered.payload["thread_id"], "rest-1");
    assert_eq!(delivered.payload["trace_id"], 42);
    assert_eq!(delivered.payload["message"]["speech"], "hi");
    let reply = &got[got.len() - 1].payload;
    assert_eq!(reply["thread_id"], "rest-1");
    assert_eq!(
        reply["reply"]["messages"][0]["fallback"],
        "Hi there! This is a customer service demo bot! "
    );

    cov.value(
        &m,
        "send_event",
        json!({"thread_id": "rest-1", "event_name": "INTRO"}),
    );
    let reply = receiver.next("reply");
    let quick = &reply.payload["reply"]["messages"][0]["responses"][0]["payload"]["quickReplies"];
    assert_eq!(quick.as_array().map(Vec::len), Some(3), "{quick}");

    // send: the Messaging API's own JSON.
    let raw = json!({"threadId": "rest-1", "type": "text", "text": "hello", "traceId": 7});
    cov.value(&m, "send", json!({"message": raw}));
    let delivered = receiver.next("delivered");
    assert_eq!(delivered.payload["trace_id"], 7);
    assert_eq!(delivered.payload["message"]["speech"], "hello");
    receiver.next("reply");
    let err = call_err(
        &m,
        "send",
        json!({"message": {"threadId": "rest-1", "type": "text"}}),
    );
    assert_eq!(
        (err.code(), err.message()),
        (
            "FLOWAI_INVALID_ARGUMENT",
            "send: a text message needs `text`"
        )
    );

    cov.value(&m, "delete_webhook", json!({"webhook_id": id}));
    let list = cov.value(&m, "list_webhooks", json!({}));
    assert!(
        list.as_array()
            .is_some_and(|l| l.iter().all(|w| w["webhookId"] != id.as_str()))
    );
    let err = call_err(&m, "get_webhook", json!({"webhook_id": id}));
    assert_eq!(err.code(), "FLOWAI_HTTP", "{}", err.message());

    // No webhook any more: these sends make no calls to the receiver.
    cov.value(
        &m,
        "send_location",
        json!({"thread_id": "rest-1", "lat": 52.37, "lng": "4.89"}),
    );
    let file = TempFile::new("media.png", 300_000);
    cov.value(
        &m,
        "send_media",
        json!({"thread_id": "rest-1", "path": file.path(), "media_type": "image", "mime_type": "image/png"}),
    );
    let progress = messaging.until("progress");
    let mut all = progress;
    m.close_blocking().expect("close messaging");
    all.extend(messaging.rest());
    assert_progress("send_media", &all, 300_000);
    closed_once_and_last("messaging", &all);

    receiver
        .handle
        .close_blocking()
        .expect("close the receiver");
    let rest = receiver.rest();
    assert_eq!(
        rest.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
        vec!["closed"],
        "nothing after the webhook was deleted"
    );
}

fn management(cov: &mut Coverage, settings: &Value) {
    let m = open("management", settings.clone());
    let flows = cov.value(&m, "list_flows", json!({}));
    let hello = flows
        .as_array()
        .and_then(|f| f.iter().find(|f| f["title"] == "Hello World"))
        .expect("the demo project's Hello World flow")
        .clone();
    let flow = cov.value(&m, "get_flow", json!({"flow_id": hello["flowId"]}));
    assert_eq!(flow["flowId"], hello["flowId"]);
    assert_eq!(flow["steps"][0]["title"], "Hello!");

    let intents = cov.value(&m, "list_intents", json!({}));
    let intent_id = intents[0]["intentId"].clone();
    let intent = cov.value(&m, "get_intent", json!({"intent_id": intent_id}));
    assert_eq!(intent["intentId"], intent_id);
    assert!(intent["examples"].as_array().is_some_and(|e| !e.is_empty()));

    let types = cov.value(&m, "list_entity_types", json!({}));
    let type_id = types[0]["entityTypeId"].clone();
    let one = cov.value(&m, "get_entity_type", json!({"entity_type_id": type_id}));
    assert_eq!(one["entityTypeId"], type_id);

    let projects = cov.value(&m, "list_projects", json!({}));
    let project_id = projects[0]["projectId"].clone();
    assert_eq!(project_id, hello["projectId"]);
    let project = cov.value(&m, "get_project", json!({"project_id": project_id}));
    assert_eq!(project["projectId"], project_id);

    let members = cov.value(&m, "list_members", json!({}));
    assert_eq!(members[0]["name"], "Demo User");

    let err = call_err(&m, "get_flow", json!({"flow_id": "no-such-flow"}));
    assert_eq!(err.code(), "FLOWAI_HTTP");
    assert_eq!(err.status(), Some(404));
}

fn session(cov: &mut Coverage, settings: &Value) {
    let mut s = Watch::new(open("session", settings.clone()));
    let h = s.handle.clone();
    let connected = s.until("connected");
    assert_eq!(connected.len(), 1, "connected comes first: {connected:?}");
    let info = cov.value(&h, "info", json!({}));
    let thread = info["thread_id"].as_str().expect("thread_id").to_string();
    assert_eq!(connected[0].payload["thread_id"], thread.as_str());
    assert!(info["session_id"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(info["closed"], false);

    // send_text resolves with the delivery; the events then carry delivered and reply.
    let delivered = cov.value(&h, "send_text", json!({"text": "hi"}));
    assert_eq!(delivered["speech"], "hi");
    let trace = delivered["traceId"]
        .as_u64()
        .expect("a traceId was assigned");
    let events = s.until("reply");
    let names: Vec<&str> = events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["delivered", "reply"]);
    let d = &events[0].payload;
    assert_eq!(d["thread_id"], thread.as_str());
    assert_eq!(d["trace_id"], trace);
    assert_eq!(d["message"]["speech"], "hi");
    assert_eq!(d["message"]["threadId"], thread.as_str());
    let r = &events[1].payload;
    assert_eq!(r["thread_id"], thread.as_str());
    assert_eq!(r["reply"]["traceId"], trace);
    assert_eq!(
        r["reply"]["messages"][0]["fallback"],
        "Hi there! This is a customer service demo bot! "
    );

    let delivered = cov.value(&h, "send_event", json!({"event_name": "INTRO"}));
    assert!(delivered["traceId"].as_u64().is_some_and(|t| t != trace));
    let reply = s.next("reply");
    assert_eq!(
        reply.payload["reply"]["messages"][0]["fallback"],
        "Hi, how can we help?"
    );

    // send: a given traceId is kept.
    let delivered = cov.value(&h, "send", json!({"text": "hello", "trace_id": 4711}));
    assert_eq!(delivered["traceId"], 4711);
    assert_eq!(s.next("delivered").payload["trace_id"], 4711);
    s.next("reply");
    let err = call_err(&h, "send", json!({"text": "a", "event": "B"}));
    assert_eq!(
        err.message(),
        "send: give exactly one of `text` and `event`"
    );

    assert_eq!(cov.value(&h, "typing", json!({})), Value::Null);
    let history = cov.value(&h, "history", json!({}));
    let items = history["payload"].as_array().expect("history");
    assert_eq!(items.len(), 6, "three sends and three replies: {history}");
    assert_eq!(items[0]["messages"][0]["fallback"], "hi");

    let unnoticed = cov.value(&h, "unnoticed", json!({}));
    assert_eq!(unnoticed["payload"]["unnoticed"], 3, "{unnoticed}");
    assert_eq!(cov.value(&h, "noticed", json!({})), Value::Null);
    // thread.noticed is a socket frame; the HTTP view catches up once the server read it.
    let deadline = Instant::now() + WAIT;
    loop {
        let unnoticed = cov.value(&h, "unnoticed", json!({}));
        if unnoticed["payload"]["unnoticed"] == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "noticed had no effect: {unnoticed}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }

    let file = TempFile::new("upload.bin", 200_000);
    let uploaded = cov.value(&h, "upload", json!({"path": file.path()}));
    assert_eq!(uploaded["payload"]["size"], 200_000, "{uploaded}");
    assert_eq!(uploaded["payload"]["threadId"], thread.as_str());

    h.close_blocking().expect("close the session");
    let rest = s.rest();
    assert_progress("upload", &rest, 200_000);
    assert_eq!(closed_once_and_last("session", &rest), Value::Null);
}

fn aida(cov: &mut Coverage, settings: &Value) {
    let mut client = Watch::new(open("aida", settings.clone()));
    let c = client.handle.clone();
    client.until("connected");
    let info = cov.value(&c, "info", json!({}));
    assert_eq!(info["bot"], settings["aida_bot"]);
    assert_eq!(info["connected"], true);

    let mut s1 = Watch::new(cov.handle(&c, "new_session", json!({"data": {"plan": "gold"}})));
    assert_eq!(s1.handle.kind(), "aida_session");
    let id = cov.value(&s1.handle, "info", json!({}))["session_id"]
        .as_str()
        .expect("session_id")
        .to_string();
    let answered = cov.value(&s1.handle, "send_text", json!({"text": "hi"}));
    assert_eq!(answered, json!({}));
    let message = s1.next("aida_message");
    assert_eq!(message.payload["session_id"], id.as_str());
    assert_eq!(
        message.payload["text"],
        "Hi there! This is a customer service demo bot! "
    );
    assert_eq!(message.payload["data"]["session"], id.as_str());
    // The client sees every session's traffic of its bot.
    let seen = client.next("aida_message");
    assert_eq!(seen.payload["session_id"], id.as_str());

    cov.value(&s1.handle, "put_data", json!({"data": {"city": "Utrecht"}}));
    let view = aida_session_data(settings, &id);
    assert_eq!(view["data"], json!({"plan": "gold", "city": "Utrecht"}));

    // send_image uploads, then fetch_image gives the same bytes back.
    let image = TempFile::new("image.png", 5_000);
    let sent = cov.value(
        &s1.handle,
        "send_image",
        json!({"path": image.path(), "content_type": "image/png"}),
    );
    let image_id = sent["image_id"].as_str().expect("image_id").to_string();
    let fetched = cov.value(&c, "fetch_image", json!({"image_id": image_id}));
    assert_eq!(fetched["content_type"], "image/png");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(fetched["data"].as_str().expect("data"))
        .expect("base64");
    assert_eq!(
        bytes,
        std::fs::read(&image.0).expect("read the image back"),
        "the same bytes"
    );

    // session: the same conversation by its id, seeing replies sent after it was made.
    let mut again = Watch::new(cov.handle(&c, "session", json!({"session_id": id})));
    assert_eq!(
        cov.value(&again.handle, "info", json!({}))["session_id"],
        id.as_str()
    );
    cov.value(&again.handle, "send_text", json!({"text": "hello"}));
    assert_eq!(
        again.next("aida_message").payload["session_id"],
        id.as_str()
    );

    // delete ends the conversation's events.
    assert_eq!(cov.value(&s1.handle, "delete", json!({})), Value::Null);
    let rest = s1.rest();
    closed_once_and_last("aida_session", &rest);
    let err = call_err(&s1.handle, "send_text", json!({"text": "hi"}));
    assert_eq!(err.code(), "FLOWAI_CLOSED");

    c.close_blocking().expect("close the aida client");
    closed_once_and_last("aida", &client.rest());
    closed_once_and_last("aida_session", &again.rest());
}

/// The emulator's view of an AIDA session, to see that put_data reached it.
fn aida_session_data(settings: &Value, id: &str) -> Value {
    let base = settings["aida_url"].as_str().expect("aida_url");
    let url = format!("{base}/_emulator/aida/sessions/{id}");
    let rt = flowai_ffi::runtime::runtime().expect("runtime");
    rt.block_on(async {
        reqwest::get(url)
            .await
            .expect("the emulator answers")
            .json::<Value>()
            .await
            .expect("JSON")
    })
}

fn verifier_and_bench(cov: &mut Coverage) {
    let v = open("verifier", json!({"verify_key": "vk"}));
    let event = cov.value(
        &v,
        "verify",
        json!({"headers": {"X-Flowai-Verify-Key": "vk"}, "body": REPLY_BODY}),
    );
    assert_eq!(event["event"], "reply");
    assert_eq!(event["payload"]["thread_id"], "hook-thread");
    assert_eq!(
        event["payload"]["reply"]["messages"][0]["fallback"],
        "hello"
    );

    let mut bench = Watch::new(open("bench", json!({})));
    assert_eq!(
        cov.value(
            &bench.handle,
            "run",
            json!({"count": 5, "interval_us": 100})
        ),
        Value::Null
    );
    let events = bench.rest();
    assert_eq!(events.len(), 6, "{events:?}");
    let mut last_ns = 0;
    for (i, e) in events[..5].iter().enumerate() {
        assert_eq!(e.name, "progress");
        assert_eq!(e.payload["sent"], i as u64 + 1);
        assert_eq!(e.payload["total"], 5);
        let at = e.payload["at_ns"].as_u64().expect("at_ns");
        assert!(at >= last_ns, "at_ns is monotonic");
        last_ns = at;
    }
    closed_once_and_last("bench", &events);
}

/// The texts of a sync send's replies.
fn reply_texts(receipt: &Value) -> Vec<String> {
    receipt["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|m| m["responses"].as_array().cloned().unwrap_or_default())
        .filter_map(|r| r["payload"]["text"].as_str().map(String::from))
        .collect()
}

/// Every `rest` method, `page_cursor.next` and `emulator.set_faults`: a listing walked page
/// by page, a paused bot that stays silent, a send that is not retried and a read that is.
fn rest(cov: &mut Coverage, emu: &Handle, settings: &Value) {
    let r = open("rest", settings.clone());
    let first = cov.value(&r, "send_text", json!({"text": "hi", "sync": true}));
    let thread = first["threadId"].as_str().expect("threadId").to_string();
    assert!(
        reply_texts(&first)
            .iter()
            .any(|t| t.contains("customer service demo bot")),
        "{first}"
    );
    let message = json!({"payload": {"type": "event", "eventName": "INTRO"}});
    let intro = cov.value(
        &r,
        "send",
        json!({"message": message, "thread_id": thread, "sync": true, "write_concern": true, "timeout_ms": 5000}),
    );
    assert!(
        reply_texts(&intro)
            .iter()
            .any(|t| t.contains("how can we help"))
    );
    for _ in 0..20 {
        cov.value(&r, "send_text", json!({"text": "hello"}));
    }

    // 21 threads: page 1 is full and says there is more, page 2 holds the last one.
    let page = cov.value(&r, "threads_page", json!({"page": 2, "timeout_ms": 5000}));
    assert_eq!(
        (page["page"].clone(), page["has_more"].clone()),
        (json!(2), json!(false))
    );
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1));
    let cursor = cov.handle(&r, "threads", json!({}));
    assert_eq!(cursor.kind(), "page_cursor");
    let mut sizes = Vec::new();
    loop {
        let page = cov.value(&cursor, "next", json!({}));
        if page.is_null() {
            break;
        }
        sizes.push((
            page["items"].as_array().map_or(0, Vec::len),
            page["has_more"].clone(),
        ));
    }
    assert_eq!(sizes, [(20, json!(true)), (1, json!(false))]);
    assert_eq!(
        cov.value(&cursor, "next", json!({})),
        Value::Null,
        "null stays null"
    );
    cursor.close_blocking().expect("close the cursor");
    let on_thread = json!({"thread_id": thread});
    let messages = cov.value(&r, "messages_page", on_thread.clone());
    assert_eq!(
        messages["items"].as_array().map(Vec::len),
        Some(4),
        "{messages}"
    );
    let cursor = cov.handle(&r, "messages", on_thread.clone());
    let page = cov.value(&cursor, "next", json!({}));
    assert_eq!(page["has_more"], false);

    // A paused bot answers nothing until it is resumed.
    let paused = cov.value(&r, "pause", json!({"thread_id": thread, "seconds": 60}));
    assert_eq!(paused["isPaused"], true);
    assert_eq!(
        cov.value(&r, "pause_status", on_thread.clone())["isPaused"],
        true
    );
    let silent = cov.value(
        &r,
        "send_text",
        json!({"text": "hi", "thread_id": thread, "sync": true}),
    );
    assert!(reply_texts(&silent).is_empty(), "{silent}");
    assert_eq!(
        cov.value(&r, "resume", on_thread.clone())["isPaused"],
        false
    );
    let handover = cov.value(&r, "handover", json!({"thread_id": thread, "seconds": 30}));
    assert_eq!(handover["isPaused"], true);
    cov.value(&r, "takeover", on_thread.clone());
    cov.value(&r, "resolve", on_thread.clone());

    let events = cov.value(&r, "trigger_events", json!({}));
    assert!(
        events
            .as_array()
            .is_some_and(|e| e.iter().any(|e| e["name"] == "INTRO"))
    );
    let triggered = cov.value(
        &r,
        "trigger_event",
        json!({"thread_id": thread, "event_name": "INTRO"}),
    );
    assert_eq!(triggered["eventName"], "INTRO");
    let hours = cov.value(&r, "business_hours", json!({}));
    assert!(
        hours["days"].as_array().is_some_and(|d| d.len() == 7),
        "{hours}"
    );
    let segments = cov.value(&r, "segments", json!({}));
    let segment = segments[0]["id"].as_str().expect("a segment").to_string();
    let broadcast = json!({
        "audience": [{"phoneNumber": "+31600000000"}],
        "channel": {"channelName": "whatsapp", "externalId": "+31000000000"},
        "payload": {"type": "text", "speech": "news"},
    });
    cov.value(&r, "broadcast", json!({"request": broadcast}));
    let to_segment =
        json!({"audience": [{"id": segment}], "payload": {"type": "event", "eventName": "INTRO"}});
    cov.value(&r, "broadcast_segment", json!({"request": to_segment}));

    // Bad input is refused before anything is sent, in the core's words.
    let long = json!({"text": "x".repeat(256)});
    assert_eq!(
        call_err(&r, "send_text", long).message(),
        "speech is longer than 255 characters"
    );
    let zero = json!({"text": "hi", "timeout_ms": 0});
    assert_eq!(
        call_err(&r, "send_text", zero).message(),
        "timeout_ms must be greater than 0"
    );
    assert_eq!(
        call_err(&r, "threads_page", json!({"page": 0})).message(),
        "page counts from 1"
    );
    let fax = json!({"message": {"payload": {"type": "fax"}}});
    assert_eq!(call_err(&r, "send", fax).code(), "FLOWAI_INVALID_ARGUMENT");

    // A 5xx: a send gives it back at once (the one failure was its only try), a read retries.
    let fail_once = json!({"faults": {"restV1Failures": 1, "restV1Status": 500}});
    let faults = cov.value(emu, "set_faults", fail_once.clone());
    assert_eq!(faults["restV1Failures"], 1);
    let err = call_err(&r, "send_text", json!({"text": "hi"}));
    assert_eq!((err.code(), err.status()), ("FLOWAI_HTTP", Some(500)));
    cov.value(emu, "set_faults", fail_once);
    cov.value(&r, "pause_status", on_thread);
    let unknown = call_err(emu, "set_faults", json!({"faults": {"colour": 1}}));
    assert!(
        unknown
            .message()
            .starts_with("set_faults: no fault `colour`"),
        "{}",
        unknown.message()
    );
    r.close_blocking().expect("close the rest client");
}

/// An object of every kind (an aida_session through its client), each with its watch.
fn one_of_each(settings: &Value) -> Vec<Watch> {
    let mut objects = Vec::new();
    for kind in KINDS {
        let handle = match kind.name {
            "emulator" => open("emulator", json!({})),
            "receiver" | "verifier" => open(kind.name, json!({"verify_key": "k"})),
            "bench" => open("bench", json!({})),
            "page_cursor" => {
                let client = objects
                    .iter()
                    .find(|w: &&Watch| w.handle.kind() == "rest")
                    .expect("rest comes before page_cursor in KINDS")
                    .handle
                    .clone();
                match client.call_blocking("threads", json!({})) {
                    Ok(Reply::Handle(h)) => h,
                    other => panic!("threads: {other:?}"),
                }
            }
            "aida_session" => {
                let client = objects
                    .iter()
                    .find(|w: &&Watch| w.handle.kind() == "aida")
                    .expect("aida comes before aida_session in KINDS")
                    .handle
                    .clone();
                match client.call_blocking("new_session", json!({})) {
                    Ok(Reply::Handle(h)) => h,
                    other => panic!("new_session: {other:?}"),
                }
            }
            other => open(other, settings.clone()),
        };
        objects.push(Watch::new(handle));
    }
    objects
}

/// A value of the wrong type for `ty`, or None when every value fits.
fn mistyped(ty: Type) -> Option<(Value, &'static str)> {
    Some(match ty {
        Type::Str => (json!(1), "a string"),
        Type::Path => (json!(1), "a path string"),
        Type::Int => (json!(1.5), "a whole number"),
        Type::Float => (json!("1"), "a number"),
        Type::Bool => (json!("yes"), "a boolean"),
        Type::Coordinate => (json!(true), "a number or a string"),
        Type::StrList => (json!(["a", 1]), "a list of strings"),
        Type::Object => (json!([1]), "an object"),
        _ => return None,
    })
}

/// A value that fits `ty`.
fn fitting(ty: Type) -> Value {
    match ty {
        Type::Int => json!(1),
        Type::Float | Type::Coordinate => json!(1.5),
        Type::Bool => json!(true),
        Type::StrList => json!(["a"]),
        Type::Object => json!({}),
        _ => json!("x"),
    }
}

#[test]
fn arguments_are_checked_against_the_table_before_any_object_sees_them() {
    let (emu, settings) = emulator();
    let objects = one_of_each(&settings);
    let mut checked = 0;
    for method in METHODS {
        let h = &objects
            .iter()
            .find(|w| w.handle.kind() == method.kind)
            .expect("an object of every kind")
            .handle;
        // Every required parameter given with a fitting value, one at a time left out.
        let full: serde_json::Map<String, Value> = method
            .params
            .iter()
            .filter(|p| p.required)
            .map(|p| (p.name.to_string(), fitting(p.ty)))
            .collect();
        let invalid = |args: Value, message: String| {
            let err = call_err(h, method.name, args);
            assert_eq!(
                (err.code(), err.message()),
                ("FLOWAI_INVALID_ARGUMENT", message.as_str()),
                "{}.{}",
                method.kind,
                method.name
            );
        };
        for p in method.params.iter().filter(|p| p.required) {
            let mut args = full.clone();
            args.remove(p.name);
            invalid(
                Value::Object(args),
                format!("{}: `{}` is required", method.name, p.name),
            );
        }
        for p in method.params {
            if let Some((wrong, expected)) = mistyped(p.ty) {
                let mut args = full.clone();
                args.insert(p.name.to_string(), wrong);
                invalid(
                    Value::Object(args),
                    format!("{}: `{}` must be {expected}", method.name, p.name),
                );
            }
        }
        let mut args = full.clone();
        args.insert("colour".into(), json!("red"));
        invalid(
            Value::Object(args),
            format!("{}: unknown argument `colour`", method.name),
        );
        invalid(
            json!([1]),
            format!("{}: the arguments must be an object", method.name),
        );
        checked += 1;
    }
    assert_eq!(checked, METHODS.len());

    // Unknown methods name what the kind has.
    for w in &objects {
        let kind = w.handle.kind();
        let names: Vec<&str> = api::methods_of(kind).map(|m| m.name).collect();
        let err = call_err(&w.handle, "fly", json!({}));
        assert_eq!(err.code(), "FLOWAI_INVALID_ARGUMENT");
        assert_eq!(
            err.message(),
            format!(
                "{kind} has no method `fly`; it has: {}, close",
                names.join(", ")
            )
        );
    }

    // camelCase keys are the same arguments, and null counts as not given. Only this
    // call reached the server: none of the refused ones above made a delivery.
    let mut objects = objects;
    let session = objects
        .iter_mut()
        .find(|w| w.handle.kind() == "session")
        .expect("session");
    let delivered = session
        .handle
        .call_blocking(
            "send",
            json!({"text": "hi", "traceId": 99, "lang": null, "timezone": null}),
        )
        .expect("camelCase arguments")
        .into_value();
    assert_eq!(delivered["traceId"], 99);
    let names: Vec<String> = session.until("reply").into_iter().map(|e| e.name).collect();
    assert_eq!(names, ["connected", "delivered", "reply"]);
    let err = call_err(&session.handle, "send_text", json!({"text": null}));
    assert_eq!(err.message(), "send_text: `text` is required");

    // Bad input is refused by the core before anything is sent.
    let messaging = &objects
        .iter()
        .find(|w| w.handle.kind() == "messaging")
        .expect("messaging")
        .handle;
    let err = call_err(
        messaging,
        "send_text",
        json!({"thread_id": "t", "text": "x".repeat(256)}),
    );
    assert_eq!(err.message(), "text is 256 characters; the limit is 255");

    for w in &objects {
        w.handle.close_blocking().expect("close");
    }
    let session = objects
        .iter_mut()
        .find(|w| w.handle.kind() == "session")
        .expect("session");
    let names: Vec<String> = session.rest().into_iter().map(|e| e.name).collect();
    assert_eq!(names, ["closed"], "the refused send_text sent nothing");
    emu.close_blocking().expect("close the emulator");
}

#[test]
fn closed_comes_once_and_last_for_every_kind_and_calls_after_it_fail() {
    let (emu, settings) = emulator();
    let mut objects = one_of_each(&settings);
    // Traffic on the socket objects before they close.
    for w in &mut objects {
        match w.handle.kind() {
            "session" => {
                w.handle
                    .call_blocking("send_text", json!({"text": "hi"}))
                    .expect("send");
                w.until("reply");
            }
            "aida_session" => {
                w.handle
                    .call_blocking("send_text", json!({"text": "hi"}))
                    .expect("send");
                w.until("aida_message");
            }
            _ => {}
        }
    }
    let mut kinds = BTreeSet::new();
    // aida_session first: closing its client would end it as well.
    objects.sort_by_key(|w| w.handle.kind() != "aida_session");
    for w in &mut objects {
        let kind = w.handle.kind();
        assert!(!w.handle.is_closed(), "{kind} is open");
        w.handle.close_blocking().expect("close");
        w.handle.close_blocking().expect("closing twice is fine");
        assert!(w.handle.is_closed());
        let rest = w.rest();
        assert_eq!(
            closed_once_and_last(kind, &rest),
            Value::Null,
            "{kind}: a plain close carries no error"
        );
        assert_eq!(
            w.handle.events().take(10),
            Taken::End,
            "{kind}: nothing after"
        );
        assert_eq!(
            w.handle
                .events()
                .take_blocking(10, Some(Duration::from_millis(1))),
            Taken::End
        );
        if let Some(method) = api::methods_of(kind).next() {
            let args: serde_json::Map<String, Value> = method
                .params
                .iter()
                .filter(|p| p.required)
                .map(|p| (p.name.to_string(), fitting(p.ty)))
                .collect();
            let err = call_err(&w.handle, method.name, Value::Object(args));
            assert_eq!(
                (err.code(), err.message()),
                (
                    "FLOWAI_CLOSED",
                    format!("{}: the object is closed", method.name).as_str()
                ),
                "{kind}"
            );
        }
        kinds.insert(kind);
    }
    let all: BTreeSet<&str> = KINDS.iter().map(|k| k.name).collect();
    assert_eq!(kinds, all, "every kind was closed");

    // A handle dropped without close ends in the background, still with `closed` last.
    let session = open("session", settings.clone());
    let queue = session.events().clone();
    drop(session);
    let deadline = Instant::now() + WAIT;
    let mut names = Vec::new();
    loop {
        match queue.take_blocking(
            MAX_BATCH,
            Some(deadline.saturating_duration_since(Instant::now())),
        ) {
            Taken::Events(batch) => names.extend(batch.iter().map(|q| q.name)),
            Taken::End => break,
            Taken::Empty => panic!("a dropped session never closed: {names:?}"),
        }
    }
    assert_eq!(names.last(), Some(&"closed"));
    assert_eq!(names.iter().filter(|n| **n == "closed").count(), 1);
    emu.close_blocking().expect("close the emulator");
}

#[test]
fn the_receiver_answers_200_401_400_and_hands_a_duplicate_over_once() {
    let (emu, _) = emulator();
    let mut r = Watch::new(open("receiver", json!({"verify_key": "rk"})));
    let url = r
        .handle
        .call_blocking("info", json!({}))
        .expect("info")
        .into_value()["url"]
        .as_str()
        .expect("url")
        .to_string();
    let post = |body: &str, key: Option<&str>, delivery: &str| -> u64 {
        let v = emu
            .call_blocking(
                "post_webhook",
                json!({"url": url, "body": body, "verify_key": key, "delivery_id": delivery}),
            )
            .expect("post_webhook")
            .into_value();
        v["status"].as_u64().expect("status")
    };
    assert_eq!(post(REPLY_BODY, Some("rk"), "d-1"), 200);
    assert_eq!(post(REPLY_BODY, Some("wrong"), "d-2"), 401);
    assert_eq!(post(REPLY_BODY, None, "d-3"), 401);
    assert_eq!(post("{not json", Some("rk"), "d-4"), 400);
    assert_eq!(
        post(REPLY_BODY, Some("rk"), "d-1"),
        200,
        "a duplicate is fine"
    );
    let delivered = r#"{"type":"message.delivered","payload":{"threadId":"hook-thread","traceId":5,"speech":"yo"}}"#;
    assert_eq!(post(delivered, Some("rk"), "d-5"), 200);
    r.handle.close_blocking().expect("close");
    let events = r.rest();
    let names: Vec<&str> = events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        ["reply", "delivered", "closed"],
        "one reply for d-1 sent twice, nothing for refused calls"
    );
    let reply = &events[0].payload;
    assert_eq!(reply["thread_id"], "hook-thread");
    assert_eq!(reply["reply"]["messages"][0]["fallback"], "hello");
    let d = &events[1].payload;
    assert_eq!(d["thread_id"], "hook-thread");
    assert_eq!(d["trace_id"], 5);
    assert_eq!(d["message"]["speech"], "yo");

    let err = call_err(
        &emu,
        "post_webhook",
        json!({"url": "not a url", "body": "{}"}),
    );
    assert_eq!(err.code(), "FLOWAI_INVALID_ARGUMENT");
}

#[test]
fn the_verifier_accepts_the_key_from_headers_pairs_query_and_body() {
    let v = open("verifier", json!({"verify_key": "vk"}));
    let verify = |args: Value| v.call_blocking("verify", args);
    let ok = |args: Value| {
        verify(args.clone())
            .unwrap_or_else(|e| panic!("verify {args}: {}", e.message()))
            .into_value()
    };
    let by_pairs = ok(json!({"headers": [["x-flowai-verify-key", "vk"]], "body": REPLY_BODY}));
    let by_header = ok(json!({"headers": {"X-FLOWAI-VERIFY-KEY": "vk"}, "body": REPLY_BODY}));
    let by_query = ok(json!({"headers": {}, "body": REPLY_BODY, "query": "a=1&verifyKey=vk"}));
    assert_eq!(by_pairs, by_header);
    assert_eq!(by_pairs, by_query);
    assert_eq!(by_pairs["payload"]["thread_id"], "hook-thread");

    let delivered = r#"{"verifyKey":"vk","type":"message.delivered","payload":{"threadId":"t9","traceId":3,"speech":"s"}}"#;
    let event = ok(json!({"headers": {}, "body": delivered}));
    assert_eq!(event["event"], "delivered");
    assert_eq!(event["payload"]["thread_id"], "t9");
    assert_eq!(event["payload"]["trace_id"], 3);
    assert_eq!(event["payload"]["message"]["speech"], "s");

    let unknown = ok(
        json!({"headers": {"X-Flowai-Verify-Key": "vk"}, "body": r#"{"type":"thread.new","payload":{"a":1}}"#}),
    );
    assert_eq!(unknown["event"], "unknown");
    assert_eq!(unknown["payload"]["type"], "thread.new");

    let failed = |args: Value| match verify(args) {
        Ok(r) => panic!("verified: {r:?}"),
        Err(e) => (e.code(), e.message().to_string()),
    };
    assert_eq!(
        failed(json!({"headers": {"X-Flowai-Verify-Key": "no"}, "body": REPLY_BODY})),
        (
            "FLOWAI_VERIFICATION",
            "webhook verify key does not match".into()
        )
    );
    assert_eq!(
        failed(json!({"headers": {}, "body": REPLY_BODY})).0,
        "FLOWAI_VERIFICATION"
    );
    assert_eq!(
        failed(json!({"headers": {"X-Flowai-Verify-Key": "vk"}, "body": "{not json"})).0,
        "FLOWAI_PROTOCOL"
    );
    let bad_headers = (
        "FLOWAI_INVALID_ARGUMENT",
        "verify: headers must be an object or a list of [name, value] pairs".to_string(),
    );
    assert_eq!(
        failed(json!({"headers": "X: y", "body": REPLY_BODY})),
        bad_headers
    );
    assert_eq!(
        failed(json!({"headers": [["only-a-name"]], "body": REPLY_BODY})),
        bad_headers
    );
    assert_eq!(
        failed(json!({"headers": {"X-Flowai-Verify-Key": 1}, "body": REPLY_BODY})),
        bad_headers
    );

    // A custom header name.
    let custom = open(
        "verifier",
        json!({"verify_key": "vk", "verify_header": "X-Hook-Key"}),
    );
    let event = custom
        .call_blocking(
            "verify",
            json!({"headers": {"x-hook-key": "vk"}, "body": REPLY_BODY}),
        )
        .expect("the custom header")
        .into_value();
    assert_eq!(event["event"], "reply");
    let err = call_err(
        &custom,
        "verify",
        json!({"headers": {"X-Flowai-Verify-Key": "vk"}, "body": REPLY_BODY}),
    );
    assert_eq!(err.code(), "FLOWAI_VERIFICATION");
}

/// What flowai-core gives for `settings` of `kind`: the same validation `open` must use.
fn core_settings(kind: &str, settings: &Value) -> Result<(), (String, String)> {
    let err = |e: Error| (e.code().to_string(), e.message().to_string());
    match kind {
        "messaging" => {
            resolve::<MessagingSettings>(settings, process_env, MessagingSettings::FIELDS)
                .and_then(MessagingSettings::into_config)
                .map(drop)
        }
        "management" => {
            resolve::<ManagementSettings>(settings, process_env, ManagementSettings::FIELDS)
                .and_then(ManagementSettings::into_config)
                .map(drop)
        }
        "session" => resolve::<SessionSettings>(settings, process_env, SessionSettings::FIELDS)
            .and_then(SessionSettings::into_options)
            .map(drop),
        "aida" => resolve::<AidaSettings>(settings, process_env, AidaSettings::FIELDS)
            .and_then(AidaSettings::into_options)
            .map(drop),
        "receiver" => resolve::<ReceiverSettings>(settings, process_env, ReceiverSettings::FIELDS)
            .and_then(ReceiverSettings::into_options)
            .map(drop),
        "verifier" => {
            resolve::<ReceiverSettings>(settings, process_env, &["verify_key", "verify_header"])
                .and_then(ReceiverSettings::into_options)
                .map(drop)
        }
        "emulator" => resolve::<EmulatorSettings>(settings, process_env, EmulatorSettings::FIELDS)
            .and_then(EmulatorSettings::into_mode)
            .map(drop),
        other => panic!("no core settings for {other}"),
    }
    .map_err(err)
}

#[test]
fn settings_errors_are_flowai_core_s_word_for_word() {
    let (emu, s) = emulator();
    let api_url = s["api_url"].clone();
    let cases = [
        (
            "messaging",
            json!({"api_url": api_url, "messaging_key": "k", "timeout_ms": 0}),
            Some("timeout_ms must be greater than 0"),
        ),
        (
            "messaging",
            json!({"apiUrl": api_url, "messagingKey": "k", "timeoutMs": 0}),
            Some("timeout_ms must be greater than 0"),
        ),
        (
            "messaging",
            json!({"api_url": "not a url", "messaging_key": "k"}),
            Some("api_url is not a valid URL: relative URL without a base"),
        ),
        (
            "messaging",
            json!({"api_url": api_url, "messaging_key": "k", "colour": 1}),
            None,
        ),
        (
            "messaging",
            json!({"api_url": api_url, "messaging_key": "k", "timeout_ms": "soon"}),
            None,
        ),
        ("messaging", json!([1]), Some("settings must be an object")),
        (
            "management",
            json!({"api_url": api_url, "management_key": "k", "timeout_ms": 0}),
            Some("timeout_ms must be greater than 0"),
        ),
        (
            "session",
            json!({"api_url": api_url, "client_id": "c", "event_capacity": 0}),
            Some("event_capacity must be at least 1"),
        ),
        (
            "session",
            json!({"api_url": api_url, "client_id": "c", "thread_id": " "}),
            Some("thread_id must not be empty"),
        ),
        (
            "session",
            json!({"api_url": api_url, "client_id": "c", "ping_interval_ms": 0}),
            Some("ping_interval_ms must be greater than 0"),
        ),
        (
            "aida",
            json!({"aida_url": "ftp://x", "aida_bot": "b", "aida_token": "t"}),
            None,
        ),
        (
            "aida",
            json!({"aida_url": s["aida_url"], "aida_bot": "b", "aida_token": "t", "push_timeout_ms": 0}),
            Some("push_timeout_ms must be greater than 0"),
        ),
        (
            "receiver",
            json!({"verify_key": "k", "path": "x"}),
            Some("path must start with '/'"),
        ),
        (
            "receiver",
            json!({"verify_key": "k", "host": "nope"}),
            Some("host must be an IP address, not \"nope\""),
        ),
        (
            "verifier",
            json!({"verify_key": "k", "port": 0, "colour": 1}),
            None,
        ),
        (
            "emulator",
            json!({"time_scale": 0}),
            Some("time_scale must be greater than 0"),
        ),
        (
            "emulator",
            json!({"record": "/tmp/r.jsonl"}),
            Some("record needs upstream: the URL of the service to record"),
        ),
        (
            "emulator",
            json!({"upstream": api_url}),
            Some("upstream is only used with record: give record too"),
        ),
        (
            "emulator",
            json!({"replay": "/tmp/r.jsonl", "timeScale": 0.5}),
            Some(
                "replay cannot be combined with time_scale: a replay serves the recording as it is",
            ),
        ),
        (
            "emulator",
            json!({"replay": "/tmp/r.jsonl", "record": "/tmp/w.jsonl", "upstream": api_url}),
            Some("replay cannot be combined with record: a replay serves the recording as it is"),
        ),
        (
            "emulator",
            json!({"replay": "/tmp/r.jsonl", "project": "p.json"}),
            Some("replay cannot be combined with project: a replay serves the recording as it is"),
        ),
        (
            "emulator",
            json!({"record": "/tmp/r.jsonl", "upstream": api_url, "time_scale": 1}),
            Some("record cannot be combined with time_scale: a recorder forwards to upstream"),
        ),
        (
            "emulator",
            json!({"record": "/tmp/r.jsonl", "upstream": "ws://127.0.0.1:1"}),
            Some("upstream must be http or https, not ws"),
        ),
        (
            "emulator",
            json!({"replay": ""}),
            Some("replay must not be empty"),
        ),
    ];
    for (kind, settings, message) in cases {
        let got = open_err(kind, settings.clone());
        let want = core_settings(kind, &settings).expect_err("the core refuses them too");
        assert_eq!(
            (got.code().to_string(), got.message().to_string()),
            want,
            "{kind} {settings}"
        );
        assert_eq!(got.code(), "FLOWAI_INVALID_ARGUMENT");
        if let Some(message) = message {
            assert_eq!(got.message(), message, "{kind} {settings}");
        }
    }
    // An unknown field names itself, a wrong type says what it is.
    let got = open_err(
        "messaging",
        json!({"api_url": api_url, "messaging_key": "k", "colour": 1}),
    );
    assert!(
        got.message()
            .starts_with("invalid settings: unknown field `colour`")
    );

    // Valid settings open, in either case.
    for settings in [s.clone(), json!({"apiUrl": api_url, "messagingKey": "k"})] {
        assert!(core_settings("messaging", &settings).is_ok());
        open("messaging", settings).close_blocking().expect("close");
    }

    // Kinds: unknown ones and those only a method makes are refused the same way.
    let openable: Vec<&str> = KINDS
        .iter()
        .filter(|k| k.settings.is_some())
        .map(|k| k.name)
        .collect();
    for kind in ["teapot", "aida_session"] {
        let err = open_err(kind, json!({}));
        assert_eq!(
            err.message(),
            format!("unknown kind `{kind}`; one of: {}", openable.join(", "))
        );
    }
    // Settings the core accepts, refused when the emulator starts: a missing recording, a
    // recording that is not one, a recording file that cannot be created.
    let missing = std::env::temp_dir().join(format!("flowai-no-such-{}.jsonl", std::process::id()));
    let err = open_err("emulator", json!({"replay": missing}));
    assert_eq!(err.code(), "FLOWAI_INVALID_ARGUMENT");
    assert!(
        err.message().starts_with(&format!(
            "cannot start the replay: cannot read the recording {}",
            missing.display()
        )),
        "{}",
        err.message()
    );
    let not_a_recording = TempFile::new("not-a-recording.jsonl", 10);
    let err = open_err("emulator", json!({"replay": not_a_recording.path()}));
    assert_eq!(err.code(), "FLOWAI_INVALID_ARGUMENT");
    assert!(
        err.message()
            .starts_with("cannot start the replay: line 1: not JSON"),
        "{}",
        err.message()
    );
    let err = open_err(
        "emulator",
        json!({"record": "/nonexistent-dir/r.jsonl", "upstream": api_url}),
    );
    assert_eq!(err.code(), "FLOWAI_INVALID_ARGUMENT");
    assert!(
        err.message().starts_with(
            "cannot start the recorder: cannot write the recording /nonexistent-dir/r.jsonl"
        ),
        "{}",
        err.message()
    );
    let err = open_err("emulator", json!({"colour": 1}));
    assert!(
        err.message()
            .starts_with("invalid settings: unknown field `colour`"),
        "{}",
        err.message()
    );
    emu.close_blocking().expect("close the emulator");
}

#[test]
fn the_camel_case_rule_touches_names_and_top_level_keys_only() {
    let (emu, s) = emulator();
    let camel = Handle::open_blocking("emulator", json!({}), Case::Camel).expect("open");
    let info = camel
        .call_blocking("info", json!({}))
        .expect("info")
        .into_value();
    assert!(
        info.get("apiUrl").is_some() && info.get("api_url").is_none(),
        "{info}"
    );
    camel.close_blocking().expect("close");

    let session = Handle::open_blocking("session", s.clone(), Case::Camel).expect("open");
    let mut w = Watch::new(session.clone());
    session
        .call_blocking("send_text", json!({"text": "hi"}))
        .expect("send");
    let events = w.until("reply");
    let delivered = &events[events.len() - 2];
    assert_eq!(delivered.name, "delivered");
    assert!(
        delivered.payload.get("traceId").is_some() && delivered.payload.get("threadId").is_some()
    );
    assert!(delivered.payload.get("trace_id").is_none());
    // Flow's own JSON inside a payload is left as it came.
    assert!(delivered.payload["message"].get("threadId").is_some());
    let info = session
        .call_blocking("info", json!({}))
        .expect("info")
        .into_value();
    assert!(
        info.get("threadId").is_some() && info.get("sessionId").is_some(),
        "{info}"
    );

    let aida = Handle::open_blocking("aida", s.clone(), Case::Camel).expect("open");
    let s1 = match aida
        .call_blocking("new_session", json!({}))
        .expect("new_session")
    {
        Reply::Handle(h) => h,
        Reply::Value(v) => panic!("{v}"),
    };
    let mut w1 = Watch::new(s1.clone());
    s1.call_blocking("send_text", json!({"text": "hi"}))
        .expect("send");
    let m = w1.next("aidaMessage");
    assert!(m.payload.get("sessionId").is_some(), "{:?}", m.payload);
    // AIDA's own JSON in `data` keeps its keys.
    assert!(m.payload["data"].get("session").is_some());
    aida.close_blocking().expect("close");
    let closed = w1.rest();
    closed_once_and_last("aida_session", &closed);
    session.close_blocking().expect("close");
    emu.close_blocking().expect("close the emulator");
}

#[test]
fn call_spawn_runs_on_the_runtime_and_blocking_there_is_misuse() {
    let (emu, _) = emulator();
    let (tx, rx) = mpsc::channel();
    emu.call_spawn("info", json!({}), move |result| {
        // Inside the callback: an SDK thread, where a blocking call would deadlock.
        let misuse = Handle::open_blocking("bench", json!({}), Case::Snake)
            .map(drop)
            .map_err(|e| e.code());
        let _ = tx.send((result.map(Reply::into_value).map_err(|e| e.code()), misuse));
    });
    let (info, misuse) = rx.recv_timeout(WAIT).expect("the callback ran");
    assert!(info.expect("info")["api_url"].is_string());
    assert_eq!(misuse, Err("FLOWAI_MISUSE"));

    // take_async on the runtime sees the same events as take_blocking would.
    let bench = open("bench", json!({}));
    bench
        .call_blocking("run", json!({"count": 3}))
        .expect("run");
    let queue = bench.events().clone();
    let rt = flowai_ffi::runtime::runtime().expect("runtime");
    let names = rt.block_on(async move {
        let mut names = Vec::new();
        while let Some(batch) = queue.take_async(2).await {
            assert!(batch.len() <= 2, "at most max per take");
            names.extend(batch.iter().map(|q| q.name));
        }
        names
    });
    assert_eq!(names, ["progress", "progress", "progress", "closed"]);
    emu.close_blocking().expect("close");
}

#[test]
fn an_aida_client_sees_replies_that_come_before_its_forwarding_task_first_runs() {
    let (emu, settings) = emulator();
    let rt = flowai_ffi::runtime::runtime().expect("runtime");
    let (tx, rx) = mpsc::channel();
    rt.spawn(async move {
        let client = Handle::open("aida", settings, Case::Snake).await;
        let _ = tx.send(client);
        // Hold this worker: the task that open spawned here waits in its slot meanwhile,
        // as it would behind a binding that blocks a worker.
        std::thread::sleep(Duration::from_millis(500));
    });
    let mut client = Watch::new(rx.recv_timeout(WAIT).expect("opened").expect("open aida"));
    let session = match client.handle.call_blocking("new_session", json!({})) {
        Ok(Reply::Handle(h)) => h,
        other => panic!("new_session: {other:?}"),
    };
    let mut conversation = Watch::new(session.clone());
    session
        .call_blocking("send_text", json!({"text": "hi"}))
        .expect("send_text");
    conversation.next("aida_message");
    let names: Vec<String> = client
        .until("aida_message")
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(names, ["connected", "aida_message"]);
    client.handle.close_blocking().expect("close");
    emu.close_blocking().expect("close the emulator");
}

/// `settings` with the `api_url` and `aida_url` of `over` laid over them: a recorder's URLs
/// over the real service's settings, whose keys pass through the recorder.
fn laid_over(settings: &Value, over: &Value) -> Value {
    let mut merged = settings.clone();
    for key in ["api_url", "aida_url"] {
        merged[key] = over[key].clone();
    }
    merged
}

/// A socket session says "hi"; the texts of the bot's reply. The delivery and the reply
/// carry this session's own thread and traceId, also when a replay serves them.
fn say_hi(settings: &Value) -> Vec<String> {
    let mut s = Watch::new(open("session", settings.clone()));
    let h = s.handle.clone();
    s.until("connected");
    let thread = h
        .call_blocking("info", json!({}))
        .expect("session.info")
        .into_value()["thread_id"]
        .clone();
    let delivered = h
        .call_blocking("send_text", json!({"text": "hi"}))
        .expect("send_text")
        .into_value();
    assert_eq!(delivered["speech"], "hi");
    let reply = s.next("reply").payload;
    assert_eq!(reply["thread_id"], thread);
    assert_eq!(reply["reply"]["traceId"], delivered["traceId"]);
    let texts = reply["reply"]["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["fallback"].as_str().expect("fallback").to_string())
        .collect();
    h.close_blocking().expect("close the session");
    assert_eq!(closed_once_and_last("session", &s.rest()), Value::Null);
    texts
}

/// An AIDA conversation: a new session says "hi"; its id and the bot's answer.
fn aida_hi(settings: &Value) -> (String, String) {
    let mut client = Watch::new(open("aida", settings.clone()));
    client.until("connected");
    let session = match client
        .handle
        .call_blocking("new_session", json!({}))
        .expect("new_session")
    {
        Reply::Handle(h) => h,
        Reply::Value(v) => panic!("new_session gave {v}"),
    };
    let mut session = Watch::new(session);
    let id = session
        .handle
        .call_blocking("info", json!({}))
        .expect("aida_session.info")
        .into_value()["session_id"]
        .as_str()
        .expect("session_id")
        .to_string();
    session
        .handle
        .call_blocking("send_text", json!({"text": "hi"}))
        .expect("send_text");
    let message = session.next("aida_message").payload;
    assert_eq!(message["session_id"], id.as_str());
    client
        .handle
        .close_blocking()
        .expect("close the aida client");
    closed_once_and_last("aida", &client.rest());
    closed_once_and_last("aida_session", &session.rest());
    (id, message["text"].as_str().expect("text").to_string())
}

/// The keys of an object, sorted.
fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

#[test]
fn an_emulator_object_records_a_service_and_another_replays_it() {
    let (service, real) = emulator();
    let file = TempFile::new("recording.jsonl", 0);

    // B records the service (A) into the file.
    let recorder = open(
        "emulator",
        json!({"record": file.path(), "upstream": real["api_url"]}),
    );
    let b = recorder
        .call_blocking("info", json!({}))
        .expect("recorder.info")
        .into_value();
    // Its URLs only: the keys are the real service's, which pass through it.
    assert_eq!(keys(&b), ["aida_url", "api_url"]);
    assert_eq!(b["api_url"], b["aida_url"]);
    assert!(
        b["api_url"]
            .as_str()
            .is_some_and(|u| u.starts_with("http://127.0.0.1:"))
    );
    assert_ne!(b["api_url"], real["api_url"]);
    let through = laid_over(&real, &b);
    let live = say_hi(&through);
    assert!(
        live.iter().any(|t| t.contains("customer service demo bot")),
        "{live:?}"
    );
    let (aida_session, aida_live) = aida_hi(&through);
    assert!(aida_live.contains("demo bot"), "{aida_live}");

    // A session still connected when the recorder closes loses its relay: the recording
    // ends at close.
    let mut open_session = Watch::new(open("session", through.clone()));
    open_session.until("connected");
    recorder.close_blocking().expect("close the recorder");
    open_session.next("disconnected");
    open_session
        .handle
        .close_blocking()
        .expect("close the session");
    open_session.rest();

    // The file is complete when close returns: header first, both conversations in it, and
    // not one of the service's secrets.
    let text = std::fs::read_to_string(&file.0).expect("read the recording");
    let first: Value = serde_json::from_str(text.lines().next().expect("a header")).expect("JSON");
    assert_eq!(first["format"], "flowai-recording");
    assert!(text.contains("\"kind\":\"frame\"") && text.contains("socket.info"));
    for key in ["client_id", "aida_token", "messaging_key", "management_key"] {
        let secret = real[key].as_str().expect("a key");
        assert!(!text.contains(secret), "{key} is in the recording");
    }

    // C replays it with the service gone.
    service.close_blocking().expect("close the service");
    let replay = open("emulator", json!({"replay": file.path()}));
    let c = replay
        .call_blocking("info", json!({}))
        .expect("replay.info")
        .into_value();
    assert_eq!(
        keys(&c),
        [
            "aida_bot",
            "aida_token",
            "aida_url",
            "api_url",
            "client_id",
            "management_key",
            "messaging_key"
        ]
    );
    // The recorded bot (its id is the conversation's topic); fresh keys, any accepted.
    assert_eq!(c["aida_bot"], real["aida_bot"]);
    assert_ne!(c["client_id"], real["client_id"]);
    assert_ne!(c["api_url"], real["api_url"]);
    assert_eq!(say_hi(&c), live);
    assert_eq!(aida_hi(&c), (aida_session, aida_live));
    replay.close_blocking().expect("close the replay");
    replay.close_blocking().expect("close is idempotent");
    let err = call_err(&replay, "info", json!({}));
    assert_eq!(err.code(), "FLOWAI_CLOSED");
}

#[test]
fn a_replay_of_a_recording_without_aida_offers_no_bot() {
    let file = TempFile::new("flow-only.jsonl", 0);
    std::fs::write(
        &file.0,
        "{\"seq\":0,\"ms\":0,\"kind\":\"recording\",\"format\":\"flowai-recording\",\"version\":1,\"upstream\":\"http://127.0.0.1:9\"}\n",
    )
    .expect("write a recording");
    let replay = open("emulator", json!({"replay": file.path()}));
    let info = replay
        .call_blocking("info", json!({}))
        .expect("info")
        .into_value();
    assert!(info.get("aida_bot").is_none(), "{info}");
    assert!(info["aida_token"].is_string() && info["client_id"].is_string());
    replay.close_blocking().expect("close");
}
