//! Webhook subscriptions and the events Flow.ai posts to them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::common::Extra;
use super::reply::{Delivered, Received};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// A webhook subscription as the service stores it. Debug redacts the verify key.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    /// Unique id of the webhook.
    #[serde(default)]
    pub webhook_id: String,
    /// Organisation the calls come from.
    #[serde(default)]
    pub organisation_id: String,
    /// URL Flow.ai calls.
    #[serde(default)]
    pub url: String,
    /// Key sent with each call so the receiver can verify it.
    #[serde(default, with = "secret_string")]
    pub verify_key: Secret,
    /// Subscribed event types.
    #[serde(default)]
    pub events: Vec<String>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("webhook_id", &self.webhook_id)
            .field("organisation_id", &self.organisation_id)
            .field("url", &self.url)
            .field("verify_key", &self.verify_key)
            .field("events", &self.events)
            .finish_non_exhaustive()
    }
}

/// What is needed to create a webhook.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewWebhook {
    /// URL Flow.ai shall call.
    pub url: String,
    /// Key sent with each call.
    #[serde(with = "secret_string")]
    pub verify_key: Secret,
    /// At least one event type.
    pub events: Vec<String>,
}

impl NewWebhook {
    /// Check the fields the service requires, before anything is sent.
    pub fn validate(&self) -> Result<()> {
        validate_url(&self.url)?;
        if self.verify_key.is_empty() {
            return Err(Error::invalid("verifyKey must not be empty"));
        }
        validate_events(&self.events)
    }
}

/// A partial update: fields left `None` stay unchanged.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookUpdate {
    /// New URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// New verify key.
    #[serde(skip_serializing_if = "Option::is_none", with = "opt_secret_string")]
    pub verify_key: Option<Secret>,
    /// New event list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<String>>,
}

impl WebhookUpdate {
    /// Check the fields that are set.
    pub fn validate(&self) -> Result<()> {
        if let Some(url) = &self.url {
            validate_url(url)?;
        }
        if let Some(events) = &self.events {
            validate_events(events)?;
        }
        if self.verify_key.as_ref().is_some_and(Secret::is_empty) {
            return Err(Error::invalid("verifyKey must not be empty"));
        }
        Ok(())
    }
}

fn validate_url(url: &str) -> Result<()> {
    crate::config::parse_http_url(url, "webhook url").map(|_| ())
}

fn validate_events(events: &[String]) -> Result<()> {
    if events.is_empty() {
        return Err(Error::invalid("a webhook needs at least one event"));
    }
    if events.iter().any(|e| e.trim().is_empty()) {
        return Err(Error::invalid("webhook event names must not be empty"));
    }
    Ok(())
}

/// An event posted to a webhook. Unknown types are kept with their raw body.
#[derive(Debug, Clone, PartialEq)]
pub enum WebhookEvent {
    /// `message.reply`: the bot answered.
    Reply(Box<Received>),
    /// `message.delivered`: a sent message was received.
    Delivered(Delivered),
    /// `control.handover`: the engine hands the thread to the app.
    Handover(Value),
    /// Any other event type, with the whole body.
    Unknown { kind: String, raw: Value },
}

impl WebhookEvent {
    /// The wire `type`.
    pub fn kind(&self) -> &str {
        match self {
            WebhookEvent::Reply(_) => "message.reply",
            WebhookEvent::Delivered(_) => "message.delivered",
            WebhookEvent::Handover(_) => "control.handover",
            WebhookEvent::Unknown { kind, .. } => kind,
        }
    }

    /// Parse a `{type, payload}` body. A body that is not a JSON object with a string
    /// `type` is a protocol error; a known type whose payload does not fit is kept as Unknown.
    pub fn from_value(body: Value) -> Result<WebhookEvent> {
        let Some(kind) = body.get("type").and_then(Value::as_str).map(str::to_string) else {
            return Err(Error::protocol("webhook body has no string \"type\""));
        };
        let payload = body.get("payload").cloned().unwrap_or(Value::Null);
        let parsed = match kind.as_str() {
            "message.reply" => serde_json::from_value(payload)
                .ok()
                .map(WebhookEvent::Reply),
            "message.delivered" => serde_json::from_value(payload)
                .ok()
                .map(WebhookEvent::Delivered),
            "control.handover" => Some(WebhookEvent::Handover(payload)),
            _ => None,
        };
        Ok(parsed.unwrap_or(WebhookEvent::Unknown { kind, raw: body }))
    }

    /// The wire body `{type, payload}`.
    pub fn to_value(&self) -> Value {
        let payload = match self {
            WebhookEvent::Reply(r) => serde_json::to_value(r).unwrap_or(Value::Null),
            WebhookEvent::Delivered(d) => serde_json::to_value(d).unwrap_or(Value::Null),
            WebhookEvent::Handover(p) => p.clone(),
            WebhookEvent::Unknown { raw, .. } => return raw.clone(),
        };
        serde_json::json!({ "type": self.kind(), "payload": payload })
    }
}

mod secret_string {
    use crate::secret::Secret;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(s: &Secret, ser: S) -> Result<S::Ok, S::Error> {
        ser.serialize_str(s.expose())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<Secret, D::Error> {
        Ok(Secret::new(String::deserialize(de)?))
    }
}

mod opt_secret_string {
    use crate::secret::Secret;
    use serde::Serializer;

    pub fn serialize<S: Serializer>(s: &Option<Secret>, ser: S) -> Result<S::Ok, S::Error> {
        match s {
            Some(s) => ser.serialize_str(s.expose()),
            None => ser.serialize_none(),
        }
    }
}

impl Default for Secret {
    fn default() -> Self {
        Secret::new(String::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn webhook_debug_hides_key() {
        let w: Webhook = serde_json::from_value(json!({
            "webhookId": "w", "organisationId": "o", "url": "https://x/y",
            "verifyKey": "vk-hidden-1234567", "events": ["message.reply"], "future": 1
        }))
        .unwrap();
        assert!(!format!("{w:?}").contains("vk-hidden"));
        assert_eq!(w.extra["future"], 1);
        assert_eq!(
            serde_json::to_value(&w).unwrap()["verifyKey"],
            "vk-hidden-1234567"
        );
    }

    #[test]
    fn events_parse_and_unknown_kept() {
        let e = WebhookEvent::from_value(
            json!({"type": "message.delivered", "payload": {"threadId": "t", "traceId": 7}}),
        )
        .unwrap();
        assert!(matches!(e, WebhookEvent::Delivered(ref d) if d.trace_id == Some(7)));
        let raw = json!({"type": "thread.archived", "payload": {"x": 1}});
        let e = WebhookEvent::from_value(raw.clone()).unwrap();
        assert_eq!(e.kind(), "thread.archived");
        assert_eq!(e.to_value(), raw);
        assert!(WebhookEvent::from_value(json!([1])).is_err());
    }

    #[test]
    fn new_webhook_validation() {
        let ok = NewWebhook {
            url: "https://a/b".into(),
            verify_key: "k".into(),
            events: vec!["message.reply".into()],
        };
        assert!(ok.validate().is_ok());
        let no_events = NewWebhook {
            events: vec![],
            ..ok.clone()
        };
        assert!(no_events.validate().is_err());
        let bad_url = NewWebhook {
            url: "nope".into(),
            ..ok
        };
        assert!(bad_url.validate().is_err());
    }
}
