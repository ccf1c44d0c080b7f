//! The one tokio runtime of a process's bindings, and the rule that nothing blocks on it from its own threads.

use std::cell::Cell;
use std::future::Future;
use std::sync::OnceLock;

use flowai_core::{Error, ErrorKind, Result};

thread_local! {
    /// Set on the runtime's threads and while an event callback runs.
    static SDK_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// The runtime, started on first use with two worker threads (one per core is plenty for
/// I/O; more only add wake-up latency on small machines).
pub fn runtime() -> Result<&'static tokio::runtime::Runtime> {
    static RUNTIME: OnceLock<std::result::Result<tokio::runtime::Runtime, String>> =
        OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .thread_name("flowai-worker")
                .on_thread_start(|| SDK_THREAD.with(|c| c.set(true)))
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| Error::internal(format!("cannot start the runtime: {e}")))
}

/// Whether the calling thread belongs to the SDK (a runtime thread, or inside an event
/// callback), where waiting for the runtime would deadlock.
pub fn on_sdk_thread() -> bool {
    SDK_THREAD.with(Cell::get) || tokio::runtime::Handle::try_current().is_ok()
}

/// `FLOWAI_MISUSE` when the calling thread must not block on the runtime.
pub fn ensure_may_block() -> Result<()> {
    if on_sdk_thread() {
        return Err(Error::new(
            ErrorKind::Misuse,
            "a blocking flowai call was made on an SDK thread (inside an event callback); \
             call it from another thread or use the asynchronous form",
        ));
    }
    Ok(())
}

/// Run `future` to completion on the runtime from an app thread.
pub fn block_on<F: Future>(future: F) -> Result<F::Output> {
    ensure_may_block()?;
    Ok(runtime()?.block_on(future))
}

/// Run `body` marked as an SDK thread (an app callback), so blocking calls in it fail fast.
pub fn as_sdk_thread<R>(body: impl FnOnce() -> R) -> R {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            SDK_THREAD.with(|c| c.set(self.0));
        }
    }
    let _reset = Reset(SDK_THREAD.with(|c| c.replace(true)));
    body()
}

/// A monotonic clock in nanoseconds: the clock of Python's `time.monotonic_ns` and Node's
/// `process.hrtime`, so a binding can measure latency from a timestamp made here.
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec and CLOCK_MONOTONIC always exists.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64) * 1_000_000_000 + ts.tv_nsec as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocking_is_refused_on_sdk_threads() {
        assert_eq!(block_on(async { 1 }).expect("app thread"), 1);
        let err = as_sdk_thread(|| block_on(async {})).unwrap_err();
        assert_eq!(err.code(), "FLOWAI_MISUSE");
        let inside = runtime()
            .expect("runtime")
            .block_on(async { tokio::spawn(async { ensure_may_block() }).await });
        assert!(inside.expect("joined").is_err());
        assert!(
            ensure_may_block().is_ok(),
            "the flag is reset after the callback"
        );
    }
}
