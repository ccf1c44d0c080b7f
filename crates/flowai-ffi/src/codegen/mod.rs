//! Binding sources generated from the method table, committed and checked for freshness by `cargo test`.
//!
//! `FLOWAI_BLESS=1 cargo test -p flowai-ffi --test generated` rewrites them.

pub mod c;
pub mod node;
pub mod python;

/// What a setting field holds, declared the same way by every generated binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingType {
    Int,
    Float,
    Bool,
    Originator,
    Str,
}

/// The type of a settings field, by the naming rule of `flowai_core::settings`:
/// durations end in `_ms`, counts in `_capacity`, `_bytes` or `_retries`, switches in
/// `_open`.
pub fn setting_type(field: &str) -> SettingType {
    let counts = ["_ms", "_capacity", "_bytes", "_retries"];
    if counts.iter().any(|end| field.ends_with(end)) || field == "port" {
        SettingType::Int
    } else if field == "time_scale" {
        SettingType::Float
    } else if field.ends_with("_open") {
        SettingType::Bool
    } else if field == "originator" {
        SettingType::Originator
    } else {
        SettingType::Str
    }
}

/// Every generated file: its path from the workspace root and its content.
pub fn files() -> Vec<(&'static str, String)> {
    let mut files = python::files();
    files.extend(node::files());
    files.extend(c::files());
    files
}
