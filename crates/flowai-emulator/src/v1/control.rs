//! Human handover and bot pause: handover, takeover, resolve and `pause/{threadId}`.

use std::time::{Duration, Instant};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::messages::deliver;
use super::{Params, bad_request, notify, object_body};
use crate::AppState;

/// Pause the bot for a thread for `seconds` (times `time_scale`) or until resumed, send the
/// `paused` webhook call, and arrange the `resumed` one for when the pause runs out.
pub(crate) fn pause_thread(state: &AppState, thread_id: &str, seconds: Option<u64>, reason: &str) {
    let deadline = seconds.map(|s| Instant::now() + state.options.scaled(Duration::from_secs(s)));
    state.engine.pause(thread_id, deadline);
    let mut payload = json!({ "threadId": thread_id, "isPaused": true, "reason": reason });
    if let Some(s) = seconds {
        payload["secondsToPause"] = json!(s);
    }
    notify(state, "paused", payload);
    if let Some(deadline) = deadline {
        let state = state.clone();
        let thread_id = thread_id.to_string();
        tokio::spawn(async move {
            tokio::time::sleep_until(tokio::time::Instant::from_std(deadline)).await;
            // Only this pause's own end counts: a newer pause or a resume leaves it alone.
            if state.engine.expire_pause(&thread_id, deadline) {
                notify(
                    &state,
                    "resumed",
                    json!({ "threadId": thread_id, "isPaused": false, "reason": "expired" }),
                );
            }
        });
    }
}

/// Resume the bot for a thread; the `resumed` call goes out when it was paused.
fn resume_thread(state: &AppState, thread_id: &str, reason: &str) {
    if state.engine.resume(thread_id) {
        notify(
            state,
            "resumed",
            json!({ "threadId": thread_id, "isPaused": false, "reason": reason }),
        );
    }
}

/// The optional positive `secondsToPause` of a body.
#[allow(clippy::result_large_err)]
fn seconds_to_pause(body: &Map<String, Value>) -> Result<Option<u64>, Response> {
    let value = match body.get("secondsToPause") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
        Some(_) => None,
    };
    match value {
        Some(s) if s > 0 => Ok(Some(s)),
        _ => Err(bad_request("secondsToPause must be a whole number above 0")),
    }
}

fn status_answer(state: &AppState, thread_id: &str, seconds: Option<u64>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("status".into(), "ok".into());
    m.insert("threadId".into(), json!(thread_id));
    m.insert("isPaused".into(), state.engine.is_paused(thread_id).into());
    if let Some(s) = seconds {
        m.insert("secondsToPause".into(), s.into());
    }
    m
}

fn pause_with_body(state: &AppState, thread_id: &str, body: &Bytes, reason: &str) -> Response {
    if thread_id.trim().is_empty() {
        return bad_request("threadId must not be empty");
    }
    let body = match object_body(body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let seconds = match seconds_to_pause(&body) {
        Ok(s) => s,
        Err(r) => return r,
    };
    pause_thread(state, thread_id, seconds, reason);
    Json(Value::Object(status_answer(state, thread_id, seconds))).into_response()
}

/// `POST /rest/v1/handover/{threadId}` `{secondsToPause?}`.
pub async fn handover(
    State(state): State<AppState>,
    Path(thread_id): Path<String>,
    body: Bytes,
) -> Response {
    pause_with_body(&state, &thread_id, &body, "handover")
}

/// `POST /rest/v1/takeover` `{threadId, secondsToPause?}` (deprecated by the API).
pub async fn takeover(State(state): State<AppState>, body: Bytes) -> Response {
    let map = match object_body(&body) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let Some(thread_id) = map
        .get("threadId")
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return bad_request("threadId is required");
    };
    let response = pause_with_body(&state, &thread_id, &body, "takeover");
    if response.status().is_success() {
        notify(&state, "takeover", json!({ "threadId": thread_id }));
    }
    response
}

/// `POST /rest/v1/resolve/{threadId}`: the human is done, the bot takes over again.
pub async fn resolve(State(state): State<AppState>, Path(thread_id): Path<String>) -> Response {
    resume_thread(&state, &thread_id, "resolved");
    Json(Value::Object(status_answer(&state, &thread_id, None))).into_response()
}

/// `POST /rest/v1/pause/{threadId}` `{secondsToPause?}`.
pub async fn pause(
    State(state): State<AppState>,
    Path(thread_id): Path<String>,
    body: Bytes,
) -> Response {
    pause_with_body(&state, &thread_id, &body, "paused")
}

/// `DELETE /rest/v1/pause/{threadId}`: resume.
pub async fn unpause(State(state): State<AppState>, Path(thread_id): Path<String>) -> Response {
    resume_thread(&state, &thread_id, "resumed");
    Json(Value::Object(status_answer(&state, &thread_id, None))).into_response()
}

/// `GET /rest/v1/pause/{threadId}`: whether the bot is paused (an `isPaused` webhook call
/// without `sync=true`).
pub async fn status(
    State(state): State<AppState>,
    Path(thread_id): Path<String>,
    params: Params,
) -> Response {
    let answer = status_answer(&state, &thread_id, None);
    deliver(&state, &params, "isPaused", answer)
}
