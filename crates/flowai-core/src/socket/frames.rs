//! Flow Socket frames: the outgoing `message.send` payload and a parser of inbound frames that never panics.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::models::{Delivered, Originator, Params, Received};

/// Most characters the service accepts in one speech text.
pub const MAX_SPEECH_CHARS: usize = 255;

/// What a `message.send` attaches instead of plain text: an event, a flow or a step to trigger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    /// `event`, `flow` or `step`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The attachment object, e.g. `{"name": "INTRO"}` for an event.
    pub payload: Value,
}

impl Attachment {
    /// An event attachment triggering the event `name`.
    pub fn event(name: impl Into<String>) -> Self {
        Attachment {
            kind: "event".into(),
            payload: serde_json::json!({ "name": name.into() }),
        }
    }
}

/// Message-level metadata: language and timezone of the message, and parameters for the AI.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MessageMetadata {
    /// Language code (ISO) of the message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Hours from UTC where the message was sent.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::models::common::serialize_opt_number"
    )]
    pub timezone: Option<f64>,
    /// Parameters passed to the AI engine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<Params>,
}

/// A message to send over the socket.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutgoingMessage {
    /// The text of the message (at most 255 characters).
    pub speech: String,
    /// Tracks delivery; the session assigns a unique one when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<u64>,
    /// An event, flow or step to trigger.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<Attachment>,
    /// Who sends it; the session's originator is used when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub originator: Option<Originator>,
    /// Language, timezone and parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<MessageMetadata>,
}

impl OutgoingMessage {
    /// A plain text message.
    pub fn text(speech: impl Into<String>) -> Self {
        OutgoingMessage {
            speech: speech.into(),
            ..Default::default()
        }
    }

    /// A message triggering the event `name` (speech "event attachment", as the seeds do).
    pub fn event(name: impl Into<String>) -> Self {
        OutgoingMessage {
            speech: "event attachment".into(),
            attachment: Some(Attachment::event(name)),
            ..Default::default()
        }
    }

    /// Reject what the service would refuse, before anything is sent.
    pub fn validate(&self) -> Result<()> {
        if self.speech.chars().count() > MAX_SPEECH_CHARS {
            return Err(Error::invalid(format!(
                "speech is longer than {MAX_SPEECH_CHARS} characters"
            )));
        }
        if self.speech.trim().is_empty() && self.attachment.is_none() {
            return Err(Error::invalid("speech is empty and there is no attachment"));
        }
        if let Some(a) = &self.attachment
            && a.kind.trim().is_empty()
        {
            return Err(Error::invalid("attachment type is empty"));
        }
        Ok(())
    }
}

/// The payload of `message.send` as written on the wire.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SendPayload<'a> {
    thread_id: &'a str,
    trace_id: u64,
    speech: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    originator: Option<&'a Originator>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<&'a MessageMetadata>,
    #[serde(skip_serializing_if = "Option::is_none")]
    attachment: Option<&'a Attachment>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
}

#[derive(Serialize)]
struct OutFrame<'a, P: Serialize> {
    #[serde(rename = "type")]
    kind: &'a str,
    payload: P,
}

/// The `message.send` frame for `message` with its assigned `trace_id`.
pub(crate) fn message_send(
    thread_id: &str,
    trace_id: u64,
    message: &OutgoingMessage,
    default_originator: Option<&Originator>,
    nonce: Option<&str>,
) -> Result<String> {
    let frame = OutFrame {
        kind: "message.send",
        payload: SendPayload {
            thread_id,
            trace_id,
            speech: &message.speech,
            originator: message.originator.as_ref().or(default_originator),
            metadata: message.metadata.as_ref(),
            attachment: message.attachment.as_ref(),
            nonce,
        },
    };
    serde_json::to_string(&frame).map_err(|e| Error::internal(format!("cannot encode frame: {e}")))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ThreadPayload<'a> {
    thread_id: &'a str,
}

/// A frame whose payload only names the thread (`thread.noticed`, `activity.user.typing`).
pub(crate) fn thread_frame(kind: &str, thread_id: &str) -> Result<String> {
    serde_json::to_string(&OutFrame {
        kind,
        payload: ThreadPayload { thread_id },
    })
    .map_err(|e| Error::internal(format!("cannot encode frame: {e}")))
}

/// The keep-alive frame.
pub(crate) const PING: &str = r#"{"type":"ping"}"#;

