//! flowai-ffi: what the C, Python and Node bindings share, so that each of them only converts.
//!
//! - [`handle::Handle`]: open an object of a kind with settings, call its methods by name
//!   with JSON arguments, close it. Every capability of every language goes through here.
//! - [`api`]: the table of kinds and methods; calls are checked against it and the
//!   bindings' wrappers and type declarations are generated from it ([`codegen`]).
//! - [`queue::EventQueue`]: an object's events in order, `closed` once and last, taken in
//!   batches by a thread, a task or a waker.
//! - [`runtime`]: the one tokio runtime, and `FLOWAI_MISUSE` for blocking calls on its threads.
//! - [`errors`]: the error-code table.
//! - [`logging`]: the SDK's log records to the language's own logger.

pub mod api;
pub mod args;
pub mod codegen;
pub mod errors;
pub mod handle;
pub mod logging;
mod objects;
pub mod pump;
pub mod queue;
pub mod runtime;

pub use flowai_core::event::Case;
pub use flowai_core::{Error, ErrorKind, Result};
pub use handle::{Handle, Reply};
pub use queue::{EventQueue, Queued, Taken};

/// The SDK's version, the same for every package.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
