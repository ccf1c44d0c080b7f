//! flowai-core: the Flow.ai and AIDA SDK core shared by the Rust, C, Python and Node APIs.
//!
//! - [`messaging::MessagingClient`]: the Messaging REST API and webhook subscriptions.
//! - [`management::ManagementClient`]: the Management API.
//! - [`webhook`]: verifying and parsing webhook calls, and an embedded receiver server.
//! - [`socket`]: the real-time Flow Socket session.
//! - [`phoenix`] and [`aida`]: Phoenix channels and the AIDA chatbot backend.
//! - [`v1::RestClient`]: the Flow REST API v1 (sync sends, threads, handover, pause, broadcasts).
//!
//! The core never creates a global runtime: every async call runs on the caller's tokio runtime.

pub mod aida;
pub mod backoff;
pub mod config;
pub mod error;
pub mod event;
pub mod http;
pub mod management;
pub mod messaging;
pub mod models;
pub mod phoenix;
pub mod recent;
pub mod secret;
pub mod settings;
pub mod socket;
pub mod tls;
pub mod v1;
pub mod webhook;
mod websocket;

pub use config::Config;
pub use error::{Error, ErrorKind, Result};
pub use secret::Secret;
