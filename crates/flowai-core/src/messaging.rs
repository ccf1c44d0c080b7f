//! The Messaging REST API client: text, event, location and media messages, and webhook subscriptions.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use futures_util::TryStreamExt;
use reqwest::Method;
use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::http::{self, ApiClient};
use crate::models::{NewWebhook, Params, Webhook, WebhookUpdate};

/// The longest text message the service accepts, in characters (not bytes).
pub const MAX_TEXT_CHARS: usize = 255;

/// The largest media file the service accepts: 250 MB.
pub const MAX_MEDIA_BYTES: u64 = 250 * 1024 * 1024;

/// Called during an upload with `(bytes_sent, total_bytes)`; the last call has both equal.
pub type ProgressFn = Arc<dyn Fn(u64, u64) + Send + Sync>;

/// Optional fields every message may carry.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageOptions {
    /// A number passed along to identify the message in delivery events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<u64>,
    /// ISO 639-1 language code of the message (two letters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// Offset from UTC in hours where the message was sent.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::models::common::serialize_opt_number"
    )]
    pub timezone: Option<f64>,
    /// Parameters handed to the AI engine.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub params: Option<Params>,
}

impl MessageOptions {
    /// Options with only a traceId.
    pub fn with_trace_id(trace_id: u64) -> Self {
        MessageOptions {
            trace_id: Some(trace_id),
            ..Default::default()
        }
    }

    /// Check lang and timezone.
    pub fn validate(&self) -> Result<()> {
        if let Some(lang) = &self.lang {
            if lang.len() != 2 || !lang.bytes().all(|b| b.is_ascii_alphabetic()) {
                return Err(Error::invalid("lang must be a two-letter ISO 639-1 code"));
            }
        }
        if let Some(tz) = self.timezone {
            if !tz.is_finite() || !(-14.0..=14.0).contains(&tz) {
                return Err(Error::invalid("timezone must be hours from UTC, -14 to 14"));
            }
        }
        Ok(())
    }
}

/// The content of a JSON message.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum MessageBody {
    /// A text (at most [`MAX_TEXT_CHARS`] characters).
    Text {
        /// The text or speech to process.
        text: String,
    },
    /// An event that triggers flows.
    Event {
        /// The event name.
        #[serde(rename = "eventName")]
        name: String,
    },
    /// Coordinates, as strings.
    Location {
        /// Latitude.
        lat: String,
        /// Longitude.
        lng: String,
    },
}

impl MessageBody {
    /// Check the content rules of the service.
    pub fn validate(&self) -> Result<()> {
        match self {
            MessageBody::Text { text } => validate_text(text),
            MessageBody::Event { name } if name.trim().is_empty() => {
                Err(Error::invalid("eventName must not be empty"))
            }
            MessageBody::Location { lat, lng }
                if lat.trim().is_empty() || lng.trim().is_empty() =>
            {
                Err(Error::invalid("lat and lng must not be empty"))
            }
            _ => Ok(()),
        }
    }
}

fn validate_text(text: &str) -> Result<()> {
    if text.is_empty() {
        return Err(Error::invalid("text must not be empty"));
    }
    let chars = text.chars().count();
    if chars > MAX_TEXT_CHARS {
        return Err(Error::invalid(format!(
            "text is {chars} characters; the limit is {MAX_TEXT_CHARS}"
        )));
    }
    Ok(())
}

fn validate_thread_id(thread_id: &str) -> Result<()> {
    if thread_id.trim().is_empty() {
        return Err(Error::invalid("threadId must not be empty"));
    }
    Ok(())
}

/// A JSON message to `POST /v1/messaging/message`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    /// The chat, user or thread the message belongs to.
    pub thread_id: String,
    /// What is sent.
    #[serde(flatten)]
    pub body: MessageBody,
    /// Optional fields.
    #[serde(flatten)]
    pub options: MessageOptions,
}

