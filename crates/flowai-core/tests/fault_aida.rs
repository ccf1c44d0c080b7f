//! Fault matrix of the AIDA client (Phoenix channels): 10,000 pipelined `utb_msg` pushes per fault against the emulator; each resolves once, acknowledged or with a clear error.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use flowai_core::ErrorKind;
use flowai_core::aida::{AidaClient, AidaOptions};
use flowai_core::phoenix::{SocketEvent, SocketSettings};
use flowai_emulator::faults::FaultConfig;
use flowai_emulator::{Emulator, EmulatorOptions, RunningEmulator};
use futures_util::StreamExt;
use tokio::sync::Mutex;
use tokio::time::Instant;

const SENDS: usize = 10_000;
const WINDOW: usize = 256;
const GUARD: Duration = Duration::from_secs(90);
/// The longest reconnect delay of the schedule below.
const RECONNECT_CAP: Duration = Duration::from_millis(50);

fn settings(push_timeout: Duration) -> SocketSettings {
    SocketSettings {
        heartbeat_interval: Duration::from_millis(100),
        heartbeat_timeout: Duration::from_millis(200),
        push_timeout,
        connect_timeout: Duration::from_secs(2),
        reconnect_after: vec![
            Duration::from_millis(5),
            Duration::from_millis(20),
            RECONNECT_CAP,
        ],
        rejoin_after: vec![Duration::from_millis(10), Duration::from_millis(20)],
        max_buffered_pushes: 4 * WINDOW,
        ..SocketSettings::default()
    }
}

struct Peer {
    current: Mutex<Option<RunningEmulator>>,
}

