//! The SDK's log records to one JS function (`flowai.setLogger`), each as JSON text, never keeping the process alive.

use std::sync::Arc;

use flowai_ffi::logging::{LogRecord, LogSink, set_sink};
use napi::Env;
use napi::bindgen_prelude::Function;
use napi::threadsafe_function::ThreadsafeFunctionCallMode;
use napi_derive::napi;

/// Hand every later log record to `logger(json)`; null or undefined: to nobody.
#[napi(catch_unwind)]
pub fn set_logger(env: Env, logger: Option<Function<'_, String, ()>>) -> napi::Result<()> {
    let sink = match logger {
        None => None,
        Some(logger) => {
            let mut tsfn = logger
                .build_threadsafe_function::<String>()
                .callee_handled::<false>()
                .build()?;
            // A logger is no reason to stay alive: the process exits when its work is done.
            #[allow(deprecated)] // The only way to make a function weak after building it.
            tsfn.unref(&env)?;
            let sink: LogSink = Arc::new(move |record: &LogRecord| {
                if let Ok(json) = serde_json::to_string(record) {
                    tsfn.call(json, ThreadsafeFunctionCallMode::NonBlocking);
                }
            });
            Some(sink)
        }
    };
    set_sink(sink);
    Ok(())
}
