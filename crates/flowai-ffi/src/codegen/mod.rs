//! Binding sources generated from the method table, committed and checked for freshness by `cargo test`.
//!
//! `FLOWAI_BLESS=1 cargo test -p flowai-ffi --test generated` rewrites them.

pub mod c;
pub mod node;
pub mod python;

/// Every generated file: its path from the workspace root and its content.
pub fn files() -> Vec<(&'static str, String)> {
    let mut files = python::files();
    files.extend(node::files());
    files.extend(c::files());
    files
}