/// An inbound frame, classified.
#[derive(Debug, Clone, PartialEq)]
pub enum Inbound {
    /// `pong`.
    Pong,
    /// `message.delivered` (or its alias `activities.delivered`).
    Delivered(Delivered),
    /// `message.received` (or its alias `activities.created`).
    Received(Box<Received>),
    /// `agent.typing` with its payload.
    AgentTyping(Value),
    /// `interruption.occurred` with its payload.
    Interruption(Value),
    /// `secret.generated`: a nonce to send back on `message.send` (None when the frame had none).
    Secret(Option<String>),
    /// `error`: the server's message.
    ServerError(String),
    /// A well-formed frame of a type this version does not know.
    Unknown {
        /// The frame's `type`.
        kind: String,
        /// The whole frame.
        raw: Value,
    },
    /// Not a frame at all (not JSON, no `type`, a known type with a broken payload).
    Malformed(String),
}

/// The envelope of the frequent frames, read without building a JSON tree.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "type", borrow)]
    kind: std::borrow::Cow<'a, str>,
    #[serde(borrow, default)]
    payload: Option<&'a serde_json::value::RawValue>,
}

/// Classify one text frame. Never panics, whatever the input.
pub fn parse_inbound(text: &str) -> Inbound {
    fast_inbound(text).unwrap_or_else(|| parse_inbound_slow(text))
}

/// Deliveries and replies parsed straight into their types (half the work of a JSON tree
/// first); None for anything else or anything unusual, which the general path classifies.
fn fast_inbound(text: &str) -> Option<Inbound> {
    let envelope: Envelope<'_> = serde_json::from_str(text).ok()?;
    let payload = envelope.payload?.get();
    match envelope.kind.as_ref() {
        "message.delivered" | "activities.delivered" => serde_json::from_str::<Delivered>(payload)
            .ok()
            .map(Inbound::Delivered),
        "message.received" | "activities.created" if payload.starts_with('{') => {
            serde_json::from_str::<Received>(payload)
                .ok()
                .map(|r| Inbound::Received(Box::new(r)))
        }
        _ => None,
    }
}

