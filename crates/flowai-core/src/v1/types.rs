//! Requests and answers of the Flow REST API v1, with their camelCase wire shapes.
//!
//! Requests serialize to exactly the body the API takes and deserialize from it too, so a
//! binding can take them as JSON. Answers keep every field they do not name in `raw`.

use std::time::Duration;

use serde::de::Deserializer;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::models::ReplyMessage;

/// Longest text message, in characters.
pub const MAX_SPEECH_CHARS: usize = 255;

/// Items in one page of messages or threads.
pub const PAGE_SIZE: usize = 20;

/// Options of one call. `None` keeps the client's default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallOptions {
    /// Deadline of each attempt (connect + answer).
    pub timeout: Option<Duration>,
}

/// Options of a message send.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SendOptions {
    /// Answer with the bot's replies (`sync=true`) instead of calling the webhook.
    pub sync: bool,
    /// Answer only once the message is stored (`writeConcern=true`).
    pub write_concern: bool,
    /// Deadline of the call.
    pub timeout: Option<Duration>,
}

/// What a message is: the `type` and its fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "lowercase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum RestPayload {
    /// `text`: up to 255 characters of `speech`.
    Text {
        /// The text.
        speech: String,
    },
    /// `event`: triggers the flow listening to `eventName`.
    Event {
        /// The event's name.
        event_name: String,
    },
    /// `location`: coordinates with an optional title.
    Location {
        /// Latitude, -90 to 90.
        lat: f64,
        /// Longitude, -180 to 180.
        long: f64,
        /// A name for the place.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
    },
    /// `media`: a file the service fetches from `url`.
    Media {
        /// Where the file is.
        url: String,
        /// `image`, `file`, `audio` or `video`.
        media_type: String,
        /// The file's mime type.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mime_type: Option<String>,
    },
}

/// Who sends a message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The end user (the default).
    #[default]
    External,
    /// A human agent; the bot pauses for the thread when a moderator speaks.
    Moderator,
}

/// The sender of a message: `{name, role, profile}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestOriginator {
    /// Display name.
    pub name: String,
    /// External user or moderator.
    #[serde(default)]
    pub role: Role,
    /// Free-form profile (fullName, email, picture, locale, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<Value>,
}

impl Default for RestOriginator {
    fn default() -> Self {
        RestOriginator {
            name: "Anonymous".into(),
            role: Role::External,
            profile: None,
        }
    }
}

/// A message to send: on the wire `{"payload": {type, ...fields, originator, metadata}}`,
/// which is also its JSON form here (the originator and metadata sit inside `payload`;
/// they are accepted beside it too).
#[derive(Debug, Clone, PartialEq)]
pub struct RestMessage {
    /// The content.
    pub payload: RestPayload,
    /// The sender.
    pub originator: RestOriginator,
    /// Free-form metadata (language, timezone, params, ...).
    pub metadata: Option<Value>,
}

impl RestMessage {
    /// A text from an anonymous external user.
    pub fn text(speech: impl Into<String>) -> Self {
        RestMessage::new(RestPayload::Text {
            speech: speech.into(),
        })
    }

    /// An event from an anonymous external user.
    pub fn event(name: impl Into<String>) -> Self {
        RestMessage::new(RestPayload::Event {
            event_name: name.into(),
        })
    }

    /// A message with the default originator and no metadata.
    pub fn new(payload: RestPayload) -> Self {
        RestMessage {
            payload,
            originator: RestOriginator::default(),
            metadata: None,
        }
    }

    /// The same message sent by `originator`.
    pub fn with_originator(mut self, originator: RestOriginator) -> Self {
        self.originator = originator;
        self
    }

