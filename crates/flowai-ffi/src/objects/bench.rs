//! `bench`: synthetic events through the same queue, for the bindings' callback benchmarks.

use std::sync::Arc;
use std::time::{Duration, Instant};

use flowai_core::Result;
use flowai_core::event::{Case, Event};
use serde_json::json;

use super::{nothing, unimplemented};
use crate::args::Args;
use crate::handle::{Ctx, Object, Opened, Pending, Reply};
use crate::queue::EventQueue;
use crate::runtime::{monotonic_ns, runtime};

/// Events a benchmark lets wait unread (a session's default).
const CAPACITY: usize = 1024;

struct Bench;

pub(super) fn open(case: Case) -> Opened {
    Opened {
        object: Arc::new(Bench),
        events: Arc::new(EventQueue::new(case, CAPACITY)),
    }
}

/// Emit `count` progress events, each stamped with `at_ns` just before it goes in, then
/// `closed`; `interval` apart when given (a latency run), else as fast as the queue takes them.
fn emit(queue: &EventQueue, count: u64, interval: Option<Duration>) -> Result<()> {
    let rt = runtime()?;
    let start = Instant::now();
    for i in 0..count {
        if let Some(interval) = interval {
            let due = start + interval * u32::try_from(i).unwrap_or(u32::MAX);
            while Instant::now() < due {
                std::thread::sleep(due.saturating_duration_since(Instant::now()).min(interval));
            }
        }
        let event = Event::new(
            "progress",
            json!({ "sent": i + 1, "total": count, "at_ns": monotonic_ns() }),
        );
        rt.block_on(queue.push(event));
    }
    queue.finish();
    Ok(())
}

impl Object for Bench {
    fn call<'a>(&'a self, ctx: &'a Ctx, method: &'static str, args: Args) -> Pending<'a, Reply> {
        Box::pin(async move {
            if method != "run" {
                return Err(unimplemented(method));
            }
            let count = args.get("count").and_then(|v| v.as_u64()).unwrap_or(0);
            let interval = args
                .get("interval_us")
                .and_then(|v| v.as_u64())
                .filter(|us| *us > 0)
                .map(Duration::from_micros);
            let queue = ctx.events.clone();
            // Its own thread, as a socket's reader would be: the runtime stays free.
            std::thread::Builder::new()
                .name("flowai-bench".into())
                .spawn(move || emit(&queue, count, interval))
                .map_err(|e| flowai_core::Error::internal(e.to_string()))?;
            nothing()
        })
    }

    fn close<'a>(&'a self, ctx: &'a Ctx) -> Pending<'a, ()> {
        super::closed_now(ctx)
    }
}
