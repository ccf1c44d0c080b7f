//! Management API objects: flows, steps, intents, actions, and the thinly documented resources.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::common::Extra;

/// A conversation topic: a series of steps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Flow {
    /// Unique id.
    #[serde(default)]
    pub flow_id: String,
    /// Project the flow belongs to.
    #[serde(default)]
    pub project_id: String,
    /// AI brain the flow belongs to.
    #[serde(default)]
    pub brain_id: String,
    /// Name.
    #[serde(default)]
    pub title: String,
    /// Group name.
    #[serde(default)]
    pub group: String,
    /// Creation date (ISO 8601).
    #[serde(default)]
    pub created_at: String,
    /// Ignored when true.
    #[serde(default)]
    pub disabled: bool,
    /// The steps.
    #[serde(default)]
    pub steps: Vec<Step>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The type of a step.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum StepType {
    /// Matched by an intent's examples.
    Intent,
    /// Matched by an event name.
    Event,
    /// The fallback when nothing else matches.
    Unknown,
    /// An image was sent.
    Image,
    /// A file was sent.
    File,
    /// Audio was sent.
    Audio,
    /// Video was sent.
    Video,
    /// A location was sent.
    Location,
    /// Nothing was said.
    Nothing,
    /// Anything at all.
    Anything,
    /// Fills a slot (a value asked from the user).
    Slot,
    /// A type this SDK does not know yet.
    #[serde(untagged)]
    Other(String),
}

impl Default for StepType {
    fn default() -> Self {
        StepType::Other(String::new())
    }
}

impl StepType {
    /// The wire name.
    pub fn as_str(&self) -> &str {
        match self {
            StepType::Intent => "INTENT",
            StepType::Event => "EVENT",
            StepType::Unknown => "UNKNOWN",
            StepType::Image => "IMAGE",
            StepType::File => "FILE",
            StepType::Audio => "AUDIO",
            StepType::Video => "VIDEO",
            StepType::Location => "LOCATION",
            StepType::Nothing => "NOTHING",
            StepType::Anything => "ANYTHING",
            StepType::Slot => "SLOT",
            StepType::Other(s) => s,
        }
    }
}

/// A step of a flow.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    /// Unique id.
    #[serde(default)]
    pub step_id: String,
    /// Name (for EVENT steps, the event name).
    #[serde(default)]
    pub title: String,
    /// Step type.
    #[serde(default, rename = "type")]
    pub kind: StepType,
    /// Ids of the steps that must precede this one.
    #[serde(default)]
    pub contexts: Vec<String>,
    /// The intent, as an id (in lists) or a whole object (in info).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<IntentRef>,
    /// Reply actions, as ids (in lists) or whole objects (in info).
    #[serde(default)]
    pub actions: Vec<ActionRef>,
    /// The slot a SLOT step fills.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot: Option<Slot>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// An intent given by id or in full.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum IntentRef {
    /// Only the id.
    Id(String),
    /// The whole intent.
    Full(Intent),
}

/// An action given by id or in full.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ActionRef {
    /// Only the id.
    Id(String),
    /// The whole action.
    Full(Action),
}

/// A slot filled by a SLOT step.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Slot {
    /// `REQUIRED` or `OPTIONAL`.
    #[serde(default)]
    pub validation: String,
    /// Entity type of the value, e.g. `system.query`.
    #[serde(default)]
    pub entity_id: String,
    /// Parameter name the value is stored under.
    #[serde(default)]
    pub label: String,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// An intent: what users say, by example.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Intent {
    /// Unique id.
    #[serde(default)]
    pub intent_id: String,
    /// Name.
    #[serde(default)]
    pub title: String,
    /// Creation date.
    #[serde(default)]
    pub created_at: String,
    /// Example sentences.
    #[serde(default)]
    pub examples: Vec<Example>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One example sentence of an intent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Example {
    /// The sentence.
    #[serde(default)]
    pub query: String,
    /// Entities annotated in it.
    #[serde(default)]
    pub entities: Vec<Value>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A reply action, e.g. `TEXT` with `{texts, quickReplies, delay}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Action {
    /// Unique id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_id: Option<String>,
    /// Creation date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Action type (`TEXT`, ...).
    #[serde(default, rename = "type")]
    pub kind: String,
    /// Type-specific payload.
    #[serde(default)]
    pub payload: Value,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A resource the seed documents only by name (entity type, project, member): all fields kept.
pub type Resource = serde_json::Map<String, Value>;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn list_and_info_shapes_parse() {
        let list: Vec<Flow> = serde_json::from_value(json!([{
            "flowId": "f", "title": "Weather", "steps": [
                {"stepId": "a", "type": "INTENT", "title": "x", "contexts": [], "actions": ["id1"], "intent": "i1"},
                {"stepId": "b", "type": "SLOT", "title": "SLOT", "contexts": ["a"], "actions": ["id2"],
                 "slot": {"validation": "REQUIRED", "entityId": "system.query", "label": "city"}},
                {"stepId": "c", "type": "TELEPATHY"}
            ]
        }]))
        .unwrap();
        let steps = &list[0].steps;
        assert_eq!(steps[0].intent, Some(IntentRef::Id("i1".into())));
        assert_eq!(steps[1].slot.as_ref().unwrap().label, "city");
        assert_eq!(steps[2].kind, StepType::Other("TELEPATHY".into()));
        let info: Flow = serde_json::from_value(json!({
            "flowId": "f", "steps": [{"stepId": "a", "type": "INTENT",
              "intent": {"intentId": "i", "title": "t", "examples": [{"query": "hi", "entities": []}]},
              "actions": [{"type": "TEXT", "payload": {"texts": ["Hello"]}}]}]
        }))
        .unwrap();
        assert!(
            matches!(info.steps[0].intent, Some(IntentRef::Full(ref i)) if i.examples[0].query == "hi")
        );
        assert!(matches!(info.steps[0].actions[0], ActionRef::Full(ref a) if a.kind == "TEXT"));
    }
}
