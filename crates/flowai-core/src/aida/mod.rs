//! The AIDA chatbot client: sessions with a bot over one Phoenix channel `bot:<uuid>`.
//!
//! One [`AidaClient`] holds one websocket and the channel of one bot; any number of
//! [`AidaSession`]s share it. AIDA broadcasts every session's `btu_msg` replies to every
//! client joined to the bot, so **a client sees all sessions' traffic of its bot**; each
//! session's [`AidaSession::recv`] filters the replies of that session only, and
//! [`AidaClient::messages`] gives the unfiltered stream.
//!
//! Images go over HTTP: a multipart upload to `{base}/content/image/<bot>/<session>`, then
//! a `utb_img` push with the returned id; `{base}/content/image/<id>` serves them back.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use serde_json::{Map, Value, json};
use tokio::sync::{Mutex, watch};

use crate::config::{Config, env};
use crate::error::{Error, ErrorKind, Result};
use crate::http;
use crate::phoenix::{
    Channel, ChannelEvent, ChannelEvents, MessageFilter, PhoenixOptions, PhoenixSocket,
    SocketEvents, SocketSettings,
};
use crate::secret::Secret;

/// Event of a bot reply.
pub const EVENT_BOT_MESSAGE: &str = "btu_msg";

/// Largest image accepted for upload.
pub const MAX_IMAGE_BYTES: usize = 50 * 1024 * 1024;

/// How to reach one AIDA bot. Debug never shows the token.
#[derive(Clone)]
pub struct AidaOptions {
    /// Server URL: `http(s)://host` or `ws(s)://host/socket`.
    pub url: String,
    /// Bot UUID.
    pub bot: String,
    /// Access token of the bot.
    pub token: Secret,
    /// Socket timers (heartbeat, push deadline, reconnect and rejoin schedules) and limits.
    pub settings: SocketSettings,
    /// Deadline of each image upload and download.
    pub request_timeout: Duration,
    /// An extra root certificate for `wss://` and the image calls, besides the platform's roots.
    pub ca_cert: Option<crate::tls::CaCert>,
}

impl fmt::Debug for AidaOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AidaOptions")
            .field("bot", &self.bot)
            .field("token", &self.token)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl AidaOptions {
    /// Options with phoenix.js's default timers.
    pub fn new(url: impl Into<String>, bot: impl Into<String>, token: impl Into<Secret>) -> Self {
        AidaOptions {
            url: url.into(),
            bot: bot.into(),
            token: token.into(),
            settings: SocketSettings::default(),
            request_timeout: Duration::from_secs(30),
            ca_cert: None,
        }
    }

    /// Options from `FLOWAI_AIDA_URL`, `FLOWAI_AIDA_BOT` and `FLOWAI_AIDA_TOKEN` in `config`.
    pub fn from_config(config: &Config) -> Result<Self> {
        let missing = |what: &str, var: &str| {
            Error::invalid(format!("no AIDA {what} given: pass one or set {var}"))
        };
        let url = config
            .aida_url
            .clone()
            .ok_or_else(|| missing("server URL", env::AIDA_URL))?;
        let bot = config
            .aida_bot
            .clone()
            .ok_or_else(|| missing("bot UUID", env::AIDA_BOT))?;
        let token = config
            .aida_token
            .clone()
            .ok_or_else(|| missing("access token", env::AIDA_TOKEN))?;
        let mut options = AidaOptions::new(url, bot, token);
        options.request_timeout = config.request_timeout;
        options.ca_cert = config.ca_cert.clone();
        Ok(options)
    }

    fn validate(&self) -> Result<()> {
        if self.bot.trim().is_empty() {
            return Err(Error::invalid("the AIDA bot UUID is empty"));
        }
        if self.token.is_empty() {
            return Err(Error::invalid("the AIDA access token is empty"));
        }
        Ok(())
    }
}

