//! An object's events to JS: the queue's waker calls one threadsafe function, whose call takes the ready batch on the JS thread and hands it over as one JSON array.
//!
//! The queue wakes once per batch, so at most one call is queued at a time, and taking the
//! batch only when the call runs means everything that arrived while JS was busy goes over
//! in that one call (one string, one `JSON.parse`). The threadsafe function is released
//! right after the batch holding `closed`, which is what lets the process exit.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use flowai_ffi::queue::{MAX_BATCH, json_array};
use flowai_ffi::{EventQueue, Taken};
use napi::bindgen_prelude::Function;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, Status};

/// `(events: string) => void`, its argument made on the JS thread.
type Tsfn = ThreadsafeFunction<(), (), String, Status, false>;

/// The threadsafe function of one object, until `closed` was delivered.
pub struct Listener {
    tsfn: Mutex<Option<Tsfn>>,
}

impl Listener {
    fn lock(&self) -> MutexGuard<'_, Option<Tsfn>> {
        self.tsfn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Schedule a call; the queue calls this once per batch, from any thread.
    fn wake(&self) {
        if let Some(tsfn) = self.lock().as_ref() {
            tsfn.call((), ThreadsafeFunctionCallMode::NonBlocking);
        }
    }

    /// Keep the process alive until `closed` was delivered (an object being closed).
    #[allow(deprecated)] // `refer` is the only way to re-reference a function made weak.
    pub fn keep_alive(&self, env: &Env) -> napi::Result<()> {
        match self.lock().as_mut() {
            Some(tsfn) => tsfn.refer(env),
            None => Ok(()),
        }
    }

    /// Drop the function: once its queued call ran, Node may exit.
    fn release(&self) {
        let released = self.lock().take();
        drop(released);
    }
}

/// Make `on_events` the receiver of `queue`'s events.
pub fn listen(
    queue: &Arc<EventQueue>,
    env: &Env,
    on_events: Function<'_, String, ()>,
    keep_alive: bool,
) -> napi::Result<Arc<Listener>> {
    let listener = Arc::new(Listener {
        tsfn: Mutex::new(None),
    });
    // Weak both ways: the queue owns the waker, which owns the listener, which owns the
    // function and this closure; strong references back would be a cycle never freed.
    let (weak_queue, weak_listener) = (Arc::downgrade(queue), Arc::downgrade(&listener));
    let mut tsfn: Tsfn = on_events
        .build_threadsafe_function::<()>()
        .build_callback(move |_| {
            // Runs inside napi's extern "C" callback, where a panic would abort the process.
            let taken = catch_unwind(AssertUnwindSafe(|| take(&weak_queue, &weak_listener)));
            Ok(taken.unwrap_or_else(|_| "[]".to_string()))
        })?;
    if !keep_alive {
        #[allow(deprecated)] // The only way to make a function weak after building it.
        tsfn.unref(env)?;
    }
    *listener.lock() = Some(tsfn);
    let waker = listener.clone();
    queue.set_waker(move || waker.wake());
    Ok(listener)
}

/// On the JS thread: the ready events as a JSON array; releases the function after `closed`.
fn take(queue: &Weak<EventQueue>, listener: &Weak<Listener>) -> String {
    let taken = queue.upgrade().map_or(Taken::End, |q| q.take(MAX_BATCH));
    let (json, last) = match taken {
        Taken::Events(batch) => (json_array(&batch), batch.iter().any(|q| q.is_closed())),
        Taken::Empty => ("[]".to_string(), false),
        Taken::End => ("[]".to_string(), true),
    };
    if last {
        if let Some(listener) = listener.upgrade() {
            listener.release();
        }
    }
    json
}
