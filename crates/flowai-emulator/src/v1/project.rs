//! Project-wide calls: triggered events, business hours, segments and broadcasts, from the
//! project file and the engine.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use flowai_core::models::StepType;
use serde_json::{Map, Value, json};

use super::messages::{deliver, history_item, parse_message, record_replies, reply_payload};
use super::{Params, bad_request, flag, notify, object_body};
use crate::AppState;
use crate::auth::error_response;
use crate::engine::{Input, bot_originator};

/// The project's EVENT steps as `{name, flowId, flowTitle}`, each name once.
fn events(state: &AppState) -> Vec<Value> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for flow in state.engine.flows().iter().filter(|f| !f.disabled) {
        for step in flow.steps.iter().filter(|s| s.kind == StepType::Event) {
            if seen.insert(step.title.clone()) {
                out.push(json!({
                    "name": step.title,
                    "flowId": flow.flow_id,
                    "flowTitle": flow.title,
                }));
            }
        }
    }
    out
}

/// `GET /rest/v1/trigger/event`: the events that can be triggered by hand.
pub async fn trigger_events(State(state): State<AppState>, params: Params) -> Response {
    let mut answer = Map::new();
    answer.insert("status".into(), "ok".into());
    answer.insert("events".into(), Value::Array(events(&state)));
    deliver(&state, &params, "trigger.events", answer)
}

/// `POST /rest/v1/trigger/event/{threadId}?eventName=E`.
pub async fn trigger_event(
    State(state): State<AppState>,
    Path(thread_id): Path<String>,
    params: Params,
) -> Response {
    if thread_id.trim().is_empty() {
        return bad_request("threadId must not be empty");
    }
    let Some(name) = params.get("eventName").filter(|n| !n.trim().is_empty()) else {
        return bad_request("eventName is required");
    };
    let listened = events(&state).iter().any(|e| {
        e["name"]
            .as_str()
            .is_some_and(|n| n.eq_ignore_ascii_case(name))
    });
    if !listened {
        return error_response(
            StatusCode::NOT_FOUND,
            &format!("no flow listens to event {name:?}"),
        );
    }
    let originator = json!({ "name": "REST API", "role": "external" });
    state.v1.store.push_message(
        &thread_id,
        history_item(
            &thread_id,
            "inbound",
            &originator,
            json!({ "type": "event", "eventName": name }),
        ),
    );
    let replies = state
        .engine
        .respond_to(&thread_id, &Input::Event(name.clone()), None);
    record_replies(&state, &thread_id, &replies);
    let mut answer = json!({ "status": "ok", "threadId": thread_id, "eventName": name });
    if flag(&params, "sync") {
        answer["messages"] = json!(replies);
    } else if !replies.is_empty() {
        notify(&state, "message", reply_payload(&thread_id, &replies));
    }
    Json(answer).into_response()
}

/// `GET /rest/v1/businesshours`: the project file's `businessHours`.
pub async fn business_hours(State(state): State<AppState>, params: Params) -> Response {
    let hours = state
        .engine
        .project_setting("businessHours")
        .cloned()
        .unwrap_or_else(|| json!({ "days": [] }));
    let mut answer = Map::new();
    answer.insert("status".into(), "ok".into());
    answer.insert("businessHours".into(), hours);
    deliver(&state, &params, "businessHours", answer)
}

