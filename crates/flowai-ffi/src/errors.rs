//! The error table every binding exposes: stable codes, their numbers (C) and the error as JSON.

use flowai_core::{Error, ErrorKind};
use serde_json::{Value, json};

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    /// The stable string, e.g. `FLOWAI_TIMEOUT`.
    pub code: &'static str,
    /// Its number: 0 is success, then the kinds in [`ErrorKind::ALL`] order.
    pub number: i32,
    /// One line on what it means.
    pub meaning: &'static str,
}

/// What each kind means, in [`ErrorKind::ALL`] order.
const MEANINGS: [&str; 12] = [
    "bad input, refused before anything was sent",
    "the service refused the credentials",
    "the service answered with an HTTP error status",
    "the service asked the client to slow down",
    "a deadline passed",
    "the network connection failed or dropped",
    "the peer broke the protocol",
    "the object was closed before or during the call",
    "a webhook call failed verification",
    "a bounded queue is full",
    "a bug inside the SDK",
    "a blocking call made on an SDK thread, where it would deadlock",
];

/// Every code, success first.
pub fn table() -> Vec<Code> {
    let mut rows = vec![Code {
        code: "FLOWAI_OK",
        number: 0,
        meaning: "success",
    }];
    for (i, kind) in ErrorKind::ALL.iter().enumerate() {
        rows.push(Code {
            code: kind.code(),
            number: i as i32 + 1,
            meaning: MEANINGS[i],
        });
    }
    rows
}

/// The number of an error's kind (never 0).
pub fn number(kind: ErrorKind) -> i32 {
    ErrorKind::ALL
        .iter()
        .position(|k| *k == kind)
        .map_or(ErrorKind::ALL.len() as i32, |i| i as i32 + 1)
}

/// The code of a number, `FLOWAI_UNKNOWN` for any other.
pub fn code_of(number: i32) -> &'static str {
    usize::try_from(number)
        .ok()
        .and_then(|n| table().get(n).map(|c| c.code))
        .unwrap_or("FLOWAI_UNKNOWN")
}

/// The error as `{code, message, status, request_id}` (status: the HTTP status or null;
/// request_id: the service's id of the failed request or null).
pub fn to_value(error: &Error) -> Value {
    json!({
        "code": error.code(),
        "message": error.message(),
        "status": error.status(),
        "request_id": error.request_id(),
    })
}

/// The error of a caught panic: never crosses a language boundary as a panic.
pub fn from_panic(payload: &(dyn std::any::Any + Send)) -> Error {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown".into());
    Error::internal(format!("internal error (panic: {what})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_kind_order_and_round_trip() {
        for (i, kind) in ErrorKind::ALL.iter().enumerate() {
            assert_eq!(number(*kind), i as i32 + 1);
            assert_eq!(code_of(number(*kind)), kind.code());
        }
        assert_eq!(code_of(0), "FLOWAI_OK");
        assert_eq!(code_of(-1), "FLOWAI_UNKNOWN");
        assert_eq!(code_of(99), "FLOWAI_UNKNOWN");
        assert_eq!(table().len(), ErrorKind::ALL.len() + 1);
    }

    #[test]
    fn panics_become_internal_errors() {
        let caught = std::panic::catch_unwind(|| panic!("boom")).unwrap_err();
        let err = from_panic(caught.as_ref());
        assert_eq!(err.code(), "FLOWAI_INTERNAL");
        assert!(err.message().contains("boom"));
        assert_eq!(to_value(&err)["code"], "FLOWAI_INTERNAL");
    }

    #[test]
    fn the_json_carries_status_and_request_id() {
        let err = Error::from_status(503, "busy").with_request_id(Some("req-7".into()));
        let value = to_value(&err);
        assert_eq!(value["status"], 503);
        assert_eq!(value["request_id"], "req-7");
        assert!(to_value(&Error::internal("x"))["request_id"].is_null());
    }
}
