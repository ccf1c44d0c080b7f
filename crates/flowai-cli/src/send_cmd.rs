//! `flowai send`: send one message through the Messaging REST API.

use std::path::PathBuf;
use std::sync::Arc;

use flowai_core::messaging::{MediaType, MediaUpload, Message, MessageOptions, MessagingClient};

use crate::common::{ConnectArgs, fail, print_json};

/// Options of `flowai send`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    kind: Kind,
    /// The thread (user or chat) the message belongs to.
    #[arg(long, global = true, default_value = "flowai-cli")]
    thread: String,
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

/// Send the message and report `ok`.
pub async fn run(args: Args) -> Result<(), String> {
    let client = MessagingClient::new(args.connect.config()).map_err(fail)?;
    let options = MessageOptions {
        trace_id: args.trace_id,
        lang: args.lang.clone(),
        ..Default::default()
    };
    let thread = args.thread.as_str();
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
