//! The REST part of the demo: webhooks, every message kind, replies through the webhook path, flows.

use std::sync::Arc;
use std::time::Duration;

use flowai_core::Config;
use flowai_core::management::ManagementClient;
use flowai_core::messaging::{MediaType, MediaUpload, MessageOptions, MessagingClient};
use flowai_core::models::{NewWebhook, Received, WebhookEvent};
use flowai_core::webhook::{ReceiverOptions, WebhookReceiver};
use flowai_emulator::RunningEmulator;
use tokio::sync::mpsc;

use super::heading;
use crate::common::fail;
use crate::render;

const THREAD: &str = "demo-user-1";
const WAIT: Duration = Duration::from_secs(10);

/// Run the REST part against `emulator`.
pub async fn run(emulator: &RunningEmulator) -> Result<(), String> {
    let creds = emulator.credentials();
    let config = Config::new()
        .with_api_url(emulator.base_url())
        .with_messaging_key(creds.messaging_key.clone())
        .with_management_key(creds.management_key.clone());
    let client = MessagingClient::new(config.clone()).map_err(fail)?;

    heading("Messaging REST API and webhooks");
    let verify_key = format!("demo-{}", std::process::id());
    let (receiver, mut events) =
        WebhookReceiver::bind_channel(ReceiverOptions::new(verify_key.clone()))
            .await
            .map_err(fail)?;
    println!("webhook receiver listening on {}", receiver.url());
    let webhook = client
        .create_webhook(&NewWebhook {
            url: receiver.url(),
            verify_key: verify_key.into(),
            events: vec!["message.reply".into(), "message.delivered".into()],
        })
        .await
        .map_err(fail)?;
    println!(
        "created webhook {} (events: {})",
        webhook.webhook_id,
        webhook.events.join(", ")
    );

    println!();
    println!("you: <event INTRO>");
    client
        .send_event(THREAD, "INTRO", MessageOptions::with_trace_id(1))
        .await
        .map_err(fail)?;
    let intro = wait_reply(&mut events, 1).await?;
    expect_text(&intro, "Hi, how can we help?")?;
    if intro.messages.iter().all(|m| m.quick_replies().len() < 3) {
        return Err("the INTRO reply came without its quick replies".into());
    }

    println!("you: hi");
    client
        .send_text(THREAD, "hi", MessageOptions::with_trace_id(2))
        .await
        .map_err(fail)?;
    let greeting = wait_reply(&mut events, 2).await?;
    expect_text(&greeting, "customer service demo bot")?;

    println!("you: what is the weather like");
    client
        .send_text(
            THREAD,
            "what is the weather like",
            MessageOptions::with_trace_id(3),
        )
        .await
        .map_err(fail)?;
    wait_reply(&mut events, 3).await?;
    println!("you: Amsterdam");
    client
        .send_text(THREAD, "Amsterdam", MessageOptions::with_trace_id(4))
        .await
        .map_err(fail)?;
    let weather = wait_reply(&mut events, 4).await?;
    expect_text(&weather, "Amsterdam")?;

    println!("you: <location 52.37, 4.89>");
    client
        .send_location(
            THREAD,
            "52.3676",
            "4.9041",
            MessageOptions::with_trace_id(5),
        )
        .await
        .map_err(fail)?;
    wait_delivered(&mut events, 5).await?;

    let file = std::env::temp_dir().join(format!("flowai-demo-{}.png", std::process::id()));
    std::fs::write(&file, demo_image())
        .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    let mut upload = MediaUpload::new(THREAD, &file, MediaType::Image);
    upload.mime_type = Some("image/png".into());
    upload.options = MessageOptions::with_trace_id(6);
    println!("you: <image {} bytes>", demo_image().len());
    let progress = Arc::new(|sent: u64, total: u64| {
        if sent == total {
            println!("     upload progress: {sent}/{total} bytes");
        }
    });
    let sent = client.send_media(&upload, Some(progress)).await;
    let _ = std::fs::remove_file(&file);
    sent.map_err(fail)?;
    wait_delivered(&mut events, 6).await?;

    let listed = client.list_webhooks().await.map_err(fail)?;
    println!("webhooks subscribed: {}", listed.len());
    client
        .delete_webhook(&webhook.webhook_id)
        .await
        .map_err(fail)?;
    println!("deleted webhook {}", webhook.webhook_id);
    receiver.shutdown().await;

    heading("Management API");
    let management = ManagementClient::new(config).map_err(fail)?;
    for flow in management.list_flows().await.map_err(fail)? {
        println!(
            "flow {:<12} group {:<8} {} steps",
            flow.title,
            flow.group,
            flow.steps.len()
        );
    }
    Ok(())
}

/// Wait for the reply to `trace_id` (printing its delivery receipt first).
async fn wait_reply(
    events: &mut mpsc::Receiver<WebhookEvent>,
    trace_id: u64,
) -> Result<Received, String> {
    loop {
        match next(events).await? {
            WebhookEvent::Delivered(d) if d.trace_id == Some(trace_id) => {
                println!("     (delivered, traceId {trace_id}, via webhook)");
            }
            WebhookEvent::Reply(received) => {
                for message in &received.messages {
                    for line in render::reply_lines(message, 1) {
                        println!("{line}");
                    }
                }
                return Ok(*received);
            }
            _ => {}
        }
    }
}

async fn wait_delivered(
    events: &mut mpsc::Receiver<WebhookEvent>,
    trace_id: u64,
) -> Result<(), String> {
    loop {
        if let WebhookEvent::Delivered(d) = next(events).await? {
            if d.trace_id == Some(trace_id) {
                println!("     (delivered, traceId {trace_id}, via webhook)");
                return Ok(());
            }
        }
    }
}

async fn next(events: &mut mpsc::Receiver<WebhookEvent>) -> Result<WebhookEvent, String> {
    match tokio::time::timeout(WAIT, events.recv()).await {
        Ok(Some(event)) => Ok(event),
        Ok(None) => Err("the webhook receiver stopped".into()),
        Err(_) => Err(format!("no webhook call within {} s", WAIT.as_secs())),
    }
}

fn expect_text(received: &Received, needle: &str) -> Result<(), String> {
    let found = received
        .messages
        .iter()
        .flat_map(|m| m.texts())
        .any(|t| t.contains(needle));
    if found {
        Ok(())
    } else {
        Err(format!("expected a reply containing {needle:?}"))
    }
}

/// A tiny valid PNG (1x1 pixel) so the upload is a real image.
fn demo_image() -> &'static [u8] {
    &[
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F,
        0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8,
        0xCF, 0xC0, 0xF0, 0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D, 0x1D, 0x00, 0x00,
        0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
    ]
}
