//! Benchmark hooks for tests/bench/bench.mjs (private, not API): the session event dispatch fed with synthetic events, and the core's pipelined send loop without JS.

use std::hint::black_box;
use std::time::{Duration, Instant};

use flowai_core::models::Delivered;
use flowai_core::socket::{SessionEvent, SessionOptions, bench};
use flowai_core::{Config, Error};
use napi::Env;
use napi::bindgen_prelude::PromiseRaw;
use napi_derive::napi;
use tokio::sync::mpsc;

use crate::dispatch::{Dispatcher, EventCallback, EventSink, pump};
use crate::js_error;

fn synthetic(i: u32) -> SessionEvent {
    SessionEvent::Delivered(Box::new(Delivered {
        thread_id: "bench-thread".into(),
        trace_id: Some(u64::from(i)),
        speech: Some("hello".into()),
        extra: Default::default(),
    }))
}

/// The Rust end of the loop: notes when each event arrived, nothing else.
struct NoopSink {
    entries: Vec<Instant>,
}

impl EventSink for NoopSink {
    async fn deliver(&mut self, event: &SessionEvent) {
        let entered = Instant::now();
        if !matches!(black_box(event), SessionEvent::Closed { .. }) {
            self.entries.push(entered);
        }
    }
}

/// What `_benchEvents` measured.
#[napi(object)]
#[derive(Debug)]
pub struct BenchEvents {
    /// First event created to `closed` handed to the sink.
    pub seconds: f64,
    /// Each event's creation time on the `process.hrtime` clock (ns).
    pub created_ns: Vec<f64>,
    /// Without a JS callback: creation to entry of the Rust closure, per event (ns).
    pub latencies_ns: Option<Vec<f64>>,
}

/// Make `n` synthetic `delivered` events (traceId 0..n, then `closed`) on the runtime and
/// send them through a session's event channel (same capacity) and dispatch loop to
/// `onEvent`, or, without it, through the same loop into a no-op Rust closure.
/// `clockBaseNs` is `process.hrtime.bigint()` read just before the call (both clocks are
/// the monotonic clock); `intervalMs` paces the events.
#[napi(
    js_name = "_benchEvents",
    ts_args_type = "n: number, intervalMs: number, clockBaseNs: number, onEvent?: ((events: string) => void) | undefined | null",
    ts_return_type = "Promise<BenchEvents>"
)]
pub fn bench_events(
    env: &Env,
    n: u32,
    interval_ms: u32,
    clock_base_ns: f64,
    on_event: Option<EventCallback>,
) -> napi::Result<PromiseRaw<'_, BenchEvents>> {
    // Read now, on the JS thread right after `clockBaseNs`: the future may start later.
    let base = Instant::now();
    env.spawn_future(run_bench_events(
        n,
        interval_ms,
        clock_base_ns,
        base,
        on_event,
    ))
}

async fn run_bench_events(
    n: u32,
    interval_ms: u32,
    clock_base_ns: f64,
    base: Instant,
    on_event: Option<EventCallback>,
) -> napi::Result<BenchEvents> {
    let ns = move |t: Instant| clock_base_ns + t.duration_since(base).as_nanos() as f64;
    let capacity = SessionOptions::new("http://127.0.0.1:1", "bench").event_capacity;
    let (tx, rx) = mpsc::channel(capacity);
    let started = Instant::now();
    let generator = tokio::spawn(async move {
        let mut created = Vec::with_capacity(n as usize);
        for i in 0..n {
            created.push(ns(Instant::now()));
            if tx.send(synthetic(i)).await.is_err() {
                break;
            }
            if interval_ms > 0 {
                tokio::time::sleep(Duration::from_millis(u64::from(interval_ms))).await;
            }
        }
        let _ = tx.send(SessionEvent::Closed { error: None }).await;
        created
    });
    let latencies = match on_event {
        Some(callback) => {
            pump(rx, &mut Dispatcher::new(callback)).await;
            None
        }
        None => {
            let mut sink = NoopSink {
                entries: Vec::with_capacity(n as usize),
            };
            pump(rx, &mut sink).await;
            Some(sink.entries.into_iter().map(ns).collect())
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    let created = generator
        .await
        .map_err(|e| js_error(Error::internal(e.to_string())))?;
    let latencies_ns = latencies.map(|entries: Vec<f64>| {
        entries
            .iter()
            .zip(&created)
            .map(|(entered, made)| entered - made)
            .collect()
    });
    Ok(BenchEvents {
        seconds,
        created_ns: created,
        latencies_ns,
    })
}

/// One session through flowai-core alone with `window` sends in flight (each of `window`
/// tasks sends "hello" and waits for its ack), events drained by a task: acked messages
/// per second over `seconds`, after `warmupSeconds` of the same.
#[napi(js_name = "_benchPipelined")]
pub async fn bench_pipelined(
    window: u32,
    seconds: f64,
    warmup_seconds: f64,
    api_url: Option<String>,
    client_id: Option<String>,
) -> napi::Result<f64> {
    let mut config = Config::from_env();
    if let Some(url) = api_url {
        config = config.with_api_url(url);
    }
    if let Some(id) = client_id {
        config = config.with_client_id(id);
    }
    let options = SessionOptions::from_config(&config).map_err(js_error)?;
    let [warmup, measure] =
        [warmup_seconds, seconds].map(|s| Duration::try_from_secs_f64(s).unwrap_or_default());
    bench::pipelined(options, window as usize, warmup, measure)
        .await
        .map_err(js_error)
}

/// Whether this addon is an unoptimised build (bench.mjs reports it).
#[napi(js_name = "_debugBuild")]
pub fn debug_build() -> bool {
    cfg!(debug_assertions)
}
