//! Verifying that a webhook call came from Flow.ai, then parsing it into a [`WebhookEvent`].

use std::fmt;

use serde_json::Value;

use crate::error::{Error, ErrorKind, Result};
use crate::models::WebhookEvent;
use crate::secret::{Secret, constant_time_eq};

/// The header the verify key travels in unless configured otherwise.
pub const DEFAULT_VERIFY_HEADER: &str = "X-Flowai-Verify-Key";

/// The query parameter and the top-level body field that may carry the verify key instead.
pub const VERIFY_KEY_PARAM: &str = "verifyKey";

/// What the header and query string said about the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyCheck {
    /// A header or query key was given and matches.
    Verified,
    /// Neither carried a key: only the body field can still verify the call.
    Absent,
}

/// Checks the verify key of webhook calls in constant time and parses their bodies.
///
/// The key is accepted from a header (default [`DEFAULT_VERIFY_HEADER`]), a `verifyKey`
/// query parameter, or a top-level `verifyKey` body field, in that order. Header and
/// query are checked before the body is parsed; only the body-field form needs the JSON
/// first. Debug never shows the key.
#[derive(Clone)]
pub struct Verifier {
    key: Secret,
    header: axum::http::HeaderName,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("key", &self.key)
            .field("header", &self.header.as_str())
            .finish()
    }
}

fn rejected(reason: &str) -> Error {
    Error::new(ErrorKind::Verification, reason)
}

impl Verifier {
    /// A verifier for `verify_key` (must not be empty) reading the default header.
    pub fn new(verify_key: Secret) -> Result<Self> {
        if verify_key.is_empty() {
            return Err(Error::invalid("the webhook verify key must not be empty"));
        }
        Ok(Verifier {
            key: verify_key,
            header: axum::http::HeaderName::from_static("x-flowai-verify-key"),
        })
    }

    /// The same verifier reading the key from header `name` instead.
    pub fn with_header_name(mut self, name: &str) -> Result<Self> {
        self.header = axum::http::HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| Error::invalid("the verify key header name is not a valid header name"))?;
        Ok(self)
    }

    /// The header name the key is read from (lower case).
    pub fn header_name(&self) -> &str {
        self.header.as_str()
    }

    /// Check the header value and the query string; a key that is given and wrong is an
    /// [`ErrorKind::Verification`] error.
    pub fn check_outer(&self, header: Option<&[u8]>, query: Option<&str>) -> Result<KeyCheck> {
        let given = match header {
            Some(value) => Some(value.to_vec()),
            None => query.and_then(query_key),
        };
        match given {
            Some(key) if self.matches(&key) => Ok(KeyCheck::Verified),
            Some(_) => Err(rejected("webhook verify key does not match")),
            None => Ok(KeyCheck::Absent),
        }
    }

    /// [`Verifier::check_outer`] with the header taken from an HTTP header map.
    pub fn check_headers(
        &self,
        headers: &axum::http::HeaderMap,
        query: Option<&str>,
    ) -> Result<KeyCheck> {
        let header = headers.get(&self.header).map(|v| v.as_bytes());
        self.check_outer(header, query)
    }

    /// Verify a call and parse its body. Wrong or missing key: [`ErrorKind::Verification`];
    /// a verified body that is not a `{type, payload}` JSON object: [`ErrorKind::Protocol`].
    /// Unknown event types come back as [`WebhookEvent::Unknown`].
    pub fn verify_and_parse(
        &self,
        headers: &axum::http::HeaderMap,
        query: Option<&str>,
        body: &[u8],
    ) -> Result<WebhookEvent> {
        let check = self.check_headers(headers, query)?;
        self.parse_checked(check, body)
    }

    /// Like [`Verifier::verify_and_parse`] with headers as plain `(name, value)` pairs,
    /// for bindings that carry no HTTP types; names match case-insensitively.
    pub fn verify_and_parse_pairs<'a, I>(
        &self,
        headers: I,
        query: Option<&str>,
        body: &[u8],
    ) -> Result<WebhookEvent>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let header = headers
            .into_iter()
            .find(|(name, _)| name.trim().eq_ignore_ascii_case(self.header.as_str()))
            .map(|(_, value)| value.trim().as_bytes());
        let check = self.check_outer(header, query)?;
        self.parse_checked(check, body)
    }

    /// Parse `body` after [`Verifier::check_outer`]; when the key was absent, the body
    /// field must carry it.
    pub fn parse_checked(&self, check: KeyCheck, body: &[u8]) -> Result<WebhookEvent> {
        let parsed = serde_json::from_slice::<Value>(body);
        let mut value = match (check, parsed) {
            (_, Ok(value)) => value,
            (KeyCheck::Verified, Err(e)) => return Err(Error::from(e)),
            // An unverified sender learns nothing about our parser.
            (KeyCheck::Absent, Err(_)) => return Err(rejected("webhook verify key is missing")),
        };
        let field = take_body_key(&mut value);
        if check == KeyCheck::Absent {
            match field {
                Some(key) if self.matches(key.as_bytes()) => {}
                Some(_) => return Err(rejected("webhook verify key does not match")),
                None => return Err(rejected("webhook verify key is missing")),
            }
        }
        WebhookEvent::from_value(value)
    }

    fn matches(&self, given: &[u8]) -> bool {
        constant_time_eq(given, self.key.expose().as_bytes())
    }
}

