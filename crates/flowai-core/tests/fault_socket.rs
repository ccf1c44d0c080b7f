//! Fault matrix of the Flow socket session: 10,000 pipelined sends per fault against the emulator; each resolves once, none is lost or reported twice.
#![allow(clippy::unwrap_used)]

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use flowai_core::ErrorKind;
use flowai_core::backoff::Backoff;
use flowai_core::socket::{OutgoingMessage, Session, SessionEvent, SessionOptions};
use flowai_emulator::faults::FaultConfig;
use flowai_emulator::{Emulator, EmulatorOptions, RunningEmulator};
use futures_util::StreamExt;
use tokio::sync::Mutex;
use tokio::time::Instant;

const SENDS: u64 = 10_000;
const WINDOW: usize = 256;
/// A broken scenario fails instead of hanging.
const GUARD: Duration = Duration::from_secs(90);

fn backoff() -> Backoff {
    Backoff {
        base: Duration::from_millis(5),
        cap: Duration::from_millis(50),
        reset_after: Duration::from_secs(1),
    }
}

fn options(emu: &RunningEmulator, send_timeout: Duration) -> SessionOptions {
    let mut o = SessionOptions::new(emu.base_url(), emu.credentials().client_id.clone());
    o.backoff = backoff();
    o.send_timeout = send_timeout;
    o.connect_timeout = Duration::from_secs(2);
    o.ping_interval = Duration::from_millis(100);
    o.pong_timeout = Duration::from_millis(200);
    o.queue_capacity = 2 * WINDOW;
    o
}

/// The emulator of a scenario; `restart` replaces it by a new one on the same port.
struct Peer {
    current: Mutex<Option<RunningEmulator>>,
    /// Counters of emulators already stopped: (endpoints issued, upgrade requests).
    retired: Mutex<(u64, u64)>,
}

impl Peer {
    async fn restart(&self, down_for: Duration) {
        let mut current = self.current.lock().await;
        let old = current.take().unwrap();
        let mut options = old.state().options.clone();
        options.port = old.addr().port();
        {
            let s = &old.state().socket;
            let mut retired = self.retired.lock().await;
            retired.0 += s.endpoints_issued();
            retired.1 += s.upgrade_requests();
        }
        // Websockets outlive the HTTP server: make each one die on its next frame, as a killed process would.
        old.faults().update(|f| f.drop_after_frames = Some(0));
        let _ = tokio::time::timeout(Duration::from_secs(5), old.shutdown()).await;
        tokio::time::sleep(down_for).await;
        *current = Some(Emulator::new(options).start().await.unwrap());
    }

    async fn faults(&self, change: impl FnOnce(&mut FaultConfig)) {
        self.current
            .lock()
            .await
            .as_ref()
            .unwrap()
            .faults()
            .update(change);
    }

    async fn counters(&self) -> (u64, u64) {
        let current = self.current.lock().await;
        let s = &current.as_ref().unwrap().state().socket;
        let retired = self.retired.lock().await;
        (
            retired.0 + s.endpoints_issued(),
            retired.1 + s.upgrade_requests(),
        )
    }
}

/// What one scenario observed.
#[derive(Debug, Default)]
struct Report {
    delivered: usize,
    failed: HashMap<ErrorKind, usize>,
    reconnects: usize,
    /// From the moment the fault cleared to the next `Connected`.
    recovery: Option<Duration>,
}

type Chaos = Box<
    dyn FnOnce(
            Arc<Peer>,
            Arc<AtomicUsize>,
        ) -> futures_util::future::BoxFuture<'static, Option<Instant>>
        + Send,
>;