fn parse_inbound_slow(text: &str) -> Inbound {
    let mut value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return Inbound::Malformed(format!("frame is not JSON: {e}")),
    };
    let Some(obj) = value.as_object_mut() else {
        return Inbound::Malformed("frame is not a JSON object".into());
    };
    let kind = match obj.get("type").and_then(Value::as_str) {
        Some(k) => k.to_string(),
        None => return Inbound::Malformed("frame has no type".into()),
    };
    let payload = obj.get("payload").cloned().unwrap_or(Value::Null);
    match kind.as_str() {
        "pong" => Inbound::Pong,
        "message.delivered" | "activities.delivered" => {
            match serde_json::from_value::<Delivered>(payload) {
                Ok(d) => Inbound::Delivered(d),
                Err(e) => Inbound::Malformed(format!("{kind} with a malformed payload: {e}")),
            }
        }
        "message.received" | "activities.created" => {
            if !payload.is_object() {
                return Inbound::Malformed(format!("{kind} without a payload object"));
            }
            match serde_json::from_value::<Received>(payload) {
                Ok(r) => Inbound::Received(Box::new(r)),
                Err(e) => Inbound::Malformed(format!("{kind} with a malformed payload: {e}")),
            }
        }
        "agent.typing" => Inbound::AgentTyping(payload),
        "interruption.occurred" => Inbound::Interruption(payload),
        "secret.generated" => Inbound::Secret(generated_secret(obj, &payload)),
        "error" => {
            let message = obj
                .get("message")
                .or_else(|| payload.get("message"))
                .map(|m| match m {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .unwrap_or_else(|| "the server reported an error".into());
            Inbound::ServerError(message.chars().take(1000).collect())
        }
        _ => Inbound::Unknown { kind, raw: value },
    }
}

/// The nonce of a `secret.generated` frame, wherever the service put it. The official
/// flowai-js client reads the frame's top-level `message.secret`; our emulator and earlier
/// versions of this SDK use `payload.nonce`; `payload.secret` and a top-level `secret` or
/// `nonce` follow the names socket.info and `message.send` use for it. The first non-empty
/// text wins; None when the frame carries none.
fn generated_secret(frame: &serde_json::Map<String, Value>, payload: &Value) -> Option<String> {
    let message = frame.get("message");
    [
        payload.get("nonce"),
        payload.get("secret"),
        message.and_then(|m| m.get("secret")),
        message.and_then(|m| m.get("nonce")),
        frame.get("secret"),
        frame.get("nonce"),
    ]
    .into_iter()
    .flatten()
    .filter_map(Value::as_str)
    .find(|s| !s.trim().is_empty())
    .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_frames() {
        assert_eq!(parse_inbound(r#"{"type":"pong"}"#), Inbound::Pong);
        match parse_inbound(
            r#"{"type":"message.delivered","payload":{"threadId":"t","traceId":7,"speech":"hi"}}"#,
        ) {
            Inbound::Delivered(d) => assert_eq!(d.trace_id, Some(7)),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            parse_inbound(r#"{"type":"error","message":"Invalid message format"}"#),
            Inbound::ServerError("Invalid message format".into())
        );
        assert_eq!(
            parse_inbound(r#"{"type":"secret.generated","payload":{"nonce":"n1"}}"#),
            Inbound::Secret(Some("n1".into()))
        );
    }

    fn secret_of(frame: &str) -> Option<String> {
        match parse_inbound(frame) {
            Inbound::Secret(nonce) => nonce,
            other => panic!("not a secret frame: {other:?}"),
        }
    }

    #[test]
    fn secret_in_payload_nonce() {
        assert_eq!(
            secret_of(r#"{"type":"secret.generated","payload":{"nonce":"n1"}}"#).as_deref(),
            Some("n1")
        );
    }

    #[test]
    fn secret_in_payload_secret() {
        assert_eq!(
            secret_of(r#"{"type":"secret.generated","payload":{"secret":"n2"}}"#).as_deref(),
            Some("n2")
        );
    }

    #[test]
    fn secret_in_message_secret_as_flowai_js_reads_it() {
        assert_eq!(
            secret_of(r#"{"type":"secret.generated","message":{"secret":"n3"}}"#).as_deref(),
            Some("n3")
        );
        // With a payload that carries something else, as the emulator's frame does.
        assert_eq!(
            secret_of(
                r#"{"type":"secret.generated","payload":{"threadId":"t"},"message":{"secret":"n3"}}"#
            )
            .as_deref(),
            Some("n3")
        );
    }

    #[test]
    fn secret_in_message_nonce() {
        assert_eq!(
            secret_of(r#"{"type":"secret.generated","message":{"nonce":"n4"}}"#).as_deref(),
            Some("n4")
        );
    }

    #[test]
    fn secret_at_the_top_level() {
        assert_eq!(
            secret_of(r#"{"type":"secret.generated","secret":"n5"}"#).as_deref(),
            Some("n5")
        );
        assert_eq!(
            secret_of(r#"{"type":"secret.generated","nonce":"n6"}"#).as_deref(),
            Some("n6")
        );
    }

    #[test]
    fn secret_placements_agree_and_empty_ones_are_skipped() {
        assert_eq!(
            secret_of(
                r#"{"type":"secret.generated","payload":{"nonce":"same"},"message":{"secret":"same"}}"#
            )
            .as_deref(),
            Some("same")
        );
        assert_eq!(
            secret_of(
                r#"{"type":"secret.generated","payload":{"nonce":""},"message":{"secret":"n7"}}"#
            )
            .as_deref(),
            Some("n7")
        );
    }

    #[test]
    fn secret_frame_without_a_nonce_is_none_not_an_error() {
        for frame in [
            r#"{"type":"secret.generated"}"#,
            r#"{"type":"secret.generated","payload":null}"#,
            r#"{"type":"secret.generated","message":"text"}"#,
            r#"{"type":"secret.generated","payload":{"nonce":5},"message":{"secret":null}}"#,
        ] {
            assert_eq!(secret_of(frame), None, "{frame}");
        }
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        for text in [
            "",
            "not json",
            "[]",
            "42",
            r#"{"payload":{}}"#,
            r#"{"type":5}"#,
            r#"{"type":"message.received"}"#,
            r#"{"type":"message.received","payload":{"messages":5}}"#,
            r#"{"type":"message.delivered","payload":{"traceId":"x"}}"#,
        ] {
            assert!(
                matches!(parse_inbound(text), Inbound::Malformed(_)),
                "{text}"
            );
        }
    }

    #[test]
    fn unknown_types_pass_through() {
        match parse_inbound(r#"{"type":"future.thing","payload":{"a":1}}"#) {
            Inbound::Unknown { kind, raw } => {
                assert_eq!(kind, "future.thing");
                assert_eq!(raw["payload"]["a"], 1);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn encodes_message_send() {
        let m = OutgoingMessage::event("INTRO");
        let text = message_send("th", 9, &m, None, Some("n")).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["type"], "message.send");
        assert_eq!(v["payload"]["traceId"], 9);
        assert_eq!(v["payload"]["attachment"]["payload"]["name"], "INTRO");
        assert_eq!(v["payload"]["nonce"], "n");
    }

    #[test]
    fn validation() {
        assert!(OutgoingMessage::text("x".repeat(256)).validate().is_err());
        assert!(OutgoingMessage::text("  ").validate().is_err());
        assert!(OutgoingMessage::text("hi").validate().is_ok());
    }
}
