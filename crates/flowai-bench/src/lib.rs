//! Benchmarks of the flowai SDK next to minimal raw clients doing the same work against the emulator in the same run.
//!
//! [`run`] starts the emulator as a child process (so the client's CPU and memory are
//! measured apart from the server's) and runs every scenario twice: once through
//! flowai-core, once through a raw client (tokio-tungstenite, reqwest, axum). The
//! many-sessions scenario runs each side in a worker process of its own ([`run_worker`]),
//! so one side's freed memory never flatters the other's RSS figure.

pub mod emulator;
pub mod redis;
pub mod rest;
pub mod socket;
pub mod stats;
pub mod webhook;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;

use emulator::{EmulatorChild, Target};
use socket::{Many, Side};
use stats::{ratio, round};

/// How a benchmark run is done.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Short runs (about 2 s per side) instead of full ones (about 10 s).
    pub quick: bool,
    /// The `flowai` executable, run as `emulator --port 0` and as `bench --worker ...`.
    pub program: PathBuf,
    /// Sessions of the many-sessions scenario.
    pub sessions: usize,
}

impl BenchOptions {
    fn warmup(&self) -> Duration {
        if self.quick {
            Duration::from_millis(500)
        } else {
            Duration::from_secs(2)
        }
    }

    fn measure(&self) -> Duration {
        if self.quick {
            Duration::from_secs(2)
        } else {
            Duration::from_secs(10)
        }
    }

    /// Interleaved rounds of each side of the one-session and REST scenarios, which share the
    /// measured time: the machine's load drifts during a run, alternating the sides exposes
    /// both to it, and the report takes each side's median round.
    fn rounds(&self) -> u32 {
        3
    }

    fn many_measure(&self) -> Duration {
        if self.quick {
            Duration::from_secs(3)
        } else {
            Duration::from_secs(10)
        }
    }
}

/// One session, one message in flight.
#[derive(Debug, Clone, Serialize)]
pub struct SingleReport {
    /// Acked messages per second through the SDK.
    pub sdk_msg_s: f64,
    /// Acked messages per second through the raw client.
    pub raw_msg_s: f64,
    /// `sdk_msg_s / raw_msg_s`.
    pub ratio: f64,
    /// The SDK's median round trip (µs).
    pub p50_us: u64,
    /// The SDK's 99th percentile round trip (µs).
    pub p99_us: u64,
    /// Same as `p50_us`.
    pub sdk_p50_us: u64,
    /// Same as `p99_us`.
    pub sdk_p99_us: u64,
    /// The raw client's median round trip (µs).
    pub raw_p50_us: u64,
    /// The raw client's 99th percentile round trip (µs).
    pub raw_p99_us: u64,
    /// CPU cores the emulator kept busy during the SDK run.
    pub sdk_emulator_cores: f64,
    /// CPU cores the emulator kept busy during the raw run.
    pub raw_emulator_cores: f64,
    /// ratio >= 0.85 and p99 <= 1 ms.
    pub meets_bar: bool,
}

/// A throughput scenario.
#[derive(Debug, Clone, Serialize)]
pub struct RateReport {
    /// Operations per second through the SDK (acked messages, verified events, accepted sends).
    pub sdk_per_s: f64,
    /// Operations per second through the raw client.
    pub raw_per_s: f64,
    /// `sdk_per_s / raw_per_s`.
    pub ratio: f64,
    /// CPU cores the emulator kept busy during the SDK run (0 when it takes no part).
    pub sdk_emulator_cores: f64,
    /// CPU cores the emulator kept busy during the raw run.
    pub raw_emulator_cores: f64,
    /// Whether the ratio reaches the bar.
    pub meets_bar: bool,
}

/// The webhook receiver with a shared store against itself with the memory store.
#[derive(Debug, Clone, Serialize)]
pub struct SharedStoreReport {
    /// Whether a redis-server was found and the row measured.
    pub measured: bool,
    /// Verified events per second with the Redis store (claim and done mark per call).
    pub redis_per_s: f64,
    /// Verified events per second with the memory store, measured in the same run.
    pub memory_per_s: f64,
    /// `redis_per_s / memory_per_s`.
    pub ratio: f64,
    /// What was measured, or why not.
    pub note: String,
}

