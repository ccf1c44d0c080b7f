//! The one error type of the SDK, with stable string codes shared by every language.

use std::fmt;

/// What went wrong, as a stable code that bindings expose unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The caller passed something the SDK refuses before sending anything.
    InvalidArgument,
    /// The service refused the credentials (HTTP 401/403, AIDA "unauthorized").
    Auth,
    /// The service answered with an HTTP error status.
    Http,
    /// The service asked the client to slow down (HTTP 429).
    RateLimited,
    /// A deadline passed before the answer came.
    Timeout,
    /// The network connection failed or dropped.
    Connection,
    /// The peer sent something that breaks the protocol.
    Protocol,
    /// The object was closed before or during the call.
    Closed,
    /// A webhook call failed verification.
    Verification,
    /// A bounded queue is full.
    QueueFull,
    /// A bug or an unexpected state inside the SDK.
    Internal,
    /// The SDK was used in a way that cannot work, e.g. a blocking call made on the SDK's
    /// own thread (inside an event callback), where it would deadlock.
    Misuse,
}

impl ErrorKind {
    /// Every kind, in the order of their numeric codes (used by the C and other bindings).
    pub const ALL: [ErrorKind; 12] = [
        ErrorKind::InvalidArgument,
        ErrorKind::Auth,
        ErrorKind::Http,
        ErrorKind::RateLimited,
        ErrorKind::Timeout,
        ErrorKind::Connection,
        ErrorKind::Protocol,
        ErrorKind::Closed,
        ErrorKind::Verification,
        ErrorKind::QueueFull,
        ErrorKind::Internal,
        ErrorKind::Misuse,
    ];

    /// The stable string code, the same in every language.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::InvalidArgument => "FLOWAI_INVALID_ARGUMENT",
            ErrorKind::Auth => "FLOWAI_AUTH",
            ErrorKind::Http => "FLOWAI_HTTP",
            ErrorKind::RateLimited => "FLOWAI_RATE_LIMITED",
            ErrorKind::Timeout => "FLOWAI_TIMEOUT",
            ErrorKind::Connection => "FLOWAI_CONNECTION",
            ErrorKind::Protocol => "FLOWAI_PROTOCOL",
            ErrorKind::Closed => "FLOWAI_CLOSED",
            ErrorKind::Verification => "FLOWAI_VERIFICATION",
            ErrorKind::QueueFull => "FLOWAI_QUEUE_FULL",
            ErrorKind::Internal => "FLOWAI_INTERNAL",
            ErrorKind::Misuse => "FLOWAI_MISUSE",
        }
    }

    /// Whether retrying the same call later can succeed.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorKind::Timeout | ErrorKind::Connection | ErrorKind::RateLimited
        )
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An SDK error: a stable [`ErrorKind`], a human message that never holds a secret,
/// and the HTTP status when one was involved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    // Boxed strings keep the error (and every event carrying one) small.
    message: Box<str>,
    status: Option<u16>,
    request_id: Option<Box<str>>,
}

