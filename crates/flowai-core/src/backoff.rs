//! Reconnect delays: exponential backoff with full jitter, reset after a connection stayed up.

use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use rand::Rng;

/// Backoff policy. `delay(n)` is uniform in `[0, min(cap, base * 2^n)]` ("full jitter"),
/// which spreads the retries of many clients dropped at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// First ceiling.
    pub base: Duration,
    /// Largest ceiling.
    pub cap: Duration,
    /// A connection that stayed up this long resets the attempt counter.
    pub reset_after: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_millis(500),
            cap: Duration::from_secs(30),
            reset_after: Duration::from_secs(10),
        }
    }
}

impl Backoff {
    /// The ceiling for attempt `attempt` (0-based), without jitter.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(30)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// A jittered delay for attempt `attempt` (0-based).
    pub fn delay(&self, attempt: u32) -> Duration {
        self.delay_with(attempt, &mut rand::rng())
    }

    /// Like [`Backoff::delay`] with a caller-chosen random source (seeded in tests).
    pub fn delay_with(&self, attempt: u32, rng: &mut impl Rng) -> Duration {
        let ceiling = self.ceiling(attempt).as_micros() as u64;
        Duration::from_micros(rng.random_range(0..=ceiling))
    }
}

/// Paces the reconnects of every connection in the process: a token bucket (`burst`
/// attempts at once, then `per_second`) applied on top of each connection's own jittered
/// delay. A few connections reconnect without any added wait; thousands dropped at once
/// (a server restart) come back spread over seconds instead of in one burst, which is what
/// lets the server recover. It reads the real clock, not tokio's, so runtimes with a
/// paused clock (tests) cannot push its schedule into the future for everyone else.
#[derive(Debug)]
pub struct ReconnectPacer {
    spacing: Duration,
    tolerance: Duration,
    /// The theoretical time of the next attempt (GCRA).
    next: Mutex<Option<Instant>>,
}

impl ReconnectPacer {
    /// At most `burst` attempts at once, then `per_second` (both at least 1).
    pub fn new(per_second: u32, burst: u32) -> Self {
        let spacing = Duration::from_secs(1) / per_second.max(1);
        ReconnectPacer {
            spacing,
            tolerance: spacing * burst.max(1).saturating_sub(1),
            next: Mutex::new(None),
        }
    }

    /// The process-wide pacer used by every session and Phoenix socket: bursts of 30,
    /// then 100 attempts per second.
    pub fn global() -> &'static ReconnectPacer {
        static GLOBAL: OnceLock<ReconnectPacer> = OnceLock::new();
        GLOBAL.get_or_init(|| ReconnectPacer::new(100, 30))
    }

    /// The wait before an attempt that the connection itself would make after `delay`.
    pub fn pace(&self, delay: Duration) -> Duration {
        let now = Instant::now();
        let wanted = now + delay;
        // A poisoned lock still holds a valid instant.
        let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
        let theoretical = next.map_or(wanted, |t| t.max(wanted));
        let at = wanted.max(theoretical.checked_sub(self.tolerance).unwrap_or(wanted));
        *next = Some(theoretical + self.spacing);
        at.saturating_duration_since(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn ceiling_grows_and_caps() {
        let b = Backoff::default();
        assert_eq!(b.ceiling(0), Duration::from_millis(500));
        assert_eq!(b.ceiling(1), Duration::from_secs(1));
        assert_eq!(b.ceiling(10), Duration::from_secs(30));
        assert_eq!(b.ceiling(u32::MAX), Duration::from_secs(30));
    }

    #[test]
    fn pacer_lets_a_burst_through_then_spreads() {
        let pacer = ReconnectPacer::new(100, 40);
        let waits: Vec<Duration> = (0..1000).map(|_| pacer.pace(Duration::ZERO)).collect();
        assert!(
            waits[..40].iter().all(|w| w.is_zero()),
            "{:?}",
            &waits[..41]
        );
        assert!(waits[40] > Duration::ZERO);
        // 1,000 attempts wanted at once take about 9.6 s: no one-second window holds
        // more than the burst plus one second's worth.
        let in_first_second = waits
            .iter()
            .filter(|w| **w < Duration::from_secs(1))
            .count();
        assert!(in_first_second <= 140, "{in_first_second}");
        assert!(waits[999] >= Duration::from_secs(9) && waits[999] <= Duration::from_secs(10));
    }

    #[test]
    fn pacer_keeps_a_later_own_delay() {
        let pacer = ReconnectPacer::new(100, 1);
        let first = pacer.pace(Duration::from_secs(2));
        assert!(first <= Duration::from_secs(2) && first > Duration::from_millis(1990));
        // The next slot is 10 ms after the first one; a sooner wish waits for it.
        let second = pacer.pace(Duration::ZERO);
        assert!(second > Duration::from_millis(1990) && second <= Duration::from_millis(2010));
    }

    #[test]
    fn delays_stay_under_ceiling_and_spread() {
        let b = Backoff::default();
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let delays: Vec<Duration> = (0..1000).map(|_| b.delay_with(3, &mut rng)).collect();
        assert!(delays.iter().all(|d| *d <= b.ceiling(3)));
        let low = delays.iter().filter(|d| **d < b.ceiling(3) / 2).count();
        assert!((300..700).contains(&low), "{low}");
    }
}
