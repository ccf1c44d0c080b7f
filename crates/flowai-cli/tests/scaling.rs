//! Four `flowai listen` replicas sharing one Redis handle 10,000 calls exactly once, while the emulator re-delivers a fifth of them to another replica, one replica is killed in the middle of a handler, and Redis is killed and restarted.
//!
//! Needs `redis-server` on PATH, so it is ignored by `cargo test` and run by tests/scaling/run.sh.
//! A handled call is a complete JSON line a replica printed from its handler; the
//! replica's output is read through a pipe, so the count includes what the killed
//! replica printed before it died.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use flowai_core::Config;
use flowai_core::messaging::MessagingClient;
use flowai_core::models::NewWebhook;
use flowai_emulator::webhooks::{DeliveryPlan, DeliveryStats};
use flowai_emulator::{Emulator, EmulatorOptions, RunningEmulator};
use serde_json::{Value, json};

const CALLS: u64 = 10_000;
const REPLICAS: usize = 4;
const REDELIVER_PERCENT: u8 = 20;
const KEY: &str = "vk-scaling-0123456789";
/// Longer than the Redis outage below, so a claim outlives it (see README "Scaling out").
const CLAIM_TTL_MS: u64 = 3_000;
const OUTAGE: Duration = Duration::from_secs(1);
/// The replica killed, and when: after this many calls were acknowledged.
const DOOMED: usize = 1;
const KILL_AT: u64 = 2_500;
const REDIS_RESTART_AT: u64 = 6_000;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A redis-server with an append-only file synced on every write, so that a crash loses
/// no acknowledged claim or done mark.
fn start_redis(dir: &Path, port: u16) -> Child {
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--dir", dir.to_str().unwrap(), "--save", ""])
        .args(["--appendonly", "yes", "--appendfsync", "always"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server must be on PATH (tests/scaling/run.sh installs it)");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !redis_answers(port) {
        assert!(Instant::now() < deadline, "redis-server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

fn redis_answers(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
    let mut answer = [0u8; 5];
    s.write_all(b"PING\r\n").is_ok() && s.read_exact(&mut answer).is_ok() && &answer == b"+PONG"
}

/// One `flowai listen` process and the lines it printed.
struct Replica {
    child: Child,
    url: String,
    stdout_fd: RawFd,
    lines: Arc<Mutex<Vec<String>>>,
    paused: Arc<AtomicBool>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Replica {
    fn start(redis_port: u16, log: &Path) -> Replica {
        let mut child = Command::new(env!("CARGO_BIN_EXE_flowai"))
            .args(["listen", "--json", "--verify-key", KEY])
            .args(["--dedup", &format!("redis://127.0.0.1:{redis_port}")])
            .args(["--dedup-claim-ttl-ms", &CLAIM_TTL_MS.to_string()])
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let stdout_fd = stdout.as_raw_fd();
        let mut out = BufReader::new(stdout);
        let mut first = String::new();
        out.read_line(&mut first).unwrap();
        let url = first
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .to_string();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let paused = Arc::new(AtomicBool::new(false));
        let reader = {
            let (lines, paused) = (lines.clone(), paused.clone());
            std::thread::spawn(move || read_lines(out, &lines, &paused))
        };
        Replica {
            child,
            url,
            stdout_fd,
            lines,
            paused,
            reader: Some(reader),
        }
    }

    /// Kill the process and read what it printed to the end.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.paused.store(false, Ordering::SeqCst);
        if let Some(reader) = self.reader.take() {
            reader.join().unwrap();
        }
    }
}

/// Complete lines only: a line without its newline was cut off by a kill.
fn read_lines(mut out: BufReader<ChildStdout>, lines: &Mutex<Vec<String>>, paused: &AtomicBool) {
    loop {
        while paused.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(5));
        }
        let mut line = Vec::new();
        match out.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) if line.ends_with(b"\n") => lines
                .lock()
                .unwrap()
                .push(String::from_utf8_lossy(&line).into_owned()),
            Ok(_) => return,
        }
    }
}