    /// Check everything the API would refuse, before anything is sent.
    pub fn validate(&self) -> Result<()> {
        match &self.payload {
            RestPayload::Text { speech } => {
                if speech.trim().is_empty() {
                    return Err(Error::invalid("speech must not be empty"));
                }
                if speech.chars().count() > MAX_SPEECH_CHARS {
                    return Err(Error::invalid("speech is longer than 255 characters"));
                }
            }
            RestPayload::Event { event_name } => {
                if event_name.trim().is_empty() {
                    return Err(Error::invalid("eventName must not be empty"));
                }
            }
            RestPayload::Location { lat, long, .. } => {
                if !(lat.is_finite() && (-90.0..=90.0).contains(lat)) {
                    return Err(Error::invalid("lat must be between -90 and 90"));
                }
                if !(long.is_finite() && (-180.0..=180.0).contains(long)) {
                    return Err(Error::invalid("long must be between -180 and 180"));
                }
            }
            RestPayload::Media {
                url, media_type, ..
            } => {
                crate::config::parse_http_url(url, "media url")?;
                if !matches!(media_type.as_str(), "image" | "file" | "audio" | "video") {
                    return Err(Error::invalid(
                        "mediaType must be one of image, file, audio, video",
                    ));
                }
            }
        }
        if self.originator.name.trim().is_empty() {
            return Err(Error::invalid("originator.name must not be empty"));
        }
        if let Some(m) = &self.metadata {
            if !m.is_object() {
                return Err(Error::invalid("metadata must be an object"));
            }
        }
        Ok(())
    }

    /// The request body.
    pub fn to_body(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

impl Serialize for RestMessage {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> std::result::Result<S::Ok, S::Error> {
        let mut payload = match serde_json::to_value(&self.payload) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        payload.insert(
            "originator".into(),
            serde_json::to_value(&self.originator).unwrap_or(Value::Null),
        );
        if let Some(m) = &self.metadata {
            payload.insert("metadata".into(), m.clone());
        }
        let mut body = Map::new();
        body.insert("payload".into(), Value::Object(payload));
        body.serialize(ser)
    }
}

impl<'de> Deserialize<'de> for RestMessage {
    fn deserialize<D: Deserializer<'de>>(de: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Wire {
            payload: Map<String, Value>,
            #[serde(default)]
            originator: Option<RestOriginator>,
            #[serde(default)]
            metadata: Option<Value>,
        }
        let mut wire = Wire::deserialize(de)?;
        let inner_originator = match wire.payload.remove("originator") {
            None | Some(Value::Null) => None,
            Some(v) => Some(serde_json::from_value(v).map_err(D::Error::custom)?),
        };
        let inner_metadata = wire.payload.remove("metadata").filter(|v| !v.is_null());
        let payload: RestPayload =
            serde_json::from_value(Value::Object(wire.payload)).map_err(D::Error::custom)?;
        Ok(RestMessage {
            payload,
            originator: inner_originator.or(wire.originator).unwrap_or_default(),
            metadata: inner_metadata.or(wire.metadata),
        })
    }
}

/// The answer to a send: the thread (generated by `POST messages`) and, in sync mode, the
/// bot's replies in the socket's reply format.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendReceipt {
    /// The thread the message went to.
    #[serde(default)]
    pub thread_id: String,
    /// The bot's replies (sync mode; empty otherwise or while the bot is paused).
    #[serde(default, rename = "messages", alias = "replies")]
    pub replies: Vec<ReplyMessage>,
    /// Every other field of the answer.
    #[serde(flatten)]
    pub raw: Value,
}

/// One page of a listing. Page numbers start at 1.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    /// This page's number (1-based).
    pub page: u32,
    /// Its items, at most [`PAGE_SIZE`].
    pub items: Vec<T>,
    /// Whether a later page has items.
    pub has_more: bool,
}

/// One thread of the project.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadSummary {
    /// The thread's id.
    #[serde(default)]
    pub thread_id: String,
    /// Messages in the thread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_count: Option<u64>,
    /// When the last message came (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message_at: Option<String>,
    /// Whether the bot is paused for the thread.
    #[serde(default, alias = "isPaued", skip_serializing_if = "Option::is_none")]
    pub is_paused: Option<bool>,
    /// Every other field.
    #[serde(flatten)]
    pub raw: Value,
}

