//! Reconnect storms: 1,000 clients dropped at once, with the session's real backoff policy and seeded randomness, spread their retries.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use flowai_core::backoff::Backoff;
use flowai_core::socket::{Session, SessionEvent, SessionOptions};
use flowai_emulator::{Emulator, EmulatorOptions};
use rand::SeedableRng;

const CLIENTS: usize = 1000;

/// Attempt times (seconds after the drop) of `CLIENTS` clients retrying while the server stays
/// down for `outage`, each waiting `backoff.delay(n)` before attempt n as the session does.
fn attempts(backoff: &Backoff, outage: f64, seed: u64) -> Vec<f64> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut times = Vec::new();
    for _ in 0..CLIENTS {
        let (mut t, mut n) = (0.0, 0u32);
        loop {
            let d = backoff.delay_with(n, &mut rng);
            assert!(d <= backoff.ceiling(n));
            t += d.as_secs_f64();
            n += 1;
            times.push(t);
            if t >= outage {
                break;
            }
        }
    }
    times.sort_by(f64::total_cmp);
    times
}

/// The largest share of attempts in any window of `window` seconds.
fn peak_share(times: &[f64], window: f64) -> f64 {
    let mut best = 0;
    let mut end = 0;
    for start in 0..times.len() {
        while end < times.len() && times[end] < times[start] + window {
            end += 1;
        }
        best = best.max(end - start);
    }
    best as f64 / times.len() as f64
}

#[test]
fn retries_of_a_long_outage_are_spread() {
    let b = Backoff::default();
    let times = attempts(&b, 180.0, 42);
    let share = peak_share(&times, 1.0);
    eprintln!(
        "outage 180 s: {} attempts, peak 1 s window {:.1} %",
        times.len(),
        share * 100.0
    );
    assert!(share <= 0.15, "{share}");
}

/// The first retries of clients dropped together land within the first ceiling (0.5 s by
/// default): full jitter spreads them over that window only. Recorded here so a change of
/// policy shows in the numbers.
#[test]
fn first_retries_share_per_outage_length() {
    let b = Backoff::default();
    for outage in [0.0, 10.0, 30.0, 60.0, 120.0] {
        let times = attempts(&b, outage, 7);
        let share = peak_share(&times, 1.0);
        eprintln!(
            "outage {outage:>5} s: peak 1 s window {:.1} %",
            share * 100.0
        );
        // Never worse than everyone at once, and the spread grows with the outage.
        assert!(share <= 1.0);
    }
    let long = peak_share(&attempts(&b, 120.0, 7), 1.0);
    let short = peak_share(&attempts(&b, 10.0, 7), 1.0);
    assert!(long < short);
}

/// 1,000 real sessions dropped at once all come back, and their reconnect attempts are
/// spread: jittered by each session, then paced across the process, so no one-second
/// window holds more than 15 % of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_sessions_dropped_at_once_come_back_spread() {
    let emu = Emulator::new(EmulatorOptions::default())
        .start()
        .await
        .unwrap();
    let backoff = Backoff {
        base: Duration::from_millis(200),
        cap: Duration::from_secs(2),
        reset_after: Duration::from_secs(30),
    };
    let http = reqwest::Client::new();
    let mut sessions = Vec::new();
    let mut streams = Vec::new();
    for _ in 0..CLIENTS {
        let mut o = SessionOptions::new(emu.base_url(), emu.credentials().client_id.clone());
        o.backoff = backoff;
        o.http_client = Some(http.clone());
        o.ping_interval = Duration::from_millis(200);
        o.pong_timeout = Duration::from_secs(2);
        o.event_capacity = 16;
        let (session, events) = Session::connect(o).await.unwrap();
        sessions.push(session);
        streams.push(events);
    }
    // Drop every connection at its next frame (the next ping).
    emu.faults().update(|f| f.drop_after_frames = Some(0));
    let start = std::time::Instant::now();
    let dropped = Arc::new(AtomicUsize::new(0));
    let mut watchers = Vec::new();
    for mut events in streams {
        let dropped = dropped.clone();
        watchers.push(tokio::spawn(async move {
            // When the first retry is made, in seconds after the drop.
            let mut first_attempt = None;
            loop {
                match events.next().await? {
                    SessionEvent::Reconnecting { delay, .. } if first_attempt.is_none() => {
                        first_attempt = Some((start.elapsed() + delay).as_secs_f64());
                        dropped.fetch_add(1, Ordering::SeqCst);
                    }
                    SessionEvent::Connected if first_attempt.is_some() => return first_attempt,
                    _ => {}
                }
            }
        }));
    }
    tokio::time::timeout(Duration::from_secs(20), async {
        while dropped.load(Ordering::SeqCst) < CLIENTS {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("every session saw its connection drop");
    emu.faults().clear();
    let mut times = Vec::new();
    for watcher in watchers {
        let t = tokio::time::timeout(Duration::from_secs(60), watcher)
            .await
            .expect("every session reconnects")
            .unwrap()
            .expect("the session reconnected");
        times.push(t);
    }
    times.sort_by(f64::total_cmp);
    let share = peak_share(&times, 1.0);
    eprintln!(
        "1,000 sessions: first retries from {:.2} s to {:.2} s, peak 1 s window {:.1} %",
        times[0],
        times[times.len() - 1],
        share * 100.0
    );
    assert!(
        share <= 0.15,
        "peak one-second window holds {:.1} %",
        share * 100.0
    );
    for session in &sessions {
        session.close().await.unwrap();
    }
}
