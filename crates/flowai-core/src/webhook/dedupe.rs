//! Where a receiver remembers which calls it has handled: one process's memory, or a store shared by replicas.
//!
//! A call is claimed before its handler runs, marked done when the handler accepted it,
//! and released when the handler declined or panicked so that the sender's retry runs
//! it again. A call whose claim is held by someone else is answered 503 (the sender
//! retries later); a call already done is answered 200 without running the handler.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use crate::error::{Error, Result};
use crate::recent::RecentKeys;

/// A store operation's future.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;

/// What claiming a call found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Nobody handled or holds the call: the caller now holds it, proved by this token.
    New(String),
    /// The call was handled already.
    Done,
    /// Another handler holds the call now.
    InFlight,
}

/// A dedupe store. Every method fails with an error (never blocks for long) when the
/// store cannot be reached; the receiver then answers 503 unless told to fail open.
pub trait DedupeStore: Send + Sync + std::fmt::Debug {
    /// Claim `key` for one handler run.
    fn claim<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Claim>;
    /// The handler accepted the call claimed with `token`: remember it as done.
    fn done<'a>(&'a self, key: &'a str, token: &'a str) -> StoreFuture<'a, ()>;
    /// The handler declined the call claimed with `token`: let a retry claim it.
    fn release<'a>(&'a self, key: &'a str, token: &'a str) -> StoreFuture<'a, ()>;
    /// Whether calls without a delivery id are keyed on a digest of their body. A shared
    /// store does (the real service sends no delivery id, and a retry repeats the body);
    /// the memory store keys on delivery ids only, so one process keeps handling two equal
    /// events that carry no id.
    fn keys_bodies(&self) -> bool {
        false
    }
}

/// The embedded store: delivery ids in flight and recently done, in this process only.
#[derive(Debug)]
pub struct MemoryStore {
    inner: Mutex<Deliveries>,
}

#[derive(Debug)]
struct Deliveries {
    /// Claimed keys and the token of their claim.
    in_flight: HashMap<String, String>,
    done: RecentKeys<String>,
    next_token: u64,
}

impl MemoryStore {
    /// A store remembering at least `capacity` done keys (up to twice as many).
    pub fn new(capacity: usize) -> Self {
        MemoryStore {
            inner: Mutex::new(Deliveries {
                in_flight: HashMap::new(),
                done: RecentKeys::new(capacity),
                next_token: 0,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Deliveries> {
        // The maps stay consistent even if a holder panicked.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn claim_now(&self, key: &str) -> Claim {
        let mut d = self.lock();
        if d.done.contains(key) {
            return Claim::Done;
        }
        if d.in_flight.contains_key(key) {
            return Claim::InFlight;
        }
        d.next_token = d.next_token.wrapping_add(1);
        let token = d.next_token.to_string();
        d.in_flight.insert(key.to_string(), token.clone());
        Claim::New(token)
    }

    fn finish_now(&self, key: &str, token: &str, accepted: bool) {
        let mut d = self.lock();
        if d.in_flight.get(key).is_some_and(|t| t == token) {
            // The claimed key moves from one set to the other, not copied again.
            if let Some((key, _)) = d.in_flight.remove_entry(key) {
                if accepted {
                    d.done.insert(key);
                }
                return;
            }
        }
        if accepted {
            d.done.insert(key.to_string());
        }
    }
}

impl DedupeStore for MemoryStore {
    fn claim<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Claim> {
        let claim = self.claim_now(key);
        Box::pin(std::future::ready(Ok(claim)))
    }

    fn done<'a>(&'a self, key: &'a str, token: &'a str) -> StoreFuture<'a, ()> {
        self.finish_now(key, token, true);
        Box::pin(std::future::ready(Ok(())))
    }

    fn release<'a>(&'a self, key: &'a str, token: &'a str) -> StoreFuture<'a, ()> {
        self.finish_now(key, token, false);
        Box::pin(std::future::ready(Ok(())))
    }
}

/// Longest delivery id used as a key as it is; longer ones are digested.
const MAX_ID_KEY: usize = 128;

