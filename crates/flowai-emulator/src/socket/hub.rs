//! The live Flow socket connections by thread, so the service side can push frames nobody asked for: agent typing, interruptions, new nonces, replies to uploads.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::ws::Utf8Bytes;
use tokio::sync::Notify;

use super::lock;

/// Most pushed frames waiting for one connection; beyond it the newest are dropped, as a
/// peer that reads nothing must not make the emulator grow.
const MAX_QUEUED: usize = 256;
/// Most threads one connection is reachable under; a client inventing a thread per
/// message must not grow the table without bound.
const MAX_THREADS_PER_CONNECTION: usize = 64;

/// Frames pushed to one connection, taken by its serving task.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    queue: Mutex<VecDeque<Utf8Bytes>>,
    notify: Notify,
}

impl Outbox {
    /// Queue a frame; false when the queue is full and it was dropped.
    fn push(&self, frame: Utf8Bytes) -> bool {
        {
            let mut queue = lock(&self.queue);
            if queue.len() >= MAX_QUEUED {
                return false;
            }
            queue.push_back(frame);
        }
        // notify_one keeps a permit when the task is not waiting yet: no wake-up is lost.
        self.notify.notify_one();
        true
    }

    /// Every frame queued so far, oldest first.
    pub(crate) fn take(&self) -> VecDeque<Utf8Bytes> {
        std::mem::take(&mut *lock(&self.queue))
    }

    /// Resolves once a frame was queued since the last wait.
    pub(crate) async fn wait(&self) {
        self.notify.notified().await;
    }
}

/// One open connection: its id, its outbox and the threads it is reachable under.
#[derive(Debug)]
pub(crate) struct Connection {
    id: u64,
    outbox: Arc<Outbox>,
    threads: Vec<String>,
}

impl Connection {
    /// The frames pushed to this connection.
    pub(crate) fn outbox(&self) -> &Outbox {
        &self.outbox
    }
}

/// The connections of one thread: each one's id and outbox.
type Members = Vec<(u64, Arc<Outbox>)>;

/// Every open connection, by thread.
#[derive(Debug, Default)]
pub(crate) struct Hub {
    next_id: AtomicU64,
    threads: Mutex<HashMap<String, Members>>,
}

impl Hub {
    /// A new connection, reachable under no thread yet.
    pub(crate) fn open(&self) -> Connection {
        Connection {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            outbox: Arc::default(),
            threads: Vec::new(),
        }
    }

    /// Make `conn` reachable under `thread` (a thread named by socket.info or used in a
    /// frame). Cheap when it is already: the connection remembers its threads.
    pub(crate) fn join(&self, conn: &mut Connection, thread: &str) {
        if conn.threads.iter().any(|t| t == thread)
            || conn.threads.len() >= MAX_THREADS_PER_CONNECTION
        {
            return;
        }
        conn.threads.push(thread.to_string());
        lock(&self.threads)
            .entry(thread.to_string())
            .or_default()
            .push((conn.id, conn.outbox.clone()));
    }

    /// Forget `conn` (it closed).
    pub(crate) fn close(&self, conn: &Connection) {
        let mut threads = lock(&self.threads);
        for thread in &conn.threads {
            if let Some(list) = threads.get_mut(thread) {
                list.retain(|(id, _)| *id != conn.id);
                if list.is_empty() {
                    threads.remove(thread);
                }
            }
        }
    }

    /// Queue `frame` for every connection of `thread`; how many took it.
    pub(crate) fn push(&self, thread: &str, frame: &Utf8Bytes) -> usize {
        let targets: Vec<Arc<Outbox>> = lock(&self.threads)
            .get(thread)
            .map(|list| list.iter().map(|(_, o)| o.clone()).collect())
            .unwrap_or_default();
        targets.iter().filter(|o| o.push(frame.clone())).count()
    }

    /// How many connections are reachable under `thread`.
    pub(crate) fn connections_of(&self, thread: &str) -> usize {
        lock(&self.threads).get(thread).map_or(0, Vec::len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushes_reach_the_connections_of_a_thread_until_they_close() {
        let hub = Hub::default();
        let mut a = hub.open();
        let mut b = hub.open();
        hub.join(&mut a, "t1");
        hub.join(&mut a, "t1");
        hub.join(&mut b, "t1");
        hub.join(&mut b, "t2");
        assert_eq!(hub.connections_of("t1"), 2);
        assert_eq!(hub.push("t1", &Utf8Bytes::from("x")), 2);
        assert_eq!(hub.push("t2", &Utf8Bytes::from("y")), 1);
        assert_eq!(hub.push("t3", &Utf8Bytes::from("z")), 0);
        assert_eq!(a.outbox().take().len(), 1);
        assert_eq!(b.outbox().take().len(), 2);
        hub.close(&b);
        assert_eq!(hub.connections_of("t2"), 0);
        assert_eq!(hub.push("t1", &Utf8Bytes::from("x")), 1);
        assert!(
            lock(&hub.threads).get("t2").is_none(),
            "empty threads are removed"
        );
    }

    #[test]
    fn a_connection_that_reads_nothing_stays_bounded() {
        let hub = Hub::default();
        let mut a = hub.open();
        hub.join(&mut a, "t");
        for _ in 0..MAX_QUEUED + 10 {
            hub.push("t", &Utf8Bytes::from("x"));
        }
        assert_eq!(a.outbox().take().len(), MAX_QUEUED);
        for i in 0..MAX_THREADS_PER_CONNECTION + 5 {
            hub.join(&mut a, &format!("t{i}"));
        }
        assert_eq!(a.threads.len(), MAX_THREADS_PER_CONNECTION);
    }
}