/// Many concurrent sessions in one process.
#[derive(Debug, Clone, Serialize)]
pub struct ManyReport {
    /// Sessions per side.
    pub sessions: usize,
    /// Aggregate acked messages per second through the SDK, one in flight per session.
    pub sdk_msg_s: f64,
    /// The same through raw clients.
    pub raw_msg_s: f64,
    /// `sdk_msg_s / raw_msg_s`.
    pub ratio: f64,
    /// Seconds to connect every SDK session.
    pub connect_s: f64,
    /// Same as `connect_s`.
    pub sdk_connect_s: f64,
    /// Seconds to connect every raw session.
    pub raw_connect_s: f64,
    /// Client RSS per idle SDK session (KiB).
    pub rss_kib_per_session: f64,
    /// Same as `rss_kib_per_session`.
    pub sdk_rss_kib_per_session: f64,
    /// Client RSS per idle raw session (KiB).
    pub raw_rss_kib_per_session: f64,
    /// Live heap per idle SDK session (KiB), without the allocator's free memory.
    pub sdk_heap_kib_per_session: f64,
    /// Live heap per idle raw session (KiB).
    pub raw_heap_kib_per_session: f64,
    /// Client RSS per idle SDK session once `malloc_trim(0)` returned free pages (KiB).
    pub sdk_trimmed_rss_kib_per_session: f64,
    /// The same for the raw client (KiB).
    pub raw_trimmed_rss_kib_per_session: f64,
    /// connect <= 3 s, <= 12 KiB per idle session, ratio >= 0.6.
    pub meets_bar: bool,
}

/// Every scenario's figures; serialises to the object `flowai bench --json` prints.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// One session, one message in flight.
    pub socket_single: SingleReport,
    /// One session, [`socket::WINDOW`] messages in flight.
    pub socket_pipelined: RateReport,
    /// Many sessions in one process.
    pub socket_many: ManyReport,
    /// Webhook receiver, verified events per second into a callback.
    pub webhook_receiver: RateReport,
    /// The same receiver deduplicating through Redis, next to its memory store.
    pub webhook_receiver_redis: SharedStoreReport,
    /// REST text messages per second with keep-alive.
    pub rest_send: RateReport,
}

impl Report {
    /// The human table.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let line = |out: &mut String,
                    name: &str,
                    unit: &str,
                    sdk: f64,
                    raw: f64,
                    r: f64,
                    extra: String,
                    ok: bool| {
            out.push_str(&format!(
                "{name:<18} {sdk:>12.0} {raw:>12.0} {unit:<9} {r:>6.2}  {extra:<38} {}\n",
                if ok { "ok" } else { "BELOW BAR" }
            ));
        };
        out.push_str(&format!(
            "{:<18} {:>12} {:>12} {:<9} {:>6}  {:<38} {}\n",
            "scenario", "sdk", "raw", "unit", "ratio", "details", "bar"
        ));
        let s = &self.socket_single;
        line(
            &mut out,
            "socket_single",
            "msg/s",
            s.sdk_msg_s,
            s.raw_msg_s,
            s.ratio,
            format!(
                "p50 {} us, p99 {} us (raw {}/{})",
                s.p50_us, s.p99_us, s.raw_p50_us, s.raw_p99_us
            ),
            s.meets_bar,
        );
        let p = &self.socket_pipelined;
        line(
            &mut out,
            "socket_pipelined",
            "msg/s",
            p.sdk_per_s,
            p.raw_per_s,
            p.ratio,
            format!("{} in flight", socket::WINDOW),
            p.meets_bar,
        );
        let m = &self.socket_many;
        line(
            &mut out,
            "socket_many",
            "msg/s",
            m.sdk_msg_s,
            m.raw_msg_s,
            m.ratio,
            format!(
                "{} sessions: connect {:.2} s (raw {:.2}), {:.1} KiB RSS/session (raw {:.1}), heap {:.1} (raw {:.1})",
                m.sessions,
                m.connect_s,
                m.raw_connect_s,
                m.rss_kib_per_session,
                m.raw_rss_kib_per_session,
                m.sdk_heap_kib_per_session,
                m.raw_heap_kib_per_session
            ),
            m.meets_bar,
        );
        let w = &self.webhook_receiver;
        line(
            &mut out,
            "webhook_receiver",
            "events/s",
            w.sdk_per_s,
            w.raw_per_s,
            w.ratio,
            format!("verified, into a callback; median of {WEBHOOK_ROUNDS}"),
            w.meets_bar,
        );
        let s = &self.webhook_receiver_redis;
        if s.measured {
            out.push_str(&format!(
                // The name is longer than the column: the first figure gives up the room.
                "{:<22} {:>8.0} {:>12.0} {:<9} {:>6.2}  {:<38} {}\n",
                "webhook_receiver_redis",
                s.redis_per_s,
                s.memory_per_s,
                "events/s",
                s.ratio,
                s.note,
                "-"
            ));
        } else {
            out.push_str(&format!("{:<18} {}\n", "webhook_receiver_redis", s.note));
        }
        let r = &self.rest_send;
        line(
            &mut out,
            "rest_send",
            "msg/s",
            r.sdk_per_s,
            r.raw_per_s,
            r.ratio,
            format!("{} in flight, keep-alive", rest::CONCURRENCY),
            r.meets_bar,
        );
        out
    }
}