/// The key of one verified call: its delivery id where one was sent, otherwise (for a
/// store that [`DedupeStore::keys_bodies`]) a SHA-256 digest of the verified body.
pub fn dedupe_key(delivery_id: Option<&str>, body: &[u8], keys_bodies: bool) -> Option<String> {
    match delivery_id {
        Some(id) if id.len() <= MAX_ID_KEY => Some(format!("id:{id}")),
        Some(id) => Some(format!("idsha256:{}", sha256_hex(id.as_bytes()))),
        None if keys_bodies => Some(format!("sha256:{}", sha256_hex(body))),
        None => None,
    }
}

fn sha256_hex(data: &[u8]) -> String {
    use std::fmt::Write as _;
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data);
    let mut hex = String::with_capacity(64);
    for byte in digest.as_ref() {
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

/// `host:port` of a Redis URL, for messages that must not show its password.
pub fn redis_target(url: &str) -> Result<String> {
    let parsed =
        url::Url::parse(url.trim()).map_err(|_| Error::invalid("dedup_url is not a valid URL"))?;
    match parsed.scheme() {
        "redis" => {}
        "rediss" => {
            return Err(Error::invalid(
                "dedup_url: rediss:// (TLS) is not supported; use redis:// on a private network",
            ));
        }
        other => {
            return Err(Error::invalid(format!(
                "dedup_url must be a redis:// URL, not {other}://"
            )));
        }
    }
    let host = parsed
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| Error::invalid("dedup_url has no host"))?;
    Ok(format!("{host}:{}", parsed.port().unwrap_or(6379)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(store: &MemoryStore, key: &str) -> Claim {
        store.claim_now(key)
    }

    fn token(c: Claim) -> String {
        match c {
            Claim::New(t) => t,
            other => panic!("expected a new claim, got {other:?}"),
        }
    }

    #[test]
    fn memory_store_claims_finishes_and_forgets_boundedly() {
        let store = MemoryStore::new(2);
        let t = token(claim(&store, "a"));
        assert_eq!(claim(&store, "a"), Claim::InFlight);
        store.finish_now("a", &t, false);
        let t = token(claim(&store, "a"));
        store.finish_now("a", &t, true);
        assert_eq!(claim(&store, "a"), Claim::Done);
        // At least the latest two are remembered, at most four.
        for id in ["b", "c", "d", "e"] {
            let t = token(claim(&store, id));
            store.finish_now(id, &t, true);
        }
        assert!(matches!(claim(&store, "a"), Claim::New(_)));
    }

    #[test]
    fn a_stale_token_does_not_release_a_newer_claim() {
        let store = MemoryStore::new(8);
        let first = token(claim(&store, "k"));
        store.finish_now("k", &first, false);
        let second = token(claim(&store, "k"));
        store.finish_now("k", &first, false);
        assert_eq!(claim(&store, "k"), Claim::InFlight);
        store.finish_now("k", &second, true);
        assert_eq!(claim(&store, "k"), Claim::Done);
    }

    #[test]
    fn keys_prefer_the_delivery_id_and_digest_bodies_only_when_asked() {
        assert_eq!(
            dedupe_key(Some("d-1"), b"x", true).as_deref(),
            Some("id:d-1")
        );
        assert_eq!(dedupe_key(None, b"x", false), None);
        let a = dedupe_key(None, b"{\"a\":1}", true).expect("a key");
        let b = dedupe_key(None, b"{\"a\":2}", true).expect("a key");
        assert_ne!(a, b);
        assert_eq!(a, dedupe_key(None, b"{\"a\":1}", true).expect("a key"));
        assert_eq!(
            dedupe_key(None, b"", true).as_deref(),
            Some("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        );
        let long = "x".repeat(500);
        assert!(
            dedupe_key(Some(&long), b"", false)
                .expect("a key")
                .starts_with("idsha256:")
        );
    }

    #[test]
    fn urls_are_described_without_credentials() {
        assert_eq!(
            redis_target("redis://user:hunter2@10.0.0.5:7000/2").expect("valid"),
            "10.0.0.5:7000"
        );
        assert_eq!(redis_target("redis://cache").expect("valid"), "cache:6379");
        let err = redis_target("http://h").unwrap_err();
        assert_eq!(
            err.message(),
            "dedup_url must be a redis:// URL, not http://"
        );
        assert!(redis_target("rediss://h").is_err());
        let err = redis_target("redis://:hunter2@").unwrap_err();
        assert!(!err.message().contains("hunter2"));
    }
}