/// Bytes waiting in a pipe, and its capacity.
fn pipe_fill(fd: RawFd) -> (usize, usize) {
    let mut waiting: libc::c_int = 0;
    // SAFETY: `fd` is the read end of a live pipe owned by the reader thread's
    // ChildStdout, and FIONREAD writes one c_int to the pointer given.
    let ok = unsafe { libc::ioctl(fd, libc::FIONREAD, &mut waiting) } == 0;
    // SAFETY: F_GETPIPE_SZ only reads the descriptor's pipe size.
    let size = unsafe { libc::fcntl(fd, libc::F_GETPIPE_SZ) };
    assert!(ok && size > 0, "cannot inspect the replica's stdout pipe");
    (
        usize::try_from(waiting).unwrap_or(0),
        usize::try_from(size).unwrap_or(0),
    )
}

/// Wait until the replica's handler is blocked printing: its stdout pipe is full and
/// stays so while calls keep coming.
async fn wait_until_handler_blocked(fd: RawFd) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut last = (usize::MAX, 0);
    let mut steady = 0;
    loop {
        let fill = pipe_fill(fd);
        steady = if fill == last { steady + 1 } else { 0 };
        last = fill;
        // A line is a few hundred bytes: less room than that means the next print waits.
        if steady >= 3 && fill.0 + 4096 > fill.1 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the replica never blocked: {fill:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_for(emu: &RunningEmulator, what: &str, done: impl Fn(&DeliveryStats) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let stats = emu.state().webhooks.delivery_stats();
        if done(&stats) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {stats:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The trace id of a printed `message.delivered` event.
fn trace_of(line: &str) -> u64 {
    let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
    v["payload"]["traceId"]
        .as_u64()
        .unwrap_or_else(|| panic!("no traceId in {line:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server; run by tests/scaling/run.sh"]
async fn replicas_sharing_redis_handle_every_call_exactly_once() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let redis_port = free_port();
    let mut redis = start_redis(dir.path(), redis_port);
    let mut replicas: Vec<Replica> = (0..REPLICAS)
        .map(|i| Replica::start(redis_port, &dir.path().join(format!("replica{i}.log"))))
        .collect();
    // A small pipe fills soon after its reader stops, so the kill comes when it is meant to.
    // SAFETY: F_SETPIPE_SZ only resizes the pipe behind the descriptor, which is live.
    unsafe { libc::fcntl(replicas[DOOMED].stdout_fd, libc::F_SETPIPE_SZ, 4096) };

    let emu = Emulator::new(EmulatorOptions {
        // Retries 10 ms, 20 ms, 40 ms, ... apart; a stuck call is given up on after 2 s.
        time_scale: 0.01,
        webhook_timeout: Duration::from_secs(2),
        ..Default::default()
    })
    .start()
    .await
    .unwrap();
    let mut config = Config::new();
    config.api_url = emu.base_url().to_string();
    config.messaging_key = Some(emu.credentials().messaging_key.clone().into());
    MessagingClient::new(config)
        .unwrap()
        .create_webhook(&NewWebhook {
            url: replicas[0].url.clone(),
            verify_key: KEY.into(),
            events: vec!["message.delivered".into()],
        })
        .await
        .unwrap();
    let webhooks = &emu.state().webhooks;
    webhooks
        .set_delivery_plan(DeliveryPlan {
            receivers: replicas.iter().map(|r| r.url.clone()).collect(),
            concurrency: 16,
            redeliver_percent: REDELIVER_PERCENT,
        })
        .unwrap();
    let org = emu.credentials().organisation_id.clone();
    for trace in 1..=CALLS {
        let payload = json!({"threadId": format!("thread-{}", trace % 64), "traceId": trace});
        assert_eq!(webhooks.enqueue(&org, "message.delivered", payload), 1);
    }

    // Kill one replica in the middle of a handler: stop reading its output until its
    // handler blocks printing, give the calls it finished time to be marked done, kill it.
    wait_for(&emu, "the kill point", |s| s.delivered >= KILL_AT).await;
    let doomed = &mut replicas[DOOMED];
    doomed.paused.store(true, Ordering::SeqCst);
    wait_until_handler_blocked(doomed.stdout_fd).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    doomed.kill();
    let at_kill = webhooks.delivery_stats();
    // Calls the killed replica held unanswered: they timed out or were cut off by the kill
    // (calls made to it after its death are refused, not cut off).
    tokio::time::sleep(Duration::from_millis(200)).await;
    let doomed_url = replicas[DOOMED].url.clone();
    let stranded: std::collections::HashSet<String> = webhooks
        .attempts()
        .into_iter()
        .filter(|a| a.url == doomed_url && a.status.is_none())
        .filter(|a| a.error.as_deref() != Some("connection failed"))
        .map(|a| a.delivery_id)
        .collect();

    // Crash Redis, keep it down, start it again on the same port and files.
    wait_for(&emu, "the Redis restart point", |s| {
        s.delivered >= REDIS_RESTART_AT
    })
    .await;
    redis.kill().unwrap();
    redis.wait().unwrap();
    let outage_start = webhooks.delivery_stats();
    tokio::time::sleep(OUTAGE).await;
    let outage_end = webhooks.delivery_stats();
    let mut redis = start_redis(dir.path(), redis_port);

    wait_for(&emu, "every call and re-delivery to finish", |s| {
        s.delivered + s.gave_up >= CALLS && s.redeliveries_finished >= s.redelivered
    })
    .await;
    let end = webhooks.delivery_stats();
    for replica in &mut replicas {
        replica.kill();
    }
    redis.kill().unwrap();
    let _ = redis.wait();

    let mut handled: HashMap<u64, u32> = HashMap::new();
    let mut per_replica = Vec::new();
    for replica in &replicas {
        let lines = replica.lines.lock().unwrap();
        per_replica.push(lines.len());
        for line in lines.iter() {
            *handled.entry(trace_of(line)).or_default() += 1;
        }
    }
    let lost = (1..=CALLS).filter(|t| !handled.contains_key(t)).count();
    let twice = handled.values().filter(|&&n| n > 1).count();
    let unexpected = handled.keys().filter(|t| !(1..=CALLS).contains(*t)).count();
    let outage_calls = outage_end.calls - outage_start.calls;
    let outage_503 = outage_end.unavailable - outage_start.unavailable;
    println!(
        "scaling: {CALLS} calls to {REPLICAS} replicas sharing Redis, {} re-delivered to another replica, \
         replica {DOOMED} killed mid-handler after {} acknowledged holding {} calls unanswered, \
         Redis killed and restarted after {} ({} ms down)",
        end.redelivered,
        at_kill.delivered,
        stranded.len(),
        outage_start.delivered,
        OUTAGE.as_millis()
    );
    println!(
        "scaling: handled {} distinct calls in {} lines (per replica {per_replica:?}); lost {lost}, \
         handled twice {twice}; {} HTTP calls made, {} answered 503; during the outage {outage_calls} \
         calls, {outage_503} answered 503; given up {}; {:.1} s",
        handled.len(),
        per_replica.iter().sum::<usize>(),
        end.calls,
        end.unavailable,
        end.gave_up,
        started.elapsed().as_secs_f64()
    );
    assert_eq!(end.gave_up, 0, "the sender gave up on calls: {end:?}");
    assert_eq!(lost, 0, "calls never handled");
    assert_eq!(twice, 0, "calls handled more than once");
    assert_eq!(unexpected, 0, "calls that were never sent");
    assert!(
        per_replica.iter().all(|&n| n > 0),
        "every replica, the killed one included, handled calls: {per_replica:?}"
    );
    assert!(
        end.redelivered >= CALLS * u64::from(REDELIVER_PERCENT) / 100,
        "re-deliveries: {end:?}"
    );
    assert!(!stranded.is_empty(), "the kill must leave calls unanswered");
    assert!(
        outage_503 > 0,
        "calls during the Redis outage must be answered 503, not handled"
    );
    emu.shutdown().await;
}
