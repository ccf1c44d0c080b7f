//! The recording format shared by `flowai emulator --record` and `--replay`: JSON lines, one exchange per line, secrets masked.
//!
//! # Format, version 1
//!
//! A recording is a UTF-8 file of JSON objects, one per line, in the order they were
//! written. Every line has `seq` (0, 1, 2, ...), `ms` (milliseconds since the recording
//! started) and `kind`. The first line is the header:
//!
//! ```json
//! {"seq":0,"ms":0,"kind":"recording","format":"flowai-recording","version":1,"upstream":"https://api.flow.ai"}
//! ```
//!
//! `version` is the format's version: a reader refuses a newer one, and skips lines of a
//! kind it does not know (later versions may add kinds without breaking older replays).
//! The other kinds:
//!
//! - `http`: one REST exchange, written when its answer is complete. `id` numbers the
//!   exchanges in the order their requests *started* (webhook calls refer to it).
//!   `{"kind":"http","id":3,"request":{"method":"POST","path":"/v1/messaging/message",
//!   "query":{...},"headers":{...},"body":BODY},"response":{"status":200,"headers":{...},"body":BODY}}`
//! - `webhook`: a call the service made to a webhook receiver (the verification GET or a
//!   delivery POST). `cause` is the id of the Messaging API exchange that caused it: the
//!   latest message sent to the thread the call is about, else the latest Messaging API
//!   exchange started before the call arrived; `during` tells whether that exchange was
//!   still waiting for its answer
//!   (the verification GET of a webhook creation is), `url` is the receiver's URL as the
//!   client registered it. `{"kind":"webhook","cause":3,"during":false,"url":"http://...",
//!   "request":{"method":"POST","headers":{...},"body":BODY},"response":{"status":200}}`;
//!   a call that could not reach the receiver has `"error"` instead of `response`.
//! - `socket.open`: a websocket opened by the client. `conn` numbers the connections; a Flow
//!   socket opened on a socket.info endpoint has `info` (the id of that socket.info exchange)
//!   and no `path`; any other websocket (the AIDA Phoenix endpoint) has its `path`.
//! - `frame`: one websocket message, `{"kind":"frame","conn":1,"from":"client","body":BODY}`
//!   (`from` is `client` or `server`). Websocket control frames (ping/pong) are not kept;
//!   the Flow protocol's own `ping`/`pong` frames are.
//! - `socket.close`: `{"kind":"socket.close","conn":1,"by":"server","code":1000,"reason":""}`.
//!
//! A BODY is one of `{"json": VALUE}`, `{"text": "..."}`, `{"base64": "..."}`,
//! `{"multipart": [PART, ...]}` (a part is `{"name", "fileName"?, "contentType"?, "body"?}`;
//! a file part keeps only its size in `bytes`, never its content), or
//! `{"omitted": {"bytes": N}}` for a body over 1 MiB. An empty body is left out. Header
//! names are lower case; `query` holds the decoded query parameters.
//!
//! # Secrets
//!
//! Nothing secret is written. Before a line is written, every value under a secret-bearing
//! name (the `Authorization`, `x-flowai-clientid`, `x-flowai-secret` and verify-key headers;
//! `clientId`, `verifyKey`, `nonce`, `secret`, `access_token`, `token`, `endpoint` and the
//! like in queries and JSON) is replaced by a placeholder `<masked:KIND:N>`, and remembered:
//! any later occurrence of it anywhere in a line (inside a URL, a header, a text) is
//! replaced by the same placeholder, and so are its URL-encoded form and, for a client id,
//! the organisation and channel ids it encodes. The same secret always gets the same
//! placeholder, so a replay can tell that the verify key a receiver gets is the one the
//! client registered, and substitute the one the replaying client uses.

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The format version written, and the newest one read.
pub const VERSION: u32 = 1;
/// The `format` of the header line.
pub const FORMAT: &str = "flowai-recording";
/// Bodies larger than this are recorded as `omitted`, with their size only.
pub const MAX_RECORDED_BODY: usize = 1024 * 1024;
/// How a masked value starts in a recording.
pub const PLACEHOLDER_PREFIX: &str = "<masked:";
/// Learned secrets shorter than this are masked where they are named, not wherever they
/// occur: replacing every "ok" in a file because some key was "ok" would ruin it.
const MIN_SUBSTRING_SECRET: usize = 8;

