//! When a Flow REST API v1 call is tried again, and how long it waits first.
//!
//! Only calls that are safe to repeat are retried (reads, pause and resume, resolve,
//! deletes): the API has no idempotency key, so a repeated message send or broadcast could
//! reach users twice. A retry follows a connection error, a timeout, a 429 or a 5xx. It
//! waits what the answer's `Retry-After` asks (seconds or an HTTP date), else an
//! exponential backoff with full jitter ([`crate::backoff::Backoff`]).

use std::time::{Duration, SystemTime};

use crate::backoff::Backoff;
use crate::error::{Error, ErrorKind};

/// The retry settings of a client.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 turns retrying off).
    pub max_retries: u32,
    /// Ceiling of the first backoff wait.
    pub base: Duration,
    /// Largest wait, also the longest `Retry-After` that is honoured: an answer asking
    /// for more is returned as the error instead of waiting.
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 2,
            base: Duration::from_millis(500),
            max: Duration::from_secs(20),
        }
    }
}

/// Whether a call may be sent twice without a second effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Safety {
    /// Reads, pause / resume, resolve, deletes: retried.
    Repeatable,
    /// Message sends, broadcasts, handovers, triggered events: never retried.
    Once,
}

impl RetryPolicy {
    /// The wait before retry number `retry` (0-based) after `error`, or `None` when the call
    /// must not be tried again.
    pub fn next_wait(
        &self,
        safety: Safety,
        retry: u32,
        error: &Error,
        retry_after: Option<Duration>,
    ) -> Option<Duration> {
        if safety == Safety::Once || retry >= self.max_retries || !is_transient(error) {
            return None;
        }
        match retry_after {
            Some(wait) if wait > self.max => None,
            Some(wait) => Some(wait),
            None => Some(self.backoff().delay(retry)),
        }
    }

    fn backoff(&self) -> Backoff {
        Backoff {
            base: self.base,
            cap: self.max.max(self.base),
            reset_after: Duration::ZERO,
        }
    }
}

/// A connection error, a timeout, a 429 or a 5xx.
fn is_transient(error: &Error) -> bool {
    match error.status() {
        Some(status) => status == 429 || (500..600).contains(&status),
        None => matches!(error.kind(), ErrorKind::Connection | ErrorKind::Timeout),
    }
}

/// The wait a `Retry-After` value asks for: whole or decimal seconds, or an HTTP date
/// (a date in the past means now). `None` when it is neither.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0)
            .then(|| Duration::from_secs_f64(seconds.min(86_400.0 * 365.0)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("1", now), Some(Duration::from_secs(1)));
        assert_eq!(
            parse_retry_after(" 0.5 ", now),
            Some(Duration::from_millis(500))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(7));
        assert_eq!(parse_retry_after(&later, now), Some(Duration::from_secs(7)));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(7));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("-3", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn only_repeatable_transient_failures_are_retried() {
        let policy = RetryPolicy::default();
        let e500 = Error::from_status(500, "");
        let e429 = Error::from_status(429, "");
        let e400 = Error::from_status(400, "");
        let down = Error::connection("refused");
        assert!(policy.next_wait(Safety::Once, 0, &e500, None).is_none());
        assert!(
            policy
                .next_wait(Safety::Repeatable, 0, &e500, None)
                .is_some()
        );
        assert!(
            policy
                .next_wait(Safety::Repeatable, 0, &down, None)
                .is_some()
        );
        assert!(
            policy
                .next_wait(Safety::Repeatable, 0, &e400, None)
                .is_none()
        );
        assert!(
            policy
                .next_wait(Safety::Repeatable, 2, &e500, None)
                .is_none()
        );
        let one = Some(Duration::from_secs(1));
        assert_eq!(
            policy.next_wait(Safety::Repeatable, 0, &e429, one),
            Some(Duration::from_secs(1))
        );
        let too_long = Some(Duration::from_secs(3600));
        assert!(
            policy
                .next_wait(Safety::Repeatable, 0, &e429, too_long)
                .is_none()
        );
        for retry in 0..2 {
            let wait = policy
                .next_wait(Safety::Repeatable, retry, &e500, None)
                .unwrap();
            assert!(wait <= policy.base * 2u32.pow(retry));
        }
    }
}
