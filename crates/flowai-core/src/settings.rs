//! Settings of every client in one place: defaults, the `FLOWAI_*` environment, explicit overrides and validation.
//!
//! Every binding passes its user's settings through as one JSON object (a Python dict, a
//! JS object, a C JSON string) and gets the client's options back, or the same
//! `FLOWAI_INVALID_ARGUMENT` error with the same message in every language. Field names
//! are snake_case; camelCase names are accepted too (the Node case rule). A field left
//! out or `null` takes its environment variable when it has one, else its default.
//! Durations are whole milliseconds (`*_ms`) and must be greater than zero.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::aida::AidaOptions;
use crate::backoff::Backoff;
use crate::config::{Config, env};
use crate::error::{Error, Result};
use crate::event::to_snake;
use crate::models::Originator;
use crate::secret::Secret;
use crate::socket::SessionOptions;
use crate::tls::CaCert;
use crate::webhook::ReceiverOptions;

/// The environment variable a receiver's verify key is read from.
pub const VERIFY_KEY_ENV: &str = "FLOWAI_VERIFY_KEY";

/// The environment variable naming the Flow REST API v1 base URL in full.
pub const REST_URL_ENV: &str = "FLOWAI_REST_URL";

/// The environment variable naming the Redis that receiver replicas share for dedupe.
pub const DEDUP_URL_ENV: &str = "FLOWAI_DEDUP_URL";

/// Which environment variable fills which field, for every client.
const ENV_FIELDS: [(&str, &str); 11] = [
    ("api_url", env::API_URL),
    ("messaging_key", env::MESSAGING_KEY),
    ("management_key", env::MANAGEMENT_KEY),
    ("client_id", env::CLIENT_ID),
    ("aida_url", env::AIDA_URL),
    ("aida_bot", env::AIDA_BOT),
    ("aida_token", env::AIDA_TOKEN),
    ("ca_cert", env::CA_CERT),
    ("verify_key", VERIFY_KEY_ENV),
    ("rest_url", REST_URL_ENV),
    ("dedup_url", DEDUP_URL_ENV),
];

/// The `FLOWAI_*` variable that fills the snake_case setting `field`, if one does.
pub fn env_var(field: &str) -> Option<&'static str> {
    ENV_FIELDS
        .iter()
        .find(|(name, _)| *name == field)
        .map(|(_, var)| *var)
}

/// `settings` as the `FLOWAI_*` variables that carry them (string values as they are, others
/// as JSON), for code that reads its environment or runs in a subprocess; fields with no
/// variable are left out.
pub fn as_env(settings: &Map<String, Value>) -> Map<String, Value> {
    settings
        .iter()
        .filter_map(|(field, value)| {
            let text = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            env_var(field).map(|var| (var.to_string(), Value::String(text)))
        })
        .collect()
}

/// Turn `overrides` (an object or null) plus the environment into the settings type `T`.
///
/// Keys are normalized to snake_case, `null` values dropped, and each field of `T` that
/// is still missing and has a `FLOWAI_*` variable takes that variable (trimmed, when not
/// empty). Unknown fields are an error, so a misspelt setting is never silently ignored.
pub fn resolve<T: DeserializeOwned>(
    overrides: &Value,
    lookup: impl Fn(&str) -> Option<String>,
    fields: &[&str],
) -> Result<T> {
    let mut map = Map::new();
    match overrides {
        Value::Null => {}
        Value::Object(given) => {
            for (key, value) in given {
                if !value.is_null() {
                    map.insert(to_snake(key), value.clone());
                }
            }
        }
        _ => return Err(Error::invalid("settings must be an object")),
    }
    // A base URL given in the settings beats one from the environment, even when the
    // environment names it through another field.
    let explicit_api_url = map.contains_key("api_url");
    for (field, var) in ENV_FIELDS {
        if field == "rest_url" && explicit_api_url {
            continue;
        }
        if fields.contains(&field) && !map.contains_key(field) {
            if let Some(value) = lookup(var).map(|v| v.trim().to_string()) {
                if !value.is_empty() {
                    map.insert(field.to_string(), Value::String(value));
                }
            }
        }
    }
    // One settings object may serve every client (as the environment does): fields of
    // other clients are left out, and only a name no client knows is an error.
    if let Some(unknown) = map
        .keys()
        .find(|k| !ALL_FIELDS.iter().any(|f| f.contains(&k.as_str())))
    {
        return Err(Error::invalid(format!(
            "invalid settings: unknown field `{unknown}`"
        )));
    }
    map.retain(|k, _| fields.contains(&k.as_str()));
    serde_json::from_value(Value::Object(map))
        .map_err(|e| Error::invalid(format!("invalid settings: {e}")))
}

/// The fields of the embedded emulator: [`EmulatorSettings::FIELDS`].
pub const EMULATOR_FIELDS: &[&str] = EmulatorSettings::FIELDS;

