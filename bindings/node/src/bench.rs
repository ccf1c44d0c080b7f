//! Benchmark hooks of tests/bench/bench.mjs (private, not API): the floor of event latency, a bare threadsafe function calling a JS listener.

use std::time::{Duration, Instant};

use flowai_ffi::runtime::monotonic_ns;
use napi::Status;
use napi::bindgen_prelude::Function;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;

/// `(atNs: number) => void`.
type Floor = ThreadsafeFunction<f64, (), f64, Status, false>;

/// Call `listener(atNs)` `count` times, `intervalUs` apart, from a thread of its own, with
/// `atNs` read from the monotonic clock (`process.hrtime`'s) just before each call: the
/// same pacing and stamp as the `bench` kind's `progress` events, minus everything flowai
/// does between the stamp and the listener.
#[napi(
    catch_unwind,
    js_name = "_benchFloor",
    ts_args_type = "count: number, intervalUs: number, listener: (atNs: number) => void"
)]
pub fn bench_floor(
    count: u32,
    interval_us: u32,
    listener: Function<'_, f64, ()>,
) -> napi::Result<()> {
    let tsfn: Floor = listener.build_threadsafe_function::<f64>().build()?;
    let interval = Duration::from_micros(u64::from(interval_us));
    std::thread::Builder::new()
        .name("flowai-bench-floor".into())
        .spawn(move || {
            let start = Instant::now();
            for i in 0..count {
                let due = start + interval * i;
                while Instant::now() < due {
                    std::thread::sleep(due.saturating_duration_since(Instant::now()).min(interval));
                }
                tsfn.call(
                    monotonic_ns() as f64,
                    ThreadsafeFunctionCallMode::NonBlocking,
                );
            }
        })
        .map_err(|e| napi::Error::from_reason(e.to_string()))?;
    Ok(())
}

/// Whether this addon is an unoptimised build (bench.mjs reports it).
#[napi(catch_unwind, js_name = "_debugBuild")]
pub fn debug_build() -> bool {
    cfg!(debug_assertions)
}
