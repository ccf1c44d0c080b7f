//! The event queue of one object: events in order, serialized once in the binding's case, `closed` exactly once and last, bounded with backpressure.
//!
//! Producers are the object's own tasks (a session's events, a receiver's calls, upload
//! progress). The binding takes events in batches, the way that suits its language: a
//! blocking take on a thread of its own (Python), an async take on the runtime (C
//! callbacks), or a waker that schedules a take on the language's thread (Node).

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use flowai_core::event::{Case, Event, NAMES};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};
use tokio::sync::Notify;

/// Most events handed over in one take, so one burst cannot hold a language thread long.
pub const MAX_BATCH: usize = 256;

/// One event, ready for a binding.
#[derive(Debug, Clone, PartialEq)]
pub struct Queued {
    /// The stable name in snake_case (`agent_typing`), the C form.
    pub name: &'static str,
    /// The name in the queue's case (`agentTyping` for Node).
    pub cased_name: String,
    /// The payload as JSON text, top-level keys in the queue's case.
    pub payload: String,
}

impl Queued {
    /// Whether this is the last event.
    pub fn is_closed(&self) -> bool {
        self.name == "closed"
    }

    /// Position of the name in [`NAMES`] (the C enum value).
    pub fn index(&self) -> usize {
        NAMES.iter().position(|n| *n == self.name).unwrap_or(0)
    }

    /// `{"event": name, "payload": {...}}` as JSON text.
    pub fn to_json(&self) -> String {
        format!(
            "{{\"event\":{},\"payload\":{}}}",
            serde_json::Value::from(self.cased_name.as_str()),
            self.payload
        )
    }
}

/// `payload` as JSON text with `case` applied to its top-level keys, as
/// [`Event::to_value`] gives it, but written straight from the map: every event of every
/// binding is serialized here, on its producer's thread, and a copy of the map first made
/// that thread the bottleneck of a fast event source.
fn cased_json(payload: &Map<String, Value>, case: Case) -> String {
    struct Cased<'a>(&'a Map<String, Value>, Case);
    impl Serialize for Cased<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut map = serializer.serialize_map(Some(self.0.len()))?;
            for (key, value) in self.0 {
                map.serialize_entry(&self.1.apply(key), value)?;
            }
            map.end()
        }
    }
    serde_json::to_string(&Cased(payload, case)).unwrap_or_else(|_| "{}".into())
}

/// A batch as one JSON array of `{"event", "payload"}` objects.
pub fn json_array(batch: &[Queued]) -> String {
    let mut out =
        String::with_capacity(2 + batch.iter().map(|q| q.payload.len() + 32).sum::<usize>());
    out.push('[');
    for (i, q) in batch.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&q.to_json());
    }
    out.push(']');
    out
}

/// The result of a take.
#[derive(Debug, PartialEq)]
pub enum Taken {
    /// Events, in order (at least one).
    Events(Vec<Queued>),
    /// Nothing arrived before the timeout.
    Empty,
    /// `closed` was taken already: nothing will ever come.
    End,
}

#[derive(Debug, Default)]
struct State {
    items: VecDeque<Queued>,
    /// `closed` went in: later events are dropped.
    closed_in: bool,
    /// `closed` came out: takes end.
    closed_out: bool,
    /// The waker was called and no take has happened since.
    wake_pending: bool,
}

type Waker = Box<dyn Fn() + Send + Sync>;

/// The queue. Share it in an `Arc`.
pub struct EventQueue {
    case: Case,
    capacity: usize,
    state: Mutex<State>,
    /// Wakes blocking takers.
    filled: Condvar,
    /// Wakes async takers.
    readable: Notify,
    /// Wakes producers waiting for room.
    room: Notify,
    waker: OnceLock<Waker>,
}