/// The HTTP base of an AIDA server URL: ws(s) mapped to http(s), `/socket[/websocket]` removed.
pub fn http_base(url: &str) -> Result<url::Url> {
    let mut parsed = url::Url::parse(url.trim())
        .map_err(|_| Error::invalid("the AIDA server URL is not a valid URL"))?;
    let scheme = match parsed.scheme() {
        "http" | "ws" => "http",
        "https" | "wss" => "https",
        _ => {
            return Err(Error::invalid(
                "the AIDA server URL must be http, https, ws or wss",
            ));
        }
    };
    if parsed.set_scheme(scheme).is_err() || parsed.cannot_be_a_base() {
        return Err(Error::invalid("the AIDA server URL cannot be used"));
    }
    let mut path = parsed.path().trim_end_matches('/').to_string();
    for suffix in ["/websocket", "/socket"] {
        if let Some(rest) = path.strip_suffix(suffix) {
            path = rest.to_string();
        }
    }
    parsed.set_path(&path);
    parsed.set_query(None);
    parsed.set_fragment(None);
    Ok(parsed)
}

/// A reply of the bot (`btu_msg`).
#[derive(Debug, Clone, PartialEq)]
pub struct BotMessage {
    /// The session it belongs to.
    pub session: String,
    /// The text, when the payload has one.
    pub text: Option<String>,
    /// The whole payload (other fields pass through).
    pub payload: Value,
}

impl BotMessage {
    fn from_payload(payload: Value) -> Self {
        BotMessage {
            session: payload
                .get("session")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            text: payload
                .get("text")
                .and_then(Value::as_str)
                .map(str::to_string),
            payload,
        }
    }
}

/// An image fetched from the server.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    /// The bytes, exactly as uploaded.
    pub bytes: Bytes,
    /// The content type the server gave, if any.
    pub content_type: Option<String>,
}

/// Where an uploaded image comes from.
#[derive(Debug, Clone)]
pub enum ImageSource {
    /// A file, streamed from disk.
    Path(PathBuf),
    /// Bytes in memory.
    Bytes(Bytes),
}

impl From<PathBuf> for ImageSource {
    fn from(path: PathBuf) -> Self {
        ImageSource::Path(path)
    }
}

impl From<&std::path::Path> for ImageSource {
    fn from(path: &std::path::Path) -> Self {
        ImageSource::Path(path.to_path_buf())
    }
}

impl From<Bytes> for ImageSource {
    fn from(bytes: Bytes) -> Self {
        ImageSource::Bytes(bytes)
    }
}

impl From<Vec<u8>> for ImageSource {
    fn from(bytes: Vec<u8>) -> Self {
        ImageSource::Bytes(Bytes::from(bytes))
    }
}

/// A connection to one AIDA bot. Cheap to clone; every clone shares the connection.
#[derive(Clone)]
pub struct AidaClient {
    socket: PhoenixSocket,
    channel: Channel,
    http: reqwest::Client,
    base: url::Url,
    bot: String,
}

impl fmt::Debug for AidaClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AidaClient")
            .field("bot", &self.bot)
            .field("connected", &self.socket.is_connected())
            .finish_non_exhaustive()
    }
}

impl AidaClient {
    /// Connect and join `bot:<uuid>` with the access token. A refused join
    /// (`unauthorized`) is [`ErrorKind::Auth`] and final.
    pub async fn connect(options: AidaOptions) -> Result<AidaClient> {
        options.validate()?;
        let base = http_base(&options.url)?;
        let mut phoenix = PhoenixOptions::new(options.url.clone());
        phoenix.settings = options.settings.clone();
        phoenix.ca_cert = options.ca_cert.clone();
        let socket = PhoenixSocket::connect(phoenix)
            .await
            .map_err(|e| e.context("AIDA connect"))?;
        let channel = socket.channel(
            format!("bot:{}", options.bot),
            json!({ "access_token": options.token.expose() }),
        );
        if let Err(err) = channel.join().await {
            socket.close().await;
            return Err(if err.kind() == ErrorKind::Auth {
                Error::new(ErrorKind::Auth, "AIDA refused the bot UUID or access token")
            } else {
                err.context("AIDA join")
            });
        }
        let config = Config {
            request_timeout: options.request_timeout,
            ca_cert: options.ca_cert.clone(),
            ..Config::default()
        };
        Ok(AidaClient {
            socket,
            channel,
            http: http::build_client(&config)?,
            base,
            bot: options.bot,
        })
    }

