//! Helpers shared by the session test files.

use std::time::Duration;

use flowai_core::socket::{SessionEvent, SessionEvents};

/// Generous guard so a broken test fails instead of hanging; never a timing assertion.
const WAIT: Duration = Duration::from_secs(15);

/// Read events until one matches.
pub async fn wait_for(
    events: &mut SessionEvents,
    mut pred: impl FnMut(&SessionEvent) -> bool,
) -> SessionEvent {
    tokio::time::timeout(WAIT, async {
        loop {
            let ev = events.next().await.expect("events ended early");
            if pred(&ev) {
                return ev;
            }
        }
    })
    .await
    .expect("timed out waiting for an event")
}
