//! `flowai soak`: many socket sessions against an embedded emulator with random faults, counting sends, deliveries, losses, duplicates and memory over time.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use flowai_bench::stats::{heap_in_use, rss_kib};
use flowai_core::backoff::Backoff;
use flowai_core::socket::{OutgoingMessage, Session, SessionEvent, SessionOptions};
use flowai_emulator::faults::FaultConfig;
use flowai_emulator::{Emulator, EmulatorOptions, Faults};
use serde_json::json;

/// Arguments of `flowai soak`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// How long to run, in minutes.
    #[arg(long, default_value_t = 2.0)]
    minutes: f64,
    /// Concurrent socket sessions.
    #[arg(long, default_value_t = 32)]
    sessions: usize,
    /// Sends in flight per session.
    #[arg(long, default_value_t = 8)]
    window: usize,
    /// Seed of the fault schedule (the same seed gives the same schedule).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Seconds between progress lines.
    #[arg(long, default_value_t = 10)]
    every: u64,
    /// Run without faults (a baseline for the memory curve).
    #[arg(long)]
    no_faults: bool,
    /// Progress on stderr, and one JSON summary object on stdout.
    #[arg(long)]
    json: bool,
}

/// How many words of traceId bits a [`Bits`] keeps at most: the latest 65,536 traceIds of
/// a session, far more than its sends in flight within one send timeout.
const HORIZON_WORDS: usize = 1024;

/// One bit per traceId of a session, over a sliding window: leading words leave once all
/// their bits are set (or past [`HORIZON_WORDS`]), so the soak's own bookkeeping stays
/// flat however long it runs and the memory curve is the SDK's and the emulator's.
#[derive(Default)]
struct Bits {
    /// Bit `b` of `words[k]` stands for traceId `(first + k) * 64 + b`.
    words: VecDeque<u64>,
    first: u64,
}

impl Bits {
    /// Set bit `i`; false when it was already set. Bits older than the window count as
    /// set: a traceId resolving 65,536 sends late is itself something to report.
    fn set(&mut self, i: u64) -> bool {
        let word = i / 64;
        let Some(k) = word.checked_sub(self.first) else {
            return false;
        };
        let k = k as usize;
        if self.words.len() <= k {
            self.words.resize(k + 1, 0);
        }
        let bit = 1u64 << (i % 64);
        let fresh = self.words[k] & bit == 0;
        self.words[k] |= bit;
        while self.words.front() == Some(&u64::MAX) || self.words.len() > HORIZON_WORDS {
            self.words.pop_front();
            self.first += 1;
        }
        fresh
    }
}

#[derive(Default)]
struct Counters {
    sends: AtomicU64,
    delivered: AtomicU64,
    failed: AtomicU64,
    duplicated: AtomicU64,
    faults: AtomicU64,
}

/// A small seeded generator (splitmix64): the fault schedule must be reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn range(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low).max(1)
    }
}

/// Live heap in KiB (0 where the allocator cannot tell): apart from RSS, it tells a
/// growing structure from pages the allocator keeps.
fn heap_kib() -> u64 {
    heap_in_use().unwrap_or(0) / 1024
}