impl Peer {
    async fn restart(&self, down_for: Duration) {
        let mut current = self.current.lock().await;
        let old = current.take().unwrap();
        let mut options = old.state().options.clone();
        options.port = old.addr().port();
        // Websockets outlive the HTTP server: make each one die on its next frame, as a killed process would.
        old.faults().update(|f| f.aida_drop_after_frames = Some(0));
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
}

#[derive(Debug, Default)]
struct Report {
    acked: usize,
    failed: HashMap<ErrorKind, usize>,
    reconnects: usize,
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
    push_timeout: Duration,
    chaos: Option<Chaos>,
) -> Report {
    let emu = Emulator::new(EmulatorOptions::default())
        .start()
        .await
        .unwrap();
    let creds = emu.credentials();
    let mut options = AidaOptions::new(emu.aida_url(), &creds.aida_bot, creds.aida_token.as_str());
    options.settings = settings(push_timeout);
    let client = AidaClient::connect(options).await.unwrap();
    emu.faults().set(faults);
    let peer = Arc::new(Peer {
        current: Mutex::new(Some(emu)),
    });

    let mut socket_events = client.events();
    let collector = tokio::spawn(async move {
        let mut all = Vec::new();
        while let Some(ev) = socket_events.recv().await {
            let last = matches!(ev, SocketEvent::Closed);
            all.push((Instant::now(), ev));
            if last {
                break;
            }
        }
        all
    });
    let session = Arc::new(client.new_session(None).await.unwrap());
    // Replies are broadcast; read them so nothing piles up.
    let reader = {
        let session = session.clone();
        tokio::spawn(async move { while session.recv().await.is_some() {} })
    };

    let resolved = Arc::new(AtomicUsize::new(0));
    let chaos_task = chaos.map(|c| tokio::spawn(c(peer.clone(), resolved.clone())));
    let results: Vec<(Duration, flowai_core::Result<serde_json::Value>)> =
        tokio::time::timeout(GUARD, {
            let session = session.clone();
            let resolved = resolved.clone();
            futures_util::stream::iter(0..SENDS)
                .map(move |i| {
                    let session = session.clone();
                    let resolved = resolved.clone();
                    async move {
                        let t0 = Instant::now();
                        let r = session.send_text(&format!("fault message {i}")).await;
                        resolved.fetch_add(1, Ordering::Relaxed);
                        (t0.elapsed(), r)
                    }
                })
                .buffer_unordered(WINDOW)
                .collect()
        })
        .await
        .unwrap_or_else(|_| panic!("{name}: pushes did not all resolve within the guard"));
    let cleared = match chaos_task {
        Some(t) => t.await.unwrap(),
        None => None,
    };

    assert_eq!(results.len(), SENDS, "{name}");
    let mut report = Report::default();
    for (elapsed, r) in &results {
        match r {
            Ok(_) => report.acked += 1,
            Err(e) => {
                match e.kind() {
                    // The reply never came: only after the push deadline.
                    ErrorKind::Timeout => {
                        assert!(*elapsed >= push_timeout, "{name}: timed out early")
                    }
                    // The connection died with the push on the wire: its outcome is unknown, said at once.
                    ErrorKind::Connection => {}
                    // A restarted server lost its in-memory sessions: a typed answer, not a hang.
                    ErrorKind::Protocol
                        if name.contains("restarted")
                            && e.message().contains("unknown session") => {}
                    _ => panic!("{name}: unclear failure {e:?}"),
                }
                *report.failed.entry(e.kind()).or_default() += 1;
            }
        }
    }
    // The client still works after the faults.
    peer.faults(|f| *f = FaultConfig::default()).await;
    let fresh = client.new_session(None).await.unwrap();
    tokio::time::timeout(GUARD, fresh.send_text("after the faults"))
        .await
        .unwrap()
        .unwrap();

    client.close().await;
    let all = collector.await.unwrap();
    reader.abort();
    report.reconnects = all
        .iter()
        .filter(|(_, e)| matches!(e, SocketEvent::Reconnecting { .. }))
        .count();
    assert_eq!(
        all.iter()
            .filter(|(_, e)| matches!(e, SocketEvent::Closed))
            .count(),
        1,
        "{name}: Closed must come once"
    );
    assert!(matches!(all.last(), Some((_, SocketEvent::Closed))));
    if let Some(cleared) = cleared {
        let back = all
            .iter()
            .find(|(at, e)| *at >= cleared && matches!(e, SocketEvent::Connected))
            .map(|(at, _)| *at)
            .unwrap_or_else(|| panic!("{name}: no reconnect after the fault cleared"));
        let recovery = back - cleared;
        assert!(
            recovery <= RECONNECT_CAP + Duration::from_secs(1),
            "{name}: reconnected {recovery:?} after the fault cleared"
        );
        report.recovery = Some(recovery);
    }
    eprintln!("{name}: {report:?}");
    report
}

async fn after(resolved: &AtomicUsize, n: usize) {
    while resolved.load(Ordering::Relaxed) < n {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Pushes on the wire when a connection dies fail at once; the rest are acknowledged.
fn check(r: &Report, name: &str) {
    assert!(r.reconnects >= 2, "{name}: the fault never fired: {r:?}");
    assert!(r.acked > SENDS / 2, "{name}: {r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_reset() {
    let faults = FaultConfig {
        aida_drop_after_frames: Some(1500),
        ..Default::default()
    };
    let r = run_scenario("aida reset", faults, Duration::from_secs(30), None).await;
    check(&r, "aida reset");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clean_close() {
    let faults = FaultConfig {
        aida_drop_after_frames: Some(1500),
        close_cleanly: true,
        ..Default::default()
    };
    let r = run_scenario("aida clean close", faults, Duration::from_secs(30), None).await;
    check(&r, "aida clean close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_open_stall() {
    let faults = FaultConfig {
        aida_stall_after_frames: Some(2500),
        ..Default::default()
    };
    let r = run_scenario(
        "aida half-open stall",
        faults,
        Duration::from_secs(30),
        None,
    )
    .await;
    check(&r, "aida half-open stall");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_refused_with_5xx_for_a_while() {
    let chaos: Chaos = Box::new(|peer, resolved| {
        Box::pin(async move {
            for (at, status) in [(2500, 503u16), (6000, 500)] {
                after(&resolved, at).await;
                peer.faults(|f| {
                    f.aida_drop_after_frames = Some(0);
                    f.refuse_aida_connect = u32::MAX;
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
        "aida connect refused",
        FaultConfig::default(),
        Duration::from_secs(30),
        Some(chaos),
    )
    .await;
    check(&r, "aida connect refused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delayed_acks() {
    let faults = FaultConfig {
        ack_delay_ms: 2000,
        ack_delay_every: 4000,
        ..Default::default()
    };
    let r = run_scenario(
        "aida delayed acks",
        faults,
        Duration::from_millis(1500),
        None,
    )
    .await;
    assert!(
        r.failed.values().sum::<usize>() > 0,
        "the delay never passed a deadline: {r:?}"
    );
    assert!(r.acked > SENDS / 2, "{r:?}");
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
        "aida emulator restarted",
        FaultConfig::default(),
        Duration::from_secs(30),
        Some(chaos),
    )
    .await;
    assert!(r.reconnects >= 2, "{r:?}");
    assert!(r.acked >= 3000 - WINDOW, "{r:?}");
}
