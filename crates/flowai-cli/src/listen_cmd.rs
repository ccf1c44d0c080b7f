//! `flowai listen`: an embedded webhook receiver that prints every verified event.

use std::io::Write as _;
use std::net::SocketAddr;

use flowai_core::models::WebhookEvent;
use flowai_core::settings::{self, ReceiverSettings};
use flowai_core::webhook::receiver::WebhookReceiver;
use serde_json::json;

use crate::common::fail;
use crate::render;

/// Options of `flowai listen`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: SocketAddr,
    /// The verify key the webhook was created with [env: FLOWAI_VERIFY_KEY].
    #[arg(long, env = "FLOWAI_VERIFY_KEY", hide_env_values = true)]
    verify_key: String,
    /// Print one JSON object per event.
    #[arg(long)]
    json: bool,
    /// A Redis shared by every replica of this receiver, so that a call retried on another
    /// replica is handled once, e.g. redis://127.0.0.1:6379 [env: FLOWAI_DEDUP_URL].
    #[arg(long, value_name = "URL")]
    dedup: Option<String>,
    /// How long a replica's claim on a call holds it against the others, in ms.
    #[arg(long, value_name = "MS", requires = "dedup")]
    dedup_claim_ttl_ms: Option<u64>,
    /// How long a handled call is remembered in Redis, in ms.
    #[arg(long, value_name = "MS", requires = "dedup")]
    dedup_done_ttl_ms: Option<u64>,
    /// While Redis is away, handle calls without dedupe instead of answering 503.
    #[arg(long, requires = "dedup")]
    dedup_fail_open: bool,
}

/// Serve until Ctrl-C, printing the URL first.
pub async fn run(args: Args) -> Result<(), String> {
    // The receiver's settings, read as every binding reads them (FLOWAI_DEDUP_URL included).
    let overrides = json!({
        "verify_key": args.verify_key,
        "host": args.addr.ip().to_string(),
        "port": args.addr.port(),
        "dedup_url": args.dedup,
        "dedup_claim_ttl_ms": args.dedup_claim_ttl_ms,
        "dedup_done_ttl_ms": args.dedup_done_ttl_ms,
        "dedup_fail_open": args.dedup_fail_open.then_some(true),
    });
    let options = settings::resolve::<ReceiverSettings>(
        &overrides,
        settings::process_env,
        ReceiverSettings::FIELDS,
    )
    .and_then(ReceiverSettings::into_options)
    .map_err(fail)?;
    let json = args.json;
    let receiver = WebhookReceiver::bind(options, move |event: WebhookEvent| {
        print_event(&event, json);
    })
    .await
    .map_err(fail)?;
    println!("listening on {}", receiver.url());
    let _ = tokio::signal::ctrl_c().await;
    receiver.shutdown().await;
    Ok(())
}

/// Print one webhook event for a person or a script.
pub fn print_event(event: &WebhookEvent, json: bool) {
    if json {
        // One write per line: a line up to the pipe's atomic size reaches a reader whole
        // or not at all, even when the process is killed in the middle of printing.
        let mut line = event.to_value().to_string();
        line.push('\n');
        let _ = std::io::stdout().lock().write_all(line.as_bytes());
        return;
    }
    match event {
        WebhookEvent::Reply(received) => {
            for message in &received.messages {
                for line in render::reply_lines(message, 1) {
                    println!("[{}] {line}", received.thread_id);
                }
            }
        }
        WebhookEvent::Delivered(d) => println!(
            "[{}] delivered{}",
            d.thread_id,
            d.trace_id
                .map(|t| format!(" (traceId {t})"))
                .unwrap_or_default()
        ),
        other => println!("{} {}", other.kind(), other.to_value()),
    }
}
