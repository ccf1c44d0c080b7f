//! The Management API under `/v1/management`: flows, intents, entity types, projects and
//! members, all derived from the project the engine runs.
//!
//! Lists are JSON arrays. `flows/list` gives steps with their intent and actions as ids,
//! `flows/info` the whole flow, as in the API reference. The reference's authentication
//! example calls the base URL itself with the key: that answers `{"status":"ok"}`. Every
//! answer is JSON, errors included (a wrong path or method too).

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use flowai_core::models::{ActionRef, Flow, Intent, IntentRef};
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::{error_response, require_bearer};

/// Project id used when the flows do not name one.
pub const DEFAULT_PROJECT_ID: &str = "db3e3895-fe06-4dcc-a7a0-35b0c0ec55c3";
/// Creation date of the derived resources.
const CREATED_AT: &str = "2018-10-24T06:45:00.000Z";

/// Read-only Management routes.
pub fn router() -> Router<AppState> {
    let not_allowed = crate::rest::method_not_allowed;
    Router::new()
        .route("/v1/management", get(base).fallback(not_allowed))
        .route("/v1/management/", get(base).fallback(not_allowed))
        .route(
            "/v1/management/flows/list",
            get(flows_list).fallback(not_allowed),
        )
        .route(
            "/v1/management/flows/info",
            get(flows_info).fallback(not_allowed),
        )
        .route(
            "/v1/management/intents/list",
            get(intents_list).fallback(not_allowed),
        )
        .route(
            "/v1/management/intents/info",
            get(intents_info).fallback(not_allowed),
        )
        .route(
            "/v1/management/entitytypes/list",
            get(entity_types_list).fallback(not_allowed),
        )
        .route(
            "/v1/management/entitytypes/info",
            get(entity_types_info).fallback(not_allowed),
        )
        .route(
            "/v1/management/projects/list",
            get(projects_list).fallback(not_allowed),
        )
        .route(
            "/v1/management/projects/info",
            get(projects_info).fallback(not_allowed),
        )
        .route(
            "/v1/management/members/list",
            get(members_list).fallback(not_allowed),
        )
        .route("/v1/management/{*rest}", any(unknown_path))
}

/// The base URL: the reference shows it called with the key to authorize.
async fn base(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(r) = check(&state, &headers) {
        return r;
    }
    Json(json!({ "status": "ok" })).into_response()
}

/// A path the Management API does not have: checked for the key first, like every
/// Management call, so a client without one learns that before anything else.
async fn unknown_path(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(r) = require_bearer(&headers, &state.options.credentials.management_key) {
        return r;
    }
    error_response(StatusCode::NOT_FOUND, "no such API path")
}

type Params = Query<HashMap<String, String>>;

#[allow(clippy::result_large_err)]
fn check(state: &AppState, headers: &HeaderMap) -> Result<(), Response> {
    require_bearer(headers, &state.options.credentials.management_key)?;
    if state.faults.take_http_failure() {
        return Err(error_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal server error (injected)",
        ));
    }
    Ok(())
}

/// Auth, then the value of query parameter `key` (400 when missing).
#[allow(clippy::result_large_err)]
fn check_with<'a>(
    state: &AppState,
    headers: &HeaderMap,
    query: &'a Params,
    key: &str,
) -> Result<&'a str, Response> {
    check(state, headers)?;
    match query.get(key).map(String::as_str) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(error_response(
            StatusCode::BAD_REQUEST,
            &format!("query parameter {key} is required"),
        )),
    }
}