/// Raise the open-file limit to its hard maximum (10,000 sessions need as many sockets);
/// children started afterwards inherit it.
pub fn raise_file_limit() {
    if let Err(e) = rlimit::increase_nofile_limit(u64::MAX) {
        eprintln!("warning: cannot raise the open-file limit: {e}");
    }
}

/// CPU cores a process kept busy since `since` (CPU time then, wall clock then).
struct CpuMeter {
    pid: u32,
    cpu: Duration,
    wall: Instant,
}

impl CpuMeter {
    fn start(pid: u32) -> Self {
        CpuMeter {
            pid,
            cpu: stats::cpu_time(pid).unwrap_or_default(),
            wall: Instant::now(),
        }
    }

    fn cores(&self) -> f64 {
        let used = stats::cpu_time(self.pid)
            .unwrap_or_default()
            .saturating_sub(self.cpu);
        round(
            used.as_secs_f64() / self.wall.elapsed().as_secs_f64().max(1e-9),
            2,
        )
    }
}

/// Run every scenario; `progress` gets a short line as each step starts.
pub async fn run(options: &BenchOptions, progress: &mut dyn FnMut(&str)) -> Result<Report, String> {
    raise_file_limit();
    let (warmup, measure) = (options.warmup(), options.measure());
    let redis = redis::RedisServer::start()?;
    let redis_rounds = if redis.is_some() { WEBHOOK_ROUNDS } else { 0 };
    let total = 6 * options.rounds() as usize + 2 + 2 * WEBHOOK_ROUNDS + redis_rounds;
    let mut step = 0;
    let mut say = |what: &str| {
        step += 1;
        progress(&format!("[{step}/{total}] {what}"));
    };

    let rounds = options.rounds();
    let each = measure / rounds;
    let emu = EmulatorChild::spawn(&options.program).await?;
    let (sdk, raw) = alternate(
        &emu,
        rounds,
        "socket_single",
        &mut say,
        |t| socket::sdk_single(t, warmup, each),
        |t| socket::raw_single(t, warmup, each),
    )
    .await?;
    let (sdk, sdk_cores) = socket::Single::median(&sdk);
    let (raw, raw_cores) = socket::Single::median(&raw);
    let r = round(ratio(sdk.msg_s, raw.msg_s), 3);
    let socket_single = SingleReport {
        sdk_msg_s: round(sdk.msg_s, 0),
        raw_msg_s: round(raw.msg_s, 0),
        ratio: r,
        p50_us: sdk.p50_us,
        p99_us: sdk.p99_us,
        sdk_p50_us: sdk.p50_us,
        sdk_p99_us: sdk.p99_us,
        raw_p50_us: raw.p50_us,
        raw_p99_us: raw.p99_us,
        sdk_emulator_cores: sdk_cores,
        raw_emulator_cores: raw_cores,
        meets_bar: r >= 0.85 && sdk.p99_us <= 1000,
    };
    emu.stop().await;

    let emu = EmulatorChild::spawn(&options.program).await?;
    let (sdk, raw) = alternate(
        &emu,
        rounds,
        "socket_pipelined",
        &mut say,
        |t| socket::sdk_pipelined(t, warmup, each),
        |t| socket::raw_pipelined(t, warmup, each),
    )
    .await?;
    let (sdk, sdk_cores) = median_rate(&sdk);
    let (raw, raw_cores) = median_rate(&raw);
    let socket_pipelined = rate_report(sdk, raw, sdk_cores, raw_cores, 0.75);
    emu.stop().await;

    let emu = EmulatorChild::spawn(&options.program).await?;
    say("socket_many: flowai-core (worker process)");
    let sdk = many_in_worker(options, emu.target(), Side::Sdk).await?;
    say("socket_many: raw tokio-tungstenite (worker process)");
    let raw = many_in_worker(options, emu.target(), Side::Raw).await?;
    emu.stop().await;
    let r = round(ratio(sdk.msg_s, raw.msg_s), 3);
    let socket_many = ManyReport {
        sessions: options.sessions,
        sdk_msg_s: round(sdk.msg_s, 0),
        raw_msg_s: round(raw.msg_s, 0),
        ratio: r,
        connect_s: round(sdk.connect_s, 3),
        sdk_connect_s: round(sdk.connect_s, 3),
        raw_connect_s: round(raw.connect_s, 3),
        rss_kib_per_session: round(sdk.rss_kib_per_session, 2),
        sdk_rss_kib_per_session: round(sdk.rss_kib_per_session, 2),
        raw_rss_kib_per_session: round(raw.rss_kib_per_session, 2),
        sdk_heap_kib_per_session: round(sdk.heap_kib_per_session, 2),
        raw_heap_kib_per_session: round(raw.heap_kib_per_session, 2),
        sdk_trimmed_rss_kib_per_session: round(sdk.trimmed_rss_kib_per_session, 2),
        raw_trimmed_rss_kib_per_session: round(raw.trimmed_rss_kib_per_session, 2),
        meets_bar: r >= 0.6 && sdk.connect_s <= 3.0 && sdk.rss_kib_per_session <= 12.0,
    };

    // Both receivers share the machine with the load generator, so one short run swings
    // by ±20 %: interleave rounds of each side and compare the medians.
    let (mut sdk_rounds, mut raw_rounds, mut redis_rounds) = (Vec::new(), Vec::new(), Vec::new());
    for round in 1..=WEBHOOK_ROUNDS {
        say(&format!(
            "webhook_receiver: flowai-core, round {round}/{WEBHOOK_ROUNDS}"
        ));
        let hook_warmup = warmup * 2;
        sdk_rounds.push(webhook::run(webhook::Receiver::Sdk, hook_warmup, measure).await?);
        say(&format!(
            "webhook_receiver: raw axum, round {round}/{WEBHOOK_ROUNDS}"
        ));
        raw_rounds.push(webhook::run(webhook::Receiver::Raw, hook_warmup, measure).await?);
        if let Some(server) = &redis {
            say(&format!(
                "webhook_receiver_redis: flowai-core with Redis, round {round}/{WEBHOOK_ROUNDS}"
            ));
            let which = webhook::Receiver::SdkRedis(server.url());
            redis_rounds.push(webhook::run(which, hook_warmup, measure).await?);
        }
    }
    let memory = stats::median(&mut sdk_rounds);
    let webhook_receiver = rate_report(memory, stats::median(&mut raw_rounds), 0.0, 0.0, 0.75);
    let webhook_receiver_redis = match redis {
        Some(_) => {
            let shared = stats::median(&mut redis_rounds);
            SharedStoreReport {
                measured: true,
                redis_per_s: round(shared, 0),
                memory_per_s: round(memory, 0),
                ratio: round(ratio(shared, memory), 3),
                note: format!("sdk: Redis store, raw: memory store; median of {WEBHOOK_ROUNDS}"),
            }
        }
        None => SharedStoreReport {
            measured: false,
            redis_per_s: 0.0,
            memory_per_s: round(memory, 0),
            ratio: 0.0,
            note: "not measured: no redis-server on PATH".into(),
        },
    };

    let emu = EmulatorChild::spawn(&options.program).await?;
    let (sdk, raw) = alternate(
        &emu,
        rounds,
        "rest_send",
        &mut say,
        |t| async move { rest::run(rest::Client::Sdk, &t, warmup, each).await },
        |t| async move { rest::run(rest::Client::Raw, &t, warmup, each).await },
    )
    .await?;
    let (sdk, sdk_cores) = median_rate(&sdk);
    let (raw, raw_cores) = median_rate(&raw);
    let rest_send = rate_report(sdk, raw, sdk_cores, raw_cores, 0.85);
    emu.stop().await;

    Ok(Report {
        socket_single,
        socket_pipelined,
        socket_many,
        webhook_receiver,
        webhook_receiver_redis,
        rest_send,
    })
}