    /// The bot UUID.
    pub fn bot(&self) -> &str {
        &self.bot
    }

    /// Start a session; `data` is merged into the session's data on the server.
    pub async fn new_session(&self, data: Option<Value>) -> Result<AidaSession> {
        let payload = match data {
            Some(data) => json!({ "data": data }),
            None => json!({}),
        };
        let make_filter = Box::new(|response: &Value| {
            response
                .get("session")
                .and_then(Value::as_str)
                .map(|id| MessageFilter::event(EVENT_BOT_MESSAGE).with_field("session", id))
        });
        let (response, events) = self
            .channel
            .push_and_subscribe("new_session", payload, make_filter)
            .await?;
        let id = response
            .get("session")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::protocol("new_session answered without a session id"))?;
        let events =
            events.ok_or_else(|| Error::internal("no subscription for the new session"))?;
        Ok(AidaSession {
            id: id.to_string(),
            client: self.clone(),
            events: Mutex::new(events),
            deleted: watch::Sender::new(false),
        })
    }

    /// A handle to an existing session (e.g. one saved earlier). Replies sent before this
    /// call are not delivered to it.
    pub fn session(&self, id: impl Into<String>) -> AidaSession {
        let id = id.into();
        let events = self
            .channel
            .subscribe(MessageFilter::event(EVENT_BOT_MESSAGE).with_field("session", id.as_str()));
        AidaSession {
            id,
            client: self.clone(),
            events: Mutex::new(events),
            deleted: watch::Sender::new(false),
        }
    }

    /// Every `btu_msg` of the bot, for all sessions (plus channel lifecycle events).
    pub fn messages(&self) -> ChannelEvents {
        self.channel.on(EVENT_BOT_MESSAGE)
    }

    /// The bot's channel, for pushes the SDK does not wrap.
    pub fn channel(&self) -> &Channel {
        &self.channel
    }

    /// Connection events: connected, disconnected, reconnecting, closed (last, once).
    pub fn events(&self) -> SocketEvents {
        self.socket.events()
    }

    /// Whether the websocket is open right now.
    pub fn is_connected(&self) -> bool {
        self.socket.is_connected()
    }

    /// Fetch an image by id.
    pub async fn download_image(&self, id: &str) -> Result<Bytes> {
        Ok(self.fetch_image(id).await?.bytes)
    }

    /// Fetch an image by id, with its content type.
    pub async fn fetch_image(&self, id: &str) -> Result<Image> {
        if id.is_empty() {
            return Err(Error::invalid("empty image id"));
        }
        let url = self.url(&["content", "image", id])?;
        let response = http::checked(self.http.get(url).send().await?).await?;
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        if response
            .content_length()
            .is_some_and(|len| len > MAX_IMAGE_BYTES as u64)
        {
            return Err(Error::protocol("the image is larger than the SDK accepts"));
        }
        let bytes = response.bytes().await?;
        Ok(Image {
            bytes,
            content_type,
        })
    }

    /// Close the connection; every session handle then fails with `Closed`.
    pub async fn close(&self) {
        self.socket.close().await;
    }

    fn url(&self, segments: &[&str]) -> Result<url::Url> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| Error::invalid("the AIDA server URL cannot be a base URL"))?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }
}

/// One conversation with the bot. Replies arrive through [`AidaSession::recv`].
pub struct AidaSession {
    id: String,
    client: AidaClient,
    events: Mutex<ChannelEvents>,
    /// Set once by `delete`; wakes a waiting `recv`.
    deleted: watch::Sender<bool>,
}

impl fmt::Debug for AidaSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AidaSession")
            .field("id", &self.id)
            .field("deleted", &*self.deleted.borrow())
            .finish_non_exhaustive()
    }
}

impl AidaSession {
    /// The session id given by the server.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The client the session lives on.
    pub fn client(&self) -> &AidaClient {
        &self.client
    }