/// Every client's fields.
const ALL_FIELDS: [&[&str]; 7] = [
    RestSettings::FIELDS,
    MessagingSettings::FIELDS,
    ManagementSettings::FIELDS,
    SessionSettings::FIELDS,
    AidaSettings::FIELDS,
    ReceiverSettings::FIELDS,
    EMULATOR_FIELDS,
];

/// The process environment, as [`resolve`] reads it.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn millis(value: Option<u64>, name: &str, default: Duration) -> Result<Duration> {
    match value {
        None => Ok(default),
        Some(0) => Err(Error::invalid(format!("{name} must be greater than 0"))),
        Some(ms) => Ok(Duration::from_millis(ms)),
    }
}

fn count(value: Option<u64>, name: &str, default: usize) -> Result<usize> {
    match value {
        None => Ok(default),
        Some(0) => Err(Error::invalid(format!("{name} must be at least 1"))),
        Some(n) => usize::try_from(n).map_err(|_| Error::invalid(format!("{name} is too large"))),
    }
}

fn required(value: Option<String>, name: &str, var: &str) -> Result<Secret> {
    match value {
        Some(v) if !v.trim().is_empty() => Ok(Secret::new(v)),
        _ => Err(Error::invalid(format!(
            "no {name} given: set {name} or {var}"
        ))),
    }
}

fn ca_cert(value: Option<String>) -> Option<CaCert> {
    value.map(|v| {
        if v.contains("-----BEGIN") {
            CaCert::pem(v)
        } else {
            CaCert::file(v.trim())
        }
    })
}

/// An http(s) URL without its trailing slash, or the error naming `name`.
fn http_url(value: Option<String>, name: &str, default: &str) -> Result<String> {
    let url = value.unwrap_or_else(|| default.to_string());
    let url = url.trim().trim_end_matches('/').to_string();
    crate::config::parse_http_url(&url, name)?;
    Ok(url)
}

/// The fields every HTTP client shares.
fn http_config(
    api_url: Option<String>,
    timeout_ms: Option<u64>,
    ca: Option<String>,
) -> Result<Config> {
    let mut config = Config::new();
    config.api_url = http_url(api_url, "api_url", crate::config::DEFAULT_API_URL)?;
    config.request_timeout = millis(timeout_ms, "timeout_ms", config.request_timeout)?;
    config.ca_cert = ca_cert(ca);
    Ok(config)
}

/// Settings of a [`crate::messaging::MessagingClient`].
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct MessagingSettings {
    /// Base URL (`FLOWAI_API_URL`, default `https://api.flow.ai`).
    pub api_url: Option<String>,
    /// Messaging API key (`FLOWAI_MESSAGING_KEY`, required).
    pub messaging_key: Option<String>,
    /// Deadline of one request (default 30000).
    pub timeout_ms: Option<u64>,
    /// A PEM file or PEM text to trust besides the platform's roots (`FLOWAI_CA_CERT`).
    pub ca_cert: Option<String>,
}

impl MessagingSettings {
    /// Every field, for [`resolve`].
    pub const FIELDS: &'static [&'static str] =
        &["api_url", "messaging_key", "timeout_ms", "ca_cert"];

    /// The validated configuration.
    pub fn into_config(self) -> Result<Config> {
        let mut config = http_config(self.api_url, self.timeout_ms, self.ca_cert)?;
        config.messaging_key = Some(required(
            self.messaging_key,
            "messaging_key",
            env::MESSAGING_KEY,
        )?);
        Ok(config)
    }
}

/// Settings of a [`crate::management::ManagementClient`].
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ManagementSettings {
    /// Base URL (`FLOWAI_API_URL`, default `https://api.flow.ai`).
    pub api_url: Option<String>,
    /// Management API key (`FLOWAI_MANAGEMENT_KEY`, required).
    pub management_key: Option<String>,
    /// Deadline of one request (default 30000).
    pub timeout_ms: Option<u64>,
    /// A PEM file or PEM text to trust besides the platform's roots (`FLOWAI_CA_CERT`).
    pub ca_cert: Option<String>,
}

impl ManagementSettings {
    /// Every field, for [`resolve`].
    pub const FIELDS: &'static [&'static str] =
        &["api_url", "management_key", "timeout_ms", "ca_cert"];

    /// The validated configuration.
    pub fn into_config(self) -> Result<Config> {
        let mut config = http_config(self.api_url, self.timeout_ms, self.ca_cert)?;
        config.management_key = Some(required(
            self.management_key,
            "management_key",
            env::MANAGEMENT_KEY,
        )?);
        Ok(config)
    }
}