/// The `verifyKey` query parameter, percent-decoded.
fn query_key(query: &str) -> Option<Vec<u8>> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == VERIFY_KEY_PARAM)
        .map(|(_, value)| value.into_owned().into_bytes())
}

/// Remove the top-level `verifyKey` field so the key never lands in an event's raw JSON.
fn take_body_key(value: &mut Value) -> Option<String> {
    let removed = value.as_object_mut()?.remove(VERIFY_KEY_PARAM)?;
    Some(removed.as_str().unwrap_or_default().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"type":"message.delivered","payload":{"threadId":"t","traceId":3}}"#;

    fn verifier() -> Verifier {
        Verifier::new(Secret::new("vk-123")).unwrap()
    }

    fn kind(r: Result<WebhookEvent>) -> ErrorKind {
        r.unwrap_err().kind()
    }

    #[test]
    fn header_query_and_body_forms() {
        let v = verifier();
        let ok = v.verify_and_parse_pairs([("x-FLOWAI-verify-key", "vk-123")], None, BODY);
        assert_eq!(ok.unwrap().kind(), "message.delivered");
        assert!(
            v.verify_and_parse_pairs([], Some("a=1&verifyKey=vk%2D123"), BODY)
                .is_ok()
        );
        let body = br#"{"verifyKey":"vk-123","type":"thread.new","payload":{}}"#;
        let event = v.verify_and_parse_pairs([], None, body).unwrap();
        let WebhookEvent::Unknown { raw, .. } = event else {
            panic!("expected Unknown")
        };
        assert!(raw.get("verifyKey").is_none());
    }

    #[test]
    fn wrong_missing_and_malformed() {
        let v = verifier();
        let wrong = v.verify_and_parse_pairs([("X-Flowai-Verify-Key", "nope")], None, BODY);
        assert_eq!(kind(wrong), ErrorKind::Verification);
        assert_eq!(
            kind(v.verify_and_parse_pairs([], None, BODY)),
            ErrorKind::Verification
        );
        assert_eq!(
            kind(v.verify_and_parse_pairs([], None, b"{not json")),
            ErrorKind::Verification
        );
        let bad = v.verify_and_parse_pairs([("X-Flowai-Verify-Key", "vk-123")], None, b"{not json");
        assert_eq!(kind(bad), ErrorKind::Protocol);
        let wrong_body = br#"{"verifyKey":"vk-999","type":"x"}"#;
        assert_eq!(
            kind(v.verify_and_parse_pairs([], None, wrong_body)),
            ErrorKind::Verification
        );
    }

    #[test]
    fn custom_header_and_redacted_debug() {
        let v = verifier().with_header_name("X-Hook-Key").unwrap();
        assert!(
            v.verify_and_parse_pairs([("x-hook-key", "vk-123")], None, BODY)
                .is_ok()
        );
        assert!(!format!("{v:?}").contains("vk-123"));
        assert!(Verifier::new(Secret::new("")).is_err());
        assert!(verifier().with_header_name("bad header").is_err());
    }
}