/// The project file's segments.
fn project_segments(state: &AppState) -> Vec<Value> {
    state
        .engine
        .project_setting("segments")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// The threads of a segment: every known thread for `"all": true`, else its `threads`.
fn segment_threads(state: &AppState, segment: &Value) -> Vec<String> {
    if segment.get("all").and_then(Value::as_bool) == Some(true) {
        return state.v1.store.thread_ids();
    }
    segment
        .get("threads")
        .and_then(Value::as_array)
        .map(|t| {
            t.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// `GET /rest/v1/broadcast/segments`.
pub async fn segments(State(state): State<AppState>) -> Response {
    let list: Vec<Value> = project_segments(&state)
        .iter()
        .map(|s| {
            json!({
                "id": s.get("id").cloned().unwrap_or(Value::Null),
                "name": s.get("name").cloned().unwrap_or(Value::Null),
                "description": s.get("description").cloned().unwrap_or(Value::Null),
                "size": segment_threads(&state, s).len(),
            })
        })
        .collect();
    Json(json!({ "status": "ok", "segments": list })).into_response()
}

/// A broadcast's payload: a text or an event; the error is the 400's message.
fn broadcast_payload(body: &Map<String, Value>) -> Result<(Input, Value), String> {
    let mut wrapped = Map::new();
    wrapped.insert(
        "payload".into(),
        body.get("payload").cloned().unwrap_or(Value::Null),
    );
    let parsed = parse_message(&wrapped)?;
    match parsed.input {
        Input::Text(_) | Input::Event(_) => Ok((parsed.input, parsed.payload)),
        _ => Err("a broadcast payload must be a text or an event".into()),
    }
}

/// Run a broadcast's payload in one thread: a text goes out as it is, an event runs the
/// engine. The outbound messages, for the webhook call.
fn run_in_thread(state: &AppState, thread_id: &str, input: &Input, payload: &Value) -> Value {
    match input {
        Input::Event(_) => {
            let replies = state.engine.respond_to(thread_id, input, None);
            record_replies(state, thread_id, &replies);
            json!(replies)
        }
        _ => {
            let bot = json!(bot_originator());
            state.v1.store.push_message(
                thread_id,
                history_item(thread_id, "outbound", &bot, payload.clone()),
            );
            json!([payload])
        }
    }
}

/// The parts every broadcast has: the body, the message to run and a non-empty audience.
struct BroadcastRequest {
    body: Map<String, Value>,
    input: Input,
    payload: Value,
    audience: Vec<Value>,
}

// The rejection is the answer itself, built once on a cold path.
#[allow(clippy::result_large_err)]
fn broadcast_request(body: &Bytes) -> Result<BroadcastRequest, Response> {
    let body = object_body(body)?;
    let (input, payload) = broadcast_payload(&body).map_err(|m| bad_request(&m))?;
    let audience = match body.get("audience").and_then(Value::as_array) {
        None => return Err(bad_request("audience is required and must be a list")),
        Some(a) if a.is_empty() => return Err(bad_request("audience must not be empty")),
        Some(a) => a.clone(),
    };
    Ok(BroadcastRequest {
        body,
        input,
        payload,
        audience,
    })
}

/// `POST /rest/v1/broadcast/instant`: a text or event to phone numbers on a channel.
pub async fn broadcast(State(state): State<AppState>, body: Bytes) -> Response {
    let BroadcastRequest {
        body,
        input,
        payload,
        audience,
    } = match broadcast_request(&body) {
        Ok(parts) => parts,
        Err(r) => return r,
    };
    let channel = body.get("channel").and_then(Value::as_object);
    let field = |name: &str| {
        channel
            .and_then(|c| c.get(name))
            .and_then(Value::as_str)
            .filter(|v| !v.trim().is_empty())
            .map(str::to_string)
    };
    let (Some(channel_name), Some(_external_id)) = (field("channelName"), field("externalId"))
    else {
        return bad_request("channel.channelName and channel.externalId are required");
    };
    let mut numbers = Vec::new();
    for recipient in &audience {
        match recipient.get("phoneNumber").and_then(Value::as_str) {
            Some(n) if !n.trim().is_empty() => numbers.push(n.trim().to_string()),
            _ => return bad_request("every recipient needs a phoneNumber"),
        }
    }
    let mut threads = Vec::new();
    for number in numbers {
        let thread_id = format!("{number}|{channel_name}");
        let messages = run_in_thread(&state, &thread_id, &input, &payload);
        // The broadcast leaves on another channel than REST: the reference's `outbound`.
        notify(
            &state,
            "outbound",
            json!({ "threadId": thread_id, "channelName": channel_name, "messages": messages }),
        );
        threads.push(thread_id);
    }
    Json(json!({ "status": "ok", "recipients": threads.len(), "threads": threads })).into_response()
}

/// `POST /rest/v1/broadcast/instant/segment`: an event for every thread of some segments.
pub async fn broadcast_segment(State(state): State<AppState>, body: Bytes) -> Response {
    let BroadcastRequest {
        input,
        payload,
        audience,
        ..
    } = match broadcast_request(&body) {
        Ok(parts) => parts,
        Err(r) => return r,
    };
    let known = project_segments(&state);
    let mut chosen = Vec::new();
    for wanted in &audience {
        let id = wanted.get("id").and_then(Value::as_str);
        let name = wanted.get("name").and_then(Value::as_str);
        if id.is_none() && name.is_none() {
            return bad_request("every segment needs an id or a name");
        }
        let found = known.iter().find(|s| {
            id.is_some_and(|i| s.get("id").and_then(Value::as_str) == Some(i))
                || name.is_some_and(|n| s.get("name").and_then(Value::as_str) == Some(n))
        });
        match found {
            Some(s) => chosen.push(s.clone()),
            None => {
                let label = id.or(name).unwrap_or_default();
                return error_response(StatusCode::NOT_FOUND, &format!("no segment {label:?}"));
            }
        }
    }
    let mut threads: Vec<String> = chosen
        .iter()
        .flat_map(|s| segment_threads(&state, s))
        .collect();
    threads.sort();
    threads.dedup();
    for thread_id in &threads {
        let messages = run_in_thread(&state, thread_id, &input, &payload);
        notify(
            &state,
            "message",
            json!({ "threadId": thread_id, "messages": messages, "originator": bot_originator() }),
        );
    }
    Json(json!({ "status": "ok", "segments": chosen.len(), "recipients": threads.len() }))
        .into_response()
}