/// Settings of a [`crate::v1::RestClient`] (the Flow REST API v1).
///
/// The base URL is `rest_url` when given (`FLOWAI_REST_URL`), else `{api_url}/rest/v1`, so
/// the one `FLOWAI_API_URL` that points every other client at a server (the emulator)
/// points this one there too; an `api_url` that already ends in `/rest/v1` is taken as is.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RestSettings {
    /// Base URL of the service (`FLOWAI_API_URL`, default `https://api.flow.ai`).
    pub api_url: Option<String>,
    /// The v1 base URL in full (`FLOWAI_REST_URL`); overrides `api_url`.
    pub rest_url: Option<String>,
    /// Messaging API key (`FLOWAI_MESSAGING_KEY`, required).
    pub messaging_key: Option<String>,
    /// Deadline of each attempt of a call (default 30000).
    pub timeout_ms: Option<u64>,
    /// Retries of calls that are safe to repeat; 0 turns retrying off (default 2).
    pub max_retries: Option<u32>,
    /// Ceiling of the first backoff wait (default 500).
    pub retry_base_ms: Option<u64>,
    /// Longest wait between attempts, and longest `Retry-After` honoured (default 20000).
    pub retry_max_ms: Option<u64>,
    /// Proxy URL for every request; without it the usual `HTTPS_PROXY` / `HTTP_PROXY` /
    /// `ALL_PROXY` / `NO_PROXY` environment applies.
    pub proxy: Option<String>,
    /// A PEM file or PEM text to trust besides the platform's roots (`FLOWAI_CA_CERT`).
    pub ca_cert: Option<String>,
}

impl RestSettings {
    /// Every field, for [`resolve`].
    pub const FIELDS: &'static [&'static str] = &[
        "api_url",
        "rest_url",
        "messaging_key",
        "timeout_ms",
        "max_retries",
        "retry_base_ms",
        "retry_max_ms",
        "proxy",
        "ca_cert",
    ];

    /// The validated options.
    pub fn into_options(self) -> Result<crate::v1::RestOptions> {
        let base_url = match self.rest_url {
            Some(url) => http_url(Some(url), "rest_url", crate::v1::DEFAULT_REST_URL)?,
            None => {
                let api = http_url(self.api_url, "api_url", crate::config::DEFAULT_API_URL)?;
                if api.ends_with("/rest/v1") {
                    api
                } else {
                    format!("{api}/rest/v1")
                }
            }
        };
        let key = required(self.messaging_key, "messaging_key", env::MESSAGING_KEY)?;
        let mut o = crate::v1::RestOptions::new(base_url, key);
        o.timeout = millis(self.timeout_ms, "timeout_ms", o.timeout)?;
        if let Some(n) = self.max_retries {
            o.retry.max_retries = n;
        }
        o.retry.base = millis(self.retry_base_ms, "retry_base_ms", o.retry.base)?;
        o.retry.max = millis(self.retry_max_ms, "retry_max_ms", o.retry.max)?;
        if let Some(proxy) = self.proxy.filter(|p| !p.trim().is_empty()) {
            // Checked here so a bad value fails with the same error in every language; the
            // value itself is never echoed, since it may carry credentials.
            if url::Url::parse(proxy.trim()).is_err() {
                return Err(Error::invalid("proxy is not a valid URL"));
            }
            o.proxy = Some(Secret::new(proxy.trim()));
        }
        o.ca_cert = ca_cert(self.ca_cert);
        Ok(o)
    }
}

impl crate::v1::RestClient {
    /// A client from the `FLOWAI_*` environment ([`RestSettings`]). It lives beside the
    /// settings so that the v1 module does not depend on this one.
    pub fn from_env() -> Result<crate::v1::RestClient> {
        let settings: RestSettings = resolve(&Value::Null, process_env, RestSettings::FIELDS)?;
        crate::v1::RestClient::new(settings.into_options()?)
    }
}

/// Settings of a socket [`crate::socket::Session`].
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SessionSettings {
    /// Base URL of socket.info and the thread calls (`FLOWAI_API_URL`).
    pub api_url: Option<String>,
    /// The channel's client id (`FLOWAI_CLIENT_ID`, required).
    pub client_id: Option<String>,
    /// The thread to talk as; generated when absent.
    pub thread_id: Option<String>,
    /// The session id sent to socket.info; generated when absent.
    pub session_id: Option<String>,
    /// Originator of sends that carry none (`{name, role, profile, metadata}`).
    pub originator: Option<Value>,
    /// Ping period (default 30000).
    pub ping_interval_ms: Option<u64>,
    /// A ping unanswered this long means a dead connection (default 10000).
    pub pong_timeout_ms: Option<u64>,
    /// Deadline of one send, until its delivery (default 30000).
    pub send_timeout_ms: Option<u64>,
    /// Deadline of socket.info plus the handshake, and of the thread calls (default 15000).
    pub connect_timeout_ms: Option<u64>,
    /// Sends waiting for delivery at once (default 1000).
    pub queue_capacity: Option<u64>,
    /// Unread events before the session stops reading the socket (default 1024).
    pub event_capacity: Option<u64>,
    /// First reconnect ceiling (default 500).
    pub backoff_base_ms: Option<u64>,
    /// Largest reconnect ceiling (default 30000).
    pub backoff_cap_ms: Option<u64>,
    /// A PEM file or PEM text to trust besides the platform's roots (`FLOWAI_CA_CERT`).
    pub ca_cert: Option<String>,
}

