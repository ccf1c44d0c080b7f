//! The conformance scenario (tests/conformance/SCENARIO.md) in Rust, through `flowai_ffi::Handle` exactly as the bindings use it; prints one JSON line per step.
//!
//! Run with `cargo run -q -p flowai-ffi --example conformance`; tests/conformance/run.sh
//! compares its lines (and those of the C, Python and Node programs) with golden.jsonl.
//! Every step prints its line even when it fails, so a broken step shows up as a diff of
//! that one line rather than hiding the rest of the scenario.

use std::collections::VecDeque;
use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use flowai_ffi::queue::{MAX_BATCH, Queued, Taken};
use flowai_ffi::{Case, Error, Handle, Reply};
use serde_json::{Value, json};

/// How long a step waits for the event it expects (SCENARIO.md: at most 10 s).
const EVENT_TIMEOUT: Duration = Duration::from_secs(10);

/// The webhook body of steps 22 to 28, exactly as SCENARIO.md gives it.
const BODY: &str = r#"{"type":"message.reply","payload":{"threadId":"conformance-thread","messages":[{"fallback":"hello","silent":false,"responses":[{"type":"text","payload":{"text":"hello"},"delay":0}]}]}}"#;

const VERIFY_KEY: &str = "conformance-key";

/// An object and the events taken from its queue after the last awaited one.
struct Object {
    handle: Handle,
    kept: VecDeque<Queued>,
}

impl Object {
    fn new(handle: Handle) -> Self {
        Object {
            handle,
            kept: VecDeque::new(),
        }
    }

    /// Events up to and including the first `name`; the ones after it stay for the next
    /// line. `Err` holds what arrived and why the wait ended without `name`.
    fn until(&mut self, name: &str) -> (Vec<Value>, Option<String>) {
        let deadline = Instant::now() + EVENT_TIMEOUT;
        let mut seen = Vec::new();
        loop {
            while let Some(event) = self.kept.pop_front() {
                let done = event.name == name;
                seen.push(event_value(&event));
                if done {
                    return (seen, None);
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return (seen, Some(format!("no `{name}` within 10 s")));
            }
            match self.handle.events().take_blocking(MAX_BATCH, Some(left)) {
                Taken::Events(batch) => self.kept.extend(batch),
                Taken::Empty => {}
                Taken::End => return (seen, Some(format!("the events ended before `{name}`"))),
            }
        }
    }
}

/// `{"event", "payload"}` as the queue serialized it (the binding's case).
fn event_value(event: &Queued) -> Value {
    let payload = serde_json::from_str(&event.payload).unwrap_or(Value::Null);
    json!({ "event": event.cased_name, "payload": payload })
}

fn error_value(error: &Error) -> Value {
    json!({ "code": error.code(), "message": error.message() })
}

/// Prints the scenario's lines and remembers whether any step went otherwise than planned.
struct Out {
    surprises: usize,
}

impl Out {
    fn line(&mut self, value: Value) {
        let mut stdout = std::io::stdout().lock();
        // A closed stdout leaves nobody to tell; the exit code still reports surprises.
        let _ = writeln!(stdout, "{value}");
        let _ = stdout.flush();
    }

    /// A call's result, or its error when it failed.
    fn result(&mut self, step: &str, result: Result<Value, Error>) -> Option<Value> {
        match result {
            Ok(value) => {
                self.line(json!({ "step": step, "result": value }));
                Some(value)
            }
            Err(error) => {
                self.surprises += 1;
                self.line(json!({ "step": step, "error": error_value(&error) }));
                None
            }
        }
    }

    /// A call expected to fail: its error, or its result when it did not fail.
    fn error(&mut self, step: &str, result: Result<Value, Error>) {
        match result {
            Err(error) => self.line(json!({ "step": step, "error": error_value(&error) })),
            Ok(value) => {
                self.surprises += 1;
                self.line(json!({ "step": step, "result": value }));
            }
        }
    }

