//! The webhook calls of the Flow REST API v1: `{type, payload}` bodies whose types the API
//! reference lists (message, history, threads, trigger.events, businessHours, paused,
//! resumed, isPaused, inbound, outbound, takeover). Other types are passed through.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::models::{ReplyMessage, WebhookEvent};

/// Every event type the API reference lists.
pub const EVENT_TYPES: [&str; 11] = [
    "message",
    "history",
    "threads",
    "trigger.events",
    "businessHours",
    "paused",
    "resumed",
    "isPaused",
    "inbound",
    "outbound",
    "takeover",
];

/// One v1 webhook call: its type, its payload and the whole body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestWebhookEvent {
    /// The wire `type`, e.g. `paused`.
    pub kind: String,
    /// The `payload` (null when absent).
    pub payload: Value,
    /// The whole body.
    pub raw: Value,
}

impl RestWebhookEvent {
    /// Parse a body; it must be an object with a string `type`. Any type is accepted.
    pub fn from_value(body: Value) -> Result<Self> {
        let Some(kind) = body.get("type").and_then(Value::as_str).map(str::to_string) else {
            return Err(Error::protocol("webhook body has no string \"type\""));
        };
        let payload = body.get("payload").cloned().unwrap_or(Value::Null);
        Ok(RestWebhookEvent {
            kind,
            payload,
            raw: body,
        })
    }

    /// The v1 event inside a parsed webhook call: v1 types arrive as
    /// [`WebhookEvent::Unknown`] from the receiver; `None` for the Messaging API's own types.
    pub fn from_webhook_event(event: &WebhookEvent) -> Option<Self> {
        match event {
            WebhookEvent::Unknown { raw, .. } => RestWebhookEvent::from_value(raw.clone()).ok(),
            _ => None,
        }
    }

    /// Whether the API reference lists this type.
    pub fn is_known(&self) -> bool {
        EVENT_TYPES.contains(&self.kind.as_str())
    }

    /// The thread the event is about, when it names one.
    pub fn thread_id(&self) -> Option<&str> {
        self.payload.get("threadId").and_then(Value::as_str)
    }

    /// Whether a `paused` / `isPaused` / `resumed` event says the bot is paused.
    pub fn is_paused(&self) -> Option<bool> {
        match self.kind.as_str() {
            "paused" => Some(true),
            "resumed" => Some(false),
            _ => ["isPaused", "isPaued"]
                .iter()
                .find_map(|f| self.payload.get(*f).and_then(Value::as_bool)),
        }
    }

    /// The bot's replies of a `message` event, in the socket's reply format.
    pub fn replies(&self) -> Option<Vec<ReplyMessage>> {
        if self.kind != "message" {
            return None;
        }
        serde_json::from_value(self.payload.get("messages")?.clone()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn known_and_unknown_types() {
        let body = json!({"type": "paused", "payload": {"threadId": "t"}});
        let e = WebhookEvent::from_value(body.clone()).unwrap();
        let v1 = RestWebhookEvent::from_webhook_event(&e).unwrap();
        assert!(v1.is_known());
        assert_eq!(v1.thread_id(), Some("t"));
        assert_eq!(v1.is_paused(), Some(true));
        assert_eq!(v1.raw, body);
        let future = RestWebhookEvent::from_value(json!({"type": "thread.archived"})).unwrap();
        assert!(!future.is_known());
        assert_eq!(future.payload, Value::Null);
        let reply = RestWebhookEvent::from_value(json!({"type": "message", "payload": {
            "threadId": "t", "messages": [{"fallback": "Hi"}]}}))
        .unwrap();
        assert_eq!(reply.replies().unwrap()[0].fallback, "Hi");
        assert!(RestWebhookEvent::from_value(json!({"payload": {}})).is_err());
    }
}