impl SessionSettings {
    /// Every field, for [`resolve`].
    pub const FIELDS: &'static [&'static str] = &[
        "api_url",
        "client_id",
        "thread_id",
        "session_id",
        "originator",
        "ping_interval_ms",
        "pong_timeout_ms",
        "send_timeout_ms",
        "connect_timeout_ms",
        "queue_capacity",
        "event_capacity",
        "backoff_base_ms",
        "backoff_cap_ms",
        "ca_cert",
    ];

    /// The validated options.
    pub fn into_options(self) -> Result<SessionOptions> {
        let api_url = http_url(self.api_url, "api_url", crate::config::DEFAULT_API_URL)?;
        let client_id = required(self.client_id, "client_id", env::CLIENT_ID)?;
        let mut o = SessionOptions::new(api_url, client_id.expose());
        if matches!(&self.thread_id, Some(t) if t.trim().is_empty()) {
            return Err(Error::invalid("thread_id must not be empty"));
        }
        o.thread_id = self.thread_id;
        o.session_id = self.session_id;
        if let Some(value) = self.originator {
            let originator: Originator = serde_json::from_value(value)
                .map_err(|e| Error::invalid(format!("invalid settings: originator: {e}")))?;
            o.originator = Some(originator);
        }
        o.ping_interval = millis(self.ping_interval_ms, "ping_interval_ms", o.ping_interval)?;
        o.pong_timeout = millis(self.pong_timeout_ms, "pong_timeout_ms", o.pong_timeout)?;
        o.send_timeout = millis(self.send_timeout_ms, "send_timeout_ms", o.send_timeout)?;
        o.connect_timeout = millis(
            self.connect_timeout_ms,
            "connect_timeout_ms",
            o.connect_timeout,
        )?;
        o.queue_capacity = count(self.queue_capacity, "queue_capacity", o.queue_capacity)?;
        o.event_capacity = count(self.event_capacity, "event_capacity", o.event_capacity)?;
        let defaults = Backoff::default();
        o.backoff = Backoff {
            base: millis(self.backoff_base_ms, "backoff_base_ms", defaults.base)?,
            cap: millis(self.backoff_cap_ms, "backoff_cap_ms", defaults.cap)?,
            reset_after: defaults.reset_after,
        };
        o.ca_cert = ca_cert(self.ca_cert);
        Ok(o)
    }
}

/// Settings of an [`crate::aida::AidaClient`].
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AidaSettings {
    /// Server URL, http(s) or ws(s) (`FLOWAI_AIDA_URL`, required).
    pub aida_url: Option<String>,
    /// Bot UUID (`FLOWAI_AIDA_BOT`, required).
    pub aida_bot: Option<String>,
    /// Access token (`FLOWAI_AIDA_TOKEN`, required).
    pub aida_token: Option<String>,
    /// Deadline of each image upload and download (default 30000).
    pub timeout_ms: Option<u64>,
    /// Deadline of a push's reply (default 10000).
    pub push_timeout_ms: Option<u64>,
    /// Time between heartbeats (default 30000).
    pub heartbeat_interval_ms: Option<u64>,
    /// Deadline of one connection attempt (default 10000).
    pub connect_timeout_ms: Option<u64>,
    /// A PEM file or PEM text to trust besides the platform's roots (`FLOWAI_CA_CERT`).
    pub ca_cert: Option<String>,
}

impl AidaSettings {
    /// Every field, for [`resolve`].
    pub const FIELDS: &'static [&'static str] = &[
        "aida_url",
        "aida_bot",
        "aida_token",
        "timeout_ms",
        "push_timeout_ms",
        "heartbeat_interval_ms",
        "connect_timeout_ms",
        "ca_cert",
    ];

    /// The validated options.
    pub fn into_options(self) -> Result<AidaOptions> {
        let url = required(self.aida_url, "aida_url", env::AIDA_URL)?;
        let url = url.expose().trim().trim_end_matches('/').to_string();
        crate::aida::http_base(&url)?;
        let bot = required(self.aida_bot, "aida_bot", env::AIDA_BOT)?;
        let token = required(self.aida_token, "aida_token", env::AIDA_TOKEN)?;
        let mut o = AidaOptions::new(url, bot.expose().trim(), token);
        o.request_timeout = millis(self.timeout_ms, "timeout_ms", o.request_timeout)?;
        let s = &mut o.settings;
        s.push_timeout = millis(self.push_timeout_ms, "push_timeout_ms", s.push_timeout)?;
        s.heartbeat_interval = millis(
            self.heartbeat_interval_ms,
            "heartbeat_interval_ms",
            s.heartbeat_interval,
        )?;
        s.connect_timeout = millis(
            self.connect_timeout_ms,
            "connect_timeout_ms",
            s.connect_timeout,
        )?;
        o.ca_cert = ca_cert(self.ca_cert);
        Ok(o)
    }
}

