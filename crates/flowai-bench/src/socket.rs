//! The Flow socket scenarios, each run through flowai-core and through a minimal raw tokio-tungstenite client.
//!
//! The raw client is small but correct: it calls socket.info, opens the websocket with the
//! same 4 KiB buffers, sends `message.send` with a traceId (and the nonce socket.info gave),
//! waits for the matching `message.delivered` and ignores every other frame.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use flowai_core::socket::{Session, SessionEvents, SessionOptions};
use futures_util::stream::FuturesUnordered;
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::emulator::Target;
use crate::stats::{self, Latencies};

/// The text every scenario sends.
const SPEECH: &str = "hello";
/// Sends in flight in the pipelined scenario.
pub const WINDOW: usize = 64;
/// Connects under way at once in the many-sessions scenario (well under the listen backlog).
/// A connect task is spawned only once it holds a permit: 10,000 connect futures spawned up
/// front would each hold ~11 KiB until their turn, as no app opening sessions in bulk would.
const CONNECT_CONCURRENCY: usize = 256;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Throughput and round trips of one session with one message in flight.
#[derive(Debug, Clone, Copy, Default)]
pub struct Single {
    /// Acked messages per second.
    pub msg_s: f64,
    /// Median round trip, microseconds.
    pub p50_us: u64,
    /// 99th percentile round trip, microseconds.
    pub p99_us: u64,
}

impl Single {
    /// The median of some rounds (each with the emulator's cores): median rate and p50,
    /// the worst p99, the median cores.
    pub fn median(rounds: &[(Single, f64)]) -> (Single, f64) {
        let mut rates: Vec<f64> = rounds.iter().map(|r| r.0.msg_s).collect();
        let mut p50s: Vec<f64> = rounds.iter().map(|r| r.0.p50_us as f64).collect();
        let mut cores: Vec<f64> = rounds.iter().map(|r| r.1).collect();
        let single = Single {
            msg_s: stats::median(&mut rates),
            p50_us: stats::median(&mut p50s) as u64,
            p99_us: rounds.iter().map(|r| r.0.p99_us).max().unwrap_or(0),
        };
        (single, stats::median(&mut cores))
    }
}

/// What one side of the many-sessions scenario measured.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Many {
    /// Sessions connected.
    pub sessions: usize,
    /// Seconds from the first connect to the last session open.
    pub connect_s: f64,
    /// Growth of this process's RSS per idle session, KiB.
    pub rss_kib_per_session: f64,
    /// Growth of the allocator's bytes in use per idle session, KiB (live heap, without
    /// the free memory a connect burst leaves behind); 0 when unknown.
    #[serde(default)]
    pub heap_kib_per_session: f64,
    /// RSS growth per idle session after `malloc_trim(0)` handed whole free pages back, KiB;
    /// 0 when unknown.
    #[serde(default)]
    pub trimmed_rss_kib_per_session: f64,
    /// Aggregate acked messages per second, one in flight per session.
    pub msg_s: f64,
}

