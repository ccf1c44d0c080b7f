//! management (stub: filled in by its owner).

use axum::Router;

use crate::AppState;

/// Routes of this part.
pub fn router() -> Router<AppState> {
    Router::new()
}
