//! Typed serde models of every JSON object in the Flow.ai seeds; unknown fields and types are kept.

pub mod common;
pub mod management;
pub mod reply;
pub mod webhook;

pub use common::{Extra, Originator, Param, Params, Profile};
pub use management::{
    Action, ActionRef, Example, Flow, Intent, IntentRef, Resource, Slot, Step, StepType,
};
pub use reply::{
    Button, Card, Delivered, FlowRef, ListItem, Media, QuickReply, Received, ReplyMessage,
    Response, StepRef, Template,
};
pub use webhook::{NewWebhook, Webhook, WebhookEvent, WebhookUpdate};