/// One line of a recording.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Line {
    /// Position in the file, from 0.
    pub seq: u64,
    /// Milliseconds since the recording started.
    pub ms: u64,
    /// What happened.
    #[serde(flatten)]
    pub entry: Entry,
}

/// What a line records.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind")]
pub enum Entry {
    /// The header, always the first line.
    #[serde(rename = "recording")]
    Header(Header),
    /// A REST exchange.
    #[serde(rename = "http")]
    Http(HttpExchange),
    /// A call of the service to a webhook receiver.
    #[serde(rename = "webhook")]
    Webhook(WebhookCall),
    /// A websocket opened.
    #[serde(rename = "socket.open")]
    SocketOpen(SocketOpen),
    /// A websocket message.
    #[serde(rename = "frame")]
    Frame(Frame),
    /// A websocket closed.
    #[serde(rename = "socket.close")]
    SocketClose(SocketClose),
}

/// The first line.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Header {
    /// Always [`FORMAT`].
    pub format: String,
    /// The format version, [`VERSION`] when written by this crate.
    pub version: u32,
    /// The service recorded (scheme, host and port; no credentials or query).
    pub upstream: String,
}

/// A REST exchange.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct HttpExchange {
    /// Numbers exchanges in the order their requests started.
    pub id: u64,
    /// What the client sent.
    pub request: HttpRequest,
    /// What the client got.
    pub response: HttpResponse,
}

/// A recorded request.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct HttpRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path, without the query; empty for a webhook call (its target is `url`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path: String,
    /// Decoded query parameters (the last one wins when a name repeats).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub query: Map<String, Value>,
    /// Headers, lower-case names, hop-by-hop ones left out.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub headers: Map<String, Value>,
    /// The body, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Body>,
}

/// A recorded answer.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct HttpResponse {
    /// HTTP status.
    pub status: u16,
    /// Headers, lower-case names, hop-by-hop ones left out.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub headers: Map<String, Value>,
    /// The body, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Body>,
}

/// A call of the service to a webhook receiver.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct WebhookCall {
    /// The Messaging API exchange that caused it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<u64>,
    /// Whether that exchange was still waiting for its answer.
    #[serde(default)]
    pub during: bool,
    /// The receiver's URL as the client registered it.
    pub url: String,
    /// The call.
    pub request: HttpRequest,
    /// The receiver's answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<HttpResponse>,
    /// Why the receiver could not be reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A websocket opened by the client.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SocketOpen {
    /// Numbers the connections.
    pub conn: u64,
    /// The socket.info exchange that handed out the endpoint (Flow sockets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<u64>,
    /// The path of any other websocket, e.g. `/socket/websocket` for AIDA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// Who sent a frame.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The SDK side.
    Client,
    /// The service.
    Server,
}

/// A websocket message.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Frame {
    /// The connection.
    pub conn: u64,
    /// Who sent it.
    pub from: Side,
    /// Its content.
    pub body: Body,
}

/// A websocket closed.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SocketClose {
    /// The connection.
    pub conn: u64,
    /// Who closed it (or dropped it).
    pub by: Side,
    /// The close code, when a close frame came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
    /// The close reason, when a close frame came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A message body.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum Body {
    /// Anything that parses as JSON.
    Json(Value),
    /// Other UTF-8 text.
    Text(String),
    /// Anything else.
    Base64(String),
    /// A `multipart/form-data` form.
    Multipart(Vec<Part>),
    /// A body too large to keep.
    Omitted {
        /// Its size.
        bytes: u64,
    },
}

/// One part of a multipart form.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Part {
    /// The form field name.
    pub name: String,
    /// The file name of a file part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// The part's content type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// The content of a field that is not a file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Body>,
    /// The size of a file part (its content is not kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
}

impl Body {
    /// The body of `bytes` (all of it), `None` when empty. JSON is detected by parsing, so a
    /// JSON answer served as `text/plain` is still compared as JSON on replay.
    pub fn from_bytes(bytes: &[u8]) -> Option<Body> {
        if bytes.is_empty() {
            return None;
        }
        if bytes.len() > MAX_RECORDED_BODY {
            return Some(Body::Omitted {
                bytes: bytes.len() as u64,
            });
        }
        if let Ok(v) = serde_json::from_slice::<Value>(bytes) {
            return Some(Body::Json(v));
        }
        match std::str::from_utf8(bytes) {
            Ok(text) => Some(Body::Text(text.to_string())),
            Err(_) => Some(Body::Base64(
                base64::engine::general_purpose::STANDARD.encode(bytes),
            )),
        }
    }

