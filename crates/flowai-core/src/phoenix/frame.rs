//! Phoenix protocol 2.0.0 frames: `[join_ref, ref, topic, event, payload]` JSON arrays.

use serde_json::Value;

use crate::error::{Error, Result};

/// The protocol version every connection announces with `vsn=`.
pub const PROTOCOL_VSN: &str = "2.0.0";

/// Event of a join request.
pub const EVENT_JOIN: &str = "phx_join";
/// Event of a leave request.
pub const EVENT_LEAVE: &str = "phx_leave";
/// Event of every reply.
pub const EVENT_REPLY: &str = "phx_reply";
/// Event the server sends when it closed a channel.
pub const EVENT_CLOSE: &str = "phx_close";
/// Event the server sends when a channel crashed.
pub const EVENT_ERROR: &str = "phx_error";
/// Event of a heartbeat.
pub const EVENT_HEARTBEAT: &str = "heartbeat";
/// Topic of heartbeats.
pub const TOPIC_PHOENIX: &str = "phoenix";

/// Longest part of a malformed frame quoted in an error message.
const QUOTE_LIMIT: usize = 120;

/// One frame in either direction.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    /// The ref of the join the frame belongs to; `None` for broadcasts and heartbeats.
    pub join_ref: Option<String>,
    /// The frame's own ref; replies carry the ref of the request they answer.
    pub reference: Option<String>,
    /// Channel topic.
    pub topic: String,
    /// Event name.
    pub event: String,
    /// Payload, any JSON.
    pub payload: Value,
}

impl Frame {
    /// A frame from its parts.
    pub fn new(
        join_ref: Option<String>,
        reference: Option<String>,
        topic: impl Into<String>,
        event: impl Into<String>,
        payload: Value,
    ) -> Self {
        Frame {
            join_ref,
            reference,
            topic: topic.into(),
            event: event.into(),
            payload,
        }
    }

    /// Parse a text frame; anything that is not a 5-element array of the right types is a
    /// [`crate::ErrorKind::Protocol`] error, never a panic.
    pub fn parse(text: &str) -> Result<Frame> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| Error::protocol(format!("frame is not JSON ({e}): {}", quote(text))))?;
        let Value::Array(mut items) = value else {
            return Err(Error::protocol(format!(
                "frame is not an array: {}",
                quote(text)
            )));
        };
        if items.len() != 5 {
            return Err(Error::protocol(format!(
                "frame has {} elements instead of 5: {}",
                items.len(),
                quote(text)
            )));
        }
        let payload = items.pop().unwrap_or(Value::Null);
        let event = take_string(items.pop(), "event", text)?;
        let topic = take_string(items.pop(), "topic", text)?;
        let reference = take_ref(items.pop(), "ref", text)?;
        let join_ref = take_ref(items.pop(), "join_ref", text)?;
        Ok(Frame {
            join_ref,
            reference,
            topic,
            event,
            payload,
        })
    }

    /// The JSON text of the frame.
    pub fn to_json(&self) -> String {
        Value::Array(vec![
            opt_string(&self.join_ref),
            opt_string(&self.reference),
            Value::String(self.topic.clone()),
            Value::String(self.event.clone()),
            self.payload.clone(),
        ])
        .to_string()
    }

    /// The `{status, response}` of a `phx_reply`, when this is one.
    pub fn reply(&self) -> Option<Reply> {
        if self.event != EVENT_REPLY {
            return None;
        }
        let status = self
            .payload
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let response = self.payload.get("response").cloned().unwrap_or(Value::Null);
        Some(Reply { status, response })
    }
}

/// The payload of a `phx_reply`.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// `ok`, `error`, or anything the server chose.
    pub status: String,
    /// The server's response, any JSON.
    pub response: Value,
}

impl Reply {
    /// Whether the status is `ok`.
    pub fn is_ok(&self) -> bool {
        self.status == "ok"
    }

    /// The `reason` field of the response, when it has one.
    pub fn reason(&self) -> Option<&str> {
        self.response.get("reason").and_then(Value::as_str)
    }
}

fn opt_string(value: &Option<String>) -> Value {
    match value {
        Some(s) => Value::String(s.clone()),
        None => Value::Null,
    }
}

fn take_string(value: Option<Value>, what: &str, text: &str) -> Result<String> {
    match value {
        Some(Value::String(s)) => Ok(s),
        _ => Err(Error::protocol(format!(
            "frame {what} is not a string: {}",
            quote(text)
        ))),
    }
}

/// Refs are strings in phoenix.js; numbers are accepted too since some servers send them.
fn take_ref(value: Option<Value>, what: &str, text: &str) -> Result<Option<String>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(Error::protocol(format!(
            "frame {what} is neither null nor a string: {}",
            quote(text)
        ))),
    }
}

/// A short, char-boundary-safe excerpt for messages.
pub(crate) fn quote(text: &str) -> String {
    let mut out: String = text.chars().take(QUOTE_LIMIT).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trip() {
        let f = Frame::new(
            Some("1".into()),
            Some("2".into()),
            "bot:x",
            "utb_msg",
            json!({"session": "s", "text": "hi"}),
        );
        assert_eq!(Frame::parse(&f.to_json()).unwrap(), f);
        let hb = Frame::new(
            None,
            Some("3".into()),
            TOPIC_PHOENIX,
            EVENT_HEARTBEAT,
            json!({}),
        );
        assert_eq!(hb.to_json(), r#"[null,"3","phoenix","heartbeat",{}]"#);
    }

    #[test]
    fn malformed_frames_are_errors() {
        for bad in [
            "",
            "{}",
            "not json",
            "[1,2,3]",
            r#"[null,null,1,"e",{}]"#,
            r#"[null,null,"t",null,{}]"#,
            r#"[{},null,"t","e",{}]"#,
            r#"[null,null,"t","e",{},6]"#,
        ] {
            let err = Frame::parse(bad).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::Protocol, "{bad}");
        }
        let long = format!("[{}", "é".repeat(10_000));
        assert!(Frame::parse(&long).unwrap_err().message().len() < 600);
    }

    #[test]
    fn numeric_refs_and_replies() {
        let f = Frame::parse(
            r#"[5,6,"t","phx_reply",{"status":"error","response":{"reason":"unauthorized"}}]"#,
        )
        .unwrap();
        assert_eq!(f.join_ref.as_deref(), Some("5"));
        let r = f.reply().unwrap();
        assert!(!r.is_ok());
        assert_eq!(r.reason(), Some("unauthorized"));
    }
}
