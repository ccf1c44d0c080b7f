//! `flowai chat`: an interactive Flow Socket conversation (type a line, or a quick reply's number).

use std::io::IsTerminal;
use std::time::Duration;

use flowai_core::socket::{Session, SessionEvent, SessionEvents, SessionOptions};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::common::{ConnectArgs, fail, print_json};
use crate::render;

/// How long to wait for the bot after each line before reading the next one.
const REPLY_WAIT: Duration = Duration::from_secs(10);

/// Options of `flowai chat`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Talk as this thread (generated when absent).
    #[arg(long)]
    thread: Option<String>,
    /// Start an embedded emulator instead of using FLOWAI_API_URL / FLOWAI_CLIENT_ID.
    #[arg(long)]
    emulator: bool,
    /// Send this event first (e.g. INTRO).
    #[arg(long)]
    event: Option<String>,
    #[command(flatten)]
    connect: ConnectArgs,
}

/// Read lines from stdin until EOF or `/quit`; print replies with numbered quick replies.
pub async fn run(args: Args) -> Result<(), String> {
    let (embedded, mut options) = if args.emulator {
        let emulator = crate::emulator_cmd::start_embedded().await?;
        let options = SessionOptions::new(emulator.base_url(), &emulator.credentials().client_id);
        (Some(emulator), options)
    } else {
        (
            None,
            SessionOptions::from_config(&args.connect.config()).map_err(fail)?,
        )
    };
    options.thread_id = args.thread.clone();
    let (session, mut events) = Session::connect(options).await.map_err(fail)?;
    let mut chat = Chat {
        json: args.connect.json,
        choices: Vec::new(),
    };
    if !chat.json {
        println!(
            "connected as {} (type a message, a quick reply number, or /quit)",
            session.thread_id()
        );
    }
    if let Some(name) = &args.event {
        session.send_event(name.clone()).await.map_err(fail)?;
        chat.await_reply(&mut events).await;
    }
    // A script's lines are not shown by a terminal: echo them so the transcript reads well.
    let echo = !chat.json && !std::io::stdin().is_terminal();
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    loop {
        let line = tokio::select! {
            line = lines.next_line() => line.map_err(|e| format!("cannot read stdin: {e}"))?,
            Some(event) = events.next() => { chat.show(&event); continue; }
        };
        let Some(line) = line else { break };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if line == "/quit" {
            break;
        }
        let text = chat.resolve(line);
        if echo {
            println!("you: {text}");
        }
        match session.send_text(text).await {
            Ok(_) => chat.await_reply(&mut events).await,
            Err(err) => eprintln!("error: {err}"),
        }
    }
    session.close().await.map_err(fail)?;
    while let Some(event) = events.next().await {
        chat.show(&event);
    }
    if let Some(emulator) = embedded {
        emulator.shutdown().await;
    }
    Ok(())
}

struct Chat {
    json: bool,
    /// Values of the quick replies last shown, by their number minus one.
    choices: Vec<String>,
}

impl Chat {
    /// A number picks the quick reply shown with it; anything else is sent as typed.
    fn resolve(&self, line: &str) -> String {
        line.parse::<usize>()
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| self.choices.get(i))
            .cloned()
            .unwrap_or_else(|| line.to_string())
    }

    async fn await_reply(&mut self, events: &mut SessionEvents) {
        let deadline = tokio::time::Instant::now() + REPLY_WAIT;
        while let Ok(Some(event)) = tokio::time::timeout_at(deadline, events.next()).await {
            let done = matches!(event, SessionEvent::Reply(_) | SessionEvent::Closed { .. });
            self.show(&event);
            if done {
                return;
            }
        }
    }

    fn show(&mut self, event: &SessionEvent) {
        if self.json {
            print_json(&event_json(event));
            if let SessionEvent::Reply(received) = event {
                self.remember(received);
            }
            return;
        }
        match event {
            SessionEvent::Reply(received) => {
                self.choices.clear();
                for message in &received.messages {
                    for line in render::reply_lines(message, self.choices.len() + 1) {
                        println!("{line}");
                    }
                    self.choices
                        .extend(message.quick_replies().iter().map(|q| q.value.clone()));
                }
            }
            SessionEvent::Reconnecting { attempt, delay } => {
                println!(
                    "(reconnecting, attempt {attempt}, in {} ms)",
                    delay.as_millis()
                );
            }
            SessionEvent::Disconnected { reason } => println!("(disconnected: {reason})"),
            SessionEvent::Error { message } => println!("(error: {message})"),
            SessionEvent::AgentTyping(_) => println!("(agent is typing)"),
            SessionEvent::Closed { error: Some(err) } => println!("(closed: {err})"),
            _ => {}
        }
    }

    fn remember(&mut self, received: &flowai_core::models::Received) {
        self.choices = received
            .messages
            .iter()
            .flat_map(|m| m.quick_replies())
            .map(|q| q.value.clone())
            .collect();
    }
}

fn event_json(event: &SessionEvent) -> serde_json::Value {
    use serde_json::json;
    match event {
        SessionEvent::Delivered(d) => json!({ "type": "delivered", "payload": d }),
        SessionEvent::Reply(r) => json!({ "type": "reply", "payload": r }),
        SessionEvent::Reconnecting { attempt, delay } => {
            json!({ "type": "reconnecting", "attempt": attempt, "delayMs": delay.as_millis() as u64 })
        }
        SessionEvent::Disconnected { reason } => {
            json!({ "type": "disconnected", "reason": reason })
        }
        SessionEvent::Error { message } => json!({ "type": "error", "message": message }),
        SessionEvent::Closed { error } => {
            json!({ "type": "closed", "error": error.as_ref().map(|e| e.to_string()) })
        }
        other => json!({ "type": other.name() }),
    }
}