impl Message {
    /// A message with default options.
    pub fn new(thread_id: impl Into<String>, body: MessageBody) -> Self {
        Message {
            thread_id: thread_id.into(),
            body,
            options: MessageOptions::default(),
        }
    }

    /// A text message.
    pub fn text(thread_id: impl Into<String>, text: impl Into<String>) -> Self {
        Message::new(thread_id, MessageBody::Text { text: text.into() })
    }

    /// An event message.
    pub fn event(thread_id: impl Into<String>, name: impl Into<String>) -> Self {
        Message::new(thread_id, MessageBody::Event { name: name.into() })
    }

    /// A location message.
    pub fn location(
        thread_id: impl Into<String>,
        lat: impl Into<String>,
        lng: impl Into<String>,
    ) -> Self {
        let (lat, lng) = (lat.into(), lng.into());
        Message::new(thread_id, MessageBody::Location { lat, lng })
    }

    /// The same message with `options`.
    pub fn with_options(mut self, options: MessageOptions) -> Self {
        self.options = options;
        self
    }

    /// Check every field before anything is sent.
    pub fn validate(&self) -> Result<()> {
        validate_thread_id(&self.thread_id)?;
        self.body.validate()?;
        self.options.validate()
    }
}

/// The kind of a media upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaType {
    /// A picture.
    Image,
    /// Any file.
    File,
    /// A sound recording.
    Audio,
    /// A video.
    Video,
}

impl MediaType {
    /// The wire name (`image`, `file`, `audio`, `video`).
    pub fn as_str(self) -> &'static str {
        match self {
            MediaType::Image => "image",
            MediaType::File => "file",
            MediaType::Audio => "audio",
            MediaType::Video => "video",
        }
    }
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MediaType {
    type Err = Error;

    /// Parse a wire name, ignoring ASCII case.
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "image" => Ok(MediaType::Image),
            "file" => Ok(MediaType::File),
            "audio" => Ok(MediaType::Audio),
            "video" => Ok(MediaType::Video),
            _ => Err(Error::invalid(
                "mediaType must be one of image, file, audio, video",
            )),
        }
    }
}

impl Serialize for MediaType {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        ser.serialize_str(self.as_str())
    }
}

/// A file to send as a media message.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaUpload {
    /// The chat, user or thread the message belongs to.
    pub thread_id: String,
    /// The file on disk; it is streamed, never read whole into memory.
    pub path: PathBuf,
    /// The kind of media.
    pub media_type: MediaType,
    /// The MIME type, e.g. `image/png`; `application/octet-stream` when absent.
    pub mime_type: Option<String>,
    /// Optional fields.
    pub options: MessageOptions,
}

impl MediaUpload {
    /// An upload with no MIME type and default options.
    pub fn new(
        thread_id: impl Into<String>,
        path: impl Into<PathBuf>,
        media_type: MediaType,
    ) -> Self {
        MediaUpload {
            thread_id: thread_id.into(),
            path: path.into(),
            media_type,
            mime_type: None,
            options: MessageOptions::default(),
        }
    }

    /// The `query` part of the multipart body.
    fn query_json(&self) -> Result<Value> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Query<'a> {
            thread_id: &'a str,
            #[serde(rename = "type")]
            kind: &'static str,
            media_type: MediaType,
            #[serde(skip_serializing_if = "Option::is_none")]
            mime_type: Option<&'a str>,
            #[serde(flatten)]
            options: &'a MessageOptions,
        }
        let query = Query {
            thread_id: &self.thread_id,
            kind: "media",
            media_type: self.media_type,
            mime_type: self.mime_type.as_deref(),
            options: &self.options,
        };
        serde_json::to_value(query).map_err(|e| Error::internal(e.to_string()))
    }

    /// Check fields and the file (exists, is a regular file, at most [`MAX_MEDIA_BYTES`]);
    /// returns its size.
    async fn validate(&self) -> Result<u64> {
        validate_thread_id(&self.thread_id)?;
        self.options.validate()?;
        file_size(&self.path).await
    }
}