async fn run_scenario(
    name: &str,
    faults: FaultConfig,
    send_timeout: Duration,
    chaos: Option<Chaos>,
) -> Report {
    let emu = Emulator::new(EmulatorOptions::default())
        .start()
        .await
        .unwrap();
    emu.faults().set(faults);
    let opts = options(&emu, send_timeout);
    let peer = Arc::new(Peer {
        current: Mutex::new(Some(emu)),
        retired: Mutex::new((0, 0)),
    });
    let (session, mut events) = Session::connect(opts).await.unwrap();

    // Every event with the time it was read.
    let collector = tokio::spawn(async move {
        let mut all = Vec::new();
        while let Some(ev) = events.next().await {
            all.push((Instant::now(), ev));
        }
        all
    });

    let resolved = Arc::new(AtomicUsize::new(0));
    let chaos_task = chaos.map(|c| tokio::spawn(c(peer.clone(), resolved.clone())));

    let base: u64 = 1_000_000 + rand_base();
    let results: Vec<(
        u64,
        Duration,
        flowai_core::Result<flowai_core::models::Delivered>,
    )> = tokio::time::timeout(GUARD, {
        let session = session.clone();
        let resolved = resolved.clone();
        futures_util::stream::iter(0..SENDS)
            .map(move |i| {
                let session = session.clone();
                let resolved = resolved.clone();
                async move {
                    let trace = base + i;
                    let mut m = OutgoingMessage::text(format!("fault message {i}"));
                    m.trace_id = Some(trace);
                    let t0 = Instant::now();
                    let r = session.send(m).await;
                    resolved.fetch_add(1, Ordering::Relaxed);
                    (trace, t0.elapsed(), r)
                }
            })
            .buffer_unordered(WINDOW)
            .collect()
    })
    .await
    .unwrap_or_else(|_| panic!("{name}: sends did not all resolve within the guard"));
    let cleared = match chaos_task {
        Some(t) => t.await.unwrap(),
        None => None,
    };

    // Every send resolved exactly once: one result per traceId, matching its own traceId.
    assert_eq!(results.len() as u64, SENDS, "{name}");
    let mut report = Report::default();
    let mut ok = HashSet::new();
    for (trace, elapsed, r) in &results {
        match r {
            Ok(d) => {
                assert_eq!(
                    d.trace_id,
                    Some(*trace),
                    "{name}: delivery matched to another send"
                );
                assert!(ok.insert(*trace), "{name}: traceId {trace} resolved twice");
                report.delivered += 1;
            }
            Err(e) => {
                assert!(
                    matches!(e.kind(), ErrorKind::Timeout),
                    "{name}: unclear failure {e:?}"
                );
                assert!(
                    *elapsed >= send_timeout,
                    "{name}: failed before its deadline"
                );
                *report.failed.entry(e.kind()).or_default() += 1;
            }
        }
    }

    let (issued, upgrades) = peer.counters().await;
    assert!(
        upgrades <= issued,
        "{name}: an endpoint URL was used twice ({upgrades} upgrades for {issued} endpoints)"
    );

    session.close().await.unwrap();
    let all = collector.await.unwrap();
    let mut seen = HashSet::new();
    for (_, ev) in &all {
        match ev {
            SessionEvent::Delivered(d) => {
                let t = d.trace_id.unwrap();
                assert!(seen.insert(t), "{name}: delivery of {t} reported twice");
            }
            SessionEvent::Reconnecting { .. } => report.reconnects += 1,
            _ => {}
        }
    }
    assert!(
        ok.is_subset(&seen),
        "{name}: a delivered send has no Delivered event"
    );
    assert!(
        matches!(all.last(), Some((_, SessionEvent::Closed { error: None }))),
        "{name}: Closed is not last"
    );
    assert_eq!(
        all.iter()
            .filter(|(_, e)| matches!(e, SessionEvent::Closed { .. }))
            .count(),
        1
    );
    if let Some(cleared) = cleared {
        let back = all
            .iter()
            .find(|(at, e)| *at >= cleared && matches!(e, SessionEvent::Connected))
            .map(|(at, _)| *at)
            .unwrap_or_else(|| panic!("{name}: no reconnect after the fault cleared"));
        let recovery = back - cleared;
        assert!(
            recovery <= backoff().cap + Duration::from_secs(1),
            "{name}: reconnected {recovery:?} after the fault cleared"
        );
        report.recovery = Some(recovery);
    }
    eprintln!("{name}: {report:?}");
    report
}

fn rand_base() -> u64 {
    u64::from(std::process::id()) * 100_000
}