fn fail(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn sdk_options(target: &Target, http: Option<reqwest::Client>) -> SessionOptions {
    let mut options = SessionOptions::new(&target.api_url, &target.client_id);
    options.http_client = http;
    options
}

/// Read what is ready so the session never waits on its event queue; an app would handle these.
fn drain(events: &mut SessionEvents) {
    while events.try_next().is_some() {}
}

/// One SDK session, one message in flight, for `warmup` then `measure`.
pub async fn sdk_single(
    target: Target,
    warmup: Duration,
    measure: Duration,
) -> Result<Single, String> {
    let (session, mut events) = Session::connect(sdk_options(&target, None))
        .await
        .map_err(fail)?;
    let mut lat = Latencies::with_capacity(1 << 20);
    for (span, keep) in [(warmup, false), (measure, true)] {
        let start = Instant::now();
        while start.elapsed() < span {
            let t = Instant::now();
            session.send_text(SPEECH).await.map_err(fail)?;
            if keep {
                lat.record(t.elapsed());
            }
            drain(&mut events);
        }
    }
    let _ = session.close().await;
    Ok(Single {
        msg_s: stats::rate(lat.len() as u64, measure),
        p50_us: lat.quantile(0.50),
        p99_us: lat.quantile(0.99),
    })
}

/// One SDK session with [`WINDOW`] sends in flight; acked messages per second.
pub async fn sdk_pipelined(
    target: Target,
    warmup: Duration,
    measure: Duration,
) -> Result<f64, String> {
    let (session, mut events) = Session::connect(sdk_options(&target, None))
        .await
        .map_err(fail)?;
    let mut acked = 0u64;
    for (span, keep) in [(warmup, false), (measure, true)] {
        let start = Instant::now();
        let mut in_flight = FuturesUnordered::new();
        let send = |s: Session| async move { s.send_text(SPEECH).await };
        for _ in 0..WINDOW {
            in_flight.push(send(session.clone()));
        }
        while let Some(result) = in_flight.next().await {
            result.map_err(fail)?;
            if start.elapsed() < span {
                if keep {
                    acked += 1;
                }
                in_flight.push(send(session.clone()));
            }
            drain(&mut events);
        }
    }
    let _ = session.close().await;
    Ok(stats::rate(acked, measure))
}

/// A raw session: the websocket and what `message.send` needs.
struct Raw {
    ws: Ws,
    thread_id: String,
    nonce: Option<String>,
    next_trace: u64,
}

#[derive(Deserialize)]
struct SocketInfo {
    status: String,
    payload: SocketInfoPayload,
    #[serde(default)]
    secret: Option<String>,
}

#[derive(Deserialize)]
struct SocketInfoPayload {
    endpoint: String,
}

#[derive(Serialize)]
struct OutFrame<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    payload: OutPayload<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OutPayload<'a> {
    thread_id: &'a str,
    trace_id: u64,
    speech: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
}

#[derive(Deserialize)]
struct InFrame<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default)]
    payload: Option<InPayload>,
}

#[derive(Deserialize)]
struct InPayload {
    #[serde(rename = "traceId", default)]
    trace_id: Option<u64>,
}

/// The traceId of a `message.delivered` frame; None for every other frame.
fn delivered_trace(text: &str) -> Option<u64> {
    let frame: InFrame<'_> = serde_json::from_str(text).ok()?;
    if frame.kind != "message.delivered" {
        return None;
    }
    frame.payload?.trace_id
}

impl Raw {
    async fn connect(http: &reqwest::Client, target: &Target) -> Result<Raw, String> {
        let session_id = uuid::Uuid::new_v4().simple().to_string();
        let thread_id = uuid::Uuid::new_v4().simple().to_string();
        let response = http
            .get(format!("{}/socket.info", target.api_url))
            .query(&[
                ("clientId", target.client_id.as_str()),
                ("sessionId", session_id.as_str()),
                ("threadId", thread_id.as_str()),
            ])
            .send()
            .await
            .map_err(fail)?;
        if !response.status().is_success() {
            return Err(format!("socket.info answered {}", response.status()));
        }
        let info: SocketInfo = response.json().await.map_err(fail)?;
        if !info.status.eq_ignore_ascii_case("ok") {
            return Err("socket.info did not answer ok".into());
        }
        let config = WebSocketConfig::default()
            .read_buffer_size(4096)
            .write_buffer_size(4096);
        let (ws, _) = tokio_tungstenite::connect_async_with_config(
            &info.payload.endpoint,
            Some(config),
            true,
        )
        .await
        .map_err(fail)?;
        Ok(Raw {
            ws,
            thread_id,
            nonce: info.secret,
            next_trace: 1,
        })
    }

    fn frame(&mut self) -> Result<(u64, String), String> {
        let trace_id = self.next_trace;
        self.next_trace += 1;
        let text = serde_json::to_string(&OutFrame {
            kind: "message.send",
            payload: OutPayload {
                thread_id: &self.thread_id,
                trace_id,
                speech: SPEECH,
                nonce: self.nonce.as_deref(),
            },
        })
        .map_err(fail)?;
        Ok((trace_id, text))
    }

