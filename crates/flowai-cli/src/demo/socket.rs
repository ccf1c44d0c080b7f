//! The socket part of the demo: a real-time Flow Socket conversation with delivery receipts.

use std::time::Duration;

use flowai_core::models::Received;
use flowai_core::socket::{Session, SessionEvent, SessionEvents, SessionOptions};
use flowai_emulator::RunningEmulator;

use super::heading;
use crate::common::fail;
use crate::render;

const WAIT: Duration = Duration::from_secs(10);

/// Run the socket part against `emulator`.
pub async fn run(emulator: &RunningEmulator) -> Result<(), String> {
    heading("Flow Socket API (real time)");
    let options = SessionOptions::new(emulator.base_url(), &emulator.credentials().client_id);
    let (session, mut events) = Session::connect(options).await.map_err(fail)?;
    println!("session open for thread {}", session.thread_id());

    println!("you: <event INTRO>");
    let delivered = session.send_event("INTRO").await.map_err(fail)?;
    println!(
        "     (delivered, traceId {})",
        delivered.trace_id.unwrap_or_default()
    );
    let intro = wait_reply(&mut events).await?;
    expect(&intro, "Hi, how can we help?")?;

    let pick = intro
        .messages
        .iter()
        .flat_map(|m| m.quick_replies())
        .next()
        .map(|qr| qr.value.clone())
        .ok_or("the INTRO reply has no quick replies")?;
    println!("you: [1] {pick}");
    session.send_text(pick).await.map_err(fail)?;
    wait_reply(&mut events).await?;

    println!("you: hi");
    session.send_text("hi").await.map_err(fail)?;
    let greeting = wait_reply(&mut events).await?;
    expect(&greeting, "customer service demo bot")?;

    session.close().await.map_err(fail)?;
    while let Some(event) = events.next().await {
        if let SessionEvent::Closed { .. } = event {
            println!("session closed");
        }
    }
    Ok(())
}

async fn wait_reply(events: &mut SessionEvents) -> Result<Received, String> {
    loop {
        let event = tokio::time::timeout(WAIT, events.next())
            .await
            .map_err(|_| format!("no reply within {} s", WAIT.as_secs()))?
            .ok_or("the session ended")?;
        match event {
            SessionEvent::Reply(received) => {
                for message in &received.messages {
                    for line in render::reply_lines(message, 1) {
                        println!("{line}");
                    }
                }
                return Ok(*received);
            }
            SessionEvent::Closed { error } => {
                return Err(format!(
                    "the session closed: {}",
                    error.map(|e| e.to_string()).unwrap_or_default()
                ));
            }
            _ => {}
        }
    }
}

fn expect(received: &Received, needle: &str) -> Result<(), String> {
    if received
        .messages
        .iter()
        .flat_map(|m| m.texts())
        .any(|t| t.contains(needle))
    {
        Ok(())
    } else {
        Err(format!("expected a reply containing {needle:?}"))
    }
}
