//! The Flow REST API v1 commands: threads, messages, handover, bot pause, events, business hours, broadcasts.
//!
//! Every command prints text, or with `--json` one JSON document per result (a listing
//! prints one per item, as its pages arrive).

use flowai_core::settings::{RestSettings, process_env, resolve};
use flowai_core::v1::{
    Broadcast, BroadcastChannel, CallOptions, Recipient, RestClient, RestPayload, SegmentBroadcast,
    SegmentRef,
};
use futures_util::StreamExt;
use serde::Serialize;
use serde_json::Value;

use crate::common::{fail, print_json};

/// Where the REST API v1 is and how to print; the key comes from `FLOWAI_MESSAGING_KEY`.
#[derive(Debug, Clone, clap::Args)]
pub struct RestArgs {
    /// Base URL of the REST API v1 [env: FLOWAI_REST_URL, default https://api.flow.ai/rest/v1].
    #[arg(long, global = true)]
    pub rest_url: Option<String>,
    /// Print one JSON document per result instead of text.
    #[arg(long, global = true)]
    pub json: bool,
}

impl RestArgs {
    /// The client: the flags, then the `FLOWAI_*` environment.
    pub fn client(&self) -> Result<RestClient, String> {
        let mut given = serde_json::Map::new();
        if let Some(url) = &self.rest_url {
            given.insert("api_url".into(), Value::from(url.as_str()));
        }
        let settings: RestSettings =
            resolve(&Value::Object(given), process_env, RestSettings::FIELDS).map_err(fail)?;
        RestClient::new(settings.into_options().map_err(fail)?).map_err(fail)
    }

    /// Print `value` as JSON, or `text` without `--json`.
    fn show<T: Serialize>(&self, value: &T, text: impl FnOnce() -> String) -> Result<(), String> {
        if self.json {
            let value = serde_json::to_value(value).map_err(|e| e.to_string())?;
            print_json(&value);
        } else {
            println!("{}", text());
        }
        Ok(())
    }
}

/// The REST API v1 commands, each a top-level `flowai` command.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List threads (REST API v1).
    Threads(ThreadsArgs),
    /// Print every message of a thread (REST API v1).
    Messages {
        /// The thread.
        thread: String,
        #[command(flatten)]
        rest: RestArgs,
    },
    /// Hand a thread over to a human agent, pausing the bot (REST API v1).
    Handover {
        /// The thread.
        thread: String,
        /// How long the bot stays paused.
        #[arg(long)]
        seconds: Option<u64>,
        #[command(flatten)]
        rest: RestArgs,
    },
    /// Mark a thread resolved (REST API v1).
    Resolve {
        /// The thread.
        thread: String,
        #[command(flatten)]
        rest: RestArgs,
    },
    /// Pause the bot for a thread (REST API v1).
    Pause {
        /// The thread.
        thread: String,
        /// How long the bot stays paused (default: until resumed).
        #[arg(long)]
        seconds: Option<u64>,
        #[command(flatten)]
        rest: RestArgs,
    },
    /// Let the bot answer a paused thread again (REST API v1).
    Resume {
        /// The thread.
        thread: String,
        #[command(flatten)]
        rest: RestArgs,
    },
    /// Whether the bot is paused for a thread (REST API v1).
    Status {
        /// The thread.
        thread: String,
        #[command(flatten)]
        rest: RestArgs,
    },
    /// `trigger` or `trigger list`: the events there are; `trigger THREAD EVENT`: trigger one (REST API v1).
    Trigger {
        /// `list`, or the thread to trigger the event in.
        thread: Option<String>,
        /// The event's name.
        event: Option<String>,
        #[command(flatten)]
        rest: RestArgs,
    },
    /// The project's business hours (REST API v1).
    BusinessHours {
        #[command(flatten)]
        rest: RestArgs,
    },
    /// Broadcast a text or an event, or list the segments (REST API v1).
    Broadcast(BroadcastArgs),
}

/// Options of `flowai threads`.
#[derive(Debug, clap::Args)]
pub struct ThreadsArgs {
    #[command(subcommand)]
    action: ThreadsAction,
    #[command(flatten)]
    rest: RestArgs,
}

#[derive(Debug, clap::Subcommand)]
enum ThreadsAction {
    /// Every thread, each page fetched as the listing reaches it.
    List,
}

