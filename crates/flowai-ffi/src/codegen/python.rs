//! Generated python sources.

/// The generated files of this language.
pub fn files() -> Vec<(&'static str, String)> {
    Vec::new()
}
