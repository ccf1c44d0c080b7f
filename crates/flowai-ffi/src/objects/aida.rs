//! `aida` and `aida_session`: an AIDA bot over Phoenix channels and its conversations.

use std::path::PathBuf;
use std::sync::Arc;

use base64::Engine;
use flowai_core::Result;
use flowai_core::aida::{AidaClient, AidaSession};
use flowai_core::event::{Case, Event};
use flowai_core::phoenix::{ChannelEvent, ChannelEvents, SocketEvent, SocketEvents};
use flowai_core::settings::AidaSettings;
use serde_json::{Value, json};
use tokio::sync::Notify;

use super::{nothing, settings, small_queue, unimplemented};
use crate::args::Args;
use crate::handle::{Ctx, Handle, Object, Opened, Pending, Reply};
use crate::queue::EventQueue;
use crate::runtime::runtime;

struct Aida(AidaClient);

pub(super) async fn open(value: &Value, case: Case) -> Result<Opened> {
    let s: AidaSettings = settings(value, AidaSettings::FIELDS)?;
    let client = AidaClient::connect(s.into_options()?).await?;
    let queue = small_queue(case);
    queue.push_now(Event::new("connected", json!({})));
    // Subscribed here, not in the task: a task that first runs after the app's next calls
    // (its worker busy or blocked) would miss the replies that came before it subscribed.
    let (messages, lifecycle) = (client.messages(), client.events());
    runtime()?.spawn(forward_client(messages, lifecycle, queue.clone()));
    Ok(Opened {
        object: Arc::new(Aida(client)),
        events: queue,
    })
}

/// Every session's replies and the socket's lifecycle, in order, until the socket closes.
async fn forward_client(
    mut messages: ChannelEvents,
    mut lifecycle: SocketEvents,
    queue: Arc<EventQueue>,
) {
    loop {
        let event = tokio::select! {
            biased;
            message = messages.recv() => match message {
                Some(ChannelEvent::Message { payload, .. }) => Some(Event::new(
                    "aida_message",
                    json!({
                        "session_id": payload.get("session").cloned().unwrap_or(Value::Null),
                        "text": payload.get("text").cloned().unwrap_or(Value::Null),
                        "data": payload,
                    }),
                )),
                Some(_) => None,
                None => break,
            },
            socket = lifecycle.recv() => match socket {
                Some(SocketEvent::Closed) | None => break,
                Some(other) => Event::from_aida_socket(other),
            },
        };
        if let Some(event) = event {
            queue.push(event).await;
        }
    }
    queue.finish();
}

impl Aida {
    async fn run(&self, ctx: &Ctx, method: &str, args: Args) -> Result<Reply> {
        let c = &self.0;
        match method {
            "info" => Ok(Reply::Value(ctx.sdk_object(json!({
                "bot": c.bot(),
                "connected": c.is_connected(),
            })))),
            "new_session" => {
                let session = c.new_session(args.get("data").cloned()).await?;
                session_handle(session, ctx.case)
            }
            "session" => session_handle(c.session(args.string("session_id")?), ctx.case),
            "fetch_image" => {
                let image = c.fetch_image(&args.string("image_id")?).await?;
                let data = base64::engine::general_purpose::STANDARD.encode(&image.bytes);
                Ok(Reply::Value(ctx.sdk_object(json!({
                    "content_type": image.content_type,
                    "data": data,
                }))))
            }
            other => Err(unimplemented(other)),
        }
    }
}

impl Object for Aida {
    fn call<'a>(&'a self, ctx: &'a Ctx, method: &'static str, args: Args) -> Pending<'a, Reply> {
        Box::pin(self.run(ctx, method, args))
    }

    fn close<'a>(&'a self, _ctx: &'a Ctx) -> Pending<'a, ()> {
        // The socket's Closed ends the forwarder, which puts `closed` in last.
        Box::pin(async move {
            self.0.close().await;
            Ok(())
        })
    }
}

struct Conversation {
    session: Arc<AidaSession>,
    stop: Arc<Notify>,
}

fn session_handle(session: AidaSession, case: Case) -> Result<Reply> {
    let session = Arc::new(session);
    let stop = Arc::new(Notify::new());
    let queue = small_queue(case);
    runtime()?.spawn(forward_session(
        session.clone(),
        queue.clone(),
        stop.clone(),
    ));
    let object = Arc::new(Conversation { session, stop });
    let opened = Opened {
        object,
        events: queue,
    };
    Ok(Reply::Handle(Handle::from_opened(
        "aida_session",
        opened,
        case,
    )))
}

/// This session's replies until it is deleted, closed, or its client closes.
async fn forward_session(session: Arc<AidaSession>, queue: Arc<EventQueue>, stop: Arc<Notify>) {
    loop {
        let message = tokio::select! {
            message = session.recv() => message,
            _ = stop.notified() => None,
        };
        match message {
            Some(message) => queue.push(Event::from_aida_message(&message)).await,
            None => break,
        }
    }
    queue.finish();
}

impl Conversation {
    async fn run(&self, ctx: &Ctx, method: &str, args: Args) -> Result<Reply> {
        let s = &self.session;
        match method {
            "info" => Ok(Reply::Value(
                ctx.sdk_object(json!({ "session_id": s.id() })),
            )),
            "send_text" => Ok(Reply::Value(s.send_text(&args.string("text")?).await?)),
            "put_data" => Ok(Reply::Value(
                s.put_data(args.get("data").cloned().unwrap_or(Value::Null))
                    .await?,
            )),
            "send_image" => {
                let path = PathBuf::from(args.string("path")?);
                let filename = args.string("filename").unwrap_or_else(|_| {
                    path.file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_else(|| "image.png".into())
                });
                let content_type = args
                    .string("content_type")
                    .unwrap_or_else(|_| "image/png".into());
                let id = s.send_image(path, &filename, &content_type).await?;
                Ok(Reply::Value(ctx.sdk_object(json!({ "image_id": id }))))
            }
            "delete" => {
                s.delete().await?;
                nothing()
            }
            other => Err(unimplemented(other)),
        }
    }
}

impl Object for Conversation {
    fn call<'a>(&'a self, ctx: &'a Ctx, method: &'static str, args: Args) -> Pending<'a, Reply> {
        Box::pin(self.run(ctx, method, args))
    }

    fn close<'a>(&'a self, _ctx: &'a Ctx) -> Pending<'a, ()> {
        self.stop.notify_one();
        Box::pin(async { Ok(()) })
    }
}