/// Run `flowai soak`.
pub async fn run(args: Args) -> Result<(), String> {
    if !args.minutes.is_finite() || args.minutes <= 0.0 || args.sessions == 0 || args.window == 0 {
        return Err("--minutes, --sessions and --window must be positive".into());
    }
    let duration = Duration::from_secs_f64(args.minutes * 60.0);
    // The emulator keeps time-bounded state: endpoints for twice their lifetime, stalled
    // sockets until it drops them. On the real service's scale (a minute each) that state
    // grows for minutes and would read as a leak in a two-minute run, so the soak shortens
    // both to fit its own compressed timescale (reconnects in milliseconds, pings every
    // 250 ms), well inside the warm-up.
    let emu = Emulator::new(EmulatorOptions {
        endpoint_ttl: Duration::from_secs(5),
        idle_timeout: Duration::from_secs(5),
        ..EmulatorOptions::default()
    })
    .start()
    .await
    .map_err(|e| format!("cannot start the emulator: {e}"))?;
    let counters = Arc::new(Counters::default());
    let stop = Arc::new(AtomicBool::new(false));
    // One HTTP client for every session's socket.info calls.
    let http = flowai_core::http::build_client(&flowai_core::Config::default())
        .map_err(|e| e.to_string())?;

    let mut sessions = Vec::new();
    let mut workers = tokio::task::JoinSet::new();
    let mut readers = tokio::task::JoinSet::new();
    for s in 0..args.sessions {
        let mut o = SessionOptions::new(emu.base_url(), emu.credentials().client_id.clone());
        o.http_client = Some(http.clone());
        o.backoff = Backoff {
            base: Duration::from_millis(20),
            cap: Duration::from_millis(500),
            reset_after: Duration::from_secs(2),
        };
        o.ping_interval = Duration::from_millis(250);
        o.pong_timeout = Duration::from_millis(500);
        o.send_timeout = Duration::from_secs(10);
        o.connect_timeout = Duration::from_secs(5);
        o.queue_capacity = args.window * 4;
        let (session, mut events) = Session::connect(o).await.map_err(|e| e.to_string())?;
        let seen = Arc::new(Mutex::new(Bits::default()));
        let base = (s as u64 + 1) << 40;
        {
            let counters = counters.clone();
            let seen = seen.clone();
            // Every Delivered event of a traceId must come once.
            readers.spawn(async move {
                while let Some(ev) = events.next().await {
                    if let SessionEvent::Delivered(d) = ev
                        && let Some(t) = d.trace_id
                        && !lock(&seen).set(t.wrapping_sub(base))
                    {
                        counters.duplicated.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
        let next = Arc::new(AtomicU64::new(0));
        let resolved = Arc::new(Mutex::new(Bits::default()));
        for _ in 0..args.window {
            let (session, counters, stop, next, resolved) = (
                session.clone(),
                counters.clone(),
                stop.clone(),
                next.clone(),
                resolved.clone(),
            );
            workers.spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let mut m = OutgoingMessage::text(format!("soak {i}"));
                    m.trace_id = Some(base + i);
                    counters.sends.fetch_add(1, Ordering::Relaxed);
                    let result = session.send(m).await;
                    if !lock(&resolved).set(i) {
                        counters.duplicated.fetch_add(1, Ordering::Relaxed);
                    }
                    match result {
                        Ok(d) if d.trace_id == Some(base + i) => {
                            counters.delivered.fetch_add(1, Ordering::Relaxed);
                        }
                        // A delivery matched to the wrong send counts as a duplicate of another.
                        Ok(_) => {
                            counters.duplicated.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(_) => {
                            counters.failed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            });
        }
        sessions.push(session);
    }

    let chaos = {
        let state = emu.state().clone();
        let stop = stop.clone();
        let counters = counters.clone();
        let seed = args.seed;
        let enabled = !args.no_faults;
        tokio::spawn(async move {
            if enabled {
                inject_faults(&state.faults, seed, &stop, &counters).await;
            }
        })
    };

    let started = Instant::now();
    // Long enough for the duplicate windows to fill and the allocator's arenas to settle.
    let warm_up = (duration / 4).min(Duration::from_secs(30));
    let mut rss_start = None;
    let mut rss_peak = 0;
    let mut last_print = Instant::now();
    while started.elapsed() < duration {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if rss_start.is_none() && started.elapsed() >= warm_up {
            rss_start = Some((rss_kib(), heap_kib()));
        }
        if rss_start.is_some() {
            rss_peak = rss_peak.max(rss_kib());
        }
        if last_print.elapsed() >= Duration::from_secs(args.every.max(1)) {
            last_print = Instant::now();
            progress(&args, started.elapsed(), &counters);
        }
    }
    // Memory under load, before the sessions wind down.
    let (rss_end, heap_end) = (rss_kib(), heap_kib());
    let (rss_start, heap_start) = rss_start.unwrap_or((rss_end, heap_end));
    stop.store(true, Ordering::Relaxed);
    let _ = chaos.await;
    emu.faults().clear();
    // Every send still in flight resolves within its deadline.
    while workers.join_next().await.is_some() {}
    for session in &sessions {
        let _ = session.close().await;
    }
    while readers.join_next().await.is_some() {}
    // What the closed sessions leave behind: back near the start if nothing leaked.
    let heap_closed = heap_kib();

    let sends = counters.sends.load(Ordering::Relaxed);
    let delivered = counters.delivered.load(Ordering::Relaxed);
    let failed = counters.failed.load(Ordering::Relaxed);
    let duplicated = counters.duplicated.load(Ordering::Relaxed);
    let lost = sends.saturating_sub(delivered + failed);
    let summary = json!({
        "sends": sends,
        "delivered": delivered,
        "failed": failed,
        "lost": lost,
        "duplicated": duplicated,
        "rss_kib_start": rss_start,
        "rss_kib_end": rss_end,
        "rss_kib_peak": rss_peak.max(rss_end),
        "heap_kib_start": heap_start,
        "heap_kib_end": heap_end,
        "heap_kib_after_close": heap_closed,
        "warm_up_s": warm_up.as_secs(),
        "faults_injected": counters.faults.load(Ordering::Relaxed),
        "sessions": args.sessions,
        "seconds": started.elapsed().as_secs_f64().round(),
    });
    if args.json {
        println!("{summary}");
    } else {
        progress(&args, started.elapsed(), &counters);
        println!(
            "done: {sends} sends, {delivered} delivered, {failed} failed, {lost} lost, {duplicated} duplicated; RSS {rss_start} KiB after warm-up, {rss_end} KiB at the end of the load; heap {heap_start} KiB after warm-up, {heap_end} KiB at the end, {heap_closed} KiB once closed; {} faults injected",
            counters.faults.load(Ordering::Relaxed)
        );
    }
    if lost > 0 || duplicated > 0 {
        return Err(format!(
            "soak lost {lost} and duplicated {duplicated} sends"
        ));
    }
    Ok(())
}

fn progress(args: &Args, elapsed: Duration, c: &Counters) {
    let line = json!({
        "t_s": elapsed.as_secs(),
        "sends": c.sends.load(Ordering::Relaxed),
        "delivered": c.delivered.load(Ordering::Relaxed),
        "failed": c.failed.load(Ordering::Relaxed),
        "duplicated": c.duplicated.load(Ordering::Relaxed),
        "faults": c.faults.load(Ordering::Relaxed),
        "rss_kib": rss_kib(),
        "heap_kib": heap_kib(),
    });
    if args.json {
        eprintln!("{line}");
    } else {
        println!(
            "{:>5}s  sends {:>9}  delivered {:>9}  failed {:>6}  duplicated {}  faults {:>4}  rss {} KiB  heap {} KiB",
            elapsed.as_secs(),
            line["sends"],
            line["delivered"],
            line["failed"],
            line["duplicated"],
            line["faults"],
            line["rss_kib"],
            line["heap_kib"]
        );
    }
}

/// How long the emulator holds a stalled socket: far beyond the sessions' pong deadline
/// (500 ms), so each stall is detected by the client, not ended by the server.
const STALL_HOLD_MS: u64 = 3_000;

/// Break something at random every second or so, hold it a little, then clear it.
async fn inject_faults(faults: &Faults, seed: u64, stop: &AtomicBool, counters: &Counters) {
    let mut rng = Rng(seed);
    while !stop.load(Ordering::Relaxed) {
        let fault = match rng.range(0, 6) {
            0 => FaultConfig {
                drop_after_frames: Some(rng.range(20, 400)),
                ..FaultConfig::default()
            },
            1 => FaultConfig {
                drop_after_frames: Some(rng.range(20, 400)),
                close_cleanly: true,
                ..FaultConfig::default()
            },
            2 => FaultConfig {
                stall_after_frames: Some(rng.range(20, 400)),
                stall_hold_ms: STALL_HOLD_MS,
                ..FaultConfig::default()
            },
            3 => FaultConfig {
                drop_after_frames: Some(1),
                refuse_socket_info: rng.range(5, 60) as u32,
                refuse_status: Some(if rng.range(0, 2) == 0 { 503 } else { 500 }),
                ..FaultConfig::default()
            },
            4 => FaultConfig {
                drop_after_frames: Some(1),
                stale_socket_endpoints: rng.range(2, 20) as u32,
                ..FaultConfig::default()
            },
            _ => FaultConfig {
                ack_delay_ms: rng.range(50, 400),
                ack_delay_every: rng.range(20, 200),
                ..FaultConfig::default()
            },
        };
        faults.set(fault);
        counters.faults.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(rng.range(100, 600))).await;
        faults.clear();
        tokio::time::sleep(Duration::from_millis(rng.range(200, 1200))).await;
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_find_repeats_and_stay_small() {
        let mut bits = Bits::default();
        for i in 0..100_000u64 {
            assert!(bits.set(i));
            assert!(!bits.set(i));
        }
        assert!(bits.words.len() <= 1);
        // An unset bit keeps its word, and what follows it, until the horizon passes it.
        bits.set(100_001);
        assert!(!bits.set(100_001));
        assert!(bits.set(100_000));
    }
}