/// Options of `flowai broadcast`.
#[derive(Debug, clap::Args)]
pub struct BroadcastArgs {
    #[command(subcommand)]
    action: BroadcastAction,
    #[command(flatten)]
    rest: RestArgs,
}

/// What a broadcast sends.
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
struct Content {
    /// Send this text.
    #[arg(long)]
    text: Option<String>,
    /// Trigger this event.
    #[arg(long)]
    event: Option<String>,
}

impl Content {
    fn payload(&self) -> RestPayload {
        match (&self.text, &self.event) {
            (Some(speech), _) => RestPayload::Text {
                speech: speech.clone(),
            },
            (None, event) => RestPayload::Event {
                event_name: event.clone().unwrap_or_default(),
            },
        }
    }
}

#[derive(Debug, clap::Subcommand)]
enum BroadcastAction {
    /// Send to phone numbers on one channel.
    Instant {
        /// A recipient's phone number with country code (repeat for more).
        #[arg(long = "to", required = true)]
        to: Vec<String>,
        /// The channel: whatsapp, twilio, messenger, rbm, messagemedia, telekom, khoros.
        #[arg(long)]
        channel: String,
        /// The channel's own id (its phone number, page id, ...).
        #[arg(long)]
        external_id: String,
        #[command(flatten)]
        content: Content,
    },
    /// Send to every contact of a segment.
    Segment {
        /// The segment's id.
        segment: String,
        #[command(flatten)]
        content: Content,
    },
    /// List the segments.
    Segments,
}

/// Run one REST API v1 command.
pub async fn run(command: Command) -> Result<(), String> {
    let call = CallOptions::default();
    match command {
        Command::Threads(args) => match args.action {
            ThreadsAction::List => list_threads(&args.rest).await,
        },
        Command::Messages { thread, rest } => {
            let client = rest.client()?;
            let mut messages = client.messages(&thread);
            while let Some(message) = messages.next().await {
                let message = message.map_err(fail)?;
                rest.show(&message, || message_line(&message))?;
            }
            Ok(())
        }
        Command::Handover {
            thread,
            seconds,
            rest,
        } => {
            let answer = rest
                .client()?
                .handover(&thread, seconds, &call)
                .await
                .map_err(fail)?;
            rest.show(&answer, || format!("{thread}: handed over"))
        }
        Command::Resolve { thread, rest } => {
            let answer = rest.client()?.resolve(&thread, &call).await.map_err(fail)?;
            rest.show(&answer, || format!("{thread}: resolved"))
        }
        Command::Pause {
            thread,
            seconds,
            rest,
        } => {
            let client = rest.client()?;
            let status = client.pause(&thread, seconds, &call).await.map_err(fail)?;
            rest.show(&status, || paused_line(&thread, status.is_paused))
        }
        Command::Resume { thread, rest } => {
            let client = rest.client()?;
            let status = client.resume(&thread, &call).await.map_err(fail)?;
            rest.show(&status, || paused_line(&thread, status.is_paused))
        }
        Command::Status { thread, rest } => {
            let client = rest.client()?;
            let status = client.pause_status(&thread, &call).await.map_err(fail)?;
            rest.show(&status, || paused_line(&thread, status.is_paused))
        }
        Command::Trigger {
            thread,
            event,
            rest,
        } => trigger(thread, event, &rest).await,
        Command::BusinessHours { rest } => {
            let hours = rest.client()?.business_hours(&call).await.map_err(fail)?;
            rest.show(&hours, || {
                let mut lines = vec![format!(
                    "timezone: {}",
                    hours.timezone.as_deref().unwrap_or("-")
                )];
                for day in &hours.days {
                    lines.push(match (&day.open, &day.close) {
                        (Some(open), Some(close)) => format!("{}: {open}-{close}", day.day),
                        _ => format!("{}: closed", day.day),
                    });
                }
                lines.join("\n")
            })
        }
        Command::Broadcast(args) => broadcast(args).await,
    }
}

/// `TIME ROLE: TEXT` of one listed message (the API's JSON; any part may be missing).
fn message_line(message: &Value) -> String {
    let text = |v: &Value| v.as_str().map(str::to_string);
    let payload = &message["payload"];
    let what = text(&payload["speech"])
        .or_else(|| text(&payload["fallback"]).map(|t| t.trim_end().to_string()))
        .or_else(|| text(&payload["eventName"]).map(|e| format!("<event {e}>")))
        .unwrap_or_else(|| payload.to_string());
    let role = text(&message["originator"]["role"]).unwrap_or_else(|| "?".into());
    let at = text(&message["createdAt"]).unwrap_or_default();
    format!("{at} {role}: {what}").trim_start().to_string()
}

