//! The REST scenario: text messages per second with keep-alive, through flowai-core's
//! `MessagingClient` and through raw reqwest posting the same JSON and checking `{"status":"ok"}`.

use std::time::{Duration, Instant};

use flowai_core::Config;
use flowai_core::messaging::{MessageOptions, MessagingClient};
use serde::{Deserialize, Serialize};

use crate::emulator::Target;
use crate::stats;

/// Requests in flight (each worker waits for its answer before the next).
pub const CONCURRENCY: usize = 16;
const THREAD_ID: &str = "bench-rest-thread";
const TEXT: &str = "hello";

fn fail(e: impl std::fmt::Display) -> String {
    e.to_string()
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TextMessage<'a> {
    thread_id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    text: &'a str,
}

#[derive(Deserialize)]
struct Answer {
    status: String,
}

/// Which client to drive.
#[derive(Debug, Clone, Copy)]
pub enum Client {
    /// flowai-core's [`MessagingClient`].
    Sdk,
    /// reqwest by hand.
    Raw,
}

/// Messages per second accepted during `measure`, [`CONCURRENCY`] in flight.
pub async fn run(
    which: Client,
    target: &Target,
    warmup: Duration,
    measure: Duration,
) -> Result<f64, String> {
    let sdk = MessagingClient::new(
        Config::new()
            .with_api_url(&target.api_url)
            .with_messaging_key(&target.messaging_key),
    )
    .map_err(fail)?;
    let raw = reqwest::Client::new();
    let url = format!("{}/v1/messaging/message", target.api_url);
    let start = Instant::now();
    let (measure_from, end) = (start + warmup, start + warmup + measure);
    let mut tasks = Vec::with_capacity(CONCURRENCY);
    for _ in 0..CONCURRENCY {
        let (sdk, raw, url, key) = (
            sdk.clone(),
            raw.clone(),
            url.clone(),
            target.messaging_key.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut sent = 0u64;
            loop {
                let now = Instant::now();
                if now >= end {
                    break;
                }
                match which {
                    Client::Sdk => sdk
                        .send_text(THREAD_ID, TEXT, MessageOptions::default())
                        .await
                        .map_err(fail)?,
                    Client::Raw => {
                        let answer: Answer = raw
                            .post(&url)
                            .bearer_auth(&key)
                            .json(&TextMessage {
                                thread_id: THREAD_ID,
                                kind: "text",
                                text: TEXT,
                            })
                            .send()
                            .await
                            .map_err(fail)?
                            .error_for_status()
                            .map_err(fail)?
                            .json()
                            .await
                            .map_err(fail)?;
                        if !answer.status.eq_ignore_ascii_case("ok") {
                            return Err("the service did not answer ok".to_string());
                        }
                    }
                }
                let done = Instant::now();
                if now >= measure_from && done <= end {
                    sent += 1;
                }
            }
            Ok::<u64, String>(sent)
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.map_err(fail)??;
    }
    Ok(stats::rate(total, measure))
}
