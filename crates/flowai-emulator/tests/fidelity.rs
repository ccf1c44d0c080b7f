//! The fidelity suite: every request/answer example, frame and field table of the seed documents, and every call and frame of the official JS client, sent to the emulator over loopback with its answers checked field for field.
//!
//! The examples are read from `tests/fidelity/examples.json` (extracted from the seeds by
//! `tests/fidelity/extract.py`) and `tests/fidelity/js_client.json` (what flow-ai/flowai-js
//! sends and reads, with its source lines). Each example id has a check below; one without
//! is listed as left out, with the reason, and counts against the coverage printed at the
//! end. A check compares shapes, not values: every field of the example must be in the
//! answer with the same JSON type (arrays element by element); values are compared where
//! the example states a protocol fact (a status, a frame type, an echoed id).
//!
//! `harness = false`: the suite prints one line per example, its coverage and a closing
//! `N passed, N failed` line. Arguments filter the examples by id substring.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, Method, StatusCode};
use flowai_emulator::{Emulator, EmulatorOptions, RunningEmulator};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Map, Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Longest wait for any one answer, frame or webhook call.
const WAIT: Duration = Duration::from_secs(3);
/// How long "nothing else arrives" is watched for.
const QUIET: Duration = Duration::from_millis(150);

/// The 1x1 PNG sent where the seeds show a file without its bytes.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

// --- results -----------------------------------------------------------------------------

/// What one check found: its failures, and the parts of the example it could not check.
#[derive(Default)]
struct Report {
    errors: Vec<String>,
    narrowed: Vec<String>,
}

impl Report {
    fn expect(&mut self, ok: bool, message: impl FnOnce() -> String) {
        if !ok {
            self.errors.push(message());
        }
    }

    fn fail(&mut self, message: impl Into<String>) {
        self.errors.push(message.into());
    }

    fn narrow(&mut self, message: impl Into<String>) {
        self.narrowed.push(message.into());
    }

    /// Every field of `example` in `actual`, with the same JSON type.
    fn conforms(&mut self, what: &str, example: &Value, actual: &Value) {
        let mut errs = Vec::new();
        shape(example, actual, what, &mut errs);
        self.errors.extend(errs);
    }

    /// Every documented field of a table in `actual`, with the documented type.
    fn table(&mut self, what: &str, rows: &Value, actual: &Value) {
        for row in rows.as_array().into_iter().flatten() {
            let name = row["name"].as_str().unwrap_or_default();
            let ty = row.get("type").and_then(Value::as_str);
            let required = row.get("presence").and_then(Value::as_str) == Some("required");
            // "Optional ...", "Optionally ..." and "required if ..." rows may be absent.
            let description = row["description"].as_str().unwrap_or_default();
            let optional =
                description.starts_with("Optional") || description.contains("required if");
            match actual.get(name) {
                None if (ty.is_some() && !optional) || required => self.fail(format!(
                    "{what}.{name}: missing (documented {})",
                    ty.unwrap_or("required")
                )),
                None => {}
                Some(v) => {
                    if let Some(t) = ty {
                        self.expect(type_ok(t, v), || {
                            format!("{what}.{name}: documented {t}, got {}", json_kind(v))
                        });
                    }
                }
            }
        }
    }
}

type Outcome = Result<Report, String>;
type Check<'a> = Pin<Box<dyn Future<Output = Outcome> + 'a>>;

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_ok(t: &str, v: &Value) -> bool {
    match t {
        "string" => v.is_string(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64(),
        "object" | "Profile object" | "Params object" => v.is_object(),
        "array" => v.is_array(),
        "boolean" | "bool" => v.is_boolean(),
        "date string" => v.as_str().is_some_and(is_timestamp),
        _ => false,
    }
}

/// An ISO 8601 / RFC 3339 date-time such as the seeds' `2018-10-24T06:45:19.541Z`.
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && (s.ends_with('Z') || s[19..].contains('+') || s[19..].contains('-'))
        && [0..4, 5..7, 8..10, 11..13, 14..16, 17..19]
            .iter()
            .all(|r| s[r.clone()].bytes().all(|c| c.is_ascii_digit()))
}

/// `{"$js": "..."}` marks a variable of a code sample: any value stands for it.
fn is_placeholder(v: &Value) -> bool {
    v.as_object()
        .is_some_and(|m| m.len() == 1 && m.contains_key("$js"))
}

fn shape(example: &Value, actual: &Value, path: &str, errs: &mut Vec<String>) {
    match example {
        _ if is_placeholder(example) => {}
        Value::Null => {}
        Value::Object(fields) => match actual {
            Value::Object(got) => {
                for (k, v) in fields {
                    let p = format!("{path}.{k}");
                    match got.get(k) {
                        None => {
                            errs.push(format!("{p}: missing (the example has {})", json_kind(v)))
                        }
                        Some(x) => shape(v, x, &p, errs),
                    }
                }
            }
            other => errs.push(format!(
                "{path}: expected an object, got {}",
                json_kind(other)
            )),
        },
        Value::Array(items) => match actual {
            Value::Array(got) => {
                for (i, item) in items.iter().enumerate() {
                    let p = format!("{path}[{i}]");
                    let Some(last) = got.last() else {
                        errs.push(format!("{p}: the example has elements, the answer none"));
                        break;
                    };
                    // The element at the same place, else any element of the example's shape
                    // (lists hold steps of different types, flows in another order).
                    let mut here = Vec::new();
                    shape(item, got.get(i).unwrap_or(last), &p, &mut here);
                    if here.is_empty() {
                        continue;
                    }
                    let elsewhere = got.iter().any(|x| {
                        let mut e = Vec::new();
                        shape(item, x, &p, &mut e);
                        e.is_empty()
                    });
                    if !elsewhere {
                        errs.extend(here);
                    }
                }
            }
            other => errs.push(format!(
                "{path}: expected an array, got {}",
                json_kind(other)
            )),
        },
        _ => {
            let same = matches!(
                (example, actual),
                (Value::Bool(_), Value::Bool(_))
                    | (Value::Number(_), Value::Number(_))
                    | (Value::String(_), Value::String(_))
            );
            if !same {
                errs.push(format!(
                    "{path}: expected a {}, got {}",
                    json_kind(example),
                    json_kind(actual)
                ));
            }
        }
    }
}

/// `example` without the fields at `paths` (dotted, from its root).
fn without(example: &Value, paths: &[&str]) -> Value {
    let mut v = example.clone();
    for path in paths {
        let Some((parent, last)) = path.rsplit_once('.') else {
            continue;
        };
        let pointer = format!("/{}", parent.replace('.', "/"));
        if let Some(m) = v.pointer_mut(&pointer).and_then(Value::as_object_mut) {
            m.remove(last);
        }
    }
    v
}

// --- the world the checks run in ---------------------------------------------------------

/// One call a webhook receiver got.
#[derive(Clone, Debug)]
struct Call {
    method: String,
    path: String,
    headers: BTreeMap<String, String>,
    body: Value,
}

#[derive(Default)]
struct ReceiverState {
    calls: Mutex<Vec<Call>>,
}

/// A webhook receiver on loopback: answers 2xx to everything, except GET under `/fail/`.
struct Receiver {
    base: String,
    state: Arc<ReceiverState>,
}

impl Receiver {
    async fn start() -> Receiver {
        let state = Arc::new(ReceiverState::default());
        let app = Router::new().fallback(receive).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver { base, state }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn calls(&self, path: &str) -> Vec<Call> {
        self.state
            .calls
            .lock()
            .unwrap()
            .iter()
            .filter(|c| c.path == path)
            .cloned()
            .collect()
    }

    /// The first POST to `path` whose event type is `kind`.
    async fn event(&self, path: &str, kind: &str) -> Result<Call, String> {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(c) = self
                .calls(path)
                .into_iter()
                .find(|c| c.method == "POST" && c.body["type"] == kind)
            {
                return Ok(c);
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "no {kind} webhook call reached {path} within {WAIT:?}"
                ));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

async fn receive(
    State(state): State<Arc<ReceiverState>>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let path = uri.path().to_string();
    let earlier_posts = {
        let mut calls = state.calls.lock().unwrap();
        let n = calls
            .iter()
            .filter(|c| c.path == path && c.method == "POST")
            .count();
        calls.push(Call {
            method: method.to_string(),
            path: path.clone(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
                .collect(),
            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        });
        n
    };
    // `/fail/...` refuses the verification GET; `/status/<code>/...` answers the first POST
    // with <code> (and a Location, for redirects) and later ones with 200; `/always/<code>/...`
    // answers every POST with <code>.
    let mut parts = path.split('/').skip(1);
    let (mode, code) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let code = code
        .parse::<u16>()
        .ok()
        .and_then(|c| StatusCode::from_u16(c).ok());
    match (method == Method::GET, mode, code) {
        (true, "fail", _) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        (false, "status", Some(c)) if earlier_posts == 0 => {
            (c, [("location", "/elsewhere")]).into_response()
        }
        (false, "always", Some(c)) => c.into_response(),
        _ => StatusCode::OK.into_response(),
    }
}

/// Everything a check needs.
struct Ctx {
    emu: RunningEmulator,
    http: reqwest::Client,
    receiver: Receiver,
    /// Every text frame the Flow socket sent during the run, in order.
    frames: Mutex<Vec<String>>,
    /// Every example, by id, for checks that pair two examples.
    examples: BTreeMap<String, Value>,
}

/// An HTTP answer.
struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    text: String,
    json: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn is_json(&self) -> bool {
        self.header("content-type")
            .is_some_and(|c| c.starts_with("application/json"))
            && serde_json::from_str::<Value>(&self.text).is_ok()
    }
}

impl Ctx {
    fn base(&self) -> &str {
        self.emu.base_url()
    }

    fn creds(&self) -> &flowai_emulator::Credentials {
        self.emu.credentials()
    }

    fn example(&self, id: &str) -> Result<&Value, String> {
        self.examples
            .get(id)
            .ok_or_else(|| format!("the fixture has no example {id}"))
    }

    async fn call(&self, request: reqwest::RequestBuilder) -> Result<Answer, String> {
        let r = request
            .send()
            .await
            .map_err(|e| format!("request failed: {e}"))?;
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r
            .text()
            .await
            .map_err(|e| format!("reading the answer: {e}"))?;
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(Answer {
            status,
            headers,
            text,
            json,
        })
    }

    fn messaging(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base()))
            .bearer_auth(&self.creds().messaging_key)
    }

    fn management(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .get(format!("{}/v1/management{path}", self.base()))
            .bearer_auth(&self.creds().management_key)
    }

    /// The seed's placeholders replaced by the emulator's credentials.
    fn substitute(&self, v: &str) -> String {
        v.replace("MY_MESSAGING_API_KEY", &self.creds().messaging_key)
            .replace("MY_MANAGEMENT_API_KEY", &self.creds().management_key)
            .replace("YOUR_CLIENT_ID", &self.creds().client_id)
    }

    /// A seed request's headers, with keys substituted and `Host` left to the client.
    fn seed_headers(
        &self,
        mut builder: reqwest::RequestBuilder,
        headers: &Value,
    ) -> reqwest::RequestBuilder {
        for (k, v) in headers.as_object().into_iter().flatten() {
            if k.eq_ignore_ascii_case("host") {
                continue;
            }
            if let Some(v) = v.as_str() {
                builder = builder.header(k.as_str(), self.substitute(v));
            }
        }
        builder
    }

    /// The path of a seed request given as `path` or as a URL (string or parts).
    fn seed_path(request: &Value) -> Result<String, String> {
        if let Some(p) = request["path"].as_str() {
            return Ok(p.to_string());
        }
        match &request["url"] {
            Value::String(u) => url::Url::parse(u)
                .map(|u| u.path().to_string())
                .map_err(|e| format!("bad URL in the example: {e}")),
            Value::Object(parts) => Ok(parts["path"].as_str().unwrap_or("/").to_string()),
            _ => Err("the example request has no path".into()),
        }
    }

    /// Create a webhook; the created object.
    async fn create_webhook(
        &self,
        path: &str,
        url: &str,
        key: &str,
        events: &[&str],
    ) -> Result<Value, String> {
        let a = self
            .call(
                self.messaging(Method::POST, path)
                    .json(&json!({"url": url, "verifyKey": key, "events": events})),
            )
            .await?;
        if a.status != 201 {
            return Err(format!(
                "creating a webhook answered {}: {}",
                a.status, a.text
            ));
        }
        Ok(a.json)
    }

    async fn clear_webhooks(&self) -> Result<(), String> {
        let list = self
            .call(self.messaging(Method::GET, "/v1/messaging/webhooks"))
            .await?;
        for item in list.json["items"].as_array().into_iter().flatten() {
            let id = item["webhookId"].as_str().unwrap_or_default();
            self.call(self.messaging(Method::DELETE, &format!("/v1/messaging/webhooks/{id}")))
                .await?;
        }
        Ok(())
    }

    async fn send_message(&self, body: Value) -> Result<Answer, String> {
        self.call(
            self.messaging(Method::POST, "/v1/messaging/message")
                .json(&body),
        )
        .await
    }

    fn socket_info_url(&self, extra: &str) -> String {
        format!(
            "{}/socket.info?clientId={}&sessionId={}{extra}",
            self.base(),
            enc(&self.creds().client_id),
            millis()
        )
    }

    /// A Flow socket opened the seeds' way (socket.info with query parameters).
    async fn flow(&self, thread: Option<&str>) -> Result<Flow<'_>, String> {
        let extra = thread
            .map(|t| format!("&threadId={}", enc(t)))
            .unwrap_or_default();
        let a = self
            .call(self.http.get(self.socket_info_url(&extra)))
            .await?;
        let endpoint = a.json["payload"]["endpoint"]
            .as_str()
            .ok_or_else(|| format!("socket.info gave no endpoint: {} {}", a.status, a.text))?;
        Flow::connect(self, endpoint).await
    }

    /// The ids of every flow the Management API lists, and each flow as flows/info gives it.
    async fn all_flows(&self) -> Result<Vec<Value>, String> {
        let list = self.call(self.management("/flows/list")).await?;
        let mut out = Vec::new();
        for f in list.json.as_array().into_iter().flatten() {
            let id = f["flowId"].as_str().unwrap_or_default();
            let info = self
                .call(self.management(&format!("/flows/info?flowId={}", enc(id))))
                .await?;
            out.push(info.json);
        }
        Ok(out)
    }
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn millis() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default()
}

fn fresh(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// A Flow socket connection that records every frame it receives.
struct Flow<'a> {
    ctx: &'a Ctx,
    ws: Ws,
}