fn paused_line(thread: &str, paused: bool) -> String {
    if paused {
        format!("{thread}: bot paused")
    } else {
        format!("{thread}: bot active")
    }
}

/// Every thread, printed as each page arrives.
async fn list_threads(rest: &RestArgs) -> Result<(), String> {
    let client = rest.client()?;
    let mut threads = client.threads();
    while let Some(thread) = threads.next().await {
        let thread = thread.map_err(fail)?;
        rest.show(&thread, || {
            let mut line = thread.thread_id.clone();
            if let Some(n) = thread.message_count {
                line.push_str(&format!("  {n} messages"));
            }
            if let Some(at) = &thread.last_message_at {
                line.push_str(&format!("  last {at}"));
            }
            if thread.is_paused == Some(true) {
                line.push_str("  (bot paused)");
            }
            line
        })?;
    }
    Ok(())
}

async fn trigger(
    thread: Option<String>,
    event: Option<String>,
    rest: &RestArgs,
) -> Result<(), String> {
    let call = CallOptions::default();
    let client = rest.client()?;
    match (thread.as_deref(), event) {
        (None | Some("list"), None) => {
            let events = client.trigger_events(&call).await.map_err(fail)?;
            for event in &events {
                rest.show(event, || event.name.clone())?;
            }
            Ok(())
        }
        (Some(thread), Some(event)) => {
            let answer = client
                .trigger_event(thread, &event, &call)
                .await
                .map_err(fail)?;
            rest.show(&answer, || format!("{thread}: triggered {event}"))
        }
        (Some(_), None) => Err("trigger THREAD EVENT: give the event's name too".into()),
        (None, Some(_)) => Err("trigger THREAD EVENT: give the thread too".into()),
    }
}

async fn broadcast(args: BroadcastArgs) -> Result<(), String> {
    let call = CallOptions::default();
    let rest = &args.rest;
    let client = rest.client()?;
    match args.action {
        BroadcastAction::Instant {
            to,
            channel,
            external_id,
            content,
        } => {
            let request = Broadcast {
                audience: to
                    .into_iter()
                    .map(|phone_number| Recipient {
                        phone_number,
                        ..Default::default()
                    })
                    .collect(),
                channel: BroadcastChannel {
                    channel_name: channel,
                    external_id,
                },
                payload: content.payload(),
            };
            let answer = client.broadcast(&request, &call).await.map_err(fail)?;
            rest.show(&answer, || "broadcast sent".into())
        }
        BroadcastAction::Segment { segment, content } => {
            let request = SegmentBroadcast {
                audience: vec![SegmentRef {
                    id: Some(segment.clone()),
                    name: None,
                }],
                payload: content.payload(),
            };
            let answer = client
                .broadcast_segment(&request, &call)
                .await
                .map_err(fail)?;
            rest.show(&answer, || format!("broadcast sent to segment {segment}"))
        }
        BroadcastAction::Segments => {
            let segments = client.segments(&call).await.map_err(fail)?;
            for segment in &segments {
                rest.show(segment, || format!("{}  {}", segment.id, segment.name))?;
            }
            Ok(())
        }
    }
}

/// `flowai send --sync`: send through the REST API v1 and print the bot's replies.
pub async fn send_sync(
    rest: &RestArgs,
    thread: Option<&str>,
    message: &flowai_core::v1::RestMessage,
) -> Result<(), String> {
    let options = flowai_core::v1::SendOptions {
        sync: true,
        ..Default::default()
    };
    let receipt = rest
        .client()?
        .send(thread, message, &options)
        .await
        .map_err(fail)?;
    if rest.json {
        print_json(&serde_json::to_value(&receipt).map_err(|e| e.to_string())?);
        return Ok(());
    }
    println!("thread: {}", receipt.thread_id);
    if receipt.replies.is_empty() {
        println!("(no replies: the bot may be paused for this thread)");
    }
    let mut number = 1;
    for reply in &receipt.replies {
        let lines = crate::render::reply_lines(reply, number);
        number += lines.iter().filter(|l| l.starts_with("  [")).count();
        for line in lines {
            println!("{line}");
        }
    }
    Ok(())
}