impl std::fmt::Debug for EventQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventQueue")
            .field("case", &self.case)
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl EventQueue {
    /// A queue serializing in `case` that holds up to `capacity` unread events before its
    /// producers wait.
    pub fn new(case: Case, capacity: usize) -> Self {
        EventQueue {
            case,
            capacity: capacity.max(1),
            state: Mutex::new(State::default()),
            filled: Condvar::new(),
            readable: Notify::new(),
            room: Notify::new(),
            waker: OnceLock::new(),
        }
    }

    /// The case events are serialized in.
    pub fn case(&self) -> Case {
        self.case
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent even if a holder panicked.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Call `waker` (once per batch) whenever events become ready; for languages whose
    /// thread must be woken to take them. Only the first waker set counts.
    pub fn set_waker(&self, waker: impl Fn() + Send + Sync + 'static) {
        if self.waker.set(Box::new(waker)).is_err() {
            return;
        }
        let wake = {
            let mut state = self.lock();
            // Events that went in before there was a waker woke nobody, though appending
            // them marked a wake as pending: the new waker must hear of them.
            let wake = !state.items.is_empty();
            state.wake_pending |= wake;
            wake
        };
        if wake {
            self.wake();
        }
    }

    fn wake(&self) {
        if let Some(waker) = self.waker.get() {
            waker();
        }
    }

    fn serialize(&self, event: &Event) -> Queued {
        Queued {
            name: event.name,
            cased_name: self.case.apply(event.name),
            payload: cased_json(&event.payload, self.case),
        }
    }

    /// Append when there is room or `force`; false when the event was not appended.
    fn append(&self, event: &Event, force: bool) -> bool {
        let queued = self.serialize(event);
        let wake = {
            let mut state = self.lock();
            if state.closed_in {
                return true;
            }
            if !force && !event.is_closed() && state.items.len() >= self.capacity {
                return false;
            }
            state.closed_in = event.is_closed();
            state.items.push_back(queued);
            let wake = !state.wake_pending;
            state.wake_pending = true;
            wake
        };
        self.filled.notify_all();
        self.readable.notify_one();
        if wake {
            self.wake();
        }
        true
    }

    /// Append `event`, waiting while the queue is full (`closed` never waits). Events after
    /// `closed` are dropped.
    pub async fn push(&self, event: Event) {
        loop {
            let room = self.room.notified();
            if self.append(&event, false) {
                return;
            }
            room.await;
        }
    }

    /// Append `event` unless the queue is full (for events that may be lost, like progress).
    pub fn offer(&self, event: Event) {
        self.append(&event, false);
    }

    /// Append `event` whatever the length (for the few events an object makes itself).
    pub fn push_now(&self, event: Event) {
        self.append(&event, true);
    }

    /// The source ended: make sure `closed` went in.
    pub fn finish(&self) {
        self.push_now(Event::closed(None));
    }

    /// Whether `closed` went in.
    pub fn is_closed(&self) -> bool {
        self.lock().closed_in
    }

    fn take_locked(&self, state: &mut State, max: usize) -> Option<Vec<Queued>> {
        if state.items.is_empty() {
            return None;
        }
        let n = state.items.len().min(max.max(1));
        let batch: Vec<Queued> = state.items.drain(..n).collect();
        state.closed_out |= batch.last().is_some_and(Queued::is_closed);
        state.wake_pending = false;
        Some(batch)
    }

    fn after_take(&self) {
        self.room.notify_waiters();
        let wake = {
            let mut state = self.lock();
            let wake = !state.items.is_empty() && !state.wake_pending;
            state.wake_pending |= wake;
            wake
        };
        if wake {
            self.wake();
        }
    }

    /// Up to `max` events ready now.
    pub fn take(&self, max: usize) -> Taken {
        let taken = {
            let mut state = self.lock();
            match self.take_locked(&mut state, max) {
                Some(batch) => Taken::Events(batch),
                None if state.closed_out => Taken::End,
                None => Taken::Empty,
            }
        };
        if matches!(taken, Taken::Events(_)) {
            self.after_take();
        }
        taken
    }

    /// Up to `max` events, waiting for the first up to `timeout` (forever when None). For
    /// a thread of the binding's own, never a runtime thread.
    pub fn take_blocking(&self, max: usize, timeout: Option<Duration>) -> Taken {
        let deadline = timeout.map(|t| Instant::now() + t);
        let taken = {
            let mut state = self.lock();
            loop {
                if let Some(batch) = self.take_locked(&mut state, max) {
                    break Taken::Events(batch);
                }
                if state.closed_out {
                    break Taken::End;
                }
                match deadline {
                    None => {
                        state = self.filled.wait(state).unwrap_or_else(|e| e.into_inner());
                    }
                    Some(deadline) => {
                        let left = deadline.saturating_duration_since(Instant::now());
                        if left.is_zero() {
                            break Taken::Empty;
                        }
                        state = self
                            .filled
                            .wait_timeout(state, left)
                            .unwrap_or_else(|e| e.into_inner())
                            .0;
                    }
                }
            }
        };
        if matches!(taken, Taken::Events(_)) {
            self.after_take();
        }
        taken
    }

    /// Up to `max` events, waiting for the first; None once `closed` was taken.
    pub async fn take_async(&self, max: usize) -> Option<Vec<Queued>> {
        loop {
            let readable = self.readable.notified();
            match self.take(max) {
                Taken::Events(batch) => return Some(batch),
                Taken::End => return None,
                Taken::Empty => readable.await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use serde_json::json;

    use super::*;

    fn event(i: u64) -> Event {
        Event::new("progress", json!({ "sent": i, "total": 10 }))
    }

    #[test]
    fn closed_is_once_and_last() {
        let q = EventQueue::new(Case::Camel, 8);
        q.push_now(event(1));
        q.finish();
        q.push_now(event(2));
        q.finish();
        let Taken::Events(batch) = q.take(10) else {
            panic!("events expected")
        };
        assert_eq!(batch.len(), 2);
        assert!(batch[1].is_closed());
        assert_eq!(q.take(10), Taken::End);
        assert_eq!(q.take_blocking(10, None), Taken::End);
    }

    #[test]
    fn serializes_in_the_queue_case() {
        let q = EventQueue::new(Case::Camel, 8);
        q.push_now(Event::new("agent_typing", json!({ "thread_id": "t" })));
        let Taken::Events(batch) = q.take(1) else {
            panic!("an event expected")
        };
        assert_eq!(batch[0].name, "agent_typing");
        assert_eq!(batch[0].index(), 5);
        let parsed: serde_json::Value =
            serde_json::from_str(&json_array(&batch)).expect("valid JSON");
        assert_eq!(
            parsed,
            json!([{"event": "agentTyping", "payload": {"threadId": "t"}}])
        );
    }

    #[test]
    fn payloads_are_what_to_value_gives() {
        let event = Event::new(
            "delivered",
            json!({ "thread_id": "t", "trace_id": 7, "message": { "threadId": "t", "a_b": [1, "x\"y"] } }),
        );
        for case in [Case::Snake, Case::Camel] {
            let q = EventQueue::new(case, 8);
            q.push_now(event.clone());
            let Taken::Events(batch) = q.take(1) else {
                panic!("an event expected")
            };
            let value = event.to_value(case);
            assert_eq!(batch[0].payload, value["payload"].to_string());
            assert_eq!(batch[0].cased_name, value["event"]);
        }
    }

    #[test]
    fn full_queue_makes_producers_wait_and_offers_drop() {
        let rt = crate::runtime::runtime().expect("runtime");
        let q = Arc::new(EventQueue::new(Case::Snake, 2));
        q.offer(event(0));
        q.offer(event(1));
        q.offer(event(2));
        let producer = {
            let q = q.clone();
            rt.spawn(async move { q.push(event(3)).await })
        };
        std::thread::sleep(Duration::from_millis(50));
        assert!(!producer.is_finished(), "a full queue holds the producer");
        let Taken::Events(first) = q.take_blocking(10, Some(Duration::from_secs(1))) else {
            panic!("events expected")
        };
        assert_eq!(first.len(), 2, "the offer beyond capacity was dropped");
        rt.block_on(producer)
            .expect("producer ends once there is room");
        let Taken::Events(next) = q.take_blocking(10, Some(Duration::from_secs(5))) else {
            panic!("the waiting event expected")
        };
        assert!(next[0].payload.contains("\"sent\":3"));
        assert_eq!(
            q.take_blocking(1, Some(Duration::from_millis(10))),
            Taken::Empty
        );
    }

    #[test]
    fn waker_runs_once_per_batch() {
        let q = Arc::new(EventQueue::new(Case::Snake, 100));
        let wakes = Arc::new(AtomicUsize::new(0));
        let counter = wakes.clone();
        q.set_waker(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        for i in 0..5 {
            q.push_now(event(i));
        }
        assert_eq!(wakes.load(Ordering::SeqCst), 1);
        let _ = q.take(2);
        assert_eq!(
            wakes.load(Ordering::SeqCst),
            2,
            "events left over wake again"
        );
        let _ = q.take(10);
        q.push_now(event(9));
        assert_eq!(wakes.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn a_late_waker_hears_of_events_already_in() {
        let q = EventQueue::new(Case::Snake, 100);
        q.push_now(event(1));
        let wakes = Arc::new(AtomicUsize::new(0));
        let counter = wakes.clone();
        q.set_waker(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(wakes.load(Ordering::SeqCst), 1);
        q.push_now(event(2));
        assert_eq!(wakes.load(Ordering::SeqCst), 1, "one wake per batch");
    }

    #[test]
    fn async_take_sees_every_event_in_order() {
        let rt = crate::runtime::runtime().expect("runtime");
        let q = Arc::new(EventQueue::new(Case::Snake, 4));
        let producer = {
            let q = q.clone();
            rt.spawn(async move {
                for i in 0..100 {
                    q.push(event(i)).await;
                }
                q.finish();
            })
        };
        let seen = rt.block_on(async {
            let mut seen = Vec::new();
            while let Some(batch) = q.take_async(3).await {
                seen.extend(batch);
            }
            seen
        });
        rt.block_on(producer).expect("producer");
        assert_eq!(seen.len(), 101);
        assert!(seen[99].payload.contains("\"sent\":99"));
        assert!(seen[100].is_closed());
    }
}