    async fn send(&mut self) -> Result<u64, String> {
        let (trace_id, text) = self.frame()?;
        self.ws.send(Message::text(text)).await.map_err(fail)?;
        Ok(trace_id)
    }

    /// The traceId of the next `message.delivered`, skipping every other frame.
    async fn next_delivered(&mut self) -> Result<u64, String> {
        loop {
            match self.ws.next().await {
                Some(Ok(Message::Text(text))) => {
                    if let Some(trace) = delivered_trace(text.as_str()) {
                        return Ok(trace);
                    }
                }
                Some(Ok(Message::Close(_))) | None => return Err("the socket closed".into()),
                Some(Err(e)) => return Err(fail(e)),
                Some(Ok(_)) => {}
            }
        }
    }

    /// Send one message and wait for its delivery.
    async fn round_trip(&mut self) -> Result<(), String> {
        let trace = self.send().await?;
        while self.next_delivered().await? != trace {}
        Ok(())
    }
}

/// One raw session, one message in flight.
pub async fn raw_single(
    target: Target,
    warmup: Duration,
    measure: Duration,
) -> Result<Single, String> {
    let http = reqwest::Client::new();
    let mut raw = Raw::connect(&http, &target).await?;
    let mut lat = Latencies::with_capacity(1 << 20);
    for (span, keep) in [(warmup, false), (measure, true)] {
        let start = Instant::now();
        while start.elapsed() < span {
            let t = Instant::now();
            raw.round_trip().await?;
            if keep {
                lat.record(t.elapsed());
            }
        }
    }
    let _ = raw.ws.close(None).await;
    Ok(Single {
        msg_s: stats::rate(lat.len() as u64, measure),
        p50_us: lat.quantile(0.50),
        p99_us: lat.quantile(0.99),
    })
}

/// One raw session with [`WINDOW`] sends in flight.
pub async fn raw_pipelined(
    target: Target,
    warmup: Duration,
    measure: Duration,
) -> Result<f64, String> {
    let http = reqwest::Client::new();
    let mut raw = Raw::connect(&http, &target).await?;
    let mut acked = 0u64;
    for (span, keep) in [(warmup, false), (measure, true)] {
        let start = Instant::now();
        let mut in_flight = HashSet::with_capacity(WINDOW * 2);
        for _ in 0..WINDOW {
            in_flight.insert(raw.send().await?);
        }
        while !in_flight.is_empty() {
            let trace = raw.next_delivered().await?;
            if !in_flight.remove(&trace) {
                continue;
            }
            if start.elapsed() < span {
                if keep {
                    acked += 1;
                }
                in_flight.insert(raw.send().await?);
            }
        }
    }
    let _ = raw.ws.close(None).await;
    Ok(stats::rate(acked, measure))
}

/// Which client a many-sessions run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// flowai-core sessions.
    Sdk,
    /// Raw tokio-tungstenite clients.
    Raw,
}

