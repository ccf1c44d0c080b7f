//! `flowai listen`: an embedded webhook receiver that prints every verified event.

use std::net::SocketAddr;

use flowai_core::models::WebhookEvent;
use flowai_core::webhook::receiver::{ReceiverOptions, WebhookReceiver};

use crate::common::{fail, print_json};
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
}

/// Serve until Ctrl-C, printing the URL first.
pub async fn run(args: Args) -> Result<(), String> {
    let mut options = ReceiverOptions::new(args.verify_key);
    options.addr = args.addr;
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
        print_json(&event.to_value());
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