/// Wait until `n` sends have resolved.
async fn after(resolved: &AtomicUsize, n: usize) {
    while resolved.load(Ordering::Relaxed) < n {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn clean_run(r: &Report, name: &str) {
    assert_eq!(r.delivered as u64, SENDS, "{name}: {r:?}");
    assert!(r.reconnects >= 3, "{name}: the fault never fired: {r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_reset() {
    let faults = FaultConfig {
        drop_after_frames: Some(700),
        ..Default::default()
    };
    let r = run_scenario("reset", faults, Duration::from_secs(30), None).await;
    clean_run(&r, "reset");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clean_close() {
    let faults = FaultConfig {
        drop_after_frames: Some(700),
        close_cleanly: true,
        ..Default::default()
    };
    let r = run_scenario("clean close", faults, Duration::from_secs(30), None).await;
    clean_run(&r, "clean close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_open_stall() {
    let faults = FaultConfig {
        stall_after_frames: Some(2000),
        ..Default::default()
    };
    let r = run_scenario("half-open stall", faults, Duration::from_secs(30), None).await;
    clean_run(&r, "half-open stall");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_info_refused_then_5xx_for_a_while() {
    let chaos: Chaos = Box::new(|peer, resolved| {
        Box::pin(async move {
            for (at, status) in [(2500, 503u16), (6000, 500)] {
                after(&resolved, at).await;
                peer.faults(|f| {
                    f.drop_after_frames = Some(0);
                    f.refuse_socket_info = u32::MAX;
                    f.refuse_status = Some(status);
                })
                .await;
                tokio::time::sleep(Duration::from_millis(300)).await;
                peer.faults(|f| *f = FaultConfig::default()).await;
            }
            Some(Instant::now())
        })
    });
    let r = run_scenario(
        "socket.info refused",
        FaultConfig::default(),
        Duration::from_secs(30),
        Some(chaos),
    )
    .await;
    assert_eq!(r.delivered as u64, SENDS, "{r:?}");
    assert!(r.reconnects >= 2, "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoint_expired_or_used() {
    let chaos: Chaos = Box::new(|peer, resolved| {
        Box::pin(async move {
            for at in [2000, 4000, 6000, 8000] {
                after(&resolved, at).await;
                // The next three endpoints are refused with 410 on connect.
                peer.faults(|f| {
                    f.drop_after_frames = Some(0);
                    f.stale_socket_endpoints = 3;
                })
                .await;
                tokio::time::sleep(Duration::from_millis(20)).await;
                peer.faults(|f| f.drop_after_frames = None).await;
            }
            None
        })
    });
    let r = run_scenario(
        "endpoint expired",
        FaultConfig::default(),
        Duration::from_secs(30),
        Some(chaos),
    )
    .await;
    clean_run(&r, "endpoint expired");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delayed_acks() {
    // Every 4,000th frame's answers wait past the send deadline: the sends behind it fail with a
    // clear timeout, their late echoes are still reported once, and everything else is delivered.
    let faults = FaultConfig {
        ack_delay_ms: 2000,
        ack_delay_every: 4000,
        ..Default::default()
    };
    let r = run_scenario("delayed acks", faults, Duration::from_millis(1500), None).await;
    let timeouts = r.failed.get(&ErrorKind::Timeout).copied().unwrap_or(0);
    // A server silent for longer than the pong deadline also counts as dead: the connection is
    // replaced and the sends go out again, so the delay shows as timeouts or as a reconnect.
    assert!(
        timeouts > 0 || r.reconnects > 0,
        "the delay went unnoticed: {r:?}"
    );
    assert_eq!(r.delivered as u64 + timeouts as u64, SENDS, "{r:?}");
    assert!(r.delivered as u64 > SENDS / 2, "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emulator_restarted() {
    let chaos: Chaos = Box::new(|peer, resolved| {
        Box::pin(async move {
            after(&resolved, 3000).await;
            peer.restart(Duration::from_millis(200)).await;
            after(&resolved, 7000).await;
            peer.restart(Duration::from_millis(50)).await;
            Some(Instant::now())
        })
    });
    let r = run_scenario(
        "emulator restarted",
        FaultConfig::default(),
        Duration::from_secs(30),
        Some(chaos),
    )
    .await;
    assert_eq!(r.delivered as u64, SENDS, "{r:?}");
    assert!(r.reconnects >= 2, "{r:?}");
}