    /// The bytes to send for this body; a multipart form or an omitted body has none to give.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Body::Json(v) => serde_json::to_vec(v).unwrap_or_default(),
            Body::Text(t) => t.as_bytes().to_vec(),
            Body::Base64(b) => base64::engine::general_purpose::STANDARD
                .decode(b)
                .unwrap_or_default(),
            Body::Multipart(_) | Body::Omitted { .. } => Vec::new(),
        }
    }

    /// The JSON value, for a JSON body.
    pub fn json(&self) -> Option<&Value> {
        match self {
            Body::Json(v) => Some(v),
            _ => None,
        }
    }
}

/// Parse a complete `multipart/form-data` body into parts (file contents reduced to their
/// size); `None` when it is not one.
pub async fn parse_multipart(content_type: &str, bytes: bytes::Bytes) -> Option<Vec<Part>> {
    let request = axum::http::Request::builder()
        .header(axum::http::header::CONTENT_TYPE, content_type)
        .body(axum::body::Body::from(bytes))
        .ok()?;
    parse_multipart_request(request).await
}

/// [`parse_multipart`] of a request read as it streams in: a file part is counted, never
/// held. The request's body limit applies (axum's 2 MB unless its router disabled it).
pub async fn parse_multipart_request(request: axum::extract::Request) -> Option<Vec<Part>> {
    use axum::extract::FromRequest as _;
    let mut form = axum::extract::Multipart::from_request(request, &())
        .await
        .ok()?;
    let mut parts = Vec::new();
    while let Ok(Some(mut field)) = form.next_field().await {
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field.file_name().map(str::to_string);
        let content_type = field.content_type().map(str::to_string);
        let mut content = Vec::new();
        let mut size = 0u64;
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    size += chunk.len() as u64;
                    if file_name.is_none() && content.len() <= MAX_RECORDED_BODY {
                        content.extend_from_slice(&chunk);
                    }
                }
                Ok(None) => break,
                Err(_) => return None,
            }
        }
        let (body, bytes) = if file_name.is_some() {
            (None, Some(size))
        } else {
            (Body::from_bytes(&content), None)
        };
        parts.push(Part {
            name,
            file_name,
            content_type,
            body,
            bytes,
        });
    }
    Some(parts)
}

/// Whether a content type is a multipart form.
pub fn is_multipart(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|v| {
        v.trim_start()
            .to_ascii_lowercase()
            .starts_with("multipart/form-data")
    })
}

/// A header, query or JSON name, lower case without `-` and `_`, so that `x-flowai-clientid`,
/// `clientId` and `client_id` compare alike.
pub fn normalize_name(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '-' && *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

/// The kind of secret a (normalized) name holds, if any.
fn secret_kind(normalized: &str) -> Option<&'static str> {
    Some(match normalized {
        "authorization" | "proxyauthorization" | "xapikey" | "apikey" | "messagingkey"
        | "managementkey" => "api-key",
        "clientid" | "xflowaiclientid" => "client-id",
        "secret" | "xflowaisecret" => "socket-secret",
        "verifykey" | "xflowaiverifykey" => "verify-key",
        "nonce" => "nonce",
        "accesstoken" | "token" | "aidatoken" => "token",
        "endpoint" => "endpoint",
        "cookie" | "setcookie" => "cookie",
        "password" => "password",
        _ => return None,
    })
}

/// Remembers every secret seen and replaces it by its placeholder.
#[derive(Default)]
pub struct Masker {
    /// (secret, placeholder), longest secret first so that a secret containing another is
    /// replaced whole.
    known: Vec<(String, String)>,
    counts: HashMap<&'static str, u32>,
}

impl std::fmt::Debug for Masker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Masker")
            .field("secrets", &self.known.len())
            .finish()
    }
}

impl Masker {
    /// An empty masker.
    pub fn new() -> Self {
        Masker::default()
    }

