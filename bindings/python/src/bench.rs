//! Benchmark hooks for tests/bench/bench.py (private, not API): the session event dispatch fed with synthetic events, and the core's pipelined send loop without Python.

use std::hint::black_box;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use flowai_core::Config;
use flowai_core::models::Delivered;
use flowai_core::socket::{SessionEvent, SessionOptions, bench};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use tokio::sync::mpsc;

use crate::bridge::{Callback, block_on, runtime, to_pyerr};
use crate::dispatch::{EventSource, pump, spawn_pump};

fn synthetic(i: u64) -> SessionEvent {
    SessionEvent::Delivered(Box::new(Delivered {
        thread_id: "bench-thread".into(),
        trace_id: Some(i),
        speech: Some("hello".into()),
        extra: Default::default(),
    }))
}

/// Send `n` synthetic `delivered` events (then `closed`) from a runtime task through the
/// session dispatch (same channel capacity, batching and thread as a session) to
/// `callback`, or, with `callback=None`, through the same loop to a no-op Rust closure.
///
/// Returns `seconds` (first event created to `closed` handled), `created_ns` (each event's
/// creation on the `time.perf_counter_ns()` clock) and, for the Rust closure,
/// `latencies_ns` (creation to closure entry). `interval_ms` paces the events.
#[pyfunction]
#[pyo3(signature = (n, callback=None, *, interval_ms=0))]
pub fn _bench_events<'py>(
    py: Python<'py>,
    n: u64,
    callback: Option<Bound<'py, PyAny>>,
    interval_ms: u64,
) -> PyResult<Bound<'py, PyDict>> {
    let rt = runtime()?;
    // Python's perf_counter and Rust's Instant read the same monotonic clock; one pair of
    // reads maps Instants onto perf_counter_ns.
    let clock_base: u64 = py
        .import("time")?
        .call_method0("perf_counter_ns")?
        .extract()?;
    let base = Instant::now();
    let ns = move |t: Instant| clock_base + t.duration_since(base).as_nanos() as u64;
    let capacity = SessionOptions::new("http://127.0.0.1:1", "bench").event_capacity;
    let (tx, rx) = mpsc::channel(capacity);

    let rust_latencies = Arc::new(Mutex::new(Vec::<u64>::new()));
    let pump_thread = match callback {
        Some(cb) => {
            let handlers = Arc::new(Mutex::new(vec![(
                "*".to_string(),
                Arc::new(Callback::new(py, cb, "callback")?),
            )]));
            // No iteration queue: its receiver is gone, so `closed` is not kept.
            let (queue, _) = mpsc::channel(1);
            spawn_pump(rx, handlers, queue).map_err(|e| to_pyerr(py, &e))?
        }
        None => {
            let out = rust_latencies.clone();
            std::thread::Builder::new()
                .name("flowai-session".into())
                .spawn(move || {
                    let mut entries = Vec::with_capacity(n as usize);
                    pump(
                        rx,
                        |rx| rx.wait_next(),
                        |batch| {
                            for event in batch.drain(..) {
                                let entered = Instant::now();
                                if matches!(black_box(&event), SessionEvent::Closed { .. }) {
                                    return true;
                                }
                                entries.push(ns(entered));
                            }
                            false
                        },
                    );
                    *out.lock().unwrap_or_else(|e| e.into_inner()) = entries;
                })
                .map_err(|e| PyRuntimeError::new_err(e.to_string()))?
        }
    };

    let started = Instant::now();
    let generator = rt.spawn(async move {
        let mut created = Vec::with_capacity(n as usize);
        for i in 0..n {
            created.push(ns(Instant::now()));
            if tx.send(synthetic(i)).await.is_err() {
                break;
            }
            if interval_ms > 0 {
                tokio::time::sleep(Duration::from_millis(interval_ms)).await;
            }
        }
        let _ = tx.send(SessionEvent::Closed { error: None }).await;
        created
    });
    let (joined, created) = py.detach(|| {
        let joined = pump_thread.join();
        (joined, rt.block_on(generator))
    });
    let seconds = started.elapsed().as_secs_f64();
    joined.map_err(|_| PyRuntimeError::new_err("the dispatch thread panicked"))?;
    let created = created.map_err(|e| PyRuntimeError::new_err(e.to_string()))?;

    let out = PyDict::new(py);
    out.set_item("seconds", seconds)?;
    let entries = std::mem::take(&mut *rust_latencies.lock().unwrap_or_else(|e| e.into_inner()));
    if !entries.is_empty() {
        let latencies: Vec<u64> = entries
            .iter()
            .zip(&created)
            .map(|(entered, made)| entered.saturating_sub(*made))
            .collect();
        out.set_item("latencies_ns", latencies)?;
    }
    out.set_item("created_ns", created)?;
    Ok(out)
}

/// One session through flowai-core alone with `window` sends in flight (each of `window`
/// tasks sends "hello" and waits for its ack), events drained by a task: acked messages per
/// second over `seconds`, after `warmup` seconds of the same.
#[pyfunction]
#[pyo3(signature = (*, window=64, seconds=2.0, warmup=0.5, api_url=None, client_id=None))]
pub fn _bench_pipelined(
    py: Python<'_>,
    window: usize,
    seconds: f64,
    warmup: f64,
    api_url: Option<String>,
    client_id: Option<String>,
) -> PyResult<f64> {
    let mut config = Config::from_env();
    if let Some(url) = api_url {
        config = config.with_api_url(url);
    }
    if let Some(id) = client_id {
        config = config.with_client_id(id);
    }
    let options = SessionOptions::from_config(&config).map_err(|e| to_pyerr(py, &e))?;
    let [warmup, measure] =
        [warmup, seconds].map(|s| Duration::try_from_secs_f64(s).unwrap_or_default());
    block_on(py, bench::pipelined(options, window, warmup, measure))
}
