//! Replies from the bot: `message.received` payloads, messages and the typed response templates.

use serde::de::Deserializer;
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::common::{Extra, Originator, Params};

/// The payload of `message.received` (socket) and `message.reply` (webhook).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Received {
    /// The thread the reply belongs to.
    #[serde(default)]
    pub thread_id: String,
    /// The reply messages, in order.
    #[serde(default)]
    pub messages: Vec<ReplyMessage>,
    /// Who sent the reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub originator: Option<Originator>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The payload of `message.delivered`: the echo of a message the service accepted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivered {
    /// The thread of the delivered message.
    #[serde(default)]
    pub thread_id: String,
    /// The traceId the message was sent with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<u64>,
    /// The text of the delivered message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speech: Option<String>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One reply message with its response templates.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplyMessage {
    /// Speech representation of the message.
    #[serde(default)]
    pub fallback: String,
    /// True when the message has no output for a user.
    #[serde(default)]
    pub silent: bool,
    /// The text this message directly answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// Originator of this message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub originator: Option<Originator>,
    /// Names of actions called.
    #[serde(default)]
    pub actions: Vec<Value>,
    /// Response templates, in order.
    #[serde(default)]
    pub responses: Vec<Response>,
    /// The matched flow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow: Option<FlowRef>,
    /// The matched step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<StepRef>,
    /// Parameters matched for this message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<Params>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ReplyMessage {
    /// Every text the message shows, from its text templates (or the fallback when none).
    pub fn texts(&self) -> Vec<&str> {
        let texts: Vec<&str> = self
            .responses
            .iter()
            .filter_map(|r| match &r.template {
                Template::Text { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        if texts.is_empty() && !self.fallback.is_empty() {
            vec![self.fallback.as_str()]
        } else {
            texts
        }
    }

    /// Every quick reply offered by the message's templates.
    pub fn quick_replies(&self) -> Vec<&QuickReply> {
        self.responses
            .iter()
            .flat_map(|r| r.template.quick_replies())
            .collect()
    }
}

/// The flow a reply came from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FlowRef {
    /// Flow id.
    #[serde(default)]
    pub flow_id: String,
    /// Flow title.
    #[serde(default)]
    pub title: String,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The step a reply came from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepRef {
    /// Step id.
    #[serde(default)]
    pub step_id: String,
    /// Step title.
    #[serde(default)]
    pub title: String,
    /// Step type (INTENT, EVENT, ...).
    #[serde(default, rename = "type")]
    pub kind: String,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A quick reply: a label to show and a value to send back.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QuickReply {
    /// What the user sees.
    #[serde(default)]
    pub label: String,
    /// What is sent when the user picks it.
    #[serde(default)]
    pub value: String,
    /// `text`, `location`, ...
    #[serde(default, rename = "type")]
    pub kind: String,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A button: `{type, label, value}` (a postback, url, phone number, ...).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Button {
    /// Button type such as `postback`, `url`, `phone`.
    #[serde(default, rename = "type")]
    pub kind: String,
    /// What the user sees.
    #[serde(default)]
    pub label: String,
    /// Value sent back or URL opened.
    #[serde(default)]
    pub value: String,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A media reference inside a card.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Media {
    /// Media URL.
    #[serde(default)]
    pub url: String,
    /// Media type (image, video).
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A card: title, subtitle, optional media and buttons.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Card {
    /// Card title.
    #[serde(default)]
    pub title: String,
    /// Card subtitle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtitle: Option<String>,
    /// Card media.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<Media>,
    /// Card buttons.
    #[serde(default)]
    pub buttons: Vec<Button>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One item of a list template.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ListItem {
    /// Item title.
    #[serde(default)]
    pub title: String,
    /// Item subtitle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtitle: Option<String>,
    /// Item media.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<Media>,
    /// Item buttons.
    #[serde(default)]
    pub buttons: Vec<Button>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A response template, typed by its `type`. Unknown types, and known types whose
/// payload does not have the expected shape, are kept whole in [`Template::Unknown`].
#[derive(Debug, Clone, PartialEq)]
pub enum Template {
    /// Plain text with optional quick replies.
    Text {
        text: String,
        quick_replies: Vec<QuickReply>,
    },
    /// An image.
    Image { title: Option<String>, url: String },
    /// A video.
    Video { title: Option<String>, url: String },
    /// An audio clip.
    Audio { title: Option<String>, url: String },
    /// A file.
    File { title: Option<String>, url: String },
    /// A location.
    Location {
        title: Option<String>,
        lat: Value,
        long: Value,
    },
    /// A card.
    Card(Card),
    /// A text with buttons.
    Buttons {
        title: Option<String>,
        buttons: Vec<Button>,
    },
    /// A row of cards.
    Carousel { cards: Vec<Card> },
    /// A list of items with buttons.
    List {
        items: Vec<ListItem>,
        buttons: Vec<Button>,
    },
    /// Custom JSON for the app.
    Custom(Value),
    /// An internal note (not shown to end users).
    Note(Value),
    /// A handover to a human agent.
    Handover(Value),
    /// A web view.
    Webview(Value),
    /// Any other template, with its type and raw payload.
    Unknown { kind: String, payload: Value },
}

impl Template {
    /// The template's `type` as it appears on the wire.
    pub fn kind(&self) -> &str {
        match self {
            Template::Text { .. } => "text",
            Template::Image { .. } => "image",
            Template::Video { .. } => "video",
            Template::Audio { .. } => "audio",
            Template::File { .. } => "file",
            Template::Location { .. } => "location",
            Template::Card(_) => "card",
            Template::Buttons { .. } => "buttons",
            Template::Carousel { .. } => "carousel",
            Template::List { .. } => "list",
            Template::Custom(_) => "custom",
            Template::Note(_) => "note",
            Template::Handover(_) => "handover",
            Template::Webview(_) => "webview",
            Template::Unknown { kind, .. } => kind,
        }
    }

    /// Quick replies of a text template; empty for the others.
    pub fn quick_replies(&self) -> &[QuickReply] {
        match self {
            Template::Text { quick_replies, .. } => quick_replies,
            _ => &[],
        }
    }

    /// The wire payload of the template.
    pub fn payload(&self) -> Value {
        let v = |x: &dyn erased::ToValue| x.to_value();
        match self {
            Template::Text {
                text,
                quick_replies,
            } => {
                let mut m = serde_json::Map::new();
                m.insert("text".into(), Value::String(text.clone()));
                if !quick_replies.is_empty() {
                    m.insert("quickReplies".into(), v(quick_replies));
                }
                Value::Object(m)
            }
            Template::Image { title, url }
            | Template::Video { title, url }
            | Template::Audio { title, url }
            | Template::File { title, url } => titled(title, [("url", Value::String(url.clone()))]),
            Template::Location { title, lat, long } => {
                titled(title, [("lat", lat.clone()), ("long", long.clone())])
            }
            Template::Card(card) => v(card),
            Template::Buttons { title, buttons } => titled(title, [("buttons", v(buttons))]),
            Template::Carousel { cards } => serde_json::json!({ "cards": v(cards) }),
            Template::List { items, buttons } => {
                serde_json::json!({ "items": v(items), "buttons": v(buttons) })
            }
            Template::Custom(p)
            | Template::Note(p)
            | Template::Handover(p)
            | Template::Webview(p)
            | Template::Unknown { payload: p, .. } => p.clone(),
        }
    }

    /// Build a template from its wire type and payload; never fails.
    pub fn from_parts(kind: &str, payload: Value) -> Template {
        typed(kind, &payload).unwrap_or(Template::Unknown {
            kind: kind.to_string(),
            payload,
        })
    }
}

mod erased {
    use serde_json::Value;

    /// Serialize to a JSON value; our models always serialize.
    pub trait ToValue {
        fn to_value(&self) -> Value;
    }

    impl<T: serde::Serialize> ToValue for T {
        fn to_value(&self) -> Value {
            serde_json::to_value(self).unwrap_or(Value::Null)
        }
    }
}

fn titled<const N: usize>(title: &Option<String>, fields: [(&str, Value); N]) -> Value {
    let mut m = serde_json::Map::new();
    if let Some(t) = title {
        m.insert("title".into(), Value::String(t.clone()));
    }
    for (k, v) in fields {
        m.insert(k.into(), v);
    }
    Value::Object(m)
}

fn typed(kind: &str, payload: &Value) -> Option<Template> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct TextP {
        text: String,
        #[serde(default)]
        quick_replies: Vec<QuickReply>,
    }
    #[derive(Deserialize)]
    struct UrlP {
        #[serde(default)]
        title: Option<String>,
        url: String,
    }
    #[derive(Deserialize)]
    struct LocP {
        #[serde(default)]
        title: Option<String>,
        lat: Value,
        long: Value,
    }
    #[derive(Deserialize)]
    struct ButtonsP {
        #[serde(default)]
        title: Option<String>,
        #[serde(default)]
        buttons: Vec<Button>,
    }
    #[derive(Deserialize)]
    struct CarouselP {
        cards: Vec<Card>,
    }
    #[derive(Deserialize)]
    struct ListP {
        items: Vec<ListItem>,
        #[serde(default)]
        buttons: Vec<Button>,
    }
    fn parse<T: serde::de::DeserializeOwned>(p: &Value) -> Option<T> {
        T::deserialize(p).ok()
    }
    let url = |p: &Value| parse::<UrlP>(p).map(|u| (u.title, u.url));
    Some(match kind {
        "text" => parse::<TextP>(payload).map(|t| Template::Text {
            text: t.text,
            quick_replies: t.quick_replies,
        })?,
        "image" => url(payload).map(|(title, url)| Template::Image { title, url })?,
        "video" => url(payload).map(|(title, url)| Template::Video { title, url })?,
        "audio" => url(payload).map(|(title, url)| Template::Audio { title, url })?,
        "file" => url(payload).map(|(title, url)| Template::File { title, url })?,
        "location" => parse::<LocP>(payload).map(|l| Template::Location {
            title: l.title,
            lat: l.lat,
            long: l.long,
        })?,
        "card" => Template::Card(parse(payload)?),
        "buttons" => parse::<ButtonsP>(payload).map(|b| Template::Buttons {
            title: b.title,
            buttons: b.buttons,
        })?,
        "carousel" => Template::Carousel {
            cards: parse::<CarouselP>(payload)?.cards,
        },
        "list" => parse::<ListP>(payload).map(|l| Template::List {
            items: l.items,
            buttons: l.buttons,
        })?,
        "custom" => Template::Custom(payload.clone()),
        "note" => Template::Note(payload.clone()),
        "handover" => Template::Handover(payload.clone()),
        "webview" => Template::Webview(payload.clone()),
        _ => return None,
    })
}

/// One response of a reply message: a template and an optional delay.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// The typed template.
    pub template: Template,
    /// Seconds to wait before showing it.
    pub delay: Option<f64>,
    /// Unknown fields next to `type`, `payload` and `delay`.
    pub extra: Extra,
}

impl Response {
    /// A response without delay.
    pub fn new(template: Template) -> Self {
        Response {
            template,
            delay: None,
            extra: Extra::new(),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct WireResponse {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    payload: Value,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "super::common::serialize_opt_number"
    )]
    delay: Option<f64>,
    #[serde(flatten)]
    extra: Extra,
}

impl Serialize for Response {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        WireResponse {
            kind: self.template.kind().to_string(),
            payload: self.template.payload(),
            delay: self.delay,
            extra: self.extra.clone(),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Response {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = WireResponse::deserialize(deserializer)?;
        Ok(Response {
            template: Template::from_parts(&wire.kind, wire.payload),
            delay: wire.delay,
            extra: wire.extra,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn seed_advanced_reply_parses() {
        let raw = json!({
            "threadId": "t1",
            "messages": [{
                "fallback": "Hi, how can we help?",
                "silent": false,
                "replyTo": "event attachment",
                "actions": [],
                "responses": [{
                    "type": "text",
                    "payload": {"text": "Hi, how can we help?", "quickReplies": [
                        {"label": "Chat with flow.ai", "value": "Chat with someone from flow.ai", "type": "text"}
                    ]},
                    "delay": 0
                }],
                "flow": {"flowId": "f", "title": "Intro"},
                "step": {"stepId": "s", "title": "INTRO", "type": "EVENT"},
                "params": {"event": [{"type": "custom", "value": {"name": "INTRO"}}]}
            }]
        });
        let r: Received = serde_json::from_value(raw).unwrap();
        let m = &r.messages[0];
        assert_eq!(m.texts(), vec!["Hi, how can we help?"]);
        assert_eq!(m.quick_replies()[0].label, "Chat with flow.ai");
        assert_eq!(m.step.as_ref().unwrap().kind, "EVENT");
        let p = &m.params.as_ref().unwrap()["event"][0];
        assert_eq!(p.value["name"], "INTRO");
        assert_eq!(p.extra["type"], "custom");
    }

    #[test]
    fn unknown_template_round_trips() {
        let raw = json!({"type": "hologram", "payload": {"beam": 3}, "delay": 1.5, "x": true});
        let r: Response = serde_json::from_value(raw.clone()).unwrap();
        assert_eq!(r.template.kind(), "hologram");
        assert!(matches!(r.template, Template::Unknown { .. }));
        assert_eq!(serde_json::to_value(&r).unwrap(), raw);
    }

    #[test]
    fn malformed_known_template_is_kept_as_unknown() {
        let raw = json!({"type": "text", "payload": {"nope": 1}});
        let r: Response = serde_json::from_value(raw).unwrap();
        assert!(matches!(r.template, Template::Unknown { ref kind, .. } if kind == "text"));
    }

    #[test]
    fn every_known_template_round_trips() {
        let samples = [
            json!({"type": "text", "payload": {"text": "a", "quickReplies": [{"label": "l", "value": "v", "type": "text"}]}}),
            json!({"type": "image", "payload": {"title": "t", "url": "u"}}),
            json!({"type": "video", "payload": {"url": "u"}}),
            json!({"type": "audio", "payload": {"url": "u"}}),
            json!({"type": "file", "payload": {"title": "t", "url": "u"}}),
            json!({"type": "location", "payload": {"title": "t", "lat": "1", "long": "2"}}),
            json!({"type": "card", "payload": {"title": "t", "subtitle": "s", "media": {"url": "m"}, "buttons": [{"type": "url", "label": "l", "value": "v"}]}}),
            json!({"type": "buttons", "payload": {"title": "t", "buttons": [{"type": "postback", "label": "l", "value": "v"}]}}),
            json!({"type": "carousel", "payload": {"cards": [{"title": "c", "buttons": []}]}}),
            json!({"type": "list", "payload": {"items": [{"title": "i", "buttons": []}], "buttons": []}}),
            json!({"type": "custom", "payload": {"any": [1, 2]}}),
            json!({"type": "note", "payload": {"text": "n"}}),
            json!({"type": "handover", "payload": {}}),
            json!({"type": "webview", "payload": {"url": "w"}}),
        ];
        for raw in samples {
            let r: Response = serde_json::from_value(raw.clone()).unwrap();
            assert!(!matches!(r.template, Template::Unknown { .. }), "{raw}");
            assert_eq!(r.template.kind(), raw["type"]);
            assert_eq!(serde_json::to_value(&r).unwrap(), raw);
        }
    }
}
