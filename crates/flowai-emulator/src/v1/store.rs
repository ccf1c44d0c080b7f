//! What the v1 server remembers: every thread with its recent messages, and a log of the
//! requests it served (for tests that check what a client sent and when).

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::{Instant, SystemTime};

use serde_json::{Value, json};

/// Threads kept; the oldest are forgotten first.
pub const MAX_THREADS: usize = 100_000;
/// Messages kept per thread; the oldest are forgotten first.
pub const MAX_MESSAGES_PER_THREAD: usize = 1_000;
/// Requests kept in the log.
pub const MAX_LOGGED_REQUESTS: usize = 100_000;
/// Items in a page of threads or messages.
pub const PAGE_SIZE: usize = 20;

/// One request the v1 server answered.
#[derive(Clone, Debug, PartialEq)]
pub struct V1Request {
    /// Order of arrival, from 1.
    pub seq: u64,
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path, e.g. `/rest/v1/threads`.
    pub path: String,
    /// The raw query string (empty when none).
    pub query: String,
    /// When it arrived.
    pub at: Instant,
    /// The status it was answered with.
    pub status: u16,
}

#[derive(Debug, Default)]
struct Thread {
    messages: VecDeque<Value>,
    total: u64,
    last_at: Option<SystemTime>,
}

#[derive(Debug, Default)]
struct Threads {
    map: HashMap<String, Thread>,
    /// Thread ids, oldest first: the order of the thread listing.
    order: VecDeque<String>,
}

/// The v1 server's memory.
#[derive(Debug, Default)]
pub struct Store {
    threads: Mutex<Threads>,
    log: Mutex<VecDeque<V1Request>>,
    seq: Mutex<u64>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned lock still holds valid plain data.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Store {
    /// Append a message (an inbound message or a bot reply, as its history item) to a
    /// thread, creating the thread when new.
    pub fn push_message(&self, thread_id: &str, item: Value) {
        let mut threads = lock(&self.threads);
        if !threads.map.contains_key(thread_id) {
            while threads.map.len() >= MAX_THREADS {
                match threads.order.pop_front() {
                    Some(old) => {
                        threads.map.remove(&old);
                    }
                    None => break,
                }
            }
            threads.order.push_back(thread_id.to_string());
        }
        let thread = threads.map.entry(thread_id.to_string()).or_default();
        if thread.messages.len() >= MAX_MESSAGES_PER_THREAD {
            thread.messages.pop_front();
        }
        thread.messages.push_back(item);
        thread.total += 1;
        thread.last_at = Some(SystemTime::now());
    }

    /// Whether the thread is known.
    pub fn has_thread(&self, thread_id: &str) -> bool {
        lock(&self.threads).map.contains_key(thread_id)
    }

    /// How many threads are known.
    pub fn thread_count(&self) -> usize {
        lock(&self.threads).map.len()
    }

    /// Every thread id, oldest first.
    pub fn thread_ids(&self) -> Vec<String> {
        lock(&self.threads).order.iter().cloned().collect()
    }

    /// Page `page` (1-based) of the threads, oldest first, as summaries (`isPaused` is
    /// filled by `is_paused`), and the number of threads.
    pub fn threads_page(
        &self,
        page: usize,
        is_paused: impl Fn(&str) -> bool,
    ) -> (Vec<Value>, usize) {
        let threads = lock(&self.threads);
        let total = threads.order.len();
        let start = page.saturating_sub(1).saturating_mul(PAGE_SIZE).min(total);
        let end = start.saturating_add(PAGE_SIZE).min(total);
        let items = threads
            .order
            .range(start..end)
            .filter_map(|id| {
                let t = threads.map.get(id)?;
                Some(json!({
                    "threadId": id,
                    "messageCount": t.total,
                    "lastMessageAt": t.last_at.map(rfc3339),
                    "isPaused": is_paused(id),
                }))
            })
            .collect();
        (items, total)
    }

    /// Page `page` (1-based) of a thread's kept messages, oldest first, and how many are
    /// kept; `None` for an unknown thread.
    pub fn messages_page(&self, thread_id: &str, page: usize) -> Option<(Vec<Value>, usize)> {
        let threads = lock(&self.threads);
        let thread = threads.map.get(thread_id)?;
        let total = thread.messages.len();
        let start = page.saturating_sub(1).saturating_mul(PAGE_SIZE).min(total);
        let end = start.saturating_add(PAGE_SIZE).min(total);
        Some((thread.messages.range(start..end).cloned().collect(), total))
    }

    /// The next request number.
    pub fn next_seq(&self) -> u64 {
        let mut seq = lock(&self.seq);
        *seq += 1;
        *seq
    }

    /// Log an answered request.
    pub fn log(&self, request: V1Request) {
        let mut log = lock(&self.log);
        if log.len() >= MAX_LOGGED_REQUESTS {
            log.pop_front();
        }
        log.push_back(request);
    }

    /// The logged requests, in the order they were answered.
    pub fn requests(&self) -> Vec<V1Request> {
        lock(&self.log).iter().cloned().collect()
    }

    /// Forget the logged requests.
    pub fn clear_requests(&self) {
        lock(&self.log).clear();
    }
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` of a time (UTC).
pub fn rfc3339(time: SystemTime) -> String {
    let since = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        since.subsec_millis()
    )
}

/// The calendar date of a day count since 1970-01-01 (proleptic Gregorian).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn dates_are_rfc3339() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        assert_eq!(rfc3339(t), "2023-11-14T22:13:20.123Z");
        assert_eq!(rfc3339(SystemTime::UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let leap = SystemTime::UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(rfc3339(leap), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn pages_are_twenty_oldest_first() {
        let store = Store::default();
        for i in 0..45 {
            store.push_message(&format!("t{i}"), json!({"n": i}));
        }
        let (page, total) = store.threads_page(3, |_| false);
        assert_eq!(total, 45);
        assert_eq!(page.len(), 5);
        assert_eq!(page[0]["threadId"], "t40");
        assert!(store.threads_page(4, |_| false).0.is_empty());
        assert!(store.messages_page("nope", 1).is_none());
    }
}
