//! The implementation of every kind in the method table, each over its flowai-core client.

mod aida;
mod bench;
mod cursor;
pub(crate) mod emulator;
mod management;
mod messaging;
mod receiver;
mod rest;
mod session;

use std::sync::Arc;

use flowai_core::event::Case;
use flowai_core::settings::{process_env, resolve};
use flowai_core::{Error, Result};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::handle::{Ctx, Opened, Pending};
use crate::queue::EventQueue;

/// Events an object without a socket keeps unread (progress, closed).
const SMALL_QUEUE: usize = 1024;

/// Open an object of `kind` (a kind with settings).
pub async fn open(kind: &str, settings: Value, case: Case) -> Result<Opened> {
    match kind {
        "messaging" => messaging::open(&settings, case),
        "management" => management::open(&settings, case),
        "rest" => rest::open(&settings, case),
        "session" => session::open(&settings, case).await,
        "aida" => aida::open(&settings, case).await,
        "receiver" => receiver::open(&settings, case).await,
        "verifier" => receiver::open_verifier(&settings, case),
        "bench" => Ok(bench::open(case)),
        "emulator" => emulator::open(&settings, case).await,
        other => Err(Error::invalid(format!("unknown kind `{other}`"))),
    }
}

/// Settings of type `T` from `settings` and the process environment.
fn settings<T: DeserializeOwned>(settings: &Value, fields: &[&str]) -> Result<T> {
    resolve(settings, process_env, fields)
}

/// A queue for an object that makes few events of its own.
fn small_queue(case: Case) -> Arc<EventQueue> {
    Arc::new(EventQueue::new(case, SMALL_QUEUE))
}

/// A call's result as JSON.
fn json<T: serde::Serialize>(value: &T) -> Result<crate::handle::Reply> {
    serde_json::to_value(value)
        .map(crate::handle::Reply::Value)
        .map_err(|e| Error::internal(format!("cannot serialize a result: {e}")))
}

/// The null result.
fn nothing() -> Result<crate::handle::Reply> {
    Ok(crate::handle::Reply::Value(Value::Null))
}

/// The close of an object with no source of events: `closed` goes in now.
fn closed_now(ctx: &Ctx) -> Pending<'_, ()> {
    ctx.events.finish();
    Box::pin(async { Ok(()) })
}

/// The error of a method the table lists but the kind does not implement (a bug).
fn unimplemented(method: &str) -> Error {
    Error::internal(format!(
        "{method} is in the method table but not implemented"
    ))
}
