//! `flowai send`: send one message through the Messaging REST API.

use std::path::PathBuf;
use std::sync::Arc;

use flowai_core::messaging::{MediaType, MediaUpload, Message, MessageOptions, MessagingClient};
use flowai_core::v1::{RestMessage, RestPayload};

use crate::common::{ConnectArgs, fail, print_json};
use crate::rest_cmd::RestArgs;

/// Options of `flowai send`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    kind: Kind,
    /// The thread (user or chat) the message belongs to [default: flowai-cli; with --sync,
    /// a new thread].
    #[arg(long, global = true)]
    thread: Option<String>,
    /// Send through the REST API v1 and print the bot's replies from its answer (text,
    /// event or location).
    #[arg(long, global = true)]
    sync: bool,
    /// Base URL of the REST API v1, with --sync [env: FLOWAI_REST_URL].
    #[arg(long, global = true)]
    rest_url: Option<String>,
    /// A number identifying the message in delivery events.
    #[arg(long, global = true)]
    trace_id: Option<u64>,
    /// Two-letter language code.
    #[arg(long, global = true)]
    lang: Option<String>,
    #[command(flatten)]
    connect: ConnectArgs,
}

#[derive(Debug, clap::Subcommand)]
enum Kind {
    /// A text of at most 255 characters.
    Text { text: String },
    /// An event by name.
    Event { name: String },
    /// Coordinates.
    Location { lat: String, lng: String },
    /// A media file (image, file, audio or video), streamed with progress.
    Media {
        path: PathBuf,
        /// image, file, audio or video.
        #[arg(long, default_value = "file")]
        media_type: String,
        /// MIME type of the file.
        #[arg(long)]
        mime_type: Option<String>,
    },
}

/// The message in the REST API v1's form, for `--sync`.
fn rest_message(kind: &Kind) -> Result<RestMessage, String> {
    let payload = match kind {
        Kind::Text { text } => RestPayload::Text {
            speech: text.clone(),
        },
        Kind::Event { name } => RestPayload::Event {
            event_name: name.clone(),
        },
        Kind::Location { lat, lng } => {
            let number = |s: &str, what: &str| {
                s.trim()
                    .parse::<f64>()
                    .map_err(|_| format!("{what} must be a number, not {s:?}"))
            };
            RestPayload::Location {
                lat: number(lat, "lat")?,
                long: number(lng, "lng")?,
                title: None,
            }
        }
        Kind::Media { .. } => {
            return Err("--sync sends a text, an event or a location, not a file".into());
        }
    };
    Ok(RestMessage::new(payload))
}

/// Send the message and report `ok` (with `--sync`, the bot's replies).
pub async fn run(args: Args) -> Result<(), String> {
    if args.sync {
        let rest = RestArgs {
            rest_url: args.rest_url.clone(),
            json: args.connect.json,
        };
        let message = rest_message(&args.kind)?;
        return crate::rest_cmd::send_sync(&rest, args.thread.as_deref(), &message).await;
    }
    let client = MessagingClient::new(args.connect.config()).map_err(fail)?;
    let options = MessageOptions {
        trace_id: args.trace_id,
        lang: args.lang.clone(),
        ..Default::default()
    };
    let thread = args.thread.as_deref().unwrap_or("flowai-cli");
    match args.kind {
        Kind::Text { text } => {
            client
                .send(&Message::text(thread, text).with_options(options))
                .await
        }
        Kind::Event { name } => {
            client
                .send(&Message::event(thread, name).with_options(options))
                .await
        }
        Kind::Location { lat, lng } => {
            client
                .send(&Message::location(thread, lat, lng).with_options(options))
                .await
        }
        Kind::Media {
            path,
            media_type,
            mime_type,
        } => {
            let media_type: MediaType = media_type.parse().map_err(fail)?;
            let mut upload = MediaUpload::new(thread, path, media_type);
            upload.mime_type = mime_type;
            upload.options = options;
            let show = !args.connect.json;
            let progress = Arc::new(move |sent: u64, total: u64| {
                if show {
                    eprint!("\ruploading {sent}/{total} bytes");
                }
            });
            let result = client.send_media(&upload, Some(progress)).await;
            if show {
                eprintln!();
            }
            result
        }
    }
    .map_err(fail)?;
    if args.connect.json {
        print_json(&serde_json::json!({ "status": "ok" }));
    } else {
        println!("sent (replies arrive through your webhooks: see `flowai listen`)");
    }
    Ok(())
}
