//! `session`: the real-time Flow Socket session; its events are forwarded in order into the handle's queue.

use std::path::PathBuf;
use std::sync::Arc;

use flowai_core::event::{Case, Event};
use flowai_core::models::{Originator, Params};
use flowai_core::settings::SessionSettings;
use flowai_core::socket::{
    Attachment, MessageMetadata, OutgoingMessage, Session, SessionEvent, SessionEvents,
};
use flowai_core::{Error, Result};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{json, nothing, settings, unimplemented};
use crate::args::Args;
use crate::handle::{Ctx, Object, Opened, Pending, Reply};
use crate::queue::EventQueue;
use crate::runtime::runtime;

struct SessionObject(Session);

pub(super) async fn open(value: &Value, case: Case) -> Result<Opened> {
    let s: SessionSettings = settings(value, SessionSettings::FIELDS)?;
    let options = s.into_options()?;
    let queue = Arc::new(EventQueue::new(case, options.event_capacity));
    let (session, events) = Session::connect(options).await?;
    runtime()?.spawn(forward(
        events,
        queue.clone(),
        session.thread_id().to_string(),
    ));
    Ok(Opened {
        object: Arc::new(SessionObject(session)),
        events: queue,
    })
}

/// Move the session's events into the queue, in order, until `closed`.
async fn forward(mut events: SessionEvents, queue: Arc<EventQueue>, thread_id: String) {
    while let Some(event) = events.next().await {
        let last = matches!(event, SessionEvent::Closed { .. });
        queue.push(Event::from_session(event, &thread_id)).await;
        if last {
            return;
        }
    }
    queue.finish();
}

#[derive(Deserialize)]
struct SendArgs {
    text: Option<String>,
    event: Option<String>,
    event_name: Option<String>,
    trace_id: Option<u64>,
    lang: Option<String>,
    timezone: Option<f64>,
    params: Option<Params>,
    originator: Option<Originator>,
    attachment: Option<Attachment>,
}

impl SendArgs {
    fn into_message(self) -> Result<OutgoingMessage> {
        let mut message = match (self.text, self.event.or(self.event_name)) {
            (Some(text), None) => OutgoingMessage::text(text),
            (None, Some(event)) => OutgoingMessage::event(event),
            (None, None) if self.attachment.is_some() => OutgoingMessage::text(""),
            _ => {
                return Err(Error::invalid(
                    "send: give exactly one of `text` and `event`",
                ));
            }
        };
        message.trace_id = self.trace_id;
        if self.attachment.is_some() {
            message.attachment = self.attachment;
        }
        message.originator = self.originator;
        if self.lang.is_some() || self.timezone.is_some() || self.params.is_some() {
            message.metadata = Some(MessageMetadata {
                language: self.lang,
                timezone: self.timezone,
                params: self.params,
            });
        }
        Ok(message)
    }
}

impl SessionObject {
    async fn run(&self, ctx: &Ctx, method: &str, args: Args) -> Result<Reply> {
        let s = &self.0;
        match method {
            "info" => Ok(Reply::Value(ctx.sdk_object(json!({
                "thread_id": s.thread_id(),
                "session_id": s.session_id(),
                "closed": s.is_closed(),
            })))),
            "send" | "send_text" | "send_event" => {
                let message = args.parse::<SendArgs>()?.into_message()?;
                json(&s.send(message).await?)
            }
            "typing" => {
                s.typing().await?;
                nothing()
            }
            "noticed" => {
                s.noticed().await?;
                nothing()
            }
            "history" => Ok(Reply::Value(s.history().await?)),
            "unnoticed" => Ok(Reply::Value(s.unnoticed().await?)),
            "upload" => {
                let path = PathBuf::from(args.string("path")?);
                let events = ctx.events.clone();
                let progress =
                    Arc::new(move |sent, total| events.offer(Event::progress(sent, total)));
                Ok(Reply::Value(s.upload(path, Some(progress)).await?))
            }
            other => Err(unimplemented(other)),
        }
    }
}

impl Object for SessionObject {
    fn call<'a>(&'a self, ctx: &'a Ctx, method: &'static str, args: Args) -> Pending<'a, Reply> {
        Box::pin(self.run(ctx, method, args))
    }

    fn close<'a>(&'a self, _ctx: &'a Ctx) -> Pending<'a, ()> {
        // The session's own `closed` event follows; the forwarder puts it in the queue.
        Box::pin(self.0.close())
    }
}