    /// Remember `secret` (and its derived forms); returns its placeholder.
    pub fn learn(&mut self, kind: &'static str, secret: &str) -> String {
        if let Some((_, p)) = self.known.iter().find(|(s, _)| s == secret) {
            return p.clone();
        }
        if secret.starts_with(PLACEHOLDER_PREFIX) {
            return secret.to_string();
        }
        let n = self.counts.entry(kind).or_insert(0);
        *n += 1;
        let placeholder = format!("{PLACEHOLDER_PREFIX}{kind}:{n}>");
        self.add(secret, &placeholder);
        let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        if encoded != secret {
            self.add(&encoded, &placeholder);
        }
        if kind == "client-id" {
            // A client id is base64 of `<organisation>|<channel>`: with both ids in the file
            // the client id could be rebuilt, so they are secrets too.
            if let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(secret.trim())
                && let Ok(text) = String::from_utf8(decoded)
                && let Some((org, channel)) = text.split_once('|')
            {
                for (part_kind, part) in [("organisation", org), ("channel", channel)] {
                    if part.len() >= MIN_SUBSTRING_SECRET
                        && !self.known.iter().any(|(s, _)| s == part)
                    {
                        self.learn(part_kind, part);
                    }
                }
            }
        }
        placeholder
    }

    fn add(&mut self, secret: &str, placeholder: &str) {
        if secret.is_empty() {
            return;
        }
        self.known
            .push((secret.to_string(), placeholder.to_string()));
        self.known
            .sort_by_key(|entry| std::cmp::Reverse(entry.0.len()));
    }

    /// `text` with every learned secret (long enough to search for) replaced.
    pub fn mask_str(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (secret, placeholder) in &self.known {
            if secret.len() >= MIN_SUBSTRING_SECRET && out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), placeholder);
            }
        }
        out
    }

    /// Learn every secret named in `value`, then mask it: named secrets whole (whatever
    /// their length), every other string by substring.
    pub fn mask(&mut self, value: &mut Value) {
        self.learn_named(value);
        self.mask_all(value);
    }

    fn learn_named(&mut self, value: &mut Value) {
        match value {
            Value::Object(map) => {
                for (key, v) in map.iter_mut() {
                    if let Some(kind) = secret_kind(&normalize_name(key)) {
                        if let Value::String(s) = v {
                            let placeholder = match bearer_token(s) {
                                Some((scheme, token)) => {
                                    let p = self.learn(kind, token);
                                    format!("{scheme} {p}")
                                }
                                None if s.is_empty() => continue,
                                None => self.learn(kind, s),
                            };
                            *s = placeholder;
                            continue;
                        }
                    }
                    self.learn_named(v);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.learn_named(v)),
            _ => {}
        }
    }

    fn mask_all(&self, value: &mut Value) {
        match value {
            Value::String(s) => {
                let masked = self.mask_str(s);
                if masked != *s {
                    *s = masked;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.mask_all(v)),
            Value::Object(map) => {
                let keys_need_masking = map.keys().any(|k| self.mask_str(k) != *k);
                if keys_need_masking {
                    let old = std::mem::take(map);
                    for (k, v) in old {
                        map.insert(self.mask_str(&k), v);
                    }
                }
                map.values_mut().for_each(|v| self.mask_all(v));
            }
            _ => {}
        }
    }
}

/// `("Bearer", token)` for an `Authorization`-style value with a scheme.
fn bearer_token(value: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = value.split_once(' ')?;
    let token = rest.trim();
    (matches!(
        scheme.to_ascii_lowercase().as_str(),
        "bearer" | "basic" | "token"
    ) && !token.is_empty())
    .then_some((scheme, token))
}

/// Appends masked lines to a recording file; shared by every connection of the recorder.
pub struct RecordingWriter {
    inner: Mutex<WriterInner>,
    started: Instant,
}

struct WriterInner {
    file: File,
    seq: u64,
    masker: Masker,
    failed: bool,
    /// Set by [`RecordingWriter::finish`]: the file is final, later entries are dropped.
    finished: bool,
}

impl std::fmt::Debug for RecordingWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordingWriter").finish_non_exhaustive()
    }
}