/// Each side's result with the CPU cores the emulator kept busy meanwhile, round by round.
type Rounds<T> = Vec<(T, f64)>;

/// Run `rounds` rounds of each side of a scenario against `emu`, alternating, each as a
/// runtime task (see [`on_worker`]): the machine's load drifts during a run, and
/// alternating exposes both sides to it alike.
async fn alternate<T, S, R>(
    emu: &EmulatorChild,
    rounds: u32,
    scenario: &str,
    say: &mut impl FnMut(&str),
    sdk: impl Fn(Target) -> S,
    raw: impl Fn(Target) -> R,
) -> Result<(Rounds<T>, Rounds<T>), String>
where
    T: Send + 'static,
    S: std::future::Future<Output = Result<T, String>> + Send + 'static,
    R: std::future::Future<Output = Result<T, String>> + Send + 'static,
{
    let (mut sdk_rounds, mut raw_rounds) = (Vec::new(), Vec::new());
    for round in 1..=rounds {
        say(&format!("{scenario}: flowai-core, round {round}/{rounds}"));
        let meter = CpuMeter::start(emu.pid());
        let result = on_worker(sdk(emu.target().clone())).await?;
        sdk_rounds.push((result, meter.cores()));
        say(&format!("{scenario}: raw baseline, round {round}/{rounds}"));
        let meter = CpuMeter::start(emu.pid());
        let result = on_worker(raw(emu.target().clone())).await?;
        raw_rounds.push((result, meter.cores()));
    }
    Ok((sdk_rounds, raw_rounds))
}

