//! Receiving webhook calls: verification, parsing, and an embedded receiver server.
//!
//! [`Verifier`] checks a call's verify key and parses its body, for apps that run their
//! own HTTP server (and for the bindings). [`WebhookReceiver`] is a ready server on top of
//! it: body cap, verification, deduplication of retried deliveries, a bounded queue and
//! one handler thread. [`dedupe`] is where it remembers handled calls: this process's
//! memory, or (feature `redis`) a Redis shared by every replica.

pub mod dedupe;
pub mod receiver;
#[cfg(feature = "redis")]
pub mod redis_store;
pub mod verify;

pub use dedupe::{Claim, DedupeStore, MemoryStore};
pub use receiver::{Ack, DEFAULT_PATH, DELIVERY_ID_HEADER, ReceiverOptions, WebhookReceiver};
pub use verify::{DEFAULT_VERIFY_HEADER, KeyCheck, VERIFY_KEY_PARAM, Verifier};
