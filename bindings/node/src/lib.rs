//! Node-API binding of flowai-core, loaded by the `flowai` npm package (`node/index.js`).
//!
//! The binding only converts: arguments into core types, results into JS values (JSON
//! through serde), core errors into JS errors whose message starts with the stable code
//! (`FLOWAI_AUTH: ...`), which `index.js` turns into `FlowAIError`. Every async method
//! runs on napi's one multi-thread tokio runtime (the `tokio_rt` feature).

mod aida;
mod bench;
mod config;
mod dispatch;
mod management;
mod messaging;
mod receiver;
mod session;
mod webhook;

pub use aida::{AidaClient, AidaClientOptions, AidaSession, connect_aida};
pub use bench::{BenchEvents, bench_events, bench_pipelined, debug_build};
pub use config::ClientOptions;
pub use management::ManagementClient;
pub use messaging::{MessageOptions, MessagingClient, NewWebhook, WebhookUpdate};
pub use receiver::{ReceiverOptions, WebhookReceiver, start_receiver};
pub use session::{Session, SessionOptions, connect_session};
pub use webhook::{VerifyOptions, verify_and_parse};

/// A core error as a JS error: the message is `CODE: message`, parsed by `index.js`.
pub(crate) fn js_error(err: flowai_core::Error) -> napi::Error {
    napi::Error::new(napi::Status::GenericFailure, err.to_string())
}

/// Serialize a core model into a JS-ready JSON value.
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> napi::Result<serde_json::Value> {
    serde_json::to_value(value)
        .map_err(|e| js_error(flowai_core::Error::internal(format!("serialize: {e}"))))
}