    fn check(&self) -> Result<()> {
        if *self.deleted.borrow() {
            Err(Error::closed("the AIDA session was deleted"))
        } else {
            Ok(())
        }
    }

    /// Send the user's text (`utb_msg`); resolves when the server acknowledged it.
    pub async fn send_text(&self, text: &str) -> Result<Value> {
        self.check()?;
        self.client
            .channel
            .push("utb_msg", json!({ "session": self.id, "text": text }))
            .await
    }

    /// Merge `data` into the session's data (`put_data`).
    pub async fn put_data(&self, data: Value) -> Result<Value> {
        self.check()?;
        self.client
            .channel
            .push("put_data", json!({ "session": self.id, "data": data }))
            .await
    }

    /// Upload an image over HTTP, then send it (`utb_img`). Returns the image id.
    pub async fn send_image(
        &self,
        image: impl Into<ImageSource>,
        filename: &str,
        content_type: &str,
    ) -> Result<String> {
        self.check()?;
        let id = self
            .upload_image(image.into(), filename, content_type)
            .await?;
        self.client
            .channel
            .push("utb_img", json!({ "session": self.id, "image": id }))
            .await?;
        Ok(id)
    }

    async fn upload_image(
        &self,
        image: ImageSource,
        filename: &str,
        content_type: &str,
    ) -> Result<String> {
        use reqwest::multipart::{Form, Part};
        let part = match image {
            ImageSource::Bytes(bytes) => {
                if bytes.len() > MAX_IMAGE_BYTES {
                    return Err(Error::invalid("the image is larger than 50 MB"));
                }
                Part::stream(reqwest::Body::from(bytes))
            }
            ImageSource::Path(path) => {
                let file = tokio::fs::File::open(&path).await?;
                let len = file.metadata().await?.len();
                if len > MAX_IMAGE_BYTES as u64 {
                    return Err(Error::invalid("the image is larger than 50 MB"));
                }
                let stream = tokio_util::io::ReaderStream::new(file);
                Part::stream_with_length(reqwest::Body::wrap_stream(stream), len)
            }
        };
        let part = part
            .file_name(filename.to_string())
            .mime_str(content_type)
            .map_err(|_| Error::invalid("invalid image content type"))?;
        let url = self
            .client
            .url(&["content", "image", &self.client.bot, &self.id])?;
        let request = self
            .client
            .http
            .post(url)
            .multipart(Form::new().part("file", part));
        let body: Value = http::send_json(request).await?;
        body.get("id")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| Error::protocol("the image upload answered without an id"))
    }

    /// Delete the session on the server (`delete_session`); afterwards every call on
    /// this handle fails with [`ErrorKind::Closed`] and [`AidaSession::recv`] ends.
    pub async fn delete(&self) -> Result<()> {
        self.check()?;
        self.client
            .channel
            .push("delete_session", json!({ "session": self.id }))
            .await?;
        self.deleted.send_replace(true);
        Ok(())
    }

    /// The next reply of the bot for this session; `None` once the session was deleted
    /// or the client closed. Lifecycle changes of the channel are skipped here (see
    /// [`AidaClient::events`]).
    pub async fn recv(&self) -> Option<BotMessage> {
        let mut deleted = self.deleted.subscribe();
        if *deleted.borrow_and_update() {
            return None;
        }
        let mut events = self.events.lock().await;
        loop {
            let event = tokio::select! {
                event = events.recv() => event?,
                _ = deleted.wait_for(|d| *d) => return None,
            };
            match event {
                ChannelEvent::Message { payload, .. } => {
                    return Some(BotMessage::from_payload(payload));
                }
                ChannelEvent::Closed { .. } => return None,
                _ => {}
            }
        }
    }
}

/// Merge helper used by servers and tests: the keys of `patch` overwrite those of `target`.
pub fn merge_data(target: &mut Map<String, Value>, patch: &Value) {
    if let Value::Object(patch) = patch {
        for (k, v) in patch {
            target.insert(k.clone(), v.clone());
        }
    }
}
