//! Arguments of a call: keys normalized to snake_case, checked against the method table, then read into typed structs.

use flowai_core::event::to_snake;
use flowai_core::{Error, Result};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::api::{Method, Type};

/// The checked arguments of one call.
#[derive(Debug, Clone, Default)]
pub struct Args {
    method: &'static str,
    map: Map<String, Value>,
}

fn fits(ty: Type, value: &Value) -> bool {
    match ty {
        Type::Str | Type::Path => value.is_string(),
        Type::Int => value.is_u64() || value.is_i64(),
        Type::Float => value.is_number(),
        Type::Bool => value.is_boolean(),
        Type::Coordinate => value.is_number() || value.is_string(),
        Type::StrList => value
            .as_array()
            .is_some_and(|items| items.iter().all(Value::is_string)),
        Type::Object => value.is_object(),
        _ => true,
    }
}

fn type_name(ty: Type) -> &'static str {
    match ty {
        Type::Str => "a string",
        Type::Path => "a path string",
        Type::Int => "a whole number",
        Type::Float => "a number",
        Type::Bool => "a boolean",
        Type::Coordinate => "a number or a string",
        Type::StrList => "a list of strings",
        Type::Object => "an object",
        _ => "a JSON value",
    }
}

impl Args {
    /// Check `given` (an object or null) against `method`: every key known, every
    /// required one present, every value of its type. `null` counts as not given.
    pub fn check(method: &'static Method, given: Value) -> Result<Args> {
        let invalid = |what: String| Error::invalid(format!("{}: {what}", method.name));
        let given = match given {
            Value::Null => Map::new(),
            Value::Object(map) => map,
            _ => return Err(invalid("the arguments must be an object".into())),
        };
        let mut map = Map::new();
        for (key, value) in given {
            if value.is_null() {
                continue;
            }
            let key = to_snake(&key);
            let Some(param) = method.params.iter().find(|p| p.name == key) else {
                return Err(invalid(format!("unknown argument `{key}`")));
            };
            if !fits(param.ty, &value) {
                return Err(invalid(format!("`{key}` must be {}", type_name(param.ty))));
            }
            map.insert(key, value);
        }
        if let Some(missing) = method
            .params
            .iter()
            .find(|p| p.required && !map.contains_key(p.name))
        {
            return Err(invalid(format!("`{}` is required", missing.name)));
        }
        Ok(Args {
            method: method.name,
            map,
        })
    }

    /// The arguments as `T` (field names are the parameters' snake_case names).
    pub fn parse<T: DeserializeOwned>(self) -> Result<T> {
        serde_json::from_value(Value::Object(self.map))
            .map_err(|e| Error::invalid(format!("{}: {e}", self.method)))
    }

    /// One string argument the table requires.
    pub fn string(&self, name: &str) -> Result<String> {
        self.map
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| Error::invalid(format!("{}: `{name}` is required", self.method)))
    }

    /// One optional argument.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.map.get(name)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::method;

    fn send_text() -> &'static Method {
        method("messaging", "send_text").expect("in the table")
    }

    #[test]
    fn checks_names_presence_and_types() {
        let args = Args::check(
            send_text(),
            json!({"threadId": "t", "text": "hi", "lang": null}),
        )
        .expect("valid");
        assert_eq!(args.string("thread_id").expect("given"), "t");
        let err = Args::check(send_text(), json!({"thread_id": "t"})).unwrap_err();
        assert_eq!(err.message(), "send_text: `text` is required");
        let err = Args::check(send_text(), json!({"thread_id": "t", "text": 1})).unwrap_err();
        assert_eq!(err.message(), "send_text: `text` must be a string");
        let err = Args::check(
            send_text(),
            json!({"thread_id": "t", "text": "x", "colour": 1}),
        )
        .unwrap_err();
        assert_eq!(err.message(), "send_text: unknown argument `colour`");
        let err = Args::check(send_text(), json!([1])).unwrap_err();
        assert_eq!(err.code(), "FLOWAI_INVALID_ARGUMENT");
    }
}
