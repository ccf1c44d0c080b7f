//! Objects shared by several APIs: originator, profile, params.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Fields a model does not know, kept so that nothing the service sends is lost.
pub type Extra = serde_json::Map<String, Value>;

/// Who sent a message: the end user, a moderator or the bot.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Originator {
    /// Service-side id of the originator (present on replies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `external`, `moderator`, `user` or `bot`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Profile details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<Profile>,
    /// Free key/value pairs about the originator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Map<String, Value>>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Originator {
    /// An originator with a name and the `external` role.
    pub fn external(name: impl Into<String>) -> Self {
        Originator {
            name: Some(name.into()),
            role: Some("external".into()),
            ..Default::default()
        }
    }
}

/// Profile of an originator.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// Complete name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    /// First name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Family name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// `M`, `F` or `U`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    /// Locale code (ISO).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Hours from UTC.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_opt_number"
    )]
    pub timezone: Option<f64>,
    /// Two-letter country code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// URL of a profile picture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One value of a parameter: `{value, match}` as the AI engine produces them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Param {
    /// The value; usually a string, an object for event params.
    pub value: Value,
    /// A human representation of the value.
    #[serde(default, rename = "match", skip_serializing_if = "Option::is_none")]
    pub matched: Option<String>,
    /// Unknown fields (such as `type` on event params).
    #[serde(flatten)]
    pub extra: Extra,
}

impl Param {
    /// A parameter value without a human match.
    pub fn new(value: impl Into<Value>) -> Self {
        Param {
            value: value.into(),
            matched: None,
            extra: Extra::new(),
        }
    }
}

/// A bag of parameters: each name holds a list of values.
pub type Params = BTreeMap<String, Vec<Param>>;

/// Serialize an optional number as an integer when it is whole (`-5`, not `-5.0`), as the
/// service writes hours and delays.
pub fn serialize_opt_number<S: serde::Serializer>(
    value: &Option<f64>,
    ser: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) if v.fract() == 0.0 && v.abs() < 9.0e15 => ser.serialize_i64(*v as i64),
        Some(v) => ser.serialize_f64(*v),
        None => ser.serialize_none(),
    }
}
