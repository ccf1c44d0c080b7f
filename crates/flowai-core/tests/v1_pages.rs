//! A lazy page iterator over 1,000 threads of the emulator: it holds at most two pages at
//! once and asks for page n+1 only after every item of page n was taken.
//!
//! How it is measured: the stream's [`flowai_core::v1::PageGauge`] counts page buffers
//! alive (one more when a page's items are buffered, one less when that buffer is dropped)
//! and remembers the most alive at once; after every item taken, the emulator's request
//! log must hold exactly ceil(taken / 20) thread-list requests (an eager or prefetching
//! iterator would show more).
#![allow(clippy::unwrap_used)]

mod v1_support;

use std::collections::HashSet;

use flowai_core::v1::{RestMessage, SendOptions};
use futures_util::StreamExt;
use v1_support::{client, emulator, requests};

const THREADS: usize = 1_000;

#[tokio::test]
async fn a_thousand_threads_are_paged_lazily_twenty_at_a_time() {
    let emu = emulator(1.0).await;
    let api = client(&emu);
    futures_util::stream::iter(0..THREADS)
        .map(|i| {
            let api = api.clone();
            async move {
                api.send(
                    Some(&format!("bulk-{i:04}")),
                    &RestMessage::text("Hello"),
                    &SendOptions::default(),
                )
                .await
                .unwrap();
            }
        })
        .buffer_unordered(16)
        .collect::<()>()
        .await;
    assert_eq!(emu.state().v1.thread_count(), THREADS);

    let mut pages = api.threads();
    let gauge = pages.gauge();
    assert!(
        requests(&emu, "GET", "/rest/v1/threads").is_empty(),
        "fetched before the first item was asked for"
    );
    let mut seen = HashSet::new();
    while let Some(thread) = pages.next().await {
        let thread = thread.unwrap();
        assert!(
            seen.insert(thread.thread_id.clone()),
            "{} twice",
            thread.thread_id
        );
        let fetched = requests(&emu, "GET", "/rest/v1/threads").len();
        assert_eq!(
            fetched,
            seen.len().div_ceil(20),
            "after {} items, {fetched} pages were requested",
            seen.len()
        );
        assert!(gauge.live() <= 2, "{} pages held at once", gauge.live());
    }
    assert_eq!(seen.len(), THREADS);
    let calls = requests(&emu, "GET", "/rest/v1/threads");
    assert_eq!(calls.len(), THREADS / 20);
    for (n, call) in calls.iter().enumerate() {
        assert_eq!(call.query, format!("sync=true&page={}", n + 1));
    }
    println!(
        "pages fetched: {}, most page buffers alive at once: {}",
        gauge.fetched(),
        gauge.max_live()
    );
    assert!((1..=2).contains(&gauge.max_live()));
    assert_eq!(gauge.fetched(), THREADS / 20);
    assert_eq!(gauge.live(), 0);
}