/// Whether the bot is paused for a thread. The service may spell the field `isPaued`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PauseStatus {
    /// The thread.
    #[serde(default)]
    pub thread_id: String,
    /// Whether the bot is paused.
    #[serde(default, alias = "isPaued")]
    pub is_paused: bool,
    /// Every other field (e.g. `secondsToPause`).
    #[serde(flatten)]
    pub raw: Value,
}

/// An event that can be triggered by hand.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TriggerEvent {
    /// The event's name, for [`crate::v1::RestClient::trigger_event`].
    #[serde(default, alias = "eventName", alias = "title")]
    pub name: String,
    /// Every other field.
    #[serde(flatten)]
    pub raw: Value,
}

/// Opening hours of one day.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BusinessDay {
    /// `monday` ... `sunday`.
    #[serde(default)]
    pub day: String,
    /// Opening time, `HH:MM`; absent when closed all day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open: Option<String>,
    /// Closing time, `HH:MM`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close: Option<String>,
    /// Every other field.
    #[serde(flatten)]
    pub raw: Value,
}

/// The project's business hours.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BusinessHours {
    /// IANA time zone of the hours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// The days with their hours.
    #[serde(default)]
    pub days: Vec<BusinessDay>,
    /// Every other field (e.g. `holidays`).
    #[serde(flatten)]
    pub raw: Value,
}

/// An audience segment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Segment {
    /// The segment's id.
    #[serde(default, alias = "segmentId")]
    pub id: String,
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// Every other field (e.g. `size`).
    #[serde(flatten)]
    pub raw: Value,
}

/// One recipient of an instant broadcast.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recipient {
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Phone number (MSISDN) with country code, e.g. `+12345678901`.
    pub phone_number: String,
    /// Free-form profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<Value>,
}

/// The channel an instant broadcast goes out on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BroadcastChannel {
    /// `whatsapp`, `twilio`, `messenger`, `rbm`, `messagemedia`, `telekom`, `khoros`.
    pub channel_name: String,
    /// The channel's own id (e.g. its phone number or page id).
    pub external_id: String,
}

/// `POST broadcast/instant`: a text or event to a list of phone numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Broadcast {
    /// The recipients (at least one).
    pub audience: Vec<Recipient>,
    /// The channel to send on.
    pub channel: BroadcastChannel,
    /// A text or an event.
    pub payload: RestPayload,
}

impl Broadcast {
    /// Check everything the API would refuse, before anything is sent.
    pub fn validate(&self) -> Result<()> {
        if self.audience.is_empty() {
            return Err(Error::invalid("a broadcast needs at least one recipient"));
        }
        if self
            .audience
            .iter()
            .any(|r| r.phone_number.trim().is_empty())
        {
            return Err(Error::invalid("every recipient needs a phoneNumber"));
        }
        if self.channel.channel_name.trim().is_empty() {
            return Err(Error::invalid("channel.channelName must not be empty"));
        }
        if self.channel.external_id.trim().is_empty() {
            return Err(Error::invalid("channel.externalId must not be empty"));
        }
        validate_broadcast_payload(&self.payload)
    }
}

/// A segment named by id, name or both.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SegmentRef {
    /// The segment's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The segment's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// `POST broadcast/instant/segment`: an event for every contact of some segments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SegmentBroadcast {
    /// The segments (at least one; each with an id or a name).
    pub audience: Vec<SegmentRef>,
    /// The event (or text) to send.
    pub payload: RestPayload,
}

impl SegmentBroadcast {
    /// A broadcast of event `event_name` to the segment with id `segment_id`.
    pub fn event_to_segment(segment_id: impl Into<String>, event_name: impl Into<String>) -> Self {
        SegmentBroadcast {
            audience: vec![SegmentRef {
                id: Some(segment_id.into()),
                name: None,
            }],
            payload: RestPayload::Event {
                event_name: event_name.into(),
            },
        }
    }