impl RecordingWriter {
    /// Create (or truncate) `path`, readable by its owner only, and write the header.
    /// `known` are secrets to mask from the first line on, e.g. the credentials in the
    /// recorder's environment.
    pub fn create(
        path: &Path,
        upstream: &str,
        known: &[(&'static str, String)],
    ) -> std::io::Result<Self> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let file = options.open(path)?;
        let mut masker = Masker::new();
        for (kind, secret) in known {
            if !secret.is_empty() {
                masker.learn(kind, secret);
            }
        }
        let writer = RecordingWriter {
            inner: Mutex::new(WriterInner {
                file,
                seq: 0,
                masker,
                failed: false,
                finished: false,
            }),
            started: Instant::now(),
        };
        writer.write(Entry::Header(Header {
            format: FORMAT.to_string(),
            version: VERSION,
            upstream: upstream.to_string(),
        }));
        let failed = writer.lock().failed;
        if failed {
            return Err(std::io::Error::other("cannot write the recording header"));
        }
        Ok(writer)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, WriterInner> {
        // A poisoned lock still holds a usable file handle.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Remember a secret that must never be written.
    pub fn learn(&self, kind: &'static str, secret: &str) {
        if !secret.is_empty() {
            self.lock().masker.learn(kind, secret);
        }
    }

    /// Mask `entry` and append it as one line. Each line goes out in one write, so a
    /// recorder stopped abruptly leaves whole lines behind; a write error is reported once
    /// and recording goes on best-effort (the proxy keeps serving the client).
    pub fn write(&self, entry: Entry) {
        let ms = self.started.elapsed().as_millis() as u64;
        let mut inner = self.lock();
        if inner.finished {
            return;
        }
        let line = Line {
            seq: inner.seq,
            ms,
            entry,
        };
        let Ok(mut value) = serde_json::to_value(&line) else {
            return;
        };
        inner.masker.mask(&mut value);
        let Ok(mut text) = serde_json::to_string(&value) else {
            return;
        };
        text.push('\n');
        match inner.file.write_all(text.as_bytes()) {
            Ok(()) => inner.seq += 1,
            Err(err) => {
                if !inner.failed {
                    tracing::warn!("cannot write to the recording: {err}");
                }
                inner.failed = true;
            }
        }
    }
}

impl RecordingWriter {
    /// End the recording: later entries are dropped (a relay still winding down must not
    /// add to a file its owner already reads), and what was written is flushed to disk.
    /// An error when a line could not be written earlier: the recording is incomplete.
    pub fn finish(&self) -> std::io::Result<()> {
        let mut inner = self.lock();
        inner.finished = true;
        inner.file.flush()?;
        inner.file.sync_data()?;
        if inner.failed {
            return Err(std::io::Error::other(
                "a line could not be written: the recording is incomplete",
            ));
        }
        Ok(())
    }
}

/// A recording read back.
#[derive(Clone, Debug)]
pub struct Recording {
    /// The header line.
    pub header: Header,
    /// Every other line of a known kind, in file order.
    pub lines: Vec<Line>,
}

impl Recording {
    /// Read and check a recording file.
    pub fn load(path: &Path) -> Result<Recording, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the recording {}: {e}", path.display()))?;
        Recording::parse(&text)
    }

    /// Parse a recording's text.
    pub fn parse(text: &str) -> Result<Recording, String> {
        let mut header = None;
        let mut lines = Vec::new();
        for (n, raw) in text.lines().enumerate() {
            if raw.trim().is_empty() {
                continue;
            }
            let value: Value =
                serde_json::from_str(raw).map_err(|e| format!("line {}: not JSON: {e}", n + 1))?;
            if header.is_none() {
                header = Some(parse_header(&value, n + 1)?);
                continue;
            }
            let known = matches!(
                value.get("kind").and_then(Value::as_str),
                Some("http" | "webhook" | "socket.open" | "frame" | "socket.close")
            );
            if !known {
                // A kind added by a later minor revision: a replay goes on without it.
                continue;
            }
            let line: Line = serde_json::from_value(value)
                .map_err(|e| format!("line {}: not a recording line: {e}", n + 1))?;
            lines.push(line);
        }
        let header = header.ok_or("the recording is empty")?;
        Ok(Recording { header, lines })
    }
}

fn parse_header(value: &Value, n: usize) -> Result<Header, String> {
    let line: Line = serde_json::from_value(value.clone())
        .map_err(|e| format!("line {n}: not a recording header: {e}"))?;
    let Entry::Header(header) = line.entry else {
        return Err(format!("line {n}: the first line must be the header"));
    };
    if header.format != FORMAT {
        return Err(format!(
            "line {n}: format {:?} is not {FORMAT}",
            header.format
        ));
    }
    if header.version == 0 || header.version > VERSION {
        return Err(format!(
            "recording version {} is not supported (this emulator reads version {VERSION})",
            header.version
        ));
    }
    Ok(header)
}

/// Whether `path` is socket.info (the recorder rewrites it, the replay answers it).
pub(crate) fn is_socket_info(path: &str) -> bool {
    path.trim_end_matches('/').ends_with("/socket.info")
}

/// Whether a request asks to become a websocket.
pub(crate) fn is_upgrade(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn named_secrets_are_masked_and_then_found_anywhere() {
        let mut m = Masker::new();
        let mut v = json!({
            "headers": {"authorization": "Bearer sk-live-1234567890", "x-flowai-clientid": "abc"},
            "body": {"json": {"verifyKey": "vk-secret-value", "url": "http://h/?k=vk-secret-value"}},
            "text": "the key sk-live-1234567890 leaked",
        });
        m.mask(&mut v);
        let text = v.to_string();
        assert!(!text.contains("sk-live-1234567890"), "{text}");
        assert!(!text.contains("vk-secret-value"), "{text}");
        assert_eq!(v["headers"]["authorization"], "Bearer <masked:api-key:1>");
        // A short secret is masked where it is named even though it is not searched for.
        assert_eq!(v["headers"]["x-flowai-clientid"], "<masked:client-id:1>");
        assert_eq!(
            v["body"]["json"]["url"],
            "http://h/?k=<masked:verify-key:1>"
        );
        assert_eq!(v["text"], "the key <masked:api-key:1> leaked");
    }

    #[test]
    fn a_client_id_masks_its_organisation_and_channel_and_its_url_form() {
        let org = "0b0f8a3c-5a7e-4b1e-9f1d-2b8b2d4c6e8f";
        let channel = "5c3f0e0fbd0a4a8c9a1b2c3d4e5f6a7b";
        let client_id =
            base64::engine::general_purpose::STANDARD.encode(format!("{org}|{channel}"));
        let encoded: String = url::form_urlencoded::byte_serialize(client_id.as_bytes()).collect();
        let mut m = Masker::new();
        m.learn("client-id", &client_id);
        let mut v = json!({
            "path": format!("/socket.info?clientId={encoded}"),
            "thread": format!("0123|{channel}"),
            "organisationId": org,
        });
        m.mask(&mut v);
        let text = v.to_string();
        for secret in [client_id.as_str(), encoded.as_str(), org, channel] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert_eq!(v["thread"], "0123|<masked:channel:1>");
    }

    #[test]
    fn a_nonce_frame_is_masked() {
        let mut m = Masker::new();
        let mut v = json!({"type": "secret.generated", "payload": {"nonce": "n-0123456789"}});
        m.mask(&mut v);
        assert_eq!(v["payload"]["nonce"], "<masked:nonce:1>");
        let mut echo =
            json!({"type": "message.send", "payload": {"speech": "hi", "nonce": "n-0123456789"}});
        m.mask(&mut echo);
        assert_eq!(echo["payload"]["nonce"], "<masked:nonce:1>");
    }

    #[test]
    fn header_version_is_checked_and_unknown_kinds_are_skipped() {
        let ok = concat!(
            r#"{"seq":0,"ms":0,"kind":"recording","format":"flowai-recording","version":1,"upstream":"http://u"}"#,
            "\n",
            r#"{"seq":1,"ms":3,"kind":"something.new","x":1}"#,
            "\n",
            r#"{"seq":2,"ms":4,"kind":"frame","conn":1,"from":"client","body":{"json":{"type":"ping"}}}"#,
            "\n"
        );
        let r = Recording::parse(ok).unwrap();
        assert_eq!(r.header.version, 1);
        assert_eq!(r.lines.len(), 1);
        let newer = r#"{"seq":0,"ms":0,"kind":"recording","format":"flowai-recording","version":2,"upstream":"u"}"#;
        assert!(Recording::parse(newer).unwrap_err().contains("version 2"));
        assert!(Recording::parse("").is_err());
    }

    #[test]
    fn bodies_round_trip() {
        assert_eq!(Body::from_bytes(b""), None);
        assert_eq!(
            Body::from_bytes(br#"{"a":1}"#),
            Some(Body::Json(json!({"a": 1})))
        );
        assert_eq!(Body::from_bytes(b"hello"), Some(Body::Text("hello".into())));
        let bin = Body::from_bytes(&[0xff, 0x00, 0x10]).unwrap();
        assert_eq!(bin.to_bytes(), vec![0xff, 0x00, 0x10]);
        let big = vec![b'a'; MAX_RECORDED_BODY + 1];
        assert!(matches!(Body::from_bytes(&big), Some(Body::Omitted { .. })));
    }
}
