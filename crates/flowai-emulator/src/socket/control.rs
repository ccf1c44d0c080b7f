//! Emulator controls of the Flow socket over HTTP, for tests in any language: push the frames the service sends on its own (`/_emulator/socket/push/{type}`) and switch the `activities.*` frame names (`/_emulator/socket/aliases`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::socket_error;
use crate::AppState;

/// The frame types that can be pushed.
const PUSHABLE: &str = "agent.typing, interruption.occurred, secret.generated";

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/_emulator/socket/push/{kind}", post(push))
        .route("/_emulator/socket/aliases", get(aliases).post(set_aliases))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PushBody {
    thread_id: String,
    /// Who is typing, for `agent.typing`.
    #[serde(default)]
    originator: Option<Value>,
}

/// Push a frame to every open socket of `threadId`; answers how many it reached.
async fn push(
    State(state): State<AppState>,
    Path(kind): Path<String>,
    Json(body): Json<PushBody>,
) -> Response {
    if body.thread_id.trim().is_empty() {
        return socket_error(StatusCode::BAD_REQUEST, "threadId is required");
    }
    let socket = &state.socket;
    let reached = match kind.as_str() {
        "agent.typing" => socket.push_agent_typing(&body.thread_id, body.originator),
        "interruption.occurred" => socket.push_interruption(&body.thread_id),
        "secret.generated" => socket.rotate_secret(&body.thread_id),
        _ => {
            let shown: String = kind.chars().take(64).collect();
            return socket_error(
                StatusCode::NOT_FOUND,
                &format!("cannot push {shown}; one of: {PUSHABLE}"),
            );
        }
    };
    Json(json!({
        "status": "ok",
        "payload": { "threadId": body.thread_id, "connections": reached },
    }))
    .into_response()
}

#[derive(Deserialize)]
struct AliasesBody {
    enabled: bool,
}

async fn aliases(State(state): State<AppState>) -> Json<Value> {
    Json(json!({ "enabled": state.socket.activity_aliases() }))
}

async fn set_aliases(State(state): State<AppState>, Json(body): Json<AliasesBody>) -> Json<Value> {
    state.socket.set_activity_aliases(body.enabled);
    Json(json!({ "enabled": body.enabled }))
}