/// `sessions` concurrent sessions in this process: connect them all, measure memory while
/// idle, then one message in flight on each for `measure`. Meant to run in a process of its own.
pub async fn many(
    side: Side,
    target: &Target,
    sessions: usize,
    measure: Duration,
) -> Result<Many, String> {
    let http = reqwest::Client::new();
    let gate = Arc::new(Semaphore::new(CONNECT_CONCURRENCY));
    let base = Memory::now();
    let start = Instant::now();
    let acked = match side {
        Side::Sdk => {
            let mut connects = Vec::with_capacity(sessions);
            for _ in 0..sessions {
                let options = sdk_options(target, Some(http.clone()));
                let permit = gate.clone().acquire_owned().await.map_err(fail)?;
                connects.push(tokio::spawn(async move {
                    let _permit = permit;
                    Session::connect(options).await.map_err(fail)
                }));
            }
            let mut open = Vec::with_capacity(sessions);
            for c in connects {
                open.push(c.await.map_err(fail)??);
            }
            let connect_s = start.elapsed().as_secs_f64();
            let per_session = settle(&base, sessions).await;
            let acked = run_many(open, measure, |(session, mut events)| async move {
                session.send_text(SPEECH).await.map_err(fail)?;
                drain(&mut events);
                Ok((session, events))
            })
            .await?;
            (connect_s, per_session, acked)
        }
        Side::Raw => {
            let mut connects = Vec::with_capacity(sessions);
            for _ in 0..sessions {
                let (http, target) = (http.clone(), target.clone());
                let permit = gate.clone().acquire_owned().await.map_err(fail)?;
                connects.push(tokio::spawn(async move {
                    let _permit = permit;
                    Raw::connect(&http, &target).await
                }));
            }
            let mut open = Vec::with_capacity(sessions);
            for c in connects {
                open.push(c.await.map_err(fail)??);
            }
            let connect_s = start.elapsed().as_secs_f64();
            let per_session = settle(&base, sessions).await;
            let acked = run_many(open, measure, |mut raw: Raw| async move {
                raw.round_trip().await?;
                Ok(raw)
            })
            .await?;
            (connect_s, per_session, acked)
        }
    };
    let (connect_s, memory, acked) = acked;
    Ok(Many {
        sessions,
        connect_s,
        rss_kib_per_session: memory.rss,
        heap_kib_per_session: memory.heap,
        trimmed_rss_kib_per_session: memory.trimmed_rss,
        msg_s: stats::rate(acked, measure),
    })
}

/// Resident and allocated memory of this process at one moment.
struct Memory {
    rss_kib: u64,
    heap_bytes: Option<u64>,
}

impl Memory {
    fn now() -> Self {
        Memory {
            rss_kib: stats::rss_kib(),
            heap_bytes: stats::heap_in_use(),
        }
    }
}

/// Growth per session, KiB.
struct PerSession {
    rss: f64,
    heap: f64,
    trimmed_rss: f64,
}

/// Memory growth per session once the freshly opened sessions sit idle: RSS as the system
/// sees it, the live heap, and RSS once glibc gave its free pages back.
async fn settle(base: &Memory, sessions: usize) -> PerSession {
    tokio::time::sleep(Duration::from_millis(500)).await;
    let n = sessions.max(1) as f64;
    let now = Memory::now();
    let rss = now.rss_kib.saturating_sub(base.rss_kib) as f64 / n;
    let heap = match (now.heap_bytes, base.heap_bytes) {
        (Some(now), Some(base)) => now.saturating_sub(base) as f64 / 1024.0 / n,
        _ => 0.0,
    };
    let trimmed_rss = if stats::trim_heap() {
        stats::rss_kib().saturating_sub(base.rss_kib) as f64 / n
    } else {
        0.0
    };
    PerSession {
        rss,
        heap,
        trimmed_rss,
    }
}

/// One task per session repeating `round` until `measure` has passed; acks done in time.
async fn run_many<S, F, Fut>(open: Vec<S>, measure: Duration, round: F) -> Result<u64, String>
where
    S: Send + 'static,
    F: Fn(S) -> Fut + Copy + Send + 'static,
    Fut: std::future::Future<Output = Result<S, String>> + Send,
{
    let deadline = Instant::now() + measure;
    let mut tasks = Vec::with_capacity(open.len());
    for mut s in open {
        tasks.push(tokio::spawn(async move {
            let mut acked = 0u64;
            while Instant::now() < deadline {
                s = round(s).await?;
                if Instant::now() <= deadline {
                    acked += 1;
                }
            }
            Ok::<u64, String>(acked)
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.map_err(fail)??;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_parser_picks_only_deliveries() {
        assert_eq!(
            delivered_trace(r#"{"type":"message.delivered","payload":{"traceId":7,"speech":"x"}}"#),
            Some(7)
        );
        assert_eq!(
            delivered_trace(r#"{"type":"message.received","payload":{"traceId":7}}"#),
            None
        );
        assert_eq!(delivered_trace("not json"), None);
    }
}