impl<'a> Flow<'a> {
    async fn connect(ctx: &'a Ctx, endpoint: &str) -> Result<Flow<'a>, String> {
        let (ws, _) = tokio_tungstenite::connect_async(endpoint)
            .await
            .map_err(|e| format!("cannot open the websocket {endpoint}: {e}"))?;
        Ok(Flow { ctx, ws })
    }

    async fn send(&mut self, frame: &Value) -> Result<(), String> {
        self.send_text(&frame.to_string()).await
    }

    async fn send_text(&mut self, text: &str) -> Result<(), String> {
        self.ws
            .send(Message::text(text.to_string()))
            .await
            .map_err(|e| format!("cannot send a frame: {e}"))
    }

    /// The next frame within `wait`; `Ok(None)` when the server closed the socket.
    async fn next_within(&mut self, wait: Duration) -> Result<Option<Value>, String> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let msg = match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => return Err(format!("no frame within {wait:?}")),
                Ok(None) | Ok(Some(Err(_))) => return Ok(None),
                Ok(Some(Ok(m))) => m,
            };
            match msg {
                Message::Text(t) => {
                    self.ctx.frames.lock().unwrap().push(t.as_str().to_string());
                    let v = serde_json::from_str(t.as_str())
                        .unwrap_or_else(|_| json!({"$not_json": t.as_str()}));
                    return Ok(Some(v));
                }
                Message::Close(_) => return Ok(None),
                _ => continue,
            }
        }
    }

    async fn next(&mut self) -> Result<Value, String> {
        self.next_within(WAIT)
            .await?
            .ok_or_else(|| "the server closed the socket".to_string())
    }

    /// Frames up to and including the first of type `kind`.
    async fn until(&mut self, kind: &str) -> Result<Vec<Value>, String> {
        let mut seen = Vec::new();
        loop {
            let f = self
                .next()
                .await
                .map_err(|e| format!("waiting for {kind} after {}: {e}", types(&seen)))?;
            let done = f["type"] == kind;
            seen.push(f);
            if done {
                return Ok(seen);
            }
        }
    }

    /// Send a ping and collect every frame before its pong: what the server said in between.
    async fn drain(&mut self) -> Result<Vec<Value>, String> {
        self.send(&json!({"type": "ping"})).await?;
        let mut frames = self.until("pong").await?;
        frames.pop();
        Ok(frames)
    }
}

fn types(frames: &[Value]) -> String {
    let t: Vec<String> = frames
        .iter()
        .map(|f| f["type"].as_str().unwrap_or("?").to_string())
        .collect();
    format!("[{}]", t.join(", "))
}

fn find<'v>(frames: &'v [Value], kind: &str) -> Option<&'v Value> {
    frames.iter().find(|f| f["type"] == kind)
}

/// A Phoenix (AIDA) connection.
struct Phx {
    ws: Ws,
    next_ref: u64,
    buffered: Vec<Value>,
}

