//! socket (stub: filled in by its owner).

use axum::Router;

use crate::{AppState, EmulatorOptions};

/// State of this part of the emulator.
#[derive(Debug, Default)]
pub struct SocketState {}

impl SocketState {
    /// Fresh state.
    pub fn new(_options: &EmulatorOptions) -> Self {
        SocketState {}
    }
}

/// Routes of this part.
pub fn router() -> Router<AppState> {
    Router::new()
}
