//! Bearer-key checks shared by the REST and Management routes.

use axum::Json;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use flowai_core::secret::constant_time_eq;

/// Check `Authorization: Bearer <expected>`; the error is a ready 401 response.
#[allow(clippy::result_large_err)]
pub fn require_bearer(headers: &HeaderMap, expected: &str) -> Result<(), Response> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        });
    match given {
        Some(key) if constant_time_eq(key.trim().as_bytes(), expected.as_bytes()) => Ok(()),
        Some(_) => Err(error_response(StatusCode::UNAUTHORIZED, "invalid API key")),
        None => Err(error_response(
            StatusCode::UNAUTHORIZED,
            "missing bearer token",
        )),
    }
}

/// A JSON error body `{status: "error", message}` with `status`.
pub fn error_response(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(serde_json::json!({ "status": "error", "message": message })),
    )
        .into_response()
}