    fn events(&mut self, step: &str, object: &mut Object, name: &str) {
        let (events, problem) = object.until(name);
        match problem {
            None => self.line(json!({ "step": step, "events": events })),
            Some(message) => {
                // The line still differs from the golden one, and says why.
                self.surprises += 1;
                self.line(json!({
                    "step": step,
                    "events": events,
                    "error": { "code": "CONFORMANCE_TIMEOUT", "message": message },
                }));
            }
        }
    }
}

fn call(handle: &Handle, method: &str, args: Value) -> Result<Value, Error> {
    handle.call_blocking(method, args).map(Reply::into_value)
}

fn close(handle: &Handle) -> Result<Value, Error> {
    handle.close_blocking().map(|()| Value::Null)
}

fn open(kind: &str, settings: Value) -> Result<Handle, Error> {
    Handle::open_blocking(kind, settings, Case::Snake)
}

/// A method that makes a new object (an AIDA session).
fn call_handle(handle: &Handle, method: &str, args: Value) -> Result<Handle, Error> {
    match handle.call_blocking(method, args)? {
        Reply::Handle(h) => Ok(h),
        Reply::Value(v) => Err(Error::internal(format!(
            "{method} returned {v} instead of an object"
        ))),
    }
}

fn main() -> ExitCode {
    let mut out = Out { surprises: 0 };

    // 1. The emulator, whose settings every client takes.
    let emulator = match open("emulator", json!({})) {
        Ok(h) => h,
        Err(e) => {
            out.result("emulator.info", Err(e));
            return ExitCode::FAILURE;
        }
    };
    let Some(settings) = out.result("emulator.info", call(&emulator, "info", json!({}))) else {
        return ExitCode::FAILURE;
    };

    session_steps(&mut out, &settings);
    aida_steps(&mut out, &settings);
    webhook_steps(&mut out, &emulator);
    settings_steps(&mut out, &settings);
    rest_steps(&mut out, &settings, &emulator);

    out.result("emulator.close", close(&emulator));
    if out.surprises == 0 {
        ExitCode::SUCCESS
    } else {
        eprintln!("conformance: {} step(s) went wrong", out.surprises);
        ExitCode::FAILURE
    }
}

/// Steps 2 to 10: a Flow Socket session.
fn session_steps(out: &mut Out, settings: &Value) {
    let mut session = match open("session", settings.clone()) {
        Ok(h) => Object::new(h),
        Err(e) => {
            out.result("session.connected", Err(e));
            return;
        }
    };
    let h = session.handle.clone();
    out.events("session.connected", &mut session, "connected");
    out.result(
        "session.send_text",
        call(&h, "send_text", json!({"text": "hi"})),
    );
    out.events("session.send_text.events", &mut session, "reply");
    out.result(
        "session.send_event",
        call(&h, "send_event", json!({"event_name": "INTRO"})),
    );
    out.events("session.send_event.events", &mut session, "reply");
    out.result("session.typing", call(&h, "typing", json!({})));
    out.result("session.history", call(&h, "history", json!({})));
    out.result("session.close", close(&h));
    out.events("session.closed", &mut session, "closed");
}

/// Steps 11 to 20: an AIDA client with two conversations.
fn aida_steps(out: &mut Out, settings: &Value) {
    let mut aida = match open("aida", settings.clone()) {
        Ok(h) => Object::new(h),
        Err(e) => {
            out.result("aida.connected", Err(e));
            return;
        }
    };
    let h = aida.handle.clone();
    out.events("aida.connected", &mut aida, "connected");
    let mut sessions = Vec::new();
    for step in ["aida.s1", "aida.s2"] {
        match call_handle(&h, "new_session", json!({})) {
            Ok(s) => {
                out.result(step, call(&s, "info", json!({})));
                sessions.push(Object::new(s));
            }
            Err(e) => {
                out.result(step, Err(e));
                return;
            }
        }
    }
    let [s1, s2] = &mut sessions[..] else {
        return;
    };
    out.result(
        "aida.s1.send_text",
        call(&s1.handle, "send_text", json!({"text": "hi"})),
    );
    out.events("aida.s1.events", s1, "aida_message");
    out.result(
        "aida.s2.send_text",
        call(&s2.handle, "send_text", json!({"text": "hello"})),
    );
    out.events("aida.s2.events", s2, "aida_message");
    out.result("aida.close", close(&h));
    out.events("aida.events", &mut aida, "closed");
    out.events("aida.s1.closed", s1, "closed");
    // Not a step: s2 ended with its client; closing it again is allowed and prints nothing.
    let _ = s2.handle.close_blocking();
}

/// Steps 21 to 28: an embedded receiver called by the emulator, then the verifier.
fn webhook_steps(out: &mut Out, emulator: &Handle) {
    match open("receiver", json!({"verify_key": VERIFY_KEY})) {
        Ok(h) => {
            let mut receiver = Object::new(h);
            let info = out.result("receiver.open", call(&receiver.handle, "info", json!({})));
            let url = info
                .as_ref()
                .and_then(|i| i["url"].as_str())
                .unwrap_or_default()
                .to_string();
            for (step, key, delivery) in [
                ("receiver.signed", VERIFY_KEY, "d-1"),
                ("receiver.bad_key", "wrong-key", "d-2"),
                ("receiver.duplicate", VERIFY_KEY, "d-1"),
            ] {
                let args = json!({
                    "url": url, "body": BODY, "verify_key": key, "delivery_id": delivery,
                });
                out.result(step, call(emulator, "post_webhook", args));
            }
            out.result("receiver.close", close(&receiver.handle));
            out.events("receiver.events", &mut receiver, "closed");
        }
        Err(e) => {
            out.result("receiver.open", Err(e));
        }
    }

    match open("verifier", json!({"verify_key": VERIFY_KEY})) {
        Ok(verifier) => {
            let verify = |key: &str| {
                let headers = json!({ "X-Flowai-Verify-Key": key });
                call(
                    &verifier,
                    "verify",
                    json!({"headers": headers, "body": BODY}),
                )
            };
            out.result("verifier.signed", verify(VERIFY_KEY));
            out.error("verifier.bad_key", verify("wrong-key"));
            // Not a step: every object is closed before the program ends (SCENARIO.md).
            let _ = verifier.close_blocking();
        }
        Err(e) => {
            out.result("verifier.signed", Err(e));
        }
    }
}

/// Steps 29 to 32: the same settings and argument errors as every other language.
fn settings_steps(out: &mut Out, settings: &Value) {
    let api_url = settings["api_url"].clone();
    let zero_timeout = json!({"api_url": api_url, "messaging_key": "k", "timeout_ms": 0});
    out.error(
        "settings.zero_timeout",
        open("messaging", zero_timeout).map(|_| Value::Null),
    );
    let bad_url = json!({"api_url": "not a url", "messaging_key": "k"});
    out.error(
        "settings.bad_url",
        open("messaging", bad_url).map(|_| Value::Null),
    );
    match open("messaging", settings.clone()) {
        Ok(client) => {
            let long = "x".repeat(256);
            out.error(
                "call.too_long",
                call(
                    &client,
                    "send_text",
                    json!({"thread_id": "t-1", "text": long}),
                ),
            );
            let extra = json!({"thread_id": "t-1", "text": "hi", "colour": "red"});
            out.error("call.unknown_argument", call(&client, "send_text", extra));
            // Not a step: every object is closed before the program ends (SCENARIO.md).
            let _ = client.close_blocking();
        }
        Err(e) => {
            out.result("call.too_long", Err(e));
        }
    }
}

/// Every item of a paged method, walked with its page cursor as the bindings' iterators do.
fn count_items(client: &Handle, method: &str, args: Value) -> Result<Value, Error> {
    let cursor = call_handle(client, method, args)?;
    let mut count = 0;
    loop {
        let page = call(&cursor, "next", json!({}))?;
        if page.is_null() {
            break;
        }
        count += page["items"].as_array().map_or(0, Vec::len);
    }
    cursor.close_blocking()?;
    Ok(json!({ "count": count }))
}

/// Steps 33 to 50: the Flow REST API v1.
fn rest_steps(out: &mut Out, settings: &Value, emulator: &Handle) {
    let client = match open("rest", settings.clone()) {
        Ok(h) => h,
        Err(e) => {
            out.result("rest.send_sync", Err(e));
            return;
        }
    };
    let c = &client;
    let sent = out.result(
        "rest.send_sync",
        call(c, "send_text", json!({"text": "hi", "sync": true})),
    );
    let thread = sent
        .as_ref()
        .and_then(|r| r["threadId"].as_str())
        .unwrap_or_default()
        .to_string();
    for _ in 0..24 {
        // Not a step: more threads than two pages hold.
        let _ = call(c, "send_text", json!({"text": "hello"}));
    }
    out.result("rest.threads", count_items(c, "threads", json!({})));
    let page = call(c, "threads_page", json!({"page": 2})).map(|p| {
        let items = p["items"].as_array().map_or(0, Vec::len);
        json!({"page": p["page"], "has_more": p["has_more"], "items": items})
    });
    out.result("rest.threads_page", page);
    out.result(
        "rest.messages",
        count_items(c, "messages", json!({"thread_id": thread})),
    );
    let on_thread = json!({ "thread_id": thread });
    let sync_hi = json!({"text": "hi", "thread_id": thread, "sync": true});
    out.result("rest.pause", call(c, "pause", on_thread.clone()));
    out.result("rest.paused_send", call(c, "send_text", sync_hi.clone()));
    out.result(
        "rest.pause_status",
        call(c, "pause_status", on_thread.clone()),
    );
    out.result("rest.resume", call(c, "resume", on_thread.clone()));
    out.result("rest.resumed_send", call(c, "send_text", sync_hi.clone()));
    let handover = json!({"thread_id": thread, "seconds": 60});
    out.result("rest.handover", call(c, "handover", handover));
    out.result(
        "rest.handover_status",
        call(c, "pause_status", on_thread.clone()),
    );
    out.result("rest.trigger_events", call(c, "trigger_events", json!({})));
    let trigger = json!({"thread_id": thread, "event_name": "INTRO"});
    out.result("rest.trigger_event", call(c, "trigger_event", trigger));
    out.result("rest.business_hours", call(c, "business_hours", json!({})));
    out.result("rest.segments", call(c, "segments", json!({})));
    let long = json!({"text": "x".repeat(256), "sync": true});
    out.error("rest.too_long", call(c, "send_text", long));
    let fail_once = |status: u16| {
        let faults = json!({"restV1Failures": 1, "restV1Status": status});
        call(emulator, "set_faults", json!({ "faults": faults }))
    };
    // A send is never retried: the one failure is the answer.
    let _ = fail_once(500);
    out.error("rest.send_5xx", call(c, "send_text", sync_hi));
    // A read is: the retry gets the real answer.
    let _ = fail_once(503);
    out.result("rest.read_retried", call(c, "pause_status", on_thread));
    // Not a step: every object is closed before the program ends (SCENARIO.md).
    let _ = client.close_blocking();
}