async fn file_size(path: &Path) -> Result<u64> {
    let meta = tokio::fs::metadata(path)
        .await
        .map_err(|e| Error::from(e).context("media file"))?;
    if !meta.is_file() {
        return Err(Error::invalid("media path is not a regular file"));
    }
    if meta.len() > MAX_MEDIA_BYTES {
        return Err(Error::invalid(format!(
            "media file is {} bytes; the limit is {MAX_MEDIA_BYTES} (250 MB)",
            meta.len()
        )));
    }
    Ok(meta.len())
}

/// A client of the Messaging REST API (`{api_url}/v1/messaging`), authenticated with the
/// messaging key. Cheap to clone; clones share one connection pool.
#[derive(Clone, Debug)]
pub struct MessagingClient {
    api: ApiClient,
}

impl MessagingClient {
    /// A client for `config`; fails when the messaging key is missing or the URL is invalid.
    pub fn new(config: Config) -> Result<Self> {
        let key = config.require_messaging_key()?.clone();
        let api = ApiClient::new(&config, &["v1", "messaging"], key)?;
        Ok(MessagingClient { api })
    }

    /// A client configured from the `FLOWAI_*` environment variables.
    pub fn from_env() -> Result<Self> {
        MessagingClient::new(Config::from_env())
    }

    /// Send a JSON message; validated first, nothing is sent when it is invalid.
    pub async fn send(&self, message: &Message) -> Result<()> {
        message.validate()?;
        let request = self.api.request(Method::POST, &["message"])?.json(message);
        http::send_expect_ok(request).await
    }

    /// Send a text of at most [`MAX_TEXT_CHARS`] characters.
    pub async fn send_text(
        &self,
        thread_id: &str,
        text: &str,
        options: MessageOptions,
    ) -> Result<()> {
        self.send(&Message::text(thread_id, text).with_options(options))
            .await
    }

    /// Trigger an event by name.
    pub async fn send_event(
        &self,
        thread_id: &str,
        name: &str,
        options: MessageOptions,
    ) -> Result<()> {
        self.send(&Message::event(thread_id, name).with_options(options))
            .await
    }

    /// Send coordinates.
    pub async fn send_location(
        &self,
        thread_id: &str,
        lat: &str,
        lng: &str,
        options: MessageOptions,
    ) -> Result<()> {
        self.send(&Message::location(thread_id, lat, lng).with_options(options))
            .await
    }

    /// Upload a media file as multipart (`file` + `query`), streamed from disk.
    ///
    /// `progress` is called with `(bytes_sent, total)` as the file goes out. The upload has
    /// no overall deadline (large files take long); connect and read stalls still time out.
    pub async fn send_media(
        &self,
        upload: &MediaUpload,
        progress: Option<ProgressFn>,
    ) -> Result<()> {
        let size = upload.validate().await?;
        let file_part = file_part(upload, size, progress).await?;
        let query = serde_json::to_string(&upload.query_json()?)?;
        let form = reqwest::multipart::Form::new()
            .part("file", file_part)
            .text("query", query);
        let request = self
            .api
            .request_without_deadline(Method::POST, &["message"])?
            .multipart(form);
        http::send_expect_ok(request).await
    }

    /// Create a webhook subscription; the service first calls the URL with a GET.
    pub async fn create_webhook(&self, webhook: &NewWebhook) -> Result<Webhook> {
        webhook.validate()?;
        let request = self.api.request(Method::POST, &["webhooks"])?.json(webhook);
        http::send_json(request).await
    }

    /// Retrieve one webhook subscription.
    pub async fn get_webhook(&self, id: &str) -> Result<Webhook> {
        validate_id(id)?;
        http::send_json(self.api.request(Method::GET, &["webhooks", id])?).await
    }

