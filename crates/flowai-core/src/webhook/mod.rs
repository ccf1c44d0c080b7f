//! Receiving webhook calls: verification, parsing, and an embedded receiver server.
//!
//! [`Verifier`] checks a call's verify key and parses its body, for apps that run their
//! own HTTP server (and for the bindings). [`WebhookReceiver`] is a ready server on top of
//! it: body cap, verification, deduplication of retried deliveries, a bounded queue and
//! one handler thread.

pub mod receiver;
pub mod verify;

pub use receiver::{Ack, DEFAULT_PATH, DELIVERY_ID_HEADER, ReceiverOptions, WebhookReceiver};
pub use verify::{DEFAULT_VERIFY_HEADER, KeyCheck, VERIFY_KEY_PARAM, Verifier};
