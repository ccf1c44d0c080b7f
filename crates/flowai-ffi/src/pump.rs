//! The event pump for bindings whose callbacks may run on an SDK thread (C): a task that hands an object's events over in batches until `closed`.

use std::sync::Arc;

use flowai_core::Result;

use crate::queue::{EventQueue, MAX_BATCH, Queued};
use crate::runtime::{as_sdk_thread, runtime};

/// Hand every event of `queue` to `deliver`, in order, one batch at a time, on a runtime
/// thread marked as an SDK thread (blocking calls inside fail with `FLOWAI_MISUSE`).
/// `deliver` is dropped right after the batch that holds `closed`, so whatever it owns
/// (a callback and its user data) is released exactly once, after the last event.
pub fn spawn_pump(
    queue: Arc<EventQueue>,
    mut deliver: impl FnMut(&[Queued]) + Send + 'static,
) -> Result<()> {
    runtime()?.spawn(async move {
        while let Some(batch) = queue.take_async(MAX_BATCH).await {
            as_sdk_thread(|| deliver(&batch));
        }
        drop(deliver);
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::mpsc;

    use flowai_core::event::{Case, Event};
    use serde_json::json;

    use super::*;

    #[test]
    fn delivers_in_order_then_releases_the_callback() {
        struct Owned(mpsc::Sender<&'static str>);
        impl Drop for Owned {
            fn drop(&mut self) {
                let _ = self.0.send("released");
            }
        }
        let (tx, rx) = mpsc::channel();
        let queue = Arc::new(EventQueue::new(Case::Snake, 16));
        let owned = Owned(tx.clone());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        spawn_pump(queue.clone(), move |batch| {
            let _keep = &owned;
            for q in batch {
                sink.lock().expect("lock").push(q.name);
                assert!(crate::runtime::ensure_may_block().is_err());
            }
        })
        .expect("pump");
        queue.push_now(Event::new("connected", json!({})));
        queue.push_now(Event::progress(1, 2));
        queue.finish();
        assert_eq!(
            rx.recv_timeout(std::time::Duration::from_secs(5)),
            Ok("released")
        );
        assert_eq!(
            *seen.lock().expect("lock"),
            vec!["connected", "progress", "closed"]
        );
    }
}
