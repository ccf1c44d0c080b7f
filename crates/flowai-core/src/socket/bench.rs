//! The pipelined send loop the Python and Node benchmarks run as their Rust figure.

use std::time::{Duration, Instant};

use super::{Session, SessionOptions};
use crate::error::{Error, Result};

/// One session with `window` sends in flight (each of `window` tasks sends "hello" and
/// waits for its ack), its events drained by a task: acked messages per second over
/// `measure`, after `warmup` of the same.
pub async fn pipelined(
    options: SessionOptions,
    window: usize,
    warmup: Duration,
    measure: Duration,
) -> Result<f64> {
    let (session, mut events) = Session::connect(options).await?;
    tokio::spawn(async move { while events.next().await.is_some() {} });
    let mut acked = 0u64;
    for span in [warmup, measure] {
        let start = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..window.max(1) {
            let s = session.clone();
            tasks.spawn(async move {
                let mut n = 0u64;
                while start.elapsed() < span {
                    s.send_text("hello").await?;
                    n += 1;
                }
                Ok::<u64, Error>(n)
            });
        }
        acked = 0;
        while let Some(done) = tasks.join_next().await {
            acked += done.map_err(|e| Error::internal(e.to_string()))??;
        }
    }
    let _ = session.close().await;
    Ok(acked as f64 / measure.as_secs_f64().max(f64::EPSILON))
}