/// Settings of a [`crate::webhook::WebhookReceiver`].
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ReceiverSettings {
    /// The verify key of the subscription (`FLOWAI_VERIFY_KEY`, required).
    pub verify_key: Option<String>,
    /// Address to bind (default 127.0.0.1).
    pub host: Option<String>,
    /// Port to bind; 0 picks a free one (default 0).
    pub port: Option<u16>,
    /// The one path served (default `/webhook`).
    pub path: Option<String>,
    /// Header the verify key travels in (default `X-Flowai-Verify-Key`).
    pub verify_header: Option<String>,
    /// Largest body accepted (default 1048576).
    pub max_body_bytes: Option<u64>,
    /// Calls waiting for the app before new ones get 503 (default 1024).
    pub queue_capacity: Option<u64>,
    /// Delivery ids remembered to drop retried duplicates (default 4096).
    pub dedupe_capacity: Option<u64>,
    /// A Redis shared by every replica, `redis://host:port` (`FLOWAI_DEDUP_URL`); without
    /// it each process remembers on its own.
    pub dedup_url: Option<String>,
    /// How long a shared claim holds a call against other replicas (default 60000).
    pub dedup_claim_ttl_ms: Option<u64>,
    /// How long a handled call is remembered in the shared store (default 86400000).
    pub dedup_done_ttl_ms: Option<u64>,
    /// Handle calls without dedupe while the shared store is away, instead of 503 (default false).
    pub dedup_fail_open: Option<bool>,
}

impl ReceiverSettings {
    /// Every field, for [`resolve`].
    pub const FIELDS: &'static [&'static str] = &[
        "verify_key",
        "host",
        "port",
        "path",
        "verify_header",
        "max_body_bytes",
        "queue_capacity",
        "dedupe_capacity",
        "dedup_url",
        "dedup_claim_ttl_ms",
        "dedup_done_ttl_ms",
        "dedup_fail_open",
    ];

    /// The validated options.
    pub fn into_options(self) -> Result<ReceiverOptions> {
        let key = required(self.verify_key, "verify_key", VERIFY_KEY_ENV)?;
        let mut o = ReceiverOptions::new(key);
        let host: IpAddr = match self.host {
            None => o.addr.ip(),
            Some(h) => h
                .trim()
                .parse()
                .map_err(|_| Error::invalid(format!("host must be an IP address, not {h:?}")))?,
        };
        o.addr = SocketAddr::new(host, self.port.unwrap_or(0));
        if let Some(path) = self.path {
            if !path.starts_with('/') {
                return Err(Error::invalid("path must start with '/'"));
            }
            o.path = path;
        }
        if let Some(header) = self.verify_header {
            o.verify_header = header;
        }
        o.max_body_bytes = count(self.max_body_bytes, "max_body_bytes", o.max_body_bytes)?;
        o.queue_capacity = count(self.queue_capacity, "queue_capacity", o.queue_capacity)?;
        o.dedupe_capacity = match self.dedupe_capacity {
            None => o.dedupe_capacity,
            Some(n) => {
                usize::try_from(n).map_err(|_| Error::invalid("dedupe_capacity is too large"))?
            }
        };
        if let Some(url) = self.dedup_url {
            crate::webhook::dedupe::redis_target(&url)?;
            o.dedup_url = Some(Secret::new(url.trim()));
        }
        o.dedup_claim_ttl = millis(
            self.dedup_claim_ttl_ms,
            "dedup_claim_ttl_ms",
            o.dedup_claim_ttl,
        )?;
        o.dedup_done_ttl = millis(
            self.dedup_done_ttl_ms,
            "dedup_done_ttl_ms",
            o.dedup_done_ttl,
        )?;
        o.dedup_fail_open = self.dedup_fail_open.unwrap_or(o.dedup_fail_open);
        Ok(o)
    }
}

/// Settings of the embedded emulator (the bindings' `emulator` kind): the emulator itself,
/// or a recorder in front of a real service (`record` + `upstream`), or a recording served
/// again (`replay`).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct EmulatorSettings {
    /// A project file (flows in the Management API's JSON) instead of the built-in demo.
    pub project: Option<PathBuf>,
    /// Speed of the emulator's clocks (webhook retries, endpoint lifetimes); 1 is real time.
    pub time_scale: Option<f64>,
    /// Record instead: the file every exchange with `upstream` is written to, secrets masked.
    pub record: Option<PathBuf>,
    /// The service to record (with `record`), e.g. `https://api.flow.ai`.
    pub upstream: Option<String>,
    /// Serve this recording (made with `record`) instead of the emulator.
    pub replay: Option<PathBuf>,
}

/// What an `emulator` object runs: [`EmulatorSettings`] validated.
#[derive(Debug, Clone, PartialEq)]
pub enum EmulatorMode {
    /// The emulator; `None` fields keep the emulator's defaults.
    Emulate {
        /// A project file instead of the built-in demo.
        project: Option<PathBuf>,
        /// Speed of the clocks, greater than 0.
        time_scale: Option<f64>,
    },
    /// A recording proxy in front of `upstream`.
    Record {
        /// The recording to write.
        file: PathBuf,
        /// The service's base URL, without a trailing slash.
        upstream: String,
    },
    /// A recording served.
    Replay {
        /// The recording to read.
        file: PathBuf,
    },
}