impl Phx {
    async fn connect(ctx: &Ctx) -> Result<Phx, String> {
        let url = format!("ws://{}/socket/websocket?vsn=2.0.0", ctx.emu.addr());
        let (ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .map_err(|e| format!("cannot open the AIDA socket: {e}"))?;
        Ok(Phx {
            ws,
            next_ref: 0,
            buffered: Vec::new(),
        })
    }

    async fn push(
        &mut self,
        join_ref: Option<&str>,
        topic: &str,
        event: &str,
        payload: Value,
    ) -> Result<String, String> {
        self.next_ref += 1;
        let r = self.next_ref.to_string();
        let join_ref = join_ref.map(str::to_string).unwrap_or_else(|| r.clone());
        let frame = json!([join_ref, r, topic, event, payload]);
        self.ws
            .send(Message::text(frame.to_string()))
            .await
            .map_err(|e| format!("cannot push: {e}"))?;
        Ok(r)
    }

    async fn recv(&mut self) -> Result<Value, String> {
        loop {
            let msg = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .map_err(|_| format!("no AIDA frame within {WAIT:?}"))?
                .ok_or("the AIDA socket closed")?
                .map_err(|e| format!("AIDA socket error: {e}"))?;
            if let Message::Text(t) = msg {
                return serde_json::from_str(t.as_str())
                    .map_err(|e| format!("AIDA frame is not JSON: {e}"));
            }
        }
    }

    /// The `phx_reply` to the push with ref `r` (other frames are kept for later).
    async fn reply(&mut self, r: &str) -> Result<Value, String> {
        if let Some(i) = self
            .buffered
            .iter()
            .position(|f| f[1] == r && f[3] == "phx_reply")
        {
            return Ok(self.buffered.remove(i));
        }
        loop {
            let f = self.recv().await?;
            if f[1] == r && f[3] == "phx_reply" {
                return Ok(f);
            }
            self.buffered.push(f);
        }
    }

    /// The next frame of `event`.
    async fn event(&mut self, event: &str) -> Result<Value, String> {
        if let Some(i) = self.buffered.iter().position(|f| f[3] == event) {
            return Ok(self.buffered.remove(i));
        }
        loop {
            let f = self.recv().await?;
            if f[3] == event {
                return Ok(f);
            }
            self.buffered.push(f);
        }
    }

    /// Join the bot of the emulator; the join ref.
    async fn join(&mut self, ctx: &Ctx) -> Result<String, String> {
        let topic = format!("bot:{}", ctx.creds().aida_bot);
        let r = self
            .push(
                None,
                &topic,
                "phx_join",
                json!({"access_token": ctx.creds().aida_token}),
            )
            .await?;
        let reply = self.reply(&r).await?;
        if reply[4]["status"] != "ok" {
            return Err(format!("join answered {reply}"));
        }
        Ok(r)
    }

    async fn call(
        &mut self,
        ctx: &Ctx,
        join_ref: &str,
        event: &str,
        payload: Value,
    ) -> Result<Value, String> {
        let topic = format!("bot:{}", ctx.creds().aida_bot);
        let r = self.push(Some(join_ref), &topic, event, payload).await?;
        self.reply(&r).await
    }

    async fn new_session(&mut self, ctx: &Ctx, join_ref: &str) -> Result<String, String> {
        let reply = self.call(ctx, join_ref, "new_session", json!({})).await?;
        reply[4]["response"]["session"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("new_session answered {reply}"))
    }
}

// --- the checks: Messaging API -----------------------------------------------------------

/// The body of a seed request, as JSON.
fn seed_body(request: &Value) -> Value {
    request.get("body").cloned().unwrap_or(Value::Null)
}

/// A multipart form from a seed request's parts; the query JSON is `query`.
fn media_form(file_name: &str, mime: &str, query: &Value) -> reqwest::multipart::Form {
    let file = reqwest::multipart::Part::bytes(PNG.to_vec())
        .file_name(file_name.to_string())
        .mime_str(mime)
        .unwrap_or_else(|_| reqwest::multipart::Part::bytes(PNG.to_vec()));
    reqwest::multipart::Form::new()
        .part("file", file)
        .text("query", query.to_string())
}

/// A Messaging API request/answer example: the request as the seed writes it, the answer's
/// status, JSON and fields.
fn messaging_example<'a>(ctx: &'a Ctx, ex: &'a Value) -> Check<'a> {
    Box::pin(async move {
        let mut r = Report::default();
        let request = &ex["request"];
        let path = Ctx::seed_path(request)?;
        let mut forms = Vec::new();
        if let Some(parts) = request["multipart"].as_array() {
            // The HTTP example shows the parts; the JS one appends a stream and a query.
            let file = parts.iter().find(|p| p["name"] == "file");
            let query = parts
                .iter()
                .find(|p| p["name"] == "query")
                .ok_or("no query part")?;
            let name = file
                .and_then(|f| f["filename"].as_str())
                .unwrap_or("test.png");
            let mime = file
                .and_then(|f| f["headers"]["Content-Type"].as_str())
                .unwrap_or("image/png");
            let q = if query["body"].is_object() {
                &query["body"]
            } else {
                &query["json"]
            };
            forms.push(media_form(name, mime, q));
            if let Some(inner) = q.get("query") {
                // The snippet's `query: {...}` read as the object itself (see its decision).
                forms.push(media_form(name, mime, inner));
            }
            r.narrow("the file's bytes are not in the seed: a 1x1 PNG is sent");
        }
        let builds: Vec<reqwest::RequestBuilder> = if forms.is_empty() {
            let mut b = ctx.seed_headers(
                ctx.http.post(format!("{}{path}", ctx.base())),
                &request["headers"],
            );
            if request["headers"].as_object().is_none_or(|h| h.is_empty()) {
                b = b.bearer_auth(&ctx.creds().messaging_key);
            }
            vec![
                b.body(seed_body(request).to_string())
                    .header("content-type", "application/json"),
            ]
        } else {
            forms
                .into_iter()
                .map(|form| {
                    ctx.http
                        .post(format!("{}{path}", ctx.base()))
                        .bearer_auth(&ctx.creds().messaging_key)
                        .multipart(form)
                })
                .collect()
        };
        let expected = &ex["response"];
        for b in builds {
            let a = ctx.call(b).await?;
            r.expect(Some(a.status as u64) == expected["status"].as_u64(), || {
                format!(
                    "status {} (the example: {}): {}",
                    a.status, expected["status"], a.text
                )
            });
            r.expect(a.is_json(), || {
                format!("the answer is not JSON: {:?}", a.text)
            });
            r.conforms("body", &expected["body"], &a.json);
            r.expect(a.json == expected["body"], || {
                format!("body {} (the example: {})", a.json, expected["body"])
            });
        }
        Ok(r)
    })
}

/// A Messaging API arguments table: a message with every documented argument, each of its
/// documented type, is accepted; one without its threadId or with too long a text is not.
fn messaging_arguments<'a>(ctx: &'a Ctx, ex: &'a Value) -> Check<'a> {
    Box::pin(async move {
        let mut r = Report::default();
        let sibling = ex["id"]
            .as_str()
            .unwrap_or_default()
            .rsplit_once('/')
            .map(|(s, _)| format!("{s}/1"));
        let example = ctx.example(&sibling.unwrap_or_default())?;
        let media = example["request"]["multipart"].is_array();
        let mut body = if media {
            example["request"]["multipart"]
                .as_array()
                .and_then(|p| p.iter().find(|p| p["name"] == "query"))
                .map(|p| p["body"].clone())
                .unwrap_or_default()
        } else {
            seed_body(&example["request"])
        };
        let rows = ex["rows"].as_array().ok_or("no rows")?;
        let fields = body.as_object_mut().ok_or("no example body")?;
        if media {
            // The table's spelling and type, not the HTTP example's (see its decision).
            fields.remove("mimetype");
            fields.insert("type".into(), json!("media"));
        }
        for row in rows {
            let name = row["name"].as_str().unwrap_or_default();
            if fields.contains_key(name) {
                continue;
            }
            let value = match (name, row["type"].as_str().unwrap_or_default()) {
                ("lang", _) => json!("en"),
                ("mimeType", _) => json!("image/png"),
                ("params", _) => json!({"seats": [{"value": "Business class"}]}),
                (_, "number") => json!(1519091841664u64),
                (_, "integer") => json!(-5),
                (_, "object") => json!({}),
                (_, "string") => json!("x"),
                (_, other) => return Err(format!("no value for a documented {other}")),
            };
            fields.insert(name.to_string(), value);
        }
        for row in rows {
            let name = row["name"].as_str().unwrap_or_default();
            r.expect(
                type_ok(row["type"].as_str().unwrap_or_default(), &fields[name]),
                || {
                    format!(
                        "{name}: the example's value is not the documented {}",
                        row["type"]
                    )
                },
            );
        }
        let send = |body: &Value| {
            if media {
                ctx.http
                    .post(format!("{}/v1/messaging/message", ctx.base()))
                    .bearer_auth(&ctx.creds().messaging_key)
                    .multipart(media_form("image.png", "image/png", body))
            } else {
                ctx.messaging(Method::POST, "/v1/messaging/message")
                    .json(body)
            }
        };
        let a = ctx.call(send(&body)).await?;
        r.expect(a.status == 200 && a.json == json!({"status": "ok"}), || {
            format!("every documented argument: {} {}", a.status, a.text)
        });
        // "Any message that is send requires a threadId"; errors are HTTP codes with JSON.
        let mut no_thread = body.clone();
        no_thread.as_object_mut().map(|m| m.remove("threadId"));
        let a = ctx.call(send(&no_thread)).await?;
        r.expect((400..500).contains(&a.status) && a.is_json(), || {
            format!(
                "without threadId: {} {:?} (a 4xx JSON error expected)",
                a.status, a.text
            )
        });
        if rows.iter().any(|row| row["name"] == "text") {
            // "The maximum length of a message is 255 characters."
            let mut long = body.clone();
            long["text"] = json!("a".repeat(255));
            let a = ctx.call(send(&long)).await?;
            r.expect(a.status == 200, || {
                format!("a 255-character text: {} {}", a.status, a.text)
            });
            long["text"] = json!("a".repeat(256));
            let a = ctx.call(send(&long)).await?;
            r.expect((400..500).contains(&a.status) && a.is_json(), || {
                format!(
                    "a 256-character text: {} {:?} (a 4xx JSON error expected)",
                    a.status, a.text
                )
            });
        }
        if media {
            // "The maximum file size you can upload is 250MB": a file past it, streamed.
            let chunk = Bytes::from(vec![0u8; 1 << 20]);
            let stream = futures_util::stream::iter(
                (0..251).map(move |_| Ok::<Bytes, std::io::Error>(chunk.clone())),
            );
            let form = reqwest::multipart::Form::new()
                .text("query", body.to_string())
                .part(
                    "file",
                    reqwest::multipart::Part::stream(reqwest::Body::wrap_stream(stream))
                        .file_name("big.mp4"),
                );
            let big = ctx
                .http
                .post(format!("{}/v1/messaging/message", ctx.base()))
                .bearer_auth(&ctx.creds().messaging_key)
                .multipart(form)
                .send()
                .await;
            let status = big.as_ref().map(|b| b.status().as_u16());
            r.expect(matches!(status, Ok(413)), || {
                format!("a 251 MB file: {status:?} (413 expected)")
            });
        }
        Ok(r)
    })
}

/// An event type of the webhooks: a webhook subscribed to it receives it, as a JSON POST
/// `{type, payload}` with the payload of the matching socket frame, and nothing else.
fn webhook_event<'a>(ctx: &'a Ctx, ex: &'a Value) -> Check<'a> {
    Box::pin(async move {
        let mut r = Report::default();
        let kind = ex["name"].as_str().ok_or("no event name")?;
        ctx.clear_webhooks().await?;
        let path = format!("/events/{}", fresh(kind));
        ctx.create_webhook(
            "/v1/messaging/webhooks",
            &ctx.receiver.url(&path),
            "vk-events",
            &[kind],
        )
        .await?;
        let thread = fresh("webhook-events");
        let (body, example_payload) = match kind {
            "message.reply" => (
                json!({"threadId": thread, "type": "event", "eventName": "INTRO", "traceId": 7}),
                Some(ctx.example("003/advanced-reply-example/1")?["frame"]["payload"].clone()),
            ),
            "message.delivered" => (
                json!({"threadId": thread, "type": "text", "text": "hi", "traceId": 1489399519321u64}),
                Some(ctx.example("001/responses/1")?["frame"]["payload"].clone()),
            ),
            "control.handover" => (
                json!({"threadId": thread, "type": "text", "text": "Chat with someone from flow.ai"}),
                None,
            ),
            other => return Err(format!("no way to make the emulator send {other}")),
        };
        let a = ctx.send_message(body.clone()).await?;
        r.expect(a.status == 200, || {
            format!("sending: {} {}", a.status, a.text)
        });
        let call = ctx.receiver.event(&path, kind).await?;
        r.expect(
            call.headers
                .get("content-type")
                .is_some_and(|c| c.starts_with("application/json")),
            || format!("content-type {:?}", call.headers.get("content-type")),
        );
        r.expect(
            call.headers.get("x-flowai-verify-key").map(String::as_str) == Some("vk-events"),
            || "the verify key header (DESIGN 4.2) is missing or wrong".into(),
        );
        let payload = &call.body["payload"];
        r.expect(payload["threadId"] == thread, || {
            format!("payload.threadId {}", payload["threadId"])
        });
        match example_payload {
            Some(example) => {
                r.conforms("payload", &example, payload);
                if kind == "message.delivered" {
                    r.expect(payload["traceId"] == body["traceId"], || {
                        format!("traceId {}", payload["traceId"])
                    });
                    r.expect(payload["speech"] == body["text"], || {
                        format!("speech {}", payload["speech"])
                    });
                }
                if kind == "message.reply" {
                    let table = &ctx.example("001/receiving-messages/4")?["rows"];
                    for (i, m) in payload["messages"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .enumerate()
                    {
                        r.table(&format!("payload.messages[{i}]"), table, m);
                    }
                }
            }
            None => {
                r.expect(
                    payload["messages"]
                        .as_array()
                        .is_some_and(|m| !m.is_empty()),
                    || format!("the handover payload has no messages: {payload}"),
                );
                r.narrow("the seeds document no payload fields for control.handover: its threadId and the reply that hands over are checked");
            }
        }
        tokio::time::sleep(QUIET).await;
        let others: Vec<String> = ctx
            .receiver
            .calls(&path)
            .iter()
            .filter(|c| c.method == "POST" && c.body["type"] != kind)
            .map(|c| c.body["type"].to_string())
            .collect();
        r.expect(others.is_empty(), || {
            format!("unsubscribed events arrived too: {others:?}")
        });
        ctx.clear_webhooks().await?;
        Ok(r)
    })
}

// --- the checks: webhooks ----------------------------------------------------------------

/// Create from a seed request (url replaced by the receiver's); the answer.
async fn create_from_seed(
    ctx: &Ctx,
    ex: &Value,
    path: &str,
    receiver_path: &str,
) -> Result<(Answer, Value), String> {
    let mut body = seed_body(&ex["request"]);
    body["url"] = json!(ctx.receiver.url(receiver_path));
    let b = ctx.seed_headers(
        ctx.http.post(format!("{}{path}", ctx.base())),
        &ex["request"]["headers"],
    );
    let a = ctx.call(b.body(body.to_string())).await?;
    Ok((a, body))
}

fn webhook_create<'a>(ctx: &'a Ctx, ex: &'a Value) -> Check<'a> {
    Box::pin(async move {
        let mut r = Report::default();
        let expected = &ex["response"];
        let example_path = Ctx::seed_path(&ex["request"])?;
        let endpoint_path = ex["endpoint"]["path"]
            .as_str()
            .unwrap_or("/v1/messaging/webhooks")
            .to_string();
        for path in [example_path.clone(), endpoint_path] {
            let hook_path = format!("/hooks/{}", fresh("create"));
            let (a, sent) = create_from_seed(ctx, ex, &path, &hook_path).await?;
            r.expect(Some(a.status as u64) == expected["status"].as_u64(), || {
                format!(
                    "POST {path}: status {} (the example: {}): {}",
                    a.status, expected["status"], a.text
                )
            });
            r.expect(a.is_json(), || {
                format!("POST {path}: the answer is not JSON")
            });
            r.conforms("body", &expected["body"], &a.json);
            for k in ["url", "verifyKey", "events"] {
                r.expect(a.json[k] == sent[k], || {
                    format!("{k}: {} (sent {})", a.json[k], sent[k])
                });
            }
            // The example's Location is the create path followed by the new webhook's id.
            let id = a.json["webhookId"].as_str().unwrap_or_default();
            let example_location = expected["headers"]["Location"].as_str().unwrap_or_default();
            let example_rule = format!(
                "{}/{}",
                example_path,
                expected["body"]["webhookId"].as_str().unwrap_or_default()
            );
            r.expect(example_location == example_rule, || {
                "the example's Location is not its path + id".into()
            });
            let location = a.header("location").unwrap_or_default().to_string();
            r.expect(location == format!("{path}/{id}"), || {
                format!("POST {path}: Location {location:?}, expected {path}/{id}")
            });
            let got = ctx.call(ctx.messaging(Method::GET, &location)).await?;
            r.expect(got.status == 200 && got.json["webhookId"] == id, || {
                format!("GET Location {location}: {} {}", got.status, got.text)
            });
            // "Whenever you add a webhook we'll make a GET request to verify the endpoint."
            let gets = ctx
                .receiver
                .calls(&hook_path)
                .into_iter()
                .filter(|c| c.method == "GET")
                .count();
            r.expect(gets == 1, || {
                format!("the verification GET reached the url {gets} times")
            });
        }
        // "This call should receive a 2xx response code of your server."
        let (a, _) = create_from_seed(ctx, ex, "/v1/messaging/webhooks", "/fail/hook").await?;
        r.expect((400..500).contains(&a.status) && a.is_json(), || {
            format!(
                "a url answering GET with 500: {} {:?} (a 4xx JSON error expected)",
                a.status, a.text
            )
        });
        ctx.clear_webhooks().await?;
        Ok(r)
    })
}

fn webhook_create_arguments<'a>(ctx: &'a Ctx, ex: &'a Value) -> Check<'a> {
    Box::pin(async move {
        let mut r = Report::default();
        let seed = ctx.example("001/create-a-webhook/1")?;
        let mut body = seed_body(&seed["request"]);
        body["url"] = json!(ctx.receiver.url("/hooks/arguments"));
        for row in ex["rows"].as_array().into_iter().flatten() {
            let name = row["name"].as_str().unwrap_or_default();
            let mut partial = body.clone();
            partial.as_object_mut().map(|m| m.remove(name));
            let a = ctx
                .call(
                    ctx.messaging(Method::POST, "/v1/messaging/webhooks")
                        .json(&partial),
                )
                .await?;
            r.expect((400..500).contains(&a.status) && a.is_json(), || {
                format!(
                    "without required {name}: {} {:?} (a 4xx JSON error expected)",
                    a.status, a.text
                )
            });
        }
        // "You'll need to have at least one subscribed event."
        let mut none = body.clone();
        none["events"] = json!([]);
        let a = ctx
            .call(
                ctx.messaging(Method::POST, "/v1/messaging/webhooks")
                    .json(&none),
            )
            .await?;
        r.expect((400..500).contains(&a.status), || {
            format!("no events: {} {}", a.status, a.text)
        });
        let a = ctx
            .call(
                ctx.messaging(Method::POST, "/v1/messaging/webhooks")
                    .json(&body),
            )
            .await?;
        r.expect(a.status == 201, || {
            format!("every required argument: {} {}", a.status, a.text)
        });
        ctx.clear_webhooks().await?;
        Ok(r)
    })
}

/// The Webhook object example and its attributes table, against a retrieved webhook.
fn webhook_object<'a>(ctx: &'a Ctx, ex: &'a Value) -> Check<'a> {
    Box::pin(async move {
        let mut r = Report::default();
        let object = ctx.example("001/the-webhook-object/1")?["object"].clone();
        let events: Vec<&str> = object["events"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let created = ctx
            .create_webhook(
                "/v1/messaging/webhooks",
                &ctx.receiver.url("/hooks/object"),
                object["verifyKey"].as_str().unwrap_or("k"),
                &events,
            )
            .await?;
        let id = created["webhookId"].as_str().unwrap_or_default();
        let a = ctx
            .call(ctx.messaging(Method::GET, &format!("/v1/messaging/webhooks/{id}")))
            .await?;
        r.expect(a.status == 200 && a.is_json(), || {
            format!("retrieve: {} {}", a.status, a.text)
        });
        if ex["kind"] == "table" {
            r.table("webhook", &ex["rows"], &a.json);
        } else {
            r.conforms("webhook", &object, &a.json);
            r.expect(a.json["events"] == object["events"], || {
                format!("events {}", a.json["events"])
            });
            r.expect(
                a.json["organisationId"] == json!(ctx.creds().organisation_id),
                || "organisationId is not the organisation of the key".into(),
            );
        }
        ctx.clear_webhooks().await?;
        Ok(r)
    })
}

fn webhook_retrieve<'a>(ctx: &'a Ctx, ex: &'a Value) -> Check<'a> {
    Box::pin(async move {
        let mut r = Report::default();
        let expected = &ex["response"];
        let created = ctx
            .create_webhook(
                "/v1/messaging/webhooks",
                &ctx.receiver.url("/hooks/retrieve"),
                "1234567",
                &["message.delivered", "message.reply", "control.handover"],
            )
            .await?;
        let id = created["webhookId"].as_str().unwrap_or_default();
        let example_id = expected["body"]["webhookId"].as_str().unwrap_or_default();
        let example_path = Ctx::seed_path(&ex["request"])?;
        let endpoint = ex["endpoint"]["path"].as_str().unwrap_or_default();
        for path in [
            example_path.replace(example_id, id),
            endpoint.replace("{WEBHOOK_ID}", id),
        ] {
            let b = ctx.seed_headers(
                ctx.http.get(format!("{}{path}", ctx.base())),
                &ex["request"]["headers"],
            );
            let a = ctx.call(b).await?;
            r.expect(Some(a.status as u64) == expected["status"].as_u64(), || {
                format!("GET {path}: {} {}", a.status, a.text)
            });
            r.conforms("body", &expected["body"], &a.json);
            r.expect(a.json == created, || {
                format!(
                    "GET {path}: {} differs from the created {}",
                    a.json, created
                )
            });
        }
        let a = ctx
            .call(ctx.messaging(Method::GET, "/v1/messaging/webhooks/no-such-webhook"))
            .await?;
        r.expect(a.status == 404 && a.is_json(), || {
            format!("an unknown id: {} {:?}", a.status, a.text)
        });
        ctx.clear_webhooks().await?;
        Ok(r)
    })
}

fn webhook_update<'a>(ctx: &'a Ctx, ex: &'a Value) -> Check<'a> {
    Box::pin(async move {
        let mut r = Report::default();
        let expected = &ex["response"];
        let created = ctx
            .create_webhook(
                "/v1/messaging/webhooks",
                &ctx.receiver.url("/hooks/update"),
                "1234567",
                &["message.delivered", "message.reply", "control.handover"],
            )
            .await?;
        let id = created["webhookId"].as_str().unwrap_or_default();
        let example_id = expected["body"]["webhookId"].as_str().unwrap_or_default();
        let mut body = seed_body(&ex["request"]);
        body["url"] = json!(ctx.receiver.url("/hooks/update"));
        let method =
            Method::from_bytes(ex["request"]["method"].as_str().unwrap_or("PUT").as_bytes())
                .map_err(|e| e.to_string())?;
        let path = Ctx::seed_path(&ex["request"])?.replace(example_id, id);
        let b = ctx.seed_headers(
            ctx.http
                .request(method.clone(), format!("{}{path}", ctx.base())),
            &ex["request"]["headers"],
        );
        let a = ctx.call(b.body(body.to_string())).await?;
        r.expect(Some(a.status as u64) == expected["status"].as_u64(), || {
            format!("{method} {path}: {} {}", a.status, a.text)
        });
        r.conforms("body", &expected["body"], &a.json);
        r.expect(a.json["events"] == body["events"], || {
            format!(
                "events {} after setting {} (see the decision)",
                a.json["events"], body["events"]
            )
        });
        r.expect(
            a.json["organisationId"] == created["organisationId"],
            || "the organisation changed".into(),
        );
        // The endpoint line's method.
        let endpoint_method = ex["endpoint"]["method"].as_str().unwrap_or("POST");
        let endpoint_path = ex["endpoint"]["path"]
            .as_str()
            .unwrap_or_default()
            .replace("{WEBHOOK_ID}", id);
        let m = Method::from_bytes(endpoint_method.as_bytes()).map_err(|e| e.to_string())?;
        let a = ctx
            .call(
                ctx.messaging(m, &endpoint_path)
                    .json(&json!({"events": ["message.reply"]})),
            )
            .await?;
        r.expect(
            a.status == 200 && a.json["events"] == json!(["message.reply"]),
            || format!("{endpoint_method} {endpoint_path}: {} {}", a.status, a.text),
        );
        ctx.clear_webhooks().await?;
        Ok(r)
    })
}

/// The optional update arguments: each alone changes its field and leaves the others.
fn webhook_update_arguments<'a>(ctx: &'a Ctx, ex: &'a Value) -> Check<'a> {
    Box::pin(async move {
        let mut r = Report::default();
        let created = ctx
            .create_webhook(
                "/v1/messaging/webhooks",
                &ctx.receiver.url("/hooks/partial"),
                "1234567",
                &["message.reply"],
            )
            .await?;
        let id = created["webhookId"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let mut current = created.clone();
        for row in ex["rows"].as_array().into_iter().flatten() {
            let name = row["name"].as_str().unwrap_or_default();
            let value = match name {
                "url" => json!(ctx.receiver.url("/hooks/partial-moved")),
                "verifyKey" => json!("7654321"),
                "events" => json!(["message.delivered", "control.handover"]),
                other => return Err(format!("no value for {other}")),
            };
            let a = ctx
                .call(
                    ctx.messaging(Method::PUT, &format!("/v1/messaging/webhooks/{id}"))
                        .json(&json!({ name: value })),
                )
                .await?;
            current[name] = value;
            r.expect(a.status == 200 && a.json == current, || {
                format!("only {name}: {} {} (expected {current})", a.status, a.text)
            });
        }
        ctx.clear_webhooks().await?;
        Ok(r)
    })
}

fn webhook_list<'a>(ctx: &'a Ctx, ex: &'a Value) -> Check<'a> {
    Box::pin(async move {
        let mut r = Report::default();
        let expected = &ex["response"];
        let items = expected["body"]["items"]
            .as_array()
            .ok_or("no items in the example")?;
        ctx.clear_webhooks().await?;
        // Created oldest first, so that the newest-first list has the example's order.
        for (n, item) in items.iter().enumerate().rev() {
            let events: Vec<&str> = item["events"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            ctx.create_webhook(
                "/v1/messaging/webhooks",
                &ctx.receiver.url(&format!("/hooks/list-{n}")),
                item["verifyKey"].as_str().unwrap_or("k"),
                &events,
            )
            .await?;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let endpoint = ex["endpoint"]["path"]
            .as_str()
            .unwrap_or("/v1/messaging/webhooks")
            .to_string();
        let headers = &ex["request"]["headers"];
        for path in [
            endpoint.clone(),
            endpoint.replace("/v1/messaging/", "/messages/v1/"),
        ] {
            let b = ctx.seed_headers(ctx.http.get(format!("{}{path}", ctx.base())), headers);
            let a = ctx.call(b).await?;
            r.expect(
                Some(a.status as u64) == expected["status"].as_u64() && a.is_json(),
                || format!("GET {path}: {} {}", a.status, a.text),
            );
            r.conforms("body", &expected["body"], &a.json);
            let keys: Vec<&Value> = a.json["items"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|i| &i["verifyKey"])
                .collect();
            let want: Vec<&Value> = items.iter().map(|i| &i["verifyKey"]).collect();
            r.expect(keys == want, || {
                format!("GET {path}: order {keys:?}, the example (newest first) {want:?}")
            });
        }
        ctx.clear_webhooks().await?;
        Ok(r)
    })
}

fn webhook_delete<'a>(ctx: &'a Ctx, ex: &'a Value) -> Check<'a> {
    Box::pin(async move {
        let mut r = Report::default();
        let expected = &ex["response"];
        let created = ctx
            .create_webhook(
                "/v1/messaging/webhooks",
                &ctx.receiver.url("/hooks/delete"),
                "1234567",
                &["message.reply"],
            )
            .await?;
        let id = created["webhookId"].as_str().unwrap_or_default();
        let example_id = expected["body"]["webhookId"].as_str().unwrap_or_default();
        let path = Ctx::seed_path(&ex["request"])?.replace(example_id, id);
        let b = ctx.seed_headers(
            ctx.http.delete(format!("{}{path}", ctx.base())),
            &ex["request"]["headers"],
        );
        let a = ctx.call(b).await?;
        r.expect(Some(a.status as u64) == expected["status"].as_u64(), || {
            format!(
                "DELETE {path}: {} (the example: {})",
                a.status, expected["status"]
            )
        });
        r.expect(a.text.is_empty(), || {
            format!("a 204 answer has no body, got {:?}", a.text)
        });
        let again = ctx
            .call(ctx.messaging(Method::GET, &format!("/v1/messaging/webhooks/{id}")))
            .await?;
        r.expect(again.status == 404, || {
            format!("retrieving a deleted webhook: {}", again.status)
        });
        let list = ctx
            .call(ctx.messaging(Method::GET, "/v1/messaging/webhooks"))
            .await?;
        r.expect(
            !list.json["items"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|i| i["webhookId"] == id),
            || "the deleted webhook is still listed".into(),
        );
        r.narrow("the object under 'Example Response' is the deleted webhook, not a body (see the decision)");
        Ok(r)
    })
}

// --- the checks: Management API ----------------------------------------------------------

fn management_auth<'a>(ctx: &'a Ctx, ex: &'a Value) -> Check<'a> {
    Box::pin(async move {
        let mut r = Report::default();
        let path = match &ex["request"]["url"] {
            Value::Object(p) => p["path"].as_str().unwrap_or("/").to_string(),
            _ => return Err("no URL".into()),
        };
        let b = ctx.seed_headers(
            ctx.http.get(format!("{}{path}", ctx.base())),
            &ex["request"]["headers"],
        );
        let a = ctx.call(b).await?;
        r.expect((200..300).contains(&a.status) && a.is_json(), || {
            format!("with the key: {} {:?}", a.status, a.text)
        });
        let a = ctx
            .call(ctx.http.get(format!("{}{path}", ctx.base())))
            .await?;
        r.expect(a.status == 401 && a.is_json(), || {
            format!("without a key: {} {:?}", a.status, a.text)
        });
        let a = ctx
            .call(
                ctx.http
                    .get(format!("{}{path}/flows/list", ctx.base()))
                    .bearer_auth(&ctx.creds().messaging_key),
            )
            .await?;
        r.expect(a.status == 401 && a.is_json(), || {
            format!("with the messaging key: {} {:?}", a.status, a.text)
        });
        let a = ctx.call(ctx.management("/no/such/path")).await?;
        r.expect(a.status == 404 && a.is_json(), || {
            format!("an unknown path: {} {:?}", a.status, a.text)
        });
        Ok(r)
    })
}

/// A Flow or Step example (or table) against the flows the Management API gives.
fn management_object<'a>(ctx: &'a Ctx, ex: &'a Value) -> Check<'a> {
    Box::pin(async move {
        let mut r = Report::default();
        let flows = ctx.all_flows().await?;
        r.expect(!flows.is_empty(), || "flows/list is empty".into());
        let steps: Vec<&Value> = flows
            .iter()
            .flat_map(|f| f["steps"].as_array().into_iter().flatten())
            .collect();
        let id = ex["id"].as_str().unwrap_or_default();
        match (ex["kind"].as_str(), ex["label"].as_str()) {
            (Some("object"), Some("Example Flow object")) => {
                let object = &ex["object"];
                let flow = flows
                    .iter()
                    .find(|f| f["flowId"] == object["flowId"])
                    .ok_or("no flow with the example's flowId")?;
                r.conforms("flow", object, flow);
            }
            (Some("object"), _) => {
                let object = &ex["object"];
                let step = steps
                    .iter()
                    .find(|s| s["stepId"] == object["stepId"])
                    .ok_or("no step with the example's stepId")?;
                r.conforms("step", object, step);
            }
            (Some("table"), _) if id.starts_with("001/the-flow-object/") => {
                for f in &flows {
                    r.table(&format!("flow {}", f["title"]), &ex["rows"], f);
                }
            }
            (Some("table"), _) => {
                let description = ex["rows"]
                    .as_array()
                    .and_then(|rows| rows.iter().find(|row| row["name"] == "type"))
                    .and_then(|row| row["description"].as_str())
                    .unwrap_or_default();
                let mut allowed: BTreeSet<&str> = description
                    .split(|c: char| !c.is_ascii_uppercase())
                    .filter(|w| w.len() > 1)
                    .collect();
                allowed.insert("SLOT");
                for s in &steps {
                    let what = format!("step {}", s["title"]);
                    r.table(&what, &ex["rows"], s);
                    let t = s["type"].as_str().unwrap_or_default();
                    r.expect(allowed.contains(t), || {
                        format!("{what}: type {t} is not one of {allowed:?}")
                    });
                    if t == "INTENT" {
                        r.expect(s["intent"].is_object(), || {
                            format!("{what}: an INTENT step without its intent object")
                        });
                    }
                }
            }
            _ => return Err("not a Management example".into()),
        }
        Ok(r)
    })
}

fn management_endpoint<'a>(ctx: &'a Ctx, ex: &'a Value) -> Check<'a> {
    Box::pin(async move {
        let mut r = Report::default();
        let path = ex["request"]["path"].as_str().ok_or("no path")?;
        let body = &ex["response"]["body"];
        let query = if path.ends_with("/info") {
            format!(
                "?flowId={}",
                enc(body["flowId"].as_str().unwrap_or_default())
            )
        } else {
            String::new()
        };
        let a = ctx.call(ctx.management(&format!("{path}{query}"))).await?;
        r.expect(a.status == 200 && a.is_json(), || {
            format!("GET {path}{query}: {} {:?}", a.status, a.text)
        });
        r.conforms("body", body, &a.json);
        if path.ends_with("/info") {
            let a = ctx
                .call(ctx.management(&format!("{path}?flowId=no-such-flow")))
                .await?;
            r.expect(a.status == 404 && a.is_json(), || {
                format!("an unknown flowId: {} {:?}", a.status, a.text)
            });
        }
        Ok(r)
    })
}

// --- the checks: Flow socket -------------------------------------------------------------

fn socket_info<'a>(ctx: &'a Ctx, ex: &'a Value) -> Check<'a> {
    Box::pin(async move {
        let mut r = Report::default();
        let url = &ex["request"]["url"];
        let path = url["path"].as_str().unwrap_or("/socket.info");
        let mut query = Vec::new();
        for (k, v) in url["query"].as_object().into_iter().flatten() {
            let value = match v {
                Value::String(s) => ctx.substitute(s),
                v if v["$js"] == "clientId" => ctx.creds().client_id.clone(),
                v if v["$js"] == "Date.now()" => millis().to_string(),
                other => other.to_string(),
            };
            query.push(format!("{k}={}", enc(&value)));
        }
        let full = format!("{}{path}?{}", ctx.base(), query.join("&"));
        let mut b = ctx.seed_headers(ctx.http.get(&full), &ex["request"]["headers"]);
        let browser = ex["seed"].as_str().is_some_and(|s| s.starts_with("000"))
            || ex["section"]
                .as_str()
                .is_some_and(|s| s.ends_with("> Example"));
        if browser {
            // This example runs in a browser page: XMLHttpRequest sends the page's Origin.
            b = b.header("Origin", "http://localhost:8080");
        }
        let a = ctx.call(b).await?;
        if let Some(expected) = ex.get("response") {
            r.expect(Some(a.status as u64) == expected["status"].as_u64(), || {
                format!("GET {path}: {} {}", a.status, a.text)
            });
            r.conforms("body", &expected["body"], &a.json);
        }
        r.expect(a.is_json(), || {
            format!("the answer is not JSON: {:?}", a.text)
        });
        for read in ex["reads"].as_array().into_iter().flatten() {
            let field = read["field"].as_str().unwrap_or_default();
            let v = field.split('.').fold(&a.json, |v, k| &v[k]);
            r.expect(!v.is_null(), || {
                format!("the example reads {field}: missing")
            });
            if let Some(eq) = read.get("equals") {
                r.expect(v == eq, || {
                    format!("{field} is {v}, the example wants {eq}")
                });
            }
        }
        r.expect(a.json["status"] == "ok", || {
            format!("status {}", a.json["status"])
        });
        if browser {
            let allowed = a.header("access-control-allow-origin");
            r.expect(matches!(allowed, Some("*") | Some("http://localhost:8080")), || {
                format!("a browser page cannot read the answer: Access-Control-Allow-Origin {allowed:?}")
            });
        }
        let endpoint = a.json["payload"]["endpoint"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        r.expect(
            endpoint.starts_with("ws://") || endpoint.starts_with("wss://"),
            || format!("endpoint {endpoint:?}"),
        );
        match Flow::connect(ctx, &endpoint).await {
            Ok(mut f) => {
                let frames = f.drain().await;
                r.expect(frames.is_ok(), || {
                    format!("the socket did not answer a ping: {frames:?}")
                });
            }
            Err(e) => r.fail(e),
        }
        // "The Websocket URL provided by socket.info are single-use."
        r.expect(
            tokio_tungstenite::connect_async(&endpoint).await.is_err(),
            || "the endpoint opened a second socket".into(),
        );
        Ok(r)
    })
}

/// "valid for 60 seconds": an emulator with a short lifetime refuses an old endpoint.
fn endpoint_lifetime<'a>(ctx: &'a Ctx) -> Check<'a> {
    Box::pin(async move {
        let mut r = Report::default();
        let emu = Emulator::new(EmulatorOptions {
            endpoint_ttl: Duration::from_millis(200),
            ..Default::default()
        })
        .start()
        .await
        .map_err(|e| e.to_string())?;
        let url = format!(
            "{}/socket.info?clientId={}&sessionId=1",
            emu.base_url(),
            enc(&emu.credentials().client_id)
        );
        let a = ctx.call(ctx.http.get(&url)).await?;
        let endpoint = a.json["payload"]["endpoint"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        tokio::time::sleep(Duration::from_millis(350)).await;
        r.expect(
            tokio_tungstenite::connect_async(&endpoint).await.is_err(),
            || "an expired endpoint opened a socket".into(),
        );
        r.narrow("the 60 s lifetime is checked with a 200 ms one (EmulatorOptions::endpoint_ttl)");
        Ok(r)
    })
}

fn socket_info_params<'a>(ctx: &'a Ctx, ex: &'a Value) -> Check<'a> {
    Box::pin(async move {
        let mut r = Report::default();
        for row in ex["rows"].as_array().into_iter().flatten() {
            let name = row["name"].as_str().unwrap_or_default();
            let mut params = vec![
                ("clientId", ctx.creds().client_id.clone()),
                ("sessionId", millis().to_string()),
            ];
            params.retain(|(k, _)| *k != name);
            let q: Vec<String> = params
                .iter()
                .map(|(k, v)| format!("{k}={}", enc(v)))
                .collect();
            let a = ctx
                .call(
                    ctx.http
                        .get(format!("{}/socket.info?{}", ctx.base(), q.join("&"))),
                )
                .await?;
            r.expect(
                !(200..300).contains(&a.status) || a.json["status"] != "ok",
                || {
                    format!(
                        "socket.info without {name} was answered {} {}",
                        a.status, a.text
                    )
                },
            );
            r.expect(a.is_json(), || {
                format!("without {name}: not JSON: {:?}", a.text)
            });
        }
        let a = ctx
            .call(ctx.http.get(format!(
                "{}/socket.info?clientId=bm90IGEgY2xpZW50&sessionId=1",
                ctx.base()
            )))
            .await?;
        r.expect(matches!(a.status, 400 | 401 | 403), || {
            format!(
                "an unknown clientId: {} (a final 400/401/403 expected)",
                a.status
            )
        });
        Ok(r)
    })
}

/// A client frame example: sent as it is, it is delivered without an error.
fn client_frame<'a>(ctx: &'a Ctx, ex: &'a Value) -> Check<'a> {
    Box::pin(async move {
        let mut r = Report::default();
        let frame = if ex["kind"] == "ws" {
            &ex["send"]
        } else {
            &ex["frame"]
        };
        let mut flow = ctx.flow(None).await?;
        flow.send(frame).await?;
        if frame["type"] == "ping" {
            let f = flow.next().await?;
            let expected = ex
                .get("expect")
                .and_then(|e| e.get(0))
                .cloned()
                .unwrap_or(json!({"type": "pong"}));
            r.conforms("frame", &expected, &f);
            r.expect(f == expected, || format!("got {f}, the example {expected}"));
            return Ok(r);
        }
        let frames = flow.until("message.delivered").await?;
        let error = find(&frames, "error");
        r.expect(error.is_none(), || {
            format!("an error frame: {}", error.cloned().unwrap_or_default())
        });
        let delivered = &frames[frames.len() - 1]["payload"];
        let example = &ctx.example("001/responses/1")?["frame"]["payload"];
        let sent = &frame["payload"];
        let mut shape_of = example.clone();
        if sent.get("traceId").is_none() {
            // The delivered example has the traceId the message was sent with; none was sent.
            shape_of.as_object_mut().map(|m| m.remove("traceId"));
        }
        r.conforms("delivered.payload", &shape_of, delivered);
        r.expect(delivered["threadId"] == sent["threadId"], || {
            format!("threadId {}", delivered["threadId"])
        });
        if sent.get("traceId").is_some() {
            r.expect(delivered["traceId"] == sent["traceId"], || {
                format!("traceId {}", delivered["traceId"])
            });
        }
        r.expect(delivered["speech"] == sent["speech"], || {
            format!("speech {}", delivered["speech"])
        });
        Ok(r)
    })
}

/// The keep-alive: the idle drop after 50 s without frames, and pings every 30 s prevent it.
fn keep_alive<'a>(ctx: &'a Ctx, ex: &'a Value) -> Check<'a> {
    Box::pin(async move {
        let mut r = client_frame(ctx, ex).await?;
        // 50 s scaled to 600 ms and the seed's 30 s ping interval to 300 ms: half the idle
        // time rather than the seed's 60 %, so that a busy machine does not drop the pinger.
        let emu = Emulator::new(EmulatorOptions {
            idle_timeout: Duration::from_millis(600),
            ..Default::default()
        })
        .start()
        .await
        .map_err(|e| e.to_string())?;
        let url = |s: u32| {
            format!(
                "{}/socket.info?clientId={}&sessionId={s}",
                emu.base_url(),
                enc(&emu.credentials().client_id)
            )
        };
        let mut open = Vec::new();
        for s in 0..2 {
            let a = ctx.call(ctx.http.get(url(s))).await?;
            let endpoint = a.json["payload"]["endpoint"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            open.push(Flow::connect(ctx, &endpoint).await?);
        }
        let (mut silent, mut pinging) = (open.remove(0), open.remove(0));
        for _ in 0..4 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            pinging.send(&json!({"type": "ping"})).await?;
            let f = pinging.next().await;
            r.expect(f.as_ref().is_ok_and(|f| f["type"] == "pong"), || {
                format!("a socket pinging every 300 ms was dropped: {f:?}")
            });
        }
        let closed = silent.next_within(Duration::from_millis(200)).await;
        r.expect(matches!(closed, Ok(None)), || {
            format!("a silent socket was not dropped after the idle time: {closed:?}")
        });
        r.narrow("50 s and 30 s are scaled to 600 ms and 300 ms (EmulatorOptions::idle_timeout)");
        Ok(r)
    })
}

/// message.send's attributes: threadId and speech are required, traceId optional.
fn send_attributes<'a>(ctx: &'a Ctx, ex: &'a Value) -> Check<'a> {
    Box::pin(async move {
        let mut r = Report::default();
        let base =
            ctx.example("001/web-socket-api-sending-messages/1")?["frame"]["payload"].clone();
        for row in ex["rows"].as_array().into_iter().flatten() {
            let name = row["name"].as_str().unwrap_or_default();
            let mut payload = base.clone();
            payload.as_object_mut().map(|m| m.remove(name));
            let mut flow = ctx.flow(None).await?;
            flow.send(&json!({"type": "message.send", "payload": payload}))
                .await?;
            let frames = flow.drain().await?;
            let error = find(&frames, "error");
            match row["presence"].as_str() {
                Some("required") => {
                    r.expect(error.is_some_and(|e| e["message"].is_string()), || {
                        format!(
                            "without required {name}: {} instead of an error",
                            types(&frames)
                        )
                    })
                }
                _ => r.expect(
                    error.is_none() && find(&frames, "message.delivered").is_some(),
                    || format!("without optional {name}: {}", types(&frames)),
                ),
            }
        }
        Ok(r)
    })
}

/// A table of fields a client may send (originator, profile, metadata): a message with each
/// documented field of its documented type is delivered without an error.
fn sent_fields<'a>(ctx: &'a Ctx, ex: &'a Value) -> Check<'a> {
    Box::pin(async move {
        let mut r = Report::default();
        let mut object = Map::new();
        for row in ex["rows"].as_array().into_iter().flatten() {
            let name = row["name"].as_str().unwrap_or_default();
            let value = match row["type"].as_str().unwrap_or_default() {
                "string" => json!(format!("{name} value")),
                "number" => json!(-5),
                "object" => json!({"clientNumber": "12345"}),
                "Profile object" => json!({"fullName": "Jane Doe", "timezone": -5}),
                "Params object" => json!({"seats": [{"value": "Business class"}]}),
                other => return Err(format!("no value for a documented {other}")),
            };
            object.insert(name.to_string(), value);
        }
        let object = Value::Object(object);
        let thread = fresh("fields");
        let mut payload = json!({"threadId": thread, "traceId": 11, "speech": "hi", "originator": {"name": "Jane", "role": "external"}});
        match ex["id"].as_str().unwrap_or_default() {
            id if id.starts_with("001/originator-object/") => payload["originator"] = object,
            id if id.starts_with("001/profile-object/") => {
                payload["originator"]["profile"] = object
            }
            _ => payload["metadata"] = object,
        }
        let mut flow = ctx.flow(None).await?;
        flow.send(&json!({"type": "message.send", "payload": payload}))
            .await?;
        let frames = flow.drain().await?;
        r.expect(
            find(&frames, "error").is_none() && find(&frames, "message.delivered").is_some(),
            || format!("every documented field: {}", types(&frames)),
        );
        Ok(r)
    })
}

fn params_example<'a>(ctx: &'a Ctx, ex: &'a Value) -> Check<'a> {
    Box::pin(async move {
        let mut r = Report::default();
        if ex["kind"] == "params" {
            let payload = json!({"threadId": fresh("params"), "traceId": 12, "speech": "I want to book a flight",
                "metadata": {"language": "en-US", "params": ex["params"]}});
            let mut flow = ctx.flow(None).await?;
            flow.send(&json!({"type": "message.send", "payload": payload}))
                .await?;
            let frames = flow.drain().await?;
            r.expect(
                find(&frames, "error").is_none() && find(&frames, "message.delivered").is_some(),
                || format!("params sent: {}", types(&frames)),
            );
            return Ok(r);
        }
        // The table: the params the engine gives back are lists of {value, match?}.
        let mut flow = ctx.flow(None).await?;
        let thread = fresh("params");
        let mut replies = Vec::new();
        for (speech, event) in [
            ("event attachment", Some("INTRO")),
            ("weather", None),
            ("Amsterdam", None),
        ] {
            let mut payload = json!({"threadId": thread, "speech": speech});
            if let Some(name) = event {
                payload["attachment"] = json!({"type": "event", "payload": {"name": name}});
            }
            flow.send(&json!({"type": "message.send", "payload": payload}))
                .await?;
            let frames = flow.until("message.received").await?;
            replies.push(frames[frames.len() - 1].clone());
        }
        let mut seen = 0;
        for reply in &replies {
            for m in reply["payload"]["messages"]
                .as_array()
                .into_iter()
                .flatten()
            {
                for (name, list) in m["params"].as_object().into_iter().flatten() {
                    for item in list.as_array().into_iter().flatten() {
                        seen += 1;
                        r.table(&format!("params.{name}[]"), &ex["rows"], item);
                    }
                }
            }
        }
        r.expect(seen >= 2, || {
            format!("only {seen} params came back (event and slot expected)")
        });
        Ok(r)
    })
}

/// The attachment tables: a complete attachment is answered; one without a required field
/// is an error.
fn attachment_fields<'a>(ctx: &'a Ctx, ex: &'a Value) -> Check<'a> {
    Box::pin(async move {
        let mut r = Report::default();
        let full = json!({"type": "event", "payload": {"name": "INTRO"}});
        let object_table = ex["label"] == "Attachment object";
        for row in ex["rows"].as_array().into_iter().flatten() {
            let name = row["name"].as_str().unwrap_or_default();
            let mut attachment = full.clone();
            if object_table {
                attachment["payload"]
                    .as_object_mut()
                    .map(|m| m.remove(name));
            } else {
                attachment.as_object_mut().map(|m| m.remove(name));
            }
            let mut flow = ctx.flow(None).await?;
            flow.send(&json!({"type": "message.send", "payload": {"threadId": fresh("attachment"), "speech": "event attachment", "attachment": attachment}}))
                .await?;
            let frames = flow.drain().await?;
            r.expect(find(&frames, "error").is_some(), || {
                format!(
                    "an attachment without required {name}: {} instead of an error",
                    types(&frames)
                )
            });
        }
        let mut flow = ctx.flow(None).await?;
        flow.send(&json!({"type": "message.send", "payload": {"threadId": fresh("attachment"), "speech": "event attachment", "attachment": full}}))
            .await?;
        let frames = flow.until("message.received").await?;
        r.expect(find(&frames, "error").is_none(), || {
            format!("a complete attachment: {}", types(&frames))
        });
        Ok(r)
    })
}

/// The delivered example: a message sent with its threadId, traceId and speech comes back.
fn delivered_example<'a>(ctx: &'a Ctx, ex: &'a Value) -> Check<'a> {
    Box::pin(async move {
        let mut r = Report::default();
        let example = &ex["frame"];
        let p = &example["payload"];
        let mut flow = ctx.flow(None).await?;
        flow.send(&json!({"type": "message.send", "payload": {"threadId": p["threadId"], "traceId": p["traceId"], "speech": p["speech"]}}))
            .await?;
        let frames = flow.until("message.delivered").await?;
        let delivered = &frames[frames.len() - 1];
        r.conforms("frame", example, delivered);
        for k in ["threadId", "traceId", "speech"] {
            r.expect(delivered["payload"][k] == p[k], || {
                format!(
                    "payload.{k} {} (the example: {})",
                    delivered["payload"][k], p[k]
                )
            });
        }
        Ok(r)
    })
}

fn error_example<'a>(ctx: &'a Ctx, ex: &'a Value) -> Check<'a> {
    Box::pin(async move {
        let mut r = Report::default();
        let example = &ex["frame"];
        let mut flow = ctx.flow(None).await?;
        flow.send_text("this is not a frame").await?;
        let f = flow.next().await?;
        r.conforms("frame", example, &f);
        r.expect(f["type"] == "error", || format!("type {}", f["type"]));
        let prefix = example["message"]
            .as_str()
            .unwrap_or_default()
            .trim_end_matches(['.', ' ']);
        r.expect(
            f["message"].as_str().is_some_and(|m| m.starts_with(prefix)),
            || {
                format!(
                    "message {} (the example: {:?})",
                    f["message"], example["message"]
                )
            },
        );
        Ok(r)
    })
}

/// A reply example (or table): the emulator's reply to the matching message, field for field.
fn reply_example<'a>(ctx: &'a Ctx, ex: &'a Value) -> Check<'a> {
    Box::pin(async move {
        let mut r = Report::default();
        let id = ex["id"].as_str().unwrap_or_default();
        // The simple examples answer a plain text; the advanced ones the attachment example.
        let simple =
            id.starts_with("001/receiving-messages/1") || id.starts_with("003/payload-example/");
        let table = ex["kind"] == "table";
        let payload = if simple && !table {
            json!({"threadId": fresh("reply"), "traceId": 21, "speech": "hallo"})
        } else {
            let mut p = ctx.example("001/attachment/1")?["frame"]["payload"].clone();
            p["threadId"] = json!(fresh("reply"));
            p
        };
        let mut flow = ctx.flow(None).await?;
        flow.send(&json!({"type": "message.send", "payload": payload}))
            .await?;
        let frames = flow.until("message.received").await?;
        let reply = &frames[frames.len() - 1];
        r.expect(reply["payload"]["threadId"] == payload["threadId"], || {
            format!("threadId {}", reply["payload"]["threadId"])
        });
        if table {
            // Every reply of the run (greetings, fallbacks, slots, events), not only this one:
            // the tables document the fields of any reply.
            let seen: Vec<Value> = ctx
                .frames
                .lock()
                .unwrap()
                .iter()
                .filter_map(|t| serde_json::from_str::<Value>(t).ok())
                .filter(|f| f["type"] == "message.received" || f["type"] == "activities.created")
                .collect();
            r.expect(seen.len() > 5, || {
                format!("only {} replies were seen", seen.len())
            });
            for (n, f) in seen.iter().enumerate() {
                let step = &f["payload"]["messages"][0]["step"]["title"];
                if ex["label"] == "Payload fields" {
                    r.table(
                        &format!("reply {n} ({step}): payload"),
                        &ex["rows"],
                        &f["payload"],
                    );
                    continue;
                }
                for (i, m) in f["payload"]["messages"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    r.table(
                        &format!("reply {n} ({step}): payload.messages[{i}]"),
                        &ex["rows"],
                        m,
                    );
                }
            }
            return Ok(r);
        }
        let example = &ex["frame"];
        if simple {
            let user_fields = ["fullName", "firstName", "lastName", "locale", "gender"];
            let paths: Vec<String> = user_fields
                .iter()
                .map(|f| format!("payload.originator.profile.{f}"))
                .collect();
            let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
            r.conforms("frame", &without(example, &paths), reply);
            r.narrow(format!(
                "originator.profile.{{{}}}: the example's originator is a user; the emulator's replies come from the bot (see the decision)",
                user_fields.join(",")
            ));
        } else {
            r.conforms("frame", example, reply);
            let (m, e) = (
                &reply["payload"]["messages"][0],
                &example["payload"]["messages"][0],
            );
            for k in ["step", "params"] {
                if id.starts_with("001/") {
                    r.expect(m[k] == e[k], || {
                        format!("messages[0].{k} {} (the example: {})", m[k], e[k])
                    });
                }
            }
            r.expect(m["flow"]["title"] == e["flow"]["title"], || {
                format!("flow {}", m["flow"])
            });
            r.expect(
                m["responses"][0]["payload"]["quickReplies"]
                    == e["responses"][0]["payload"]["quickReplies"],
                || {
                    format!(
                        "quick replies {}",
                        m["responses"][0]["payload"]["quickReplies"]
                    )
                },
            );
            // The example answers the attachment example, whose speech is "event attachment".
            r.expect(m["replyTo"] == e["replyTo"], || {
                format!("messages[0].replyTo {} (the example: {}, the speech of the message replied to)", m["replyTo"], e["replyTo"])
            });
            r.expect(m["originator"] == reply["payload"]["originator"], || {
                "the message's and the payload's originator differ".into()
            });
        }
        Ok(r)
    })
}

/// Checks over every frame the socket sent during the run (they run last).
fn all_frames<'a>(ctx: &'a Ctx, ex: &'a Value) -> Check<'a> {
    Box::pin(async move {
        let mut r = Report::default();
        let frames = ctx.frames.lock().unwrap().clone();
        r.expect(frames.len() > 20, || {
            format!("only {} frames were seen", frames.len())
        });
        let id = ex["id"].as_str().unwrap_or_default();
        for text in &frames {
            let v: Value = match serde_json::from_str(text) {
                Ok(v) => v,
                Err(_) => {
                    r.fail(format!("a frame is not JSON: {text:?}"));
                    continue;
                }
            };
            let kind = v["type"].as_str().unwrap_or_default();
            match id {
                "001/common-format/1" | "001/common-format/2" => {
                    r.expect(v.is_object() && v["type"].is_string(), || {
                        format!("a frame without a type: {text}")
                    });
                    let bodiless = matches!(kind, "pong" | "error");
                    r.expect(bodiless || v["payload"].is_object(), || {
                        format!("a {kind} frame without a payload object")
                    });
                }
                "js/frame-types" => {
                    let handled: Vec<&str> = ex["handles"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .collect();
                    r.expect(handled.contains(&kind), || {
                        format!("the JS client does not handle a {kind:?} frame")
                    });
                }
                _ => {}
            }
        }
        if id == "001/common-format/2" {
            // type and payload are required of client frames too.
            let mut flow = ctx.flow(None).await?;
            flow.send(&json!({"payload": {"threadId": "t", "speech": "hi"}}))
                .await?;
            let f = flow.next().await?;
            r.expect(f["type"] == "error", || {
                format!("a frame without type: {f}")
            });
            flow.send(&json!({"type": "message.send"})).await?;
            let f = flow.next().await?;
            r.expect(f["type"] == "error", || {
                format!("a message.send without payload: {f}")
            });
        }
        r.errors.dedup();
        Ok(r)
    })
}

// --- the checks: AIDA --------------------------------------------------------------------

fn aida<'a>(ctx: &'a Ctx, ex: &'a Value) -> Check<'a> {
    Box::pin(async move {
        let mut r = Report::default();
        let id = ex["id"].as_str().unwrap_or_default();
        let mut phx = Phx::connect(ctx).await?;
        let topic = format!("bot:{}", ctx.creds().aida_bot);
        match id {
            "002/join/1" => {
                let jr = phx
                    .push(
                        None,
                        &topic,
                        "phx_join",
                        json!({"access_token": ctx.creds().aida_token}),
                    )
                    .await?;
                let reply = phx.reply(&jr).await?;
                r.expect(
                    reply[4]["status"] == "ok" && reply[2] == json!(topic),
                    || format!("join: {reply}"),
                );
            }
            "002/join/2" => {
                let other = format!("bot:{}", uuid::Uuid::new_v4());
                let jr = phx
                    .push(
                        None,
                        &other,
                        "phx_join",
                        json!({"access_token": ctx.creds().aida_token}),
                    )
                    .await?;
                let reply = phx.reply(&jr).await?;
                let reason = ex["reply"]["reason"].as_str().unwrap_or("unauthorized");
                r.expect(
                    reply[4]["status"] == "error" && reply[4]["response"]["reason"] == reason,
                    || format!("join of an unknown bot: {reply} (error {reason:?} expected)"),
                );
            }
            "002/new-session/1" | "002/new-session/2" => {
                let jr = phx.join(ctx).await?;
                let payload = if id.ends_with("/1") {
                    json!({"data": {"first_name": "Jane", "last_name": "Doe"}})
                } else {
                    json!({})
                };
                let reply = phx.call(ctx, &jr, "new_session", payload).await?;
                r.expect(
                    reply[4]["status"] == "ok" && reply[4]["response"]["session"].is_string(),
                    || format!("new_session: {reply}"),
                );
            }
            "002/delete-session/1" => {
                let jr = phx.join(ctx).await?;
                let session = phx.new_session(ctx, &jr).await?;
                let reply = phx
                    .call(ctx, &jr, "delete_session", json!({"session": session}))
                    .await?;
                r.expect(reply[4]["status"] == "ok", || {
                    format!("delete_session: {reply}")
                });
                // "it will not be available to be reused"
                let reply = phx
                    .call(
                        ctx,
                        &jr,
                        "utb_msg",
                        json!({"session": session, "text": "hi"}),
                    )
                    .await?;
                r.expect(reply[4]["status"] == "error", || {
                    format!("a deleted session reused: {reply}")
                });
            }
            "002/utb-msg/1" | "002/utb-msg/2" => {
                let jr = phx.join(ctx).await?;
                let session = phx.new_session(ctx, &jr).await?;
                let text = ex["sample"]["text"].as_str().unwrap_or("hi");
                let reply = phx
                    .call(
                        ctx,
                        &jr,
                        "utb_msg",
                        json!({"session": session, "text": text}),
                    )
                    .await?;
                r.expect(reply[4]["status"] == "ok", || format!("utb_msg: {reply}"));
                let btu = phx.event("btu_msg").await?;
                r.expect(
                    btu[4]["session"] == json!(session) && btu[4]["text"].is_string(),
                    || format!("btu_msg: {btu}"),
                );
            }
            "002/put-data/1" => {
                let jr = phx.join(ctx).await?;
                let session = phx.new_session(ctx, &jr).await?;
                let reply = phx
                    .call(
                        ctx,
                        &jr,
                        "put_data",
                        json!({"session": session, "data": {"first_name": "Jane"}}),
                    )
                    .await?;
                r.expect(reply[4]["status"] == "ok", || format!("put_data: {reply}"));
            }
            "002/sending-images/1" | "002/sending-images/2" | "002/utb-img/1" | "002/utb-img/2" => {
                let jr = phx.join(ctx).await?;
                let session = phx.new_session(ctx, &jr).await?;
                let form = reqwest::multipart::Form::new().part(
                    "file",
                    reqwest::multipart::Part::bytes(PNG.to_vec())
                        .file_name("image.png")
                        .mime_str("image/png")
                        .map_err(|e| e.to_string())?,
                );
                let bot = &ctx.creds().aida_bot;
                let a = ctx
                    .call(
                        ctx.http
                            .post(format!(
                                "{}/content/image/{bot}/{session}",
                                ctx.emu.aida_url()
                            ))
                            .multipart(form),
                    )
                    .await?;
                r.expect(
                    (200..300).contains(&a.status) && a.json["id"].is_string(),
                    || format!("upload: {} {}", a.status, a.text),
                );
                let image = a.json["id"].as_str().unwrap_or_default().to_string();
                match id {
                    "002/sending-images/1" => {}
                    "002/sending-images/2" => {
                        let got = ctx
                            .http
                            .get(format!("{}/content/image/{image}", ctx.emu.aida_url()))
                            .send()
                            .await
                            .map_err(|e| e.to_string())?;
                        let status = got.status().as_u16();
                        let bytes = got.bytes().await.map_err(|e| e.to_string())?;
                        r.expect(status == 200 && bytes.as_ref() == PNG, || {
                            format!("GET the image: {status}, {} bytes", bytes.len())
                        });
                    }
                    "002/utb-img/1" => {
                        let reply = phx
                            .call(
                                ctx,
                                &jr,
                                "utb_img",
                                json!({"session": session, "image": image}),
                            )
                            .await?;
                        r.expect(reply[4]["status"] == "ok", || format!("utb_img: {reply}"));
                    }
                    _ => {
                        // The sample's utb_msg with an image must be answered, not left to time out.
                        let reply = phx
                            .call(
                                ctx,
                                &jr,
                                "utb_msg",
                                json!({"session": session, "image": image}),
                            )
                            .await?;
                        r.expect(reply[4]["status"].is_string(), || {
                            format!("utb_msg with an image: {reply}")
                        });
                        let reply = phx
                            .call(
                                ctx,
                                &jr,
                                "utb_img",
                                json!({"session": session, "image": image}),
                            )
                            .await?;
                        r.expect(reply[4]["status"] == "ok", || {
                            format!("utb_img (the text's event): {reply}")
                        });
                    }
                }
            }
            "002/btu-msg/1" => {
                let jr = phx.join(ctx).await?;
                let mine = phx.new_session(ctx, &jr).await?;
                let mut other = Phx::connect(ctx).await?;
                let ojr = other.join(ctx).await?;
                let theirs = other.new_session(ctx, &ojr).await?;
                other
                    .call(
                        ctx,
                        &ojr,
                        "utb_msg",
                        json!({"session": theirs, "text": "hi"}),
                    )
                    .await?;
                let seen = phx.event("btu_msg").await?;
                r.expect(
                    seen[4]["session"] == json!(theirs) && seen[4]["text"].is_string(),
                    || format!("another client's btu_msg reaches every client of the bot: {seen}"),
                );
                phx.call(ctx, &jr, "utb_msg", json!({"session": mine, "text": "hi"}))
                    .await?;
                let own = phx.event("btu_msg").await?;
                r.expect(own[4]["session"] == json!(mine), || {
                    format!("btu_msg of the own session: {own}")
                });
            }
            _ => return Err("no AIDA check".into()),
        }
        Ok(r)
    })
}

// --- the checks: the official JS client ----------------------------------------------------

/// socket.info the JS client's way: headers only, secret and ott "null" at first.
async fn js_socket_info(ctx: &Ctx, thread: &str) -> Result<Answer, String> {
    ctx.call(
        ctx.http
            .get(format!("{}/socket.info", ctx.base()))
            .header("x-flowai-clientid", &ctx.creds().client_id)
            .header("x-flowai-sessionid", fresh("session"))
            .header("x-flowai-threadid", thread)
            .header("x-flowai-secret", "null")
            .header("x-flowai-ott", "null"),
    )
    .await
}

/// A threadId as the JS client makes one: `<32 hex>|<channelId of the clientId>`.
fn js_thread(ctx: &Ctx) -> String {
    use base64::Engine as _;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(&ctx.creds().client_id)
        .unwrap_or_default();
    let channel = String::from_utf8_lossy(&decoded)
        .split('|')
        .nth(1)
        .unwrap_or_default()
        .to_string();
    format!("{}|{channel}", uuid::Uuid::new_v4().simple())
}

/// A JS client connection: socket.info by headers, the socket, the secret it got.
async fn js_connect<'a>(ctx: &'a Ctx, thread: &str) -> Result<(Flow<'a>, Option<String>), String> {
    let a = js_socket_info(ctx, thread).await?;
    let endpoint = a.json["payload"]["endpoint"]
        .as_str()
        .ok_or_else(|| format!("socket.info: {} {}", a.status, a.text))?;
    let flow = Flow::connect(ctx, endpoint).await?;
    Ok((flow, a.json["secret"].as_str().map(str::to_string)))
}

/// The JS client's message.send payload (src/message.js, originator.js, metadata.js).
fn js_message(thread: &str, trace: u64, speech: &str, nonce: Option<&str>) -> Value {
    let mut p = json!({
        "threadId": thread,
        "traceId": trace,
        "speech": speech,
        "originator": {"name": "Anonymous", "role": "external", "profile": {}},
        "metadata": {"timezone": 1, "contexts": [], "params": {}, "domain": {"realm": "server"}},
    });
    if let Some(n) = nonce {
        p["nonce"] = json!(n);
    }
    p
}

fn js<'a>(ctx: &'a Ctx, ex: &'a Value) -> Check<'a> {
    Box::pin(async move {
        let mut r = Report::default();
        let id = ex["id"].as_str().unwrap_or_default();
        let thread = js_thread(ctx);
        match id {
            "js/socket-info" => {
                let a = js_socket_info(ctx, &thread).await?;
                r.expect((200..300).contains(&a.status) && a.is_json(), || {
                    format!("socket.info: {} {:?}", a.status, a.text)
                });
                r.expect(a.json["status"] == "ok", || {
                    format!("status {}", a.json["status"])
                });
                r.expect(a.json["payload"]["endpoint"].is_string(), || {
                    "payload.endpoint is not a string".into()
                });
                r.expect(a.json.get("secret").is_none_or(Value::is_string), || {
                    format!("secret {}", a.json["secret"])
                });
                let (mut flow, secret) = js_connect(ctx, &thread).await?;
                flow.send(&json!({"type": "message.send", "payload": js_message(&thread, 1, "hi", secret.as_deref())})).await?;
                let frames = flow.until("message.delivered").await?;
                r.expect(find(&frames, "error").is_none(), || {
                    format!("a message with the secret as nonce: {}", types(&frames))
                });
                let bad = ctx
                    .call(
                        ctx.http
                            .get(format!("{}/socket.info", ctx.base()))
                            .header("x-flowai-clientid", "bm90IGEgY2xpZW50")
                            .header("x-flowai-sessionid", "1"),
                    )
                    .await?;
                r.expect(matches!(bad.status, 400 | 401 | 402 | 403 | 500), || format!("an unknown clientId: {} (the client retries anything but 400, 401-403, 500)", bad.status));
            }
            "js/socket-info-cors" => {
                let headers = "x-flowai-clientid,x-flowai-sessionid,x-flowai-threadid,x-flowai-secret,x-flowai-ott";
                let a = ctx
                    .call(
                        ctx.http
                            .request(Method::OPTIONS, format!("{}/socket.info", ctx.base()))
                            .header("Origin", "http://localhost:8080")
                            .header("Access-Control-Request-Method", "GET")
                            .header("Access-Control-Request-Headers", headers),
                    )
                    .await?;
                r.expect((200..300).contains(&a.status), || {
                    format!("preflight: {}", a.status)
                });
                let origin = a.header("access-control-allow-origin");
                r.expect(
                    matches!(origin, Some("*") | Some("http://localhost:8080")),
                    || format!("Access-Control-Allow-Origin {origin:?}"),
                );
                let allowed = a
                    .header("access-control-allow-headers")
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                for h in headers.split(',') {
                    r.expect(allowed == "*" || allowed.contains(h), || {
                        format!("Access-Control-Allow-Headers {allowed:?} lacks {h}")
                    });
                }
            }
            "js/message-send" | "js/message-delivered" => {
                let (mut flow, secret) = js_connect(ctx, &thread).await?;
                let attachments = [
                    None,
                    Some(json!({"type": "event", "payload": {"name": "INTRO", "label": "Start"}})),
                    Some(
                        json!({"type": "flow", "payload": {"flowImmutableId": "2afcb930-9335-4e74-abb3-5745d26707f7"}}),
                    ),
                ];
                for (n, attachment) in attachments.into_iter().enumerate() {
                    let mut p = js_message(&thread, 100 + n as u64, "hi", secret.as_deref());
                    if let Some(a) = &attachment {
                        p["attachment"] = a.clone();
                        p["speech"] = json!(format!(
                            "{} attachment",
                            a["type"].as_str().unwrap_or_default()
                        ));
                    }
                    flow.send(&json!({"type": "message.send", "payload": p}))
                        .await?;
                    let frames = flow.until("message.delivered").await?;
                    r.expect(find(&frames, "error").is_none(), || {
                        format!("message {n}: {}", types(&frames))
                    });
                    if id == "js/message-send" {
                        continue;
                    }
                    let d = &frames[frames.len() - 1]["payload"];
                    for (field, t) in [
                        ("threadId", "string"),
                        ("traceId", "number"),
                        ("speech", "string"),
                        ("originator", "object"),
                        ("metadata", "object"),
                    ] {
                        r.expect(type_ok(t, &d[field]), || format!("message {n}: delivered payload.{field} is {} (the client needs a {t})", json_kind(&d[field])));
                    }
                    r.expect(d["traceId"] == p["traceId"], || {
                        format!("message {n}: traceId {}", d["traceId"])
                    });
                    if let Some(a) = attachment {
                        r.expect(d["attachment"] == a, || {
                            format!("message {n}: attachment {} (sent {a})", d["attachment"])
                        });
                    }
                }
            }
            "js/message-received" | "js/activities-aliases" => {
                let aliases = id == "js/activities-aliases";
                if aliases {
                    let a = ctx
                        .call(
                            ctx.http
                                .post(format!("{}/_emulator/socket/aliases", ctx.base()))
                                .json(&json!({"enabled": true})),
                        )
                        .await?;
                    r.expect(a.status == 200, || {
                        format!("switching the aliases on: {} {}", a.status, a.text)
                    });
                }
                let (mut flow, secret) = js_connect(ctx, &thread).await?;
                let mut p = js_message(&thread, 200, "event attachment", secret.as_deref());
                p["attachment"] = json!({"type": "event", "payload": {"name": "INTRO"}});
                flow.send(&json!({"type": "message.send", "payload": p}))
                    .await?;
                let (delivered, received) = if aliases {
                    ("activities.delivered", "activities.created")
                } else {
                    ("message.delivered", "message.received")
                };
                let frames = flow.until(received).await;
                if aliases {
                    ctx.call(
                        ctx.http
                            .post(format!("{}/_emulator/socket/aliases", ctx.base()))
                            .json(&json!({"enabled": false})),
                    )
                    .await?;
                }
                let frames = frames?;
                r.expect(find(&frames, delivered).is_some(), || {
                    format!("no {delivered} before {received}: {}", types(&frames))
                });
                let reply = &frames[frames.len() - 1]["payload"];
                r.expect(
                    reply["threadId"].is_string() && reply["originator"].is_object(),
                    || format!("reply {reply}"),
                );
                let messages = reply["messages"].as_array();
                r.expect(messages.is_some_and(|m| !m.is_empty()), || {
                    "no messages array".into()
                });
                for (i, m) in messages.into_iter().flatten().enumerate() {
                    r.expect(m["fallback"].is_string(), || {
                        format!("messages[{i}].fallback")
                    });
                    let responses = m["responses"].as_array();
                    r.expect(responses.is_some(), || {
                        format!("messages[{i}].responses is not an array")
                    });
                    for (j, resp) in responses.into_iter().flatten().enumerate() {
                        r.expect(
                            resp["type"].is_string() && resp["payload"].is_object(),
                            || format!("messages[{i}].responses[{j}] {resp}"),
                        );
                    }
                }
            }
            "js/error" => {
                let (mut flow, _) = js_connect(ctx, &thread).await?;
                flow.send_text("{not json").await?;
                let f = flow.next().await?;
                r.expect(f["type"] == "error" && f["message"].is_string(), || {
                    format!("error frame {f}")
                });
            }
            "js/agent-typing" | "js/interruption-occurred" | "js/secret-generated" => {
                let kind = id.trim_start_matches("js/").replacen('-', ".", 1);
                let (mut flow, secret) = js_connect(ctx, &thread).await?;
                flow.send(&json!({"type": "message.send", "payload": js_message(&thread, 300, "hi", secret.as_deref())})).await?;
                flow.until("message.received").await?;
                let a = ctx
                    .call(ctx.http.post(format!("{}/_emulator/socket/push/{kind}", ctx.base())).json(&json!({"threadId": thread, "originator": {"name": "Agent", "role": "agent"}})))
                    .await?;
                r.expect(a.status == 200, || {
                    format!("pushing {kind}: {} {}", a.status, a.text)
                });
                let frames = flow.until(&kind).await?;
                let f = &frames[frames.len() - 1];
                match kind.as_str() {
                    "agent.typing" => r.expect(f["payload"].is_object(), || format!("{f}")),
                    "secret.generated" => {
                        let new = f["message"]["secret"].as_str();
                        r.expect(new.is_some(), || {
                            format!("secret.generated without message.secret: {f}")
                        });
                        flow.send(&json!({"type": "message.send", "payload": js_message(&thread, 301, "hi", new)})).await?;
                        let frames = flow.until("message.delivered").await?;
                        r.expect(find(&frames, "error").is_none(), || {
                            format!("a message with the new secret: {}", types(&frames))
                        });
                    }
                    _ => {}
                }
            }
            "js/typing" | "js/noticed" | "js/log" => {
                let (mut flow, _) = js_connect(ctx, &thread).await?;
                let frame = ex["frame"]
                    .to_string()
                    .replace("<thread>", &thread)
                    .replace("<clientId>", &ctx.creds().client_id)
                    .replace("<session>", "s-1");
                flow.send_text(&frame).await?;
                let frames = flow.drain().await?;
                r.expect(find(&frames, "error").is_none(), || {
                    format!("{} answered {}", ex["frame"]["type"], types(&frames))
                });
            }
            "js/history" | "js/unnoticed" => {
                let (mut flow, secret) = js_connect(ctx, &thread).await?;
                flow.send(&json!({"type": "message.send", "payload": js_message(&thread, 400, "hi", secret.as_deref())})).await?;
                flow.until("message.received").await?;
                let path = ex["request"]["path"].as_str().unwrap_or_default();
                let a = ctx
                    .call(
                        ctx.http
                            .get(format!("{}{path}", ctx.base()))
                            .header("x-flowai-clientid", &ctx.creds().client_id)
                            .header("x-flowai-threadid", &thread)
                            .header("x-flowai-secret", secret.as_deref().unwrap_or("null")),
                    )
                    .await?;
                r.expect(
                    (200..300).contains(&a.status)
                        && a.json["status"] == "ok"
                        && !a.json["payload"].is_null(),
                    || format!("{path}: {} {}", a.status, a.text),
                );
            }
            "js/upload" => {
                let (_flow, secret) = js_connect(ctx, &thread).await?;
                let mut payload = js_message(&thread, 500, "file attachment", None);
                payload["clientId"] = json!(ctx.creds().client_id);
                payload["sessionId"] = json!("s-1");
                let form = reqwest::multipart::Form::new()
                    .part(
                        "file",
                        reqwest::multipart::Part::bytes(PNG.to_vec())
                            .file_name("test.png")
                            .mime_str("image/png")
                            .map_err(|e| e.to_string())?,
                    )
                    .text("payload", payload.to_string());
                let a = ctx
                    .call(
                        ctx.http
                            .post(format!("{}/thread.upload", ctx.base()))
                            .header("x-flowai-secret", secret.as_deref().unwrap_or("null"))
                            .multipart(form),
                    )
                    .await?;
                r.expect(
                    a.status < 400 && a.json["status"] == "ok" && a.json["payload"].is_object(),
                    || format!("thread.upload: {} {}", a.status, a.text),
                );
                // "413 means 'Upload is too large'": a file past the service's 250 MB, streamed.
                let t = Instant::now();
                let chunk = Bytes::from(vec![0u8; 1 << 20]);
                let stream = futures_util::stream::iter(
                    (0..251).map(move |_| Ok::<Bytes, std::io::Error>(chunk.clone())),
                );
                let mut payload = js_message(&thread, 501, "file attachment", None);
                payload["clientId"] = json!(ctx.creds().client_id);
                let form = reqwest::multipart::Form::new()
                    .text("payload", payload.to_string())
                    .part(
                        "file",
                        reqwest::multipart::Part::stream(reqwest::Body::wrap_stream(stream))
                            .file_name("big.bin"),
                    );
                let big = ctx
                    .http
                    .post(format!("{}/thread.upload", ctx.base()))
                    .header("x-flowai-secret", secret.as_deref().unwrap_or("null"))
                    .multipart(form)
                    .send()
                    .await;
                let status = big.as_ref().map(|b| b.status().as_u16());
                r.expect(matches!(status, Ok(413)), || {
                    format!(
                        "a 251 MB upload: {status:?} after {:?} (413 expected)",
                        t.elapsed()
                    )
                });
            }
            "js/merger" => {
                let a = ctx
                    .call(ctx.http.post(format!("{}/thread.merger", ctx.base())).header("Content-Type", "application/json").body(
                        json!({"clientId": ctx.creds().client_id, "threadId": thread, "sessionId": "s-1", "mergerKey": "merge-1"}).to_string(),
                    ))
                    .await?;
                r.expect(
                    (200..300).contains(&a.status) && a.json["status"] == "ok",
                    || format!("thread.merger: {} {}", a.status, a.text),
                );
            }
            _ => return Err("no check".into()),
        }
        Ok(r)
    })
}

// --- the checks: rules stated in prose, and listings named without their request ---------

fn rule<'a>(ctx: &'a Ctx, ex: &'a Value) -> Check<'a> {
    Box::pin(async move {
        let mut r = Report::default();
        let text = ex["text"].as_str().unwrap_or_default();
        match ex["id"].as_str().unwrap_or_default() {
            "001/introduction/1" => {
                // "uses HTTP response codes to indicate API errors"; "JSON is returned by all
                // API responses, including errors"; "supports cross-origin resource sharing".
                r.expect(
                    text.contains("JSON is returned by all API responses, including errors"),
                    || "the rule's text changed".into(),
                );
                let calls = [
                    (
                        "no key",
                        ctx.http
                            .post(format!("{}/v1/messaging/message", ctx.base())),
                        401,
                    ),
                    (
                        "a wrong key",
                        ctx.http
                            .get(format!("{}/v1/messaging/webhooks", ctx.base()))
                            .bearer_auth("not-a-key"),
                        401,
                    ),
                    (
                        "a bad body",
                        ctx.messaging(Method::POST, "/v1/messaging/message")
                            .body("{not json"),
                        400,
                    ),
                    (
                        "an unknown webhook",
                        ctx.messaging(Method::GET, "/v1/messaging/webhooks/none"),
                        404,
                    ),
                    (
                        "an unknown path",
                        ctx.messaging(Method::GET, "/v1/messaging/none"),
                        404,
                    ),
                    (
                        "a wrong method",
                        ctx.messaging(Method::GET, "/v1/messaging/message"),
                        405,
                    ),
                    (
                        "a management path without a key",
                        ctx.http
                            .get(format!("{}/v1/management/flows/list", ctx.base())),
                        401,
                    ),
                    (
                        "an unknown flow",
                        ctx.management("/flows/info?flowId=none"),
                        404,
                    ),
                    (
                        "socket.info without a clientId",
                        ctx.http
                            .get(format!("{}/socket.info?sessionId=1", ctx.base())),
                        0,
                    ),
                ];
                for (what, b, status) in calls {
                    let a = ctx.call(b).await?;
                    r.expect(
                        (400..500).contains(&a.status) && (status == 0 || a.status == status),
                        || {
                            let want = if status == 0 {
                                "a 4xx".to_string()
                            } else {
                                status.to_string()
                            };
                            format!("{what}: status {} (expected {want})", a.status)
                        },
                    );
                    r.expect(a.is_json(), || {
                        format!("{what}: the error is not JSON: {:?}", a.text)
                    });
                }
                let a = ctx
                    .call(
                        ctx.http
                            .request(
                                Method::OPTIONS,
                                format!("{}/v1/messaging/message", ctx.base()),
                            )
                            .header("Origin", "https://app.example")
                            .header("Access-Control-Request-Method", "POST")
                            .header(
                                "Access-Control-Request-Headers",
                                "authorization,content-type",
                            ),
                    )
                    .await?;
                let origin = a.header("access-control-allow-origin");
                r.expect(
                    (200..300).contains(&a.status)
                        && matches!(origin, Some("*") | Some("https://app.example")),
                    || {
                        format!(
                            "a browser's preflight: {} with Access-Control-Allow-Origin {origin:?}",
                            a.status
                        )
                    },
                );
            }
            "001/messaging-api/1" => {
                // "Flow.ai will not return any direct reply to a Send call. Instead, the API
                // will call your configured webhook whenever a reply is being sent."
                r.expect(text.contains("will not return any direct reply"), || {
                    "the rule's text changed".into()
                });
                ctx.clear_webhooks().await?;
                let path = format!("/calls/{}", fresh("async"));
                ctx.create_webhook(
                    "/v1/messaging/webhooks",
                    &ctx.receiver.url(&path),
                    "vk",
                    &["message.reply"],
                )
                .await?;
                let thread = fresh("async");
                let a = ctx
                    .send_message(json!({"threadId": thread, "type": "text", "text": "hi"}))
                    .await?;
                r.expect(a.json == json!({"status": "ok"}), || {
                    format!("the send answered {} (no reply in it expected)", a.text)
                });
                let call = ctx.receiver.event(&path, "message.reply").await?;
                r.expect(call.body["payload"]["threadId"] == json!(thread), || {
                    format!("the reply went to {}", call.body["payload"]["threadId"])
                });
                ctx.clear_webhooks().await?;
            }
            "001/messaging-api-sending-messages/1" => {
                // "Any message that is send requires a threadId"; "Optionally you can provide a
                // traceId that will help keep track of the message when you receive delivery events."
                r.expect(text.contains("requires a threadId"), || {
                    "the rule's text changed".into()
                });
                let a = ctx
                    .send_message(json!({"type": "text", "text": "hi"}))
                    .await?;
                r.expect((400..500).contains(&a.status) && a.is_json(), || {
                    format!("no threadId: {} {:?}", a.status, a.text)
                });
                ctx.clear_webhooks().await?;
                let path = format!("/calls/{}", fresh("trace"));
                ctx.create_webhook(
                    "/v1/messaging/webhooks",
                    &ctx.receiver.url(&path),
                    "vk",
                    &["message.delivered"],
                )
                .await?;
                for (kind, extra) in [
                    ("text", json!({"text": "hi"})),
                    ("event", json!({"eventName": "INTRO"})),
                    ("location", json!({"lat": "52.37", "lng": "4.89"})),
                ] {
                    let mut body =
                        json!({"threadId": fresh("trace"), "type": kind, "traceId": 424242});
                    if let (Some(m), Some(e)) = (body.as_object_mut(), extra.as_object()) {
                        m.extend(e.clone());
                    }
                    ctx.send_message(body).await?;
                }
                let deadline = Instant::now() + WAIT;
                let delivered = loop {
                    let d: Vec<Call> = ctx
                        .receiver
                        .calls(&path)
                        .into_iter()
                        .filter(|c| c.body["type"] == "message.delivered")
                        .collect();
                    if d.len() >= 3 || Instant::now() > deadline {
                        break d;
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                };
                r.expect(delivered.len() == 3, || {
                    format!("{} delivery events for 3 messages", delivered.len())
                });
                for c in &delivered {
                    r.expect(c.body["payload"]["traceId"] == 424242, || {
                        format!("a delivery event without the traceId: {}", c.body)
                    });
                }
                ctx.clear_webhooks().await?;
            }
            "001/messaging-api-authentication/1" => {
                r.expect(text.contains("bearer token"), || {
                    "the rule's text changed".into()
                });
                let body = json!({"threadId": fresh("auth"), "type": "text", "text": "hi"});
                let url = format!("{}/v1/messaging/message", ctx.base());
                for (what, key, status) in [
                    (
                        "the messaging key",
                        Some(ctx.creds().messaging_key.as_str()),
                        200,
                    ),
                    ("no key", None, 401),
                    (
                        "the management key",
                        Some(ctx.creds().management_key.as_str()),
                        401,
                    ),
                    ("another key", Some("emu-msg-0000"), 401),
                ] {
                    let mut b = ctx.http.post(&url).json(&body);
                    if let Some(k) = key {
                        b = b.bearer_auth(k);
                    }
                    let a = ctx.call(b).await?;
                    r.expect(a.status == status && a.is_json(), || {
                        format!("{what}: {} {:?} ({status} expected)", a.status, a.text)
                    });
                }
                let a = ctx
                    .call(
                        ctx.http
                            .get(format!("{}/v1/messaging/webhooks", ctx.base())),
                    )
                    .await?;
                r.expect(a.status == 401, || {
                    format!("webhooks without a key: {}", a.status)
                });
            }
            "001/receiving-calls/1" => {
                // "Webhook data is sent as JSON in the POST request body"; "an open port that
                // accepts GET and POST requests".
                r.expect(text.contains("JSON in the POST request body"), || {
                    "the rule's text changed".into()
                });
                ctx.clear_webhooks().await?;
                let path = format!("/calls/{}", fresh("receiving"));
                ctx.create_webhook(
                    "/v1/messaging/webhooks",
                    &ctx.receiver.url(&path),
                    "vk",
                    &["message.delivered"],
                )
                .await?;
                let gets = ctx
                    .receiver
                    .calls(&path)
                    .iter()
                    .filter(|c| c.method == "GET")
                    .count();
                r.expect(gets == 1, || {
                    format!("{gets} GET calls verified the endpoint")
                });
                ctx.send_message(json!({"threadId": fresh("calls"), "type": "text", "text": "hi"}))
                    .await?;
                let call = ctx.receiver.event(&path, "message.delivered").await?;
                r.expect(
                    call.headers
                        .get("content-type")
                        .is_some_and(|c| c.starts_with("application/json")),
                    || format!("content-type {:?}", call.headers.get("content-type")),
                );
                r.expect(
                    call.body["type"].is_string() && call.body["payload"].is_object(),
                    || format!("the body is not an event object: {}", call.body),
                );
                ctx.clear_webhooks().await?;
                r.narrow("HTTPS and certificates are the receiver's side; the emulator's own TLS is checked by its tls tests");
            }
            "001/responding-to-a-call/1" => {
                // Only 2xx acknowledges; a redirect or "Not Modified" is a failure and is retried.
                ctx.clear_webhooks().await?;
                for code in [302u16, 304, 500] {
                    let path = format!("/status/{code}/{}", fresh("responding"));
                    ctx.create_webhook(
                        "/v1/messaging/webhooks",
                        &ctx.receiver.url(&path),
                        "vk",
                        &["message.delivered"],
                    )
                    .await?;
                    ctx.send_message(
                        json!({"threadId": fresh("responding"), "type": "text", "text": "hi"}),
                    )
                    .await?;
                    let deadline = Instant::now() + WAIT;
                    let posts = loop {
                        let posts: Vec<Call> = ctx
                            .receiver
                            .calls(&path)
                            .into_iter()
                            .filter(|c| c.method == "POST")
                            .collect();
                        if posts.len() >= 2 || Instant::now() > deadline {
                            break posts;
                        }
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    };
                    r.expect(posts.len() == 2, || {
                        format!(
                            "answered {code} then 200: {} POSTs (a retry, then none)",
                            posts.len()
                        )
                    });
                    let ids: BTreeSet<Option<&String>> = posts
                        .iter()
                        .map(|c| c.headers.get("x-flowai-delivery-id"))
                        .collect();
                    r.expect(ids.len() == 1, || {
                        format!("answered {code}: the retry is a new delivery {ids:?}")
                    });
                    ctx.clear_webhooks().await?;
                }
                r.expect(ctx.receiver.calls("/elsewhere").is_empty(), || {
                    "a redirect was followed".into()
                });
                // "up to 4 hours with an exponential back off", on a 1:10,000 time scale.
                let emu = Emulator::new(EmulatorOptions {
                    time_scale: 0.0001,
                    ..Default::default()
                })
                .start()
                .await
                .map_err(|e| e.to_string())?;
                let url = ctx
                    .receiver
                    .url(&format!("/always/500/{}", fresh("window")));
                let a = ctx
                    .call(ctx.http.post(format!("{}/v1/messaging/webhooks", emu.base_url())).bearer_auth(&emu.credentials().messaging_key)
                        .json(&json!({"url": url, "verifyKey": "vk", "events": ["message.delivered"]})))
                    .await?;
                r.expect(a.status == 201, || {
                    format!("create: {} {}", a.status, a.text)
                });
                ctx.call(
                    ctx.http
                        .post(format!("{}/v1/messaging/message", emu.base_url()))
                        .bearer_auth(&emu.credentials().messaging_key)
                        .json(&json!({"threadId": "window", "type": "text", "text": "hi"})),
                )
                .await?;
                let deadline = Instant::now() + Duration::from_secs(6);
                let attempts = loop {
                    let attempts = emu.state().webhooks.attempts();
                    if attempts.iter().any(|a| a.gave_up) || Instant::now() > deadline {
                        break attempts;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                };
                let window = Duration::from_secs(4 * 3600).mul_f64(0.0001);
                let waited: Duration = attempts.iter().map(|a| a.delay_before).sum();
                r.expect(attempts.last().is_some_and(|a| a.gave_up), || {
                    format!("no last attempt after {} attempts", attempts.len())
                });
                r.expect(waited <= window && waited * 3 >= window, || {
                    format!("retried for {waited:?} of a {window:?} window")
                });
                let growing = attempts
                    .windows(2)
                    .skip(1)
                    .all(|w| w[1].delay_before >= w[0].delay_before);
                r.expect(growing && attempts.len() > 5, || {
                    "the back off does not grow".into()
                });
                r.narrow("4 hours scaled to 1.44 s (EmulatorOptions::time_scale 0.0001)");
            }
            "001/open-a-connection/1" => {
                r.expect(
                    text.contains("single-use") && text.contains("60 seconds"),
                    || "the rule's text changed".into(),
                );
                let a = ctx.call(ctx.http.get(ctx.socket_info_url(""))).await?;
                let endpoint = a.json["payload"]["endpoint"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                let first = tokio_tungstenite::connect_async(&endpoint).await;
                r.expect(first.is_ok(), || {
                    format!("the endpoint did not open: {:?}", first.err())
                });
                r.expect(
                    tokio_tungstenite::connect_async(&endpoint).await.is_err(),
                    || "the endpoint opened a second socket".into(),
                );
                let more = endpoint_lifetime(ctx).await?;
                r.errors.extend(more.errors);
                r.narrowed.extend(more.narrowed);
            }
            _ => return Err("no check for this rule".into()),
        }
        Ok(r)
    })
}

/// "This endpoint retrieves all X": GET /v1/management/<x>/list answers a JSON array.
fn listing<'a>(ctx: &'a Ctx, ex: &'a Value) -> Check<'a> {
    Box::pin(async move {
        let mut r = Report::default();
        let section = ex["section"].as_str().unwrap_or_default();
        let what = section.rsplit("List all ").next().unwrap_or_default();
        let path = format!("/{}/list", what.to_ascii_lowercase().replace(' ', ""));
        let a = ctx.call(ctx.management(&path)).await?;
        r.expect(a.status == 200 && a.is_json(), || {
            format!("GET {path}: {} {:?}", a.status, a.text)
        });
        let items = a.json.as_array().cloned().unwrap_or_default();
        r.expect(
            !items.is_empty() && items.iter().all(Value::is_object),
            || format!("GET {path}: {}", a.text),
        );
        if what == "Intents" {
            // The Intent object as the Flow example embeds it.
            let intent = &ctx.example("001/flows/1")?["object"]["steps"][0]["intent"];
            for (i, item) in items.iter().enumerate() {
                r.conforms(&format!("intents[{i}]"), intent, item);
            }
        } else {
            r.narrow(
                "the seed documents no fields of this object: a JSON array of objects is checked",
            );
        }
        Ok(r)
    })
}

// --- dispatch ----------------------------------------------------------------------------

/// The check of an example, or why it has none.
fn check_of<'a>(ctx: &'a Ctx, ex: &'a Value) -> Result<Check<'a>, String> {
    let id = ex["id"].as_str().unwrap_or_default();
    let kind = ex["kind"].as_str().unwrap_or_default();
    let section = id.split('/').nth(1).unwrap_or_default();
    Ok(match (section, kind) {
        ("text-message" | "event-message" | "location-message" | "media-message", "http") => {
            messaging_example(ctx, ex)
        }
        ("text-message" | "event-message" | "location-message" | "media-message", "table") => {
            messaging_arguments(ctx, ex)
        }
        ("type-of-events", "event_type") => webhook_event(ctx, ex),
        ("the-webhook-object", _) => webhook_object(ctx, ex),
        ("create-a-webhook", "http") => webhook_create(ctx, ex),
        ("create-a-webhook", "table") => webhook_create_arguments(ctx, ex),
        ("retrieve-a-webhook", "http") => webhook_retrieve(ctx, ex),
        ("update-a-webhook", "http") => webhook_update(ctx, ex),
        ("update-a-webhook", "table") => webhook_update_arguments(ctx, ex),
        ("list-all-webhooks", "http") => webhook_list(ctx, ex),
        ("delete-a-webhook", "http") => webhook_delete(ctx, ex),
        ("management-api-authentication", "http") => management_auth(ctx, ex),
        (_, "rule") => rule(ctx, ex),
        (_, "listing") => listing(ctx, ex),
        ("flows" | "the-flow-object" | "the-step-object", _) => management_object(ctx, ex),
        ("retrieve-a-flow" | "list-all-flows", "http") => management_endpoint(ctx, ex),
        ("request-an-endpoint" | "vanilla-js-example" | "example", "http") => socket_info(ctx, ex),
        ("request-an-endpoint", "table") => socket_info_params(ctx, ex),
        ("keep-alive", "ws") => keep_alive(ctx, ex),
        ("web-socket-api-sending-messages", "frame")
        | ("originator-object", "frame")
        | ("metadata", "frame")
        | ("vanilla-js-example" | "example", "frame") => client_frame(ctx, ex),
        ("web-socket-api-sending-messages", "table") => send_attributes(ctx, ex),
        ("originator-object" | "profile-object" | "metadata", "table") => sent_fields(ctx, ex),
        ("params-object", _) => params_example(ctx, ex),
        ("attachment", "frame") => client_frame(ctx, ex),
        ("attachment", "table") => attachment_fields(ctx, ex),
        ("responses", "frame") if ex["frame"]["type"] == "error" => error_example(ctx, ex),
        ("responses", "frame") => delivered_example(ctx, ex),
        (
            "receiving-messages" | "payload-example" | "advanced-reply-example",
            "frame" | "table",
        ) => reply_example(ctx, ex),
        ("common-format", _) | ("vanilla-js-example" | "example", "reads") => all_frames(ctx, ex),
        _ if id.starts_with("002/") => aida(ctx, ex),
        _ if id == "js/frame-types" => all_frames(ctx, ex),
        _ if id.starts_with("js/") => js(ctx, ex),
        _ => return Err(format!("no check for a {kind} example in this section")),
    })
}

/// Checks over every frame seen go last, when the other checks have made their frames.
fn runs_last(ex: &Value) -> bool {
    let id = ex["id"].as_str().unwrap_or_default();
    let reply_table = ex["kind"] == "table"
        && (id.starts_with("001/receiving-messages/")
            || id.starts_with("003/payload-example/")
            || id.starts_with("003/advanced-reply-example/"));
    id.starts_with("001/common-format/")
        || id == "js/frame-types"
        || ex["kind"] == "reads"
        || reply_table
}

/// A fixture from tests/fidelity, or from `FLOWAI_FIDELITY_DIR` (run.sh's self-test points
/// it at altered copies to prove that the checks fail on a wrong answer).
fn load(name: &str, key: &str) -> Vec<Value> {
    let dir = std::env::var_os("FLOWAI_FIDELITY_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            [env!("CARGO_MANIFEST_DIR"), "..", "..", "tests", "fidelity"]
                .iter()
                .collect()
        });
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let v: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
    v[key].as_array().cloned().unwrap_or_default()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        return;
    }
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let seed_examples = load("examples.json", "examples");
    let empty_sections = load("examples.json", "sections_without_examples");
    let js_facts = load("js_client.json", "facts");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let code = runtime.block_on(run(seed_examples, js_facts, empty_sections, &filters));
    std::process::exit(code);
}

async fn run(
    seed_examples: Vec<Value>,
    js_facts: Vec<Value>,
    empty_sections: Vec<Value>,
    filters: &[&String],
) -> i32 {
    let started = Instant::now();
    let emu = Emulator::new(EmulatorOptions {
        time_scale: 0.001,
        ..Default::default()
    })
    .start()
    .await
    .unwrap();
    let examples: BTreeMap<String, Value> = seed_examples
        .iter()
        .chain(js_facts.iter())
        .map(|e| (e["id"].as_str().unwrap_or_default().to_string(), e.clone()))
        .collect();
    let ctx = Ctx {
        emu,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        receiver: Receiver::start().await,
        frames: Mutex::new(Vec::new()),
        examples,
    };
    let selected = |e: &Value| {
        let id = e["id"].as_str().unwrap_or_default();
        filters.is_empty() || filters.iter().any(|f| id.contains(f.as_str()))
    };
    let mut order: Vec<(&Value, bool)> = seed_examples
        .iter()
        .map(|e| (e, true))
        .chain(js_facts.iter().map(|e| (e, false)))
        .filter(|(e, _)| selected(e))
        .collect();
    order.sort_by_key(|(e, _)| runs_last(e));
    let (mut passed, mut failed) = (0usize, 0usize);
    let (mut seed_checked, mut js_checked) = (0usize, 0usize);
    let mut left_out = Vec::new();
    let mut narrowed = Vec::new();
    let mut failures = Vec::new();
    for (ex, from_seed) in order {
        let id = ex["id"].as_str().unwrap_or_default();
        let section = ex["section"]
            .as_str()
            .or(ex["source"].as_str())
            .unwrap_or_default();
        let check = match check_of(&ctx, ex) {
            Ok(c) => c,
            Err(reason) => {
                println!("fidelity {id} ... left out: {reason}");
                left_out.push(format!("{id} ({section}): {reason}"));
                continue;
            }
        };
        let t = Instant::now();
        let outcome = match tokio::time::timeout(Duration::from_secs(20), check).await {
            Ok(o) => o,
            Err(_) => Err("the check did not finish in 20 s".into()),
        };
        if from_seed {
            seed_checked += 1;
        } else {
            js_checked += 1;
        }
        let errors = match outcome {
            Ok(report) => {
                narrowed.extend(report.narrowed.iter().map(|n| format!("{id}: {n}")));
                report.errors
            }
            Err(e) => vec![e],
        };
        let ms = t.elapsed().as_millis();
        if errors.is_empty() {
            passed += 1;
            println!("fidelity {id} ({section}) ... ok ({ms} ms)");
        } else {
            failed += 1;
            println!("fidelity {id} ({section}) ... FAILED ({ms} ms)");
            for e in &errors {
                println!("    {e}");
            }
            failures.push(id.to_string());
        }
    }
    let seed_total = seed_examples.iter().filter(|e| selected(e)).count();
    let tables = seed_examples
        .iter()
        .filter(|e| selected(e) && e["kind"] == "table")
        .count();
    let js_total = js_facts.iter().filter(|e| selected(e)).count();
    println!();
    println!(
        "coverage: {seed_checked}/{seed_total} seed examples checked ({} request/answer, frame and object examples, {tables} field tables); {js_checked}/{js_total} official JS client facts checked",
        seed_total - tables
    );
    if left_out.is_empty() {
        println!("left out: none");
    } else {
        println!("left out ({}):", left_out.len());
        for l in &left_out {
            println!("  {l}");
        }
    }
    if !narrowed.is_empty() {
        println!("checked in part ({}):", narrowed.len());
        for n in &narrowed {
            println!("  {n}");
        }
    }
    if filters.is_empty() {
        let names: Vec<&str> = empty_sections
            .iter()
            .filter_map(|s| s["section"].as_str())
            .collect();
        println!(
            "seed sections with no example, rule or listing to check ({}): {}",
            names.len(),
            names.join("; ")
        );
    }
    if !failures.is_empty() {
        println!("failed: {}", failures.join(" "));
    }
    println!(
        "fidelity: {passed} passed, {failed} failed ({:.1} s)",
        started.elapsed().as_secs_f64()
    );
    i32::from(failed > 0 || !left_out.is_empty())
}