fn not_found(what: &str) -> Response {
    error_response(StatusCode::NOT_FOUND, &format!("{what} not found"))
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// A flow as `flows/list` shows it: intents and actions by id.
fn list_form(flow: &Flow) -> Flow {
    let mut flow = flow.clone();
    for step in &mut flow.steps {
        if let Some(IntentRef::Full(intent)) = &step.intent {
            step.intent = Some(IntentRef::Id(intent.intent_id.clone()));
        }
        for action in &mut step.actions {
            if let ActionRef::Full(a) = action {
                *action = ActionRef::Id(a.action_id.clone().unwrap_or_default());
            }
        }
    }
    flow
}

fn intents(state: &AppState) -> Vec<&Intent> {
    let mut out: Vec<&Intent> = Vec::new();
    for flow in state.engine.flows() {
        for step in &flow.steps {
            if let Some(IntentRef::Full(intent)) = &step.intent {
                if !out.iter().any(|i| i.intent_id == intent.intent_id) {
                    out.push(intent);
                }
            }
        }
    }
    out
}

fn entity_types(state: &AppState) -> Vec<Value> {
    let mut ids = vec!["system.query".to_string()];
    for flow in state.engine.flows() {
        for step in &flow.steps {
            if let Some(slot) = &step.slot {
                if !slot.entity_id.is_empty() && !ids.contains(&slot.entity_id) {
                    ids.push(slot.entity_id.clone());
                }
            }
        }
    }
    ids.into_iter()
        .map(|id| {
            json!({
                "entityTypeId": id,
                "title": id,
                "system": id.starts_with("system."),
                "createdAt": CREATED_AT,
                "values": [],
            })
        })
        .collect()
}

fn project(state: &AppState) -> Value {
    let flows = state.engine.flows();
    let project_id = flows
        .iter()
        .map(|f| f.project_id.as_str())
        .find(|p| !p.is_empty())
        .unwrap_or(DEFAULT_PROJECT_ID);
    let brain_id = flows
        .iter()
        .map(|f| f.brain_id.as_str())
        .find(|b| !b.is_empty())
        .unwrap_or_default();
    json!({
        "projectId": project_id,
        "organisationId": state.options.credentials.organisation_id,
        "brainId": brain_id,
        "title": "Demo project",
        "createdAt": CREATED_AT,
        "flowCount": flows.len(),
    })
}

async fn flows_list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(r) = check(&state, &headers) {
        return r;
    }
    let list: Vec<Value> = state
        .engine
        .flows()
        .iter()
        .map(|f| to_json(&list_form(f)))
        .collect();
    Json(list).into_response()
}

async fn flows_info(State(state): State<AppState>, headers: HeaderMap, q: Params) -> Response {
    let id = match check_with(&state, &headers, &q, "flowId") {
        Ok(id) => id,
        Err(r) => return r,
    };
    match state.engine.flow(id) {
        Some(flow) => Json(to_json(flow)).into_response(),
        None => not_found("flow"),
    }
}

async fn intents_list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(r) = check(&state, &headers) {
        return r;
    }
    Json(to_json(&intents(&state))).into_response()
}

async fn intents_info(State(state): State<AppState>, headers: HeaderMap, q: Params) -> Response {
    let id = match check_with(&state, &headers, &q, "intentId") {
        Ok(id) => id,
        Err(r) => return r,
    };
    match intents(&state).into_iter().find(|i| i.intent_id == id) {
        Some(intent) => Json(to_json(intent)).into_response(),
        None => not_found("intent"),
    }
}

async fn entity_types_list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(r) = check(&state, &headers) {
        return r;
    }
    Json(entity_types(&state)).into_response()
}

async fn entity_types_info(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Params,
) -> Response {
    let id = match check_with(&state, &headers, &q, "entityTypeId") {
        Ok(id) => id,
        Err(r) => return r,
    };
    match entity_types(&state)
        .into_iter()
        .find(|e| e["entityTypeId"] == id)
    {
        Some(e) => Json(e).into_response(),
        None => not_found("entity type"),
    }
}

async fn projects_list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(r) = check(&state, &headers) {
        return r;
    }
    Json(vec![project(&state)]).into_response()
}

async fn projects_info(State(state): State<AppState>, headers: HeaderMap, q: Params) -> Response {
    let id = match check_with(&state, &headers, &q, "projectId") {
        Ok(id) => id,
        Err(r) => return r,
    };
    let p = project(&state);
    if p["projectId"] == id {
        Json(p).into_response()
    } else {
        not_found("project")
    }
}

async fn members_list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(r) = check(&state, &headers) {
        return r;
    }
    Json(json!([{
        "memberId": "0b7e6c1d-2f3a-4b5c-8d9e-0f1a2b3c4d5e",
        "organisationId": state.options.credentials.organisation_id,
        "name": "Demo User",
        "email": "demo@example.com",
        "role": "owner",
        "createdAt": CREATED_AT,
    }]))
    .into_response()
}