impl EmulatorSettings {
    /// Every field, for [`resolve`].
    pub const FIELDS: &'static [&'static str] =
        &["project", "time_scale", "record", "upstream", "replay"];

    /// The validated mode. Settings that the chosen mode would ignore are refused, as an
    /// unknown field is: a recorder given a `project` must not look as if it used one.
    pub fn into_mode(self) -> Result<EmulatorMode> {
        let given = |name: &'static str, set: bool| set.then_some(name);
        if let Some(file) = self.replay {
            let others = [
                given("record", self.record.is_some()),
                given("upstream", self.upstream.is_some()),
                given("project", self.project.is_some()),
                given("time_scale", self.time_scale.is_some()),
            ];
            if let Some(other) = others.into_iter().flatten().next() {
                return Err(Error::invalid(format!(
                    "replay cannot be combined with {other}: a replay serves the recording as it is"
                )));
            }
            return Ok(EmulatorMode::Replay {
                file: non_empty_path(file, "replay")?,
            });
        }
        if let Some(file) = self.record {
            let others = [
                given("project", self.project.is_some()),
                given("time_scale", self.time_scale.is_some()),
            ];
            if let Some(other) = others.into_iter().flatten().next() {
                return Err(Error::invalid(format!(
                    "record cannot be combined with {other}: a recorder forwards to upstream"
                )));
            }
            let Some(upstream) = self.upstream else {
                return Err(Error::invalid(
                    "record needs upstream: the URL of the service to record",
                ));
            };
            return Ok(EmulatorMode::Record {
                file: non_empty_path(file, "record")?,
                upstream: upstream_url(&upstream)?,
            });
        }
        if self.upstream.is_some() {
            return Err(Error::invalid(
                "upstream is only used with record: give record too",
            ));
        }
        if let Some(scale) = self.time_scale
            && !(scale.is_finite() && scale > 0.0)
        {
            return Err(Error::invalid("time_scale must be greater than 0"));
        }
        Ok(EmulatorMode::Emulate {
            project: self.project,
            time_scale: self.time_scale,
        })
    }
}

fn non_empty_path(path: PathBuf, name: &str) -> Result<PathBuf> {
    if path.as_os_str().is_empty() {
        return Err(Error::invalid(format!("{name} must not be empty")));
    }
    Ok(path)
}

/// The service to record: an absolute http(s) URL without a trailing slash. A query or
/// credentials in it are refused, since every request is forwarded under it and the URL is
/// written to the recording's header.
fn upstream_url(raw: &str) -> Result<String> {
    let trimmed = raw.trim().trim_end_matches('/');
    let url = crate::config::parse_http_url(trimmed, "upstream")?;
    if url.query().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid(
            "upstream must not carry a query or credentials",
        ));
    }
    Ok(trimmed.to_string())
}

/// Debug without any field: settings hold keys.
macro_rules! opaque_debug {
    ($($name:ident),*) => {$(
        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name)).finish_non_exhaustive()
            }
        }
    )*};
}