    /// Check everything the API would refuse, before anything is sent.
    pub fn validate(&self) -> Result<()> {
        if self.audience.is_empty() {
            return Err(Error::invalid("a broadcast needs at least one segment"));
        }
        let named = |s: &Option<String>| s.as_deref().is_some_and(|v| !v.trim().is_empty());
        if self
            .audience
            .iter()
            .any(|s| !named(&s.id) && !named(&s.name))
        {
            return Err(Error::invalid("every segment needs an id or a name"));
        }
        validate_broadcast_payload(&self.payload)
    }
}

fn validate_broadcast_payload(payload: &RestPayload) -> Result<()> {
    match payload {
        RestPayload::Text { .. } | RestPayload::Event { .. } => {
            RestMessage::new(payload.clone()).validate()
        }
        _ => Err(Error::invalid(
            "a broadcast payload must be a text or an event",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn message_round_trips_through_the_wire_shape() {
        let wire = json!({"payload": {
            "type": "text", "speech": "hi",
            "originator": {"name": "Ann", "role": "moderator", "profile": {"email": "a@b"}},
            "metadata": {"language": "en"}
        }});
        let m: RestMessage = serde_json::from_value(wire.clone()).unwrap();
        assert_eq!(m.originator.role, Role::Moderator);
        assert_eq!(m.metadata, Some(json!({"language": "en"})));
        assert_eq!(serde_json::to_value(&m).unwrap(), wire);
        let beside: RestMessage = serde_json::from_value(json!({
            "payload": {"type": "event", "eventName": "INTRO"},
            "originator": {"name": "Bo"}
        }))
        .unwrap();
        assert_eq!(beside.originator.name, "Bo");
        assert_eq!(
            beside.payload,
            RestPayload::Event {
                event_name: "INTRO".into()
            }
        );
        let loc: RestMessage = serde_json::from_value(
            json!({"payload": {"type": "location", "lat": 52.1, "long": 4.3}}),
        )
        .unwrap();
        assert!(loc.validate().is_ok());
        assert!(
            serde_json::from_value::<RestMessage>(json!({"payload": {"type": "fax"}})).is_err()
        );
    }

    #[test]
    fn validation_refuses_bad_input() {
        assert!(RestMessage::text("x".repeat(256)).validate().is_err());
        assert!(RestMessage::text("é".repeat(255)).validate().is_ok());
        assert!(RestMessage::text(" ").validate().is_err());
        assert!(RestMessage::event("").validate().is_err());
        let bad_media = RestMessage::new(RestPayload::Media {
            url: "https://x/y.png".into(),
            media_type: "fax".into(),
            mime_type: None,
        });
        assert!(bad_media.validate().is_err());
        let far = RestMessage::new(RestPayload::Location {
            lat: 91.0,
            long: 0.0,
            title: None,
        });
        assert!(far.validate().is_err());
        assert!(
            SegmentBroadcast {
                audience: vec![SegmentRef::default()],
                payload: RestPayload::Event {
                    event_name: "E".into()
                },
            }
            .validate()
            .is_err()
        );
    }

    #[test]
    fn answers_parse_tolerantly() {
        let s: PauseStatus =
            serde_json::from_value(json!({"threadId": "t", "isPaued": true, "x": 1})).unwrap();
        assert!(s.is_paused);
        assert_eq!(s.raw["x"], 1);
        let r: SendReceipt = serde_json::from_value(json!({
            "status": "ok", "threadId": "t",
            "messages": [{"fallback": "Hi", "responses": [{"type": "text", "payload": {"text": "Hi"}}]}]
        }))
        .unwrap();
        assert_eq!(r.replies.len(), 1);
        assert_eq!(r.replies[0].texts(), vec!["Hi"]);
        assert_eq!(r.raw["status"], "ok");
        let back = serde_json::to_value(&r).unwrap();
        assert_eq!(back["status"], "ok");
        assert_eq!(back["threadId"], "t");
        assert_eq!(back["messages"][0]["fallback"], "Hi");
        // A value built in code (raw left null) serializes too.
        let built = serde_json::to_value(ThreadSummary {
            thread_id: "t".into(),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(built, json!({"threadId": "t"}));
    }
}
