//! The one event type every API reports through, in every language: a stable name and a payload with fixed fields.
//!
//! The socket session, the AIDA client and the webhook receiver each turn their own events
//! into an [`Event`], so a reply, a delivery or a reconnect looks the same wherever it came
//! from. Names and top-level payload fields are snake_case here; a binding may apply its
//! language's case rule to them ([`Case`]), and nothing else. Objects inside a payload
//! (`message`, `reply`, `data`, `raw`) are Flow.ai's and AIDA's own JSON, unchanged.
//! Every duration is in milliseconds (`delay_ms`).

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::aida::BotMessage;
use crate::error::Error;
use crate::models::WebhookEvent;
use crate::phoenix::SocketEvent;
use crate::socket::SessionEvent;

/// Every event name, for documentation and the bindings' enums; `closed` is always last.
pub const NAMES: [&str; 13] = [
    "connected",
    "disconnected",
    "reconnecting",
    "delivered",
    "reply",
    "agent_typing",
    "interruption",
    "handover",
    "aida_message",
    "progress",
    "error",
    "unknown",
    "closed",
];

/// One event: a name from [`NAMES`] and its payload (a JSON object).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// The stable name.
    pub name: &'static str,
    /// The fields of the event (see README "Threads and events").
    pub payload: Map<String, Value>,
}

/// The case rule a binding applies to event names and top-level field names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    /// `agent_typing`, `thread_id` (Rust, C, Python).
    Snake,
    /// `agentTyping`, `threadId` (Node).
    Camel,
}

impl Case {
    /// `name` in this case; `name` is snake_case.
    pub fn apply(self, name: &str) -> String {
        match self {
            Case::Snake => name.to_string(),
            Case::Camel => to_camel(name),
        }
    }
}