    /// Change the fields set in `update`; the others stay unchanged.
    pub async fn update_webhook(&self, id: &str, update: &WebhookUpdate) -> Result<Webhook> {
        validate_id(id)?;
        update.validate()?;
        let request = self
            .api
            .request(Method::PUT, &["webhooks", id])?
            .json(update);
        http::send_json(request).await
    }

    /// Every webhook subscription, newest first.
    pub async fn list_webhooks(&self) -> Result<Vec<Webhook>> {
        #[derive(serde::Deserialize)]
        struct Items {
            #[serde(default)]
            items: Vec<Webhook>,
        }
        let items: Items = http::send_json(self.api.request(Method::GET, &["webhooks"])?).await?;
        Ok(items.items)
    }

    /// Delete a webhook subscription for good.
    pub async fn delete_webhook(&self, id: &str) -> Result<()> {
        validate_id(id)?;
        http::send_empty(self.api.request(Method::DELETE, &["webhooks", id])?).await
    }
}

fn validate_id(id: &str) -> Result<()> {
    if id.trim().is_empty() {
        return Err(Error::invalid("webhook id must not be empty"));
    }
    Ok(())
}

/// The `file` part: the file streamed in chunks, each chunk reported to `progress`.
async fn file_part(
    upload: &MediaUpload,
    size: u64,
    progress: Option<ProgressFn>,
) -> Result<reqwest::multipart::Part> {
    let file = tokio::fs::File::open(&upload.path)
        .await
        .map_err(|e| Error::from(e).context("media file"))?;
    let mut sent = 0u64;
    let stream = tokio_util::io::ReaderStream::new(file).inspect_ok(move |chunk| {
        sent += chunk.len() as u64;
        if let Some(report) = &progress {
            report(sent, size);
        }
    });
    let body = reqwest::Body::wrap_stream(stream);
    let name = upload
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "upload".to_string());
    let mime = upload
        .mime_type
        .as_deref()
        .unwrap_or("application/octet-stream");
    reqwest::multipart::Part::stream_with_length(body, size)
        .file_name(name)
        .mime_str(mime)
        .map_err(|_| Error::invalid("mimeType is not a valid MIME type"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn message_wire_shapes() {
        let m = Message::text("t", "Hello").with_options(MessageOptions {
            trace_id: Some(7),
            lang: Some("en".into()),
            timezone: Some(-5.0),
            params: None,
        });
        assert_eq!(
            serde_json::to_value(&m).unwrap(),
            json!({"threadId": "t", "type": "text", "text": "Hello", "traceId": 7, "lang": "en", "timezone": -5})
        );
        assert_eq!(
            serde_json::to_value(Message::event("t", "INTRO")).unwrap(),
            json!({"threadId": "t", "type": "event", "eventName": "INTRO"})
        );
        assert_eq!(
            serde_json::to_value(Message::location("t", "1.5", "2")).unwrap(),
            json!({"threadId": "t", "type": "location", "lat": "1.5", "lng": "2"})
        );
    }

    #[test]
    fn validation_rules() {
        assert!(Message::text(" ", "x").validate().is_err());
        assert!(Message::text("t", "").validate().is_err());
        assert!(Message::text("t", "é".repeat(255)).validate().is_ok());
        assert!(Message::text("t", "é".repeat(256)).validate().is_err());
        assert!(Message::event("t", " ").validate().is_err());
        let bad_lang = MessageOptions {
            lang: Some("eng".into()),
            ..Default::default()
        };
        assert!(
            Message::text("t", "x")
                .with_options(bad_lang)
                .validate()
                .is_err()
        );
    }

    #[test]
    fn media_type_parse() {
        assert_eq!("Image".parse::<MediaType>().unwrap(), MediaType::Image);
        assert!("gif".parse::<MediaType>().is_err());
        let q = MediaUpload::new("t", "/x", MediaType::Video)
            .query_json()
            .unwrap();
        assert_eq!(
            q,
            json!({"threadId": "t", "type": "media", "mediaType": "video"})
        );
    }
}