/// Result alias used throughout the SDK.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error of `kind` with a message. Callers must not put secrets in `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into().into_boxed_str(),
            status: None,
            request_id: None,
        }
    }

    /// Shorthand for [`ErrorKind::InvalidArgument`].
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidArgument, message)
    }

    /// Shorthand for [`ErrorKind::Protocol`].
    pub fn protocol(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Protocol, message)
    }

    /// Shorthand for [`ErrorKind::Internal`].
    pub fn internal(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Internal, message)
    }

    /// Shorthand for [`ErrorKind::Closed`].
    pub fn closed(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Closed, message)
    }

    /// Shorthand for [`ErrorKind::Timeout`].
    pub fn timeout(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Timeout, message)
    }

    /// Shorthand for [`ErrorKind::Connection`].
    pub fn connection(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Connection, message)
    }

    /// The error for an HTTP answer with a non-success `status`; `detail` is the
    /// service's own message when it gave one.
    pub fn from_status(status: u16, detail: &str) -> Self {
        let kind = match status {
            401 | 403 => ErrorKind::Auth,
            429 => ErrorKind::RateLimited,
            408 | 504 => ErrorKind::Timeout,
            _ => ErrorKind::Http,
        };
        let detail = detail.trim();
        let message = if detail.is_empty() {
            format!("HTTP {status}")
        } else {
            // Cap what a server can push into our messages.
            let cut: String = detail.chars().take(300).collect();
            format!("HTTP {status}: {cut}")
        };
        Error {
            kind,
            message: message.into_boxed_str(),
            status: Some(status),
            request_id: None,
        }
    }

    /// The stable kind.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The stable string code (`FLOWAI_...`).
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    /// The message, without the code.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The HTTP status, when the error came from an HTTP answer.
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// The service's id of the request (its `x-request-id` answer header), when it gave one:
    /// what its support needs to find the call.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// The same error carrying the service's request id.
    pub fn with_request_id(mut self, request_id: Option<String>) -> Self {
        self.request_id = request_id.map(String::into_boxed_str);
        self
    }

    /// The same error with `context` put in front of its message.
    pub fn context(mut self, context: &str) -> Self {
        self.message = format!("{context}: {}", self.message).into_boxed_str();
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.code(), self.message)?;
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

impl From<reqwest::Error> for Error {
    fn from(err: reqwest::Error) -> Self {
        // The URL may carry a single-use endpoint token or a query-string key: drop it.
        let err = err.without_url();
        if let Some(status) = err.status() {
            return Error::from_status(status.as_u16(), "");
        }
        let kind = if err.is_timeout() {
            ErrorKind::Timeout
        } else if err.is_connect() || err.is_request() || err.is_body() {
            ErrorKind::Connection
        } else if err.is_decode() {
            ErrorKind::Protocol
        } else if err.is_builder() {
            ErrorKind::InvalidArgument
        } else {
            ErrorKind::Connection
        };
        Error::new(kind, describe_chain(&err))
    }
}

impl From<serde_json::Error> for Error {
    fn from(err: serde_json::Error) -> Self {
        Error::protocol(format!("invalid JSON: {err}"))
    }
}

impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Self {
        let kind = match err.kind() {
            std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => {
                ErrorKind::InvalidArgument
            }
            std::io::ErrorKind::TimedOut => ErrorKind::Timeout,
            _ => ErrorKind::Connection,
        };
        Error::new(kind, err.to_string())
    }
}

/// The error and its causes on one line, e.g. "error sending request: connection refused".
fn describe_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_prefixed() {
        let mut seen = std::collections::HashSet::new();
        for kind in ErrorKind::ALL {
            assert!(kind.code().starts_with("FLOWAI_"));
            assert!(seen.insert(kind.code()));
        }
    }

    #[test]
    fn status_maps_to_kind() {
        assert_eq!(Error::from_status(401, "").kind(), ErrorKind::Auth);
        assert_eq!(Error::from_status(403, "").kind(), ErrorKind::Auth);
        assert_eq!(Error::from_status(429, "").kind(), ErrorKind::RateLimited);
        assert_eq!(Error::from_status(500, "boom").kind(), ErrorKind::Http);
        assert_eq!(Error::from_status(500, "boom").status(), Some(500));
        assert_eq!(
            Error::from_status(500, "boom").to_string(),
            "FLOWAI_HTTP: HTTP 500: boom"
        );
    }

    #[test]
    fn errors_stay_small() {
        // Events and results carry errors by value: a request id must not make them grow.
        assert!(std::mem::size_of::<Error>() <= 40);
    }

    #[test]
    fn request_id_is_kept_and_shown() {
        let err = Error::from_status(503, "busy").with_request_id(Some("req-42".into()));
        assert_eq!(err.request_id(), Some("req-42"));
        assert_eq!(
            err.to_string(),
            "FLOWAI_HTTP: HTTP 503: busy (request id req-42)"
        );
        assert_eq!(Error::from_status(503, "").request_id(), None);
    }

    #[test]
    fn long_server_detail_is_capped() {
        let long = "x".repeat(10_000);
        assert!(Error::from_status(500, &long).message().len() < 400);
    }
}