opaque_debug!(
    RestSettings,
    MessagingSettings,
    ManagementSettings,
    SessionSettings,
    AidaSettings,
    ReceiverSettings,
    EmulatorSettings
);

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn messaging(value: Value, lookup: impl Fn(&str) -> Option<String>) -> Result<Config> {
        resolve::<MessagingSettings>(&value, lookup, MessagingSettings::FIELDS)?.into_config()
    }

    #[test]
    fn overrides_beat_the_environment_and_camel_case_is_accepted() {
        let env = |name: &str| match name {
            "FLOWAI_API_URL" => Some(" http://env.example/ ".into()),
            "FLOWAI_MESSAGING_KEY" => Some("env-key".into()),
            _ => None,
        };
        let c = messaging(json!({"timeoutMs": 1500}), env).expect("valid");
        assert_eq!(c.api_url, "http://env.example");
        assert_eq!(c.request_timeout, Duration::from_millis(1500));
        let c = messaging(
            json!({"api_url": "http://given:1", "messaging_key": null}),
            env,
        )
        .expect("valid");
        assert_eq!(c.api_url, "http://given:1");
        assert_eq!(
            c.messaging_key.as_ref().map(Secret::expose),
            Some("env-key")
        );
    }

    #[test]
    fn the_same_errors_for_every_caller() {
        let err = messaging(json!({"messaging_key": "k", "timeout_ms": 0}), no_env).unwrap_err();
        assert_eq!(err.code(), "FLOWAI_INVALID_ARGUMENT");
        assert_eq!(err.message(), "timeout_ms must be greater than 0");
        let err = messaging(
            json!({"messaging_key": "k", "api_url": "not a url"}),
            no_env,
        )
        .unwrap_err();
        assert_eq!(
            err.message(),
            "api_url is not a valid URL: relative URL without a base"
        );
        let err = messaging(json!({"messaging_key": "k", "colour": 1}), no_env).unwrap_err();
        assert!(
            err.message()
                .starts_with("invalid settings: unknown field `colour`")
        );
        let err = messaging(json!({}), no_env).unwrap_err();
        assert_eq!(
            err.message(),
            "no messaging_key given: set messaging_key or FLOWAI_MESSAGING_KEY"
        );
        let err = messaging(json!([1]), no_env).unwrap_err();
        assert_eq!(err.message(), "settings must be an object");
    }

    #[test]
    fn session_settings_cover_every_option() {
        let s: SessionSettings = resolve(
            &json!({
                "client_id": "c", "api_url": "http://h:1", "thread_id": "t",
                "ping_interval_ms": 100, "backoff_base_ms": 5, "queue_capacity": 3,
                "originator": {"name": "Ann", "role": "external"}
            }),
            no_env,
            SessionSettings::FIELDS,
        )
        .expect("valid");
        let o = s.into_options().expect("valid");
        assert_eq!(o.ping_interval, Duration::from_millis(100));
        assert_eq!(o.backoff.base, Duration::from_millis(5));
        assert_eq!(o.queue_capacity, 3);
        assert_eq!(o.thread_id.as_deref(), Some("t"));
        let err = resolve::<SessionSettings>(
            &json!({"client_id": "c", "event_capacity": 0}),
            no_env,
            SessionSettings::FIELDS,
        )
        .and_then(SessionSettings::into_options)
        .unwrap_err();
        assert_eq!(err.message(), "event_capacity must be at least 1");
    }

    #[test]
    fn aida_and_receiver_settings() {
        let env = |name: &str| match name {
            "FLOWAI_AIDA_URL" => Some("ws://127.0.0.1:9/socket".into()),
            "FLOWAI_AIDA_BOT" => Some("bot".into()),
            "FLOWAI_AIDA_TOKEN" => Some("tok".into()),
            _ => None,
        };
        let o = resolve::<AidaSettings>(&json!({"push_timeout_ms": 50}), env, AidaSettings::FIELDS)
            .and_then(AidaSettings::into_options)
            .expect("valid");
        assert_eq!(o.settings.push_timeout, Duration::from_millis(50));
        let err =
            resolve::<AidaSettings>(&json!({"aida_url": "ftp://x"}), env, AidaSettings::FIELDS)
                .and_then(AidaSettings::into_options)
                .unwrap_err();
        assert_eq!(err.code(), "FLOWAI_INVALID_ARGUMENT");

        let o = resolve::<ReceiverSettings>(
            &json!({"verify_key": "v", "port": 0, "path": "/hook"}),
            no_env,
            ReceiverSettings::FIELDS,
        )
        .and_then(ReceiverSettings::into_options)
        .expect("valid");
        assert_eq!(o.path, "/hook");
        let err = resolve::<ReceiverSettings>(
            &json!({"verify_key": "v", "path": "x"}),
            no_env,
            ReceiverSettings::FIELDS,
        )
        .and_then(ReceiverSettings::into_options)
        .unwrap_err();
        assert_eq!(err.message(), "path must start with '/'");
    }

    #[test]
    fn receiver_dedup_settings_and_their_environment_variable() {
        let env =
            |name: &str| (name == "FLOWAI_DEDUP_URL").then(|| "redis://:pw@127.0.0.1:7/1".into());
        let o = resolve::<ReceiverSettings>(
            &json!({"verify_key": "v", "dedupClaimTtlMs": 250, "dedup_fail_open": true}),
            env,
            ReceiverSettings::FIELDS,
        )
        .and_then(ReceiverSettings::into_options)
        .expect("valid");
        assert_eq!(
            o.dedup_url.as_ref().map(Secret::expose),
            Some("redis://:pw@127.0.0.1:7/1")
        );
        assert_eq!(o.dedup_claim_ttl, Duration::from_millis(250));
        assert!(o.dedup_fail_open);
        assert!(!format!("{o:?}").contains("pw@"));
        let o = resolve::<ReceiverSettings>(
            &json!({"verify_key": "v"}),
            no_env,
            ReceiverSettings::FIELDS,
        )
        .and_then(ReceiverSettings::into_options)
        .expect("valid");
        assert!(o.dedup_url.is_none() && !o.dedup_fail_open);
        let message = |value: Value| {
            resolve::<ReceiverSettings>(&value, no_env, ReceiverSettings::FIELDS)
                .and_then(ReceiverSettings::into_options)
                .unwrap_err()
                .message()
                .to_string()
        };
        assert_eq!(
            message(json!({"verify_key": "v", "dedup_url": "http://h"})),
            "dedup_url must be a redis:// URL, not http://"
        );
        assert_eq!(
            message(json!({"verify_key": "v", "dedup_done_ttl_ms": 0})),
            "dedup_done_ttl_ms must be greater than 0"
        );
    }

    #[test]
    fn rest_settings_derive_the_v1_base() {
        let env = |name: &str| match name {
            "FLOWAI_API_URL" => Some("http://127.0.0.1:9/".into()),
            "FLOWAI_MESSAGING_KEY" => Some("k".into()),
            _ => None,
        };
        let rest = |value: Value, lookup: &dyn Fn(&str) -> Option<String>| {
            resolve::<RestSettings>(&value, lookup, RestSettings::FIELDS)
                .and_then(RestSettings::into_options)
        };
        let o = rest(json!({"maxRetries": 0, "retry_base_ms": 10}), &env).expect("valid");
        assert_eq!(o.base_url, "http://127.0.0.1:9/rest/v1");
        assert_eq!(o.retry.max_retries, 0);
        assert_eq!(o.retry.base, Duration::from_millis(10));
        let o = rest(json!({"api_url": "http://h:1/rest/v1/"}), &env).expect("valid");
        assert_eq!(o.base_url, "http://h:1/rest/v1");
        let o = rest(json!({"rest_url": "http://other:2/x"}), &env).expect("valid");
        assert_eq!(o.base_url, "http://other:2/x");
        let env_rest = |name: &str| match name {
            "FLOWAI_REST_URL" => Some("http://env-rest:3/rest/v1".into()),
            _ => env(name),
        };
        let o = rest(json!({}), &env_rest).expect("valid");
        assert_eq!(o.base_url, "http://env-rest:3/rest/v1");
        let o = rest(json!({"apiUrl": "http://given:4"}), &env_rest).expect("valid");
        assert_eq!(
            o.base_url, "http://given:4/rest/v1",
            "explicit api_url beats env"
        );
        let o = rest(json!({}), &no_env_with_key).expect("valid");
        assert_eq!(o.base_url, "https://api.flow.ai/rest/v1");
        let err = rest(json!({"proxy": "::nope pw-secret"}), &env).unwrap_err();
        assert_eq!(err.message(), "proxy is not a valid URL");
        let err = rest(json!({"retry_max_ms": 0}), &env).unwrap_err();
        assert_eq!(err.message(), "retry_max_ms must be greater than 0");
    }

    fn no_env_with_key(name: &str) -> Option<String> {
        (name == "FLOWAI_MESSAGING_KEY").then(|| "k".to_string())
    }

    fn emulator(value: Value) -> Result<EmulatorMode> {
        resolve::<EmulatorSettings>(&value, no_env, EmulatorSettings::FIELDS)?.into_mode()
    }

    #[test]
    fn emulator_settings_choose_one_mode() {
        assert_eq!(
            emulator(json!({})).expect("valid"),
            EmulatorMode::Emulate {
                project: None,
                time_scale: None
            }
        );
        assert_eq!(
            emulator(json!({"record": "r.jsonl", "upstream": " http://127.0.0.1:9/ "}))
                .expect("valid"),
            EmulatorMode::Record {
                file: "r.jsonl".into(),
                upstream: "http://127.0.0.1:9".into()
            }
        );
        assert_eq!(
            emulator(json!({"replay": "r.jsonl", "timeScale": null})).expect("valid"),
            EmulatorMode::Replay {
                file: "r.jsonl".into()
            }
        );
        let message = |value: Value| {
            let err = emulator(value).unwrap_err();
            assert_eq!(err.code(), "FLOWAI_INVALID_ARGUMENT");
            err.message().to_string()
        };
        assert_eq!(
            message(json!({"record": "r"})),
            "record needs upstream: the URL of the service to record"
        );
        assert_eq!(
            message(json!({"upstream": "http://h"})),
            "upstream is only used with record: give record too"
        );
        assert_eq!(
            message(json!({"replay": "r", "record": "w", "upstream": "http://h"})),
            "replay cannot be combined with record: a replay serves the recording as it is"
        );
        assert_eq!(
            message(json!({"replay": "r", "time_scale": 0.5})),
            "replay cannot be combined with time_scale: a replay serves the recording as it is"
        );
        assert_eq!(
            message(json!({"replay": "r", "project": "p.json"})),
            "replay cannot be combined with project: a replay serves the recording as it is"
        );
        assert_eq!(
            message(json!({"record": "r", "upstream": "http://h", "project": "p"})),
            "record cannot be combined with project: a recorder forwards to upstream"
        );
        assert_eq!(message(json!({"replay": ""})), "replay must not be empty");
        assert_eq!(
            message(json!({"record": "r", "upstream": "ftp://h"})),
            "upstream must be http or https, not ftp"
        );
        assert_eq!(
            message(json!({"record": "r", "upstream": "http://user:pw@h"})),
            "upstream must not carry a query or credentials"
        );
        assert_eq!(
            message(json!({"time_scale": 0})),
            "time_scale must be greater than 0"
        );
        assert!(message(json!({"replay": 3})).starts_with("invalid settings: invalid type"));
    }
}