/// `agent_typing` -> `agentTyping`.
pub fn to_camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `agentTyping` -> `agent_typing`; snake_case input is returned unchanged.
pub fn to_snake(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn to_json(value: &impl Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

impl Event {
    /// An event from its name and a `json!({...})` payload.
    pub fn new(name: &'static str, payload: Value) -> Self {
        Event {
            name,
            payload: object(payload),
        }
    }

    /// `closed`, with the error that ended the object when one did.
    pub fn closed(error: Option<&Error>) -> Self {
        let error = error.map(|e| json!({ "code": e.code(), "message": e.message() }));
        Event::new("closed", json!({ "error": error }))
    }

    /// `progress` of an upload: `sent` of `total` bytes.
    pub fn progress(sent: u64, total: u64) -> Self {
        Event::new("progress", json!({ "sent": sent, "total": total }))
    }

    /// Whether this is the last event of its object.
    pub fn is_closed(&self) -> bool {
        self.name == "closed"
    }

    /// The event as `{"event": name, "payload": {...}}` with `case` applied to the name
    /// and the payload's top-level keys.
    pub fn to_value(&self, case: Case) -> Value {
        let payload: Map<String, Value> = self
            .payload
            .iter()
            .map(|(k, v)| (case.apply(k), v.clone()))
            .collect();
        json!({ "event": case.apply(self.name), "payload": payload })
    }

    /// [`Event::to_value`] as JSON text.
    pub fn to_json(&self, case: Case) -> String {
        self.to_value(case).to_string()
    }

    /// The event of a socket session on `thread_id`.
    pub fn from_session(event: SessionEvent, thread_id: &str) -> Self {
        match event {
            SessionEvent::Connected => Event::new("connected", json!({ "thread_id": thread_id })),
            SessionEvent::Delivered(d) => Event::new(
                "delivered",
                json!({ "thread_id": thread_id, "trace_id": d.trace_id, "message": to_json(&d) }),
            ),
            SessionEvent::Reply(r) => Event::new(
                "reply",
                json!({ "thread_id": thread_id, "reply": to_json(&r) }),
            ),
            SessionEvent::AgentTyping(v) => Event::new(
                "agent_typing",
                json!({ "thread_id": thread_id, "data": *v }),
            ),
            SessionEvent::Interruption(v) => Event::new(
                "interruption",
                json!({ "thread_id": thread_id, "data": *v }),
            ),
            SessionEvent::Error { message } => Event::new(
                "error",
                json!({ "code": "FLOWAI_PROTOCOL", "message": message }),
            ),
            SessionEvent::Reconnecting { attempt, delay } => reconnecting(attempt, delay),
            SessionEvent::Disconnected { reason } => disconnected(&reason),
            SessionEvent::Closed { error } => Event::closed(error.as_ref()),
            SessionEvent::Unknown { kind, raw } => unknown(&kind, *raw),
        }
    }

    /// The event of an AIDA socket's lifecycle, or None for what the app need not see.
    pub fn from_aida_socket(event: SocketEvent) -> Option<Self> {
        Some(match event {
            SocketEvent::Connected => Event::new("connected", json!({})),
            SocketEvent::Disconnected { reason } => disconnected(&reason),
            SocketEvent::Reconnecting { attempt, delay } => reconnecting(attempt, delay),
            SocketEvent::InvalidFrame { error } => Event::new(
                "error",
                json!({ "code": error.code(), "message": error.message() }),
            ),
            SocketEvent::Closed => Event::closed(None),
        })
    }

    /// An AIDA reply (`btu_msg`).
    pub fn from_aida_message(message: &BotMessage) -> Self {
        Event::new(
            "aida_message",
            json!({
                "session_id": message.session,
                "text": message.text,
                "data": message.payload,
            }),
        )
    }

    /// A verified webhook call.
    pub fn from_webhook(event: WebhookEvent) -> Self {
        match event {
            WebhookEvent::Reply(r) => Event::new(
                "reply",
                json!({ "thread_id": r.thread_id, "reply": to_json(&r) }),
            ),
            WebhookEvent::Delivered(d) => Event::new(
                "delivered",
                json!({ "thread_id": d.thread_id, "trace_id": d.trace_id, "message": to_json(&d) }),
            ),
            WebhookEvent::Handover(data) => Event::new(
                "handover",
                json!({ "thread_id": data.get("threadId").cloned(), "data": data }),
            ),
            WebhookEvent::Unknown { kind, raw } => unknown(&kind, raw),
        }
    }
}

fn reconnecting(attempt: u32, delay: std::time::Duration) -> Event {
    let delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
    Event::new(
        "reconnecting",
        json!({ "attempt": attempt, "delay_ms": delay_ms }),
    )
}

fn disconnected(reason: &str) -> Event {
    Event::new("disconnected", json!({ "reason": reason }))
}

fn unknown(kind: &str, raw: Value) -> Event {
    Event::new("unknown", json!({ "type": kind, "raw": raw }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::Delivered;
    use std::time::Duration;

    #[test]
    fn cases_round_trip() {
        for name in NAMES
            .iter()
            .chain(["thread_id", "delay_ms", "trace_id"].iter())
        {
            assert_eq!(to_snake(&to_camel(name)), *name);
        }
        assert_eq!(to_camel("agent_typing"), "agentTyping");
        assert_eq!(to_snake("threadId"), "thread_id");
    }

    #[test]
    fn session_events_have_fixed_fields() {
        let delivered = Delivered {
            thread_id: "t1".into(),
            trace_id: Some(7),
            ..Default::default()
        };
        let event = Event::from_session(SessionEvent::Delivered(Box::new(delivered)), "t1");
        assert_eq!(event.name, "delivered");
        assert_eq!(event.payload["trace_id"], 7);
        assert_eq!(event.payload["message"]["threadId"], "t1");
        let camel = event.to_value(Case::Camel);
        assert_eq!(camel["payload"]["traceId"], 7);
        assert_eq!(camel["payload"]["message"]["threadId"], "t1");

        let event = Event::from_session(
            SessionEvent::Reconnecting {
                attempt: 2,
                delay: Duration::from_millis(1500),
            },
            "t1",
        );
        assert_eq!(
            event.to_value(Case::Camel),
            json!({"event": "reconnecting", "payload": {"attempt": 2, "delayMs": 1500}})
        );
    }

    #[test]
    fn closed_carries_the_error_code() {
        let event = Event::closed(Some(&Error::invalid("bad")));
        assert!(event.is_closed());
        assert_eq!(event.payload["error"]["code"], "FLOWAI_INVALID_ARGUMENT");
        assert_eq!(Event::closed(None).payload["error"], Value::Null);
    }

    #[test]
    fn every_name_is_listed() {
        let webhook = WebhookEvent::from_value(json!({"type": "x.y", "payload": {}}))
            .expect("a typed body parses");
        for event in [
            Event::from_webhook(webhook),
            Event::progress(1, 2),
            Event::closed(None),
        ] {
            assert!(NAMES.contains(&event.name), "{}", event.name);
        }
    }
}