/// The median rate of some rounds, with the median of the emulator's cores.
fn median_rate(rounds: &[(f64, f64)]) -> (f64, f64) {
    let mut rates: Vec<f64> = rounds.iter().map(|r| r.0).collect();
    let mut cores: Vec<f64> = rounds.iter().map(|r| r.1).collect();
    (stats::median(&mut rates), stats::median(&mut cores))
}

/// Run a scenario as a runtime task, as an app's code runs: `run` itself is driven by
/// `block_on` on a thread outside the runtime's workers, where every wake-up from a worker
/// is a cross-thread unpark that a one-task raw client pays once per round trip and a
/// session (its own task) two or three times.
async fn on_worker<T: Send + 'static>(
    scenario: impl std::future::Future<Output = Result<T, String>> + Send + 'static,
) -> Result<T, String> {
    tokio::spawn(scenario)
        .await
        .map_err(|e| format!("the scenario task failed: {e}"))?
}

fn rate_report(sdk: f64, raw: f64, sdk_cores: f64, raw_cores: f64, bar: f64) -> RateReport {
    let r = round(ratio(sdk, raw), 3);
    RateReport {
        sdk_per_s: round(sdk, 0),
        raw_per_s: round(raw, 0),
        ratio: r,
        sdk_emulator_cores: sdk_cores,
        raw_emulator_cores: raw_cores,
        meets_bar: r >= bar,
    }
}

/// Interleaved rounds of each side of the webhook scenario; the report takes the medians.
const WEBHOOK_ROUNDS: usize = 3;

/// Environment variables a worker reads its target from.
const WORKER_URL: &str = "FLOWAI_API_URL";
const WORKER_CLIENT_ID: &str = "FLOWAI_CLIENT_ID";

/// The worker names understood by [`run_worker`].
pub const WORKERS: [&str; 2] = ["many-sdk", "many-raw"];

async fn many_in_worker(
    options: &BenchOptions,
    target: &Target,
    side: Side,
) -> Result<Many, String> {
    let name = match side {
        Side::Sdk => WORKERS[0],
        Side::Raw => WORKERS[1],
    };
    let output = tokio::process::Command::new(&options.program)
        .args(["bench", "--worker", name, "--sessions"])
        .arg(options.sessions.to_string())
        .args(["--worker-secs"])
        .arg(options.many_measure().as_secs_f64().to_string())
        .env(WORKER_URL, &target.api_url)
        .env(WORKER_CLIENT_ID, &target.client_id)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| format!("cannot run the {name} worker: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    if !output.status.success() {
        return Err(format!(
            "the {name} worker failed ({}): {last}",
            output.status
        ));
    }
    serde_json::from_str(last).map_err(|e| format!("the {name} worker printed no result: {e}"))
}

/// Run one side of the many-sessions scenario in this process against the emulator named by
/// `FLOWAI_API_URL` and `FLOWAI_CLIENT_ID`; returns the JSON line to print.
pub async fn run_worker(name: &str, sessions: usize, measure: Duration) -> Result<String, String> {
    raise_file_limit();
    let side = match name {
        "many-sdk" => Side::Sdk,
        "many-raw" => Side::Raw,
        other => {
            return Err(format!(
                "unknown worker {other:?}; expected one of {WORKERS:?}"
            ));
        }
    };
    let target = Target {
        api_url: std::env::var(WORKER_URL).map_err(|_| format!("{WORKER_URL} is not set"))?,
        client_id: std::env::var(WORKER_CLIENT_ID)
            .map_err(|_| format!("{WORKER_CLIENT_ID} is not set"))?,
        messaging_key: String::new(),
    };
    let result = socket::many(side, &target, sessions, measure).await?;
    serde_json::to_string(&result).map_err(|e| e.to_string())
}
