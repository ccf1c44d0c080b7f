//! `messaging`: the Messaging REST API and webhook subscriptions.

use std::path::PathBuf;
use std::sync::Arc;

use flowai_core::event::{Case, Event};
use flowai_core::messaging::{MediaUpload, Message, MessageBody, MessageOptions, MessagingClient};
use flowai_core::models::{NewWebhook, Params, WebhookUpdate};
use flowai_core::settings::MessagingSettings;
use flowai_core::{Error, Result, Secret};
use serde::Deserialize;
use serde_json::Value;

use super::{closed_now, json, nothing, settings, small_queue, unimplemented};
use crate::args::Args;
use crate::handle::{Ctx, Object, Opened, Pending, Reply};

struct Messaging(MessagingClient);

pub(super) fn open(value: &Value, case: Case) -> Result<Opened> {
    let s: MessagingSettings = settings(value, MessagingSettings::FIELDS)?;
    let client = MessagingClient::new(s.into_config()?)?;
    Ok(Opened {
        object: Arc::new(Messaging(client)),
        events: small_queue(case),
    })
}

#[derive(Deserialize)]
struct Send {
    thread_id: String,
    text: Option<String>,
    event_name: Option<String>,
    lat: Option<Value>,
    lng: Option<Value>,
    path: Option<PathBuf>,
    media_type: Option<String>,
    mime_type: Option<String>,
    trace_id: Option<u64>,
    lang: Option<String>,
    timezone: Option<f64>,
    params: Option<Params>,
}

impl Send {
    fn options(&self) -> MessageOptions {
        MessageOptions {
            trace_id: self.trace_id,
            lang: self.lang.clone(),
            timezone: self.timezone,
            params: self.params.clone(),
        }
    }
}

/// A coordinate given as a number or as text, as the service wants it: text.
fn coordinate(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(s)) => s.trim().to_string(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

/// A message in the Messaging API's own JSON: `threadId`, `type` and the fields of that
/// type (`text`, `eventName`, `lat` + `lng`), plus the optional `traceId`, `lang`,
/// `timezone` and `params`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawMessage {
    thread_id: String,
    #[serde(rename = "type")]
    kind: String,
    text: Option<String>,
    event_name: Option<String>,
    lat: Option<Value>,
    lng: Option<Value>,
    trace_id: Option<u64>,
    lang: Option<String>,
    timezone: Option<f64>,
    params: Option<Params>,
}

impl RawMessage {
    fn into_message(self) -> Result<Message> {
        let missing =
            |field: &str| Error::invalid(format!("send: a {} message needs `{field}`", self.kind));
        let body = match self.kind.as_str() {
            "text" => MessageBody::Text {
                text: self.text.clone().ok_or_else(|| missing("text"))?,
            },
            "event" => MessageBody::Event {
                name: self
                    .event_name
                    .clone()
                    .ok_or_else(|| missing("eventName"))?,
            },
            "location" => MessageBody::Location {
                lat: coordinate(Some(self.lat.as_ref().ok_or_else(|| missing("lat"))?)),
                lng: coordinate(Some(self.lng.as_ref().ok_or_else(|| missing("lng"))?)),
            },
            // A file cannot travel in JSON: media go through send_media.
            _ => {
                return Err(Error::invalid(
                    "send: `type` must be text, event or location (send_media sends files)",
                ));
            }
        };
        let options = MessageOptions {
            trace_id: self.trace_id,
            lang: self.lang,
            timezone: self.timezone,
            params: self.params,
        };
        Ok(Message::new(self.thread_id, body).with_options(options))
    }
}

#[derive(Deserialize)]
struct WebhookArgs {
    webhook_id: Option<String>,
    url: Option<String>,
    verify_key: Option<String>,
    events: Option<Vec<String>>,
}

impl Messaging {
    async fn send(&self, ctx: &Ctx, method: &str, args: Args) -> Result<Reply> {
        let a: Send = args.parse()?;
        let c = &self.0;
        let options = a.options();
        match method {
            "send_text" => {
                let text = a.text.unwrap_or_default();
                c.send_text(&a.thread_id, &text, options).await?
            }
            "send_event" => {
                let name = a.event_name.unwrap_or_default();
                c.send_event(&a.thread_id, &name, options).await?
            }
            "send_location" => {
                let (lat, lng) = (coordinate(a.lat.as_ref()), coordinate(a.lng.as_ref()));
                c.send_location(&a.thread_id, &lat, &lng, options).await?
            }
            _ => {
                let media_type = a.media_type.as_deref().unwrap_or_default().parse()?;
                let mut upload =
                    MediaUpload::new(&a.thread_id, a.path.unwrap_or_default(), media_type);
                upload.mime_type = a.mime_type;
                upload.options = options;
                let events = ctx.events.clone();
                let progress =
                    Arc::new(move |sent, total| events.offer(Event::progress(sent, total)));
                c.send_media(&upload, Some(progress)).await?
            }
        }
        nothing()
    }

    async fn webhook(&self, method: &str, args: Args) -> Result<Reply> {
        let a: WebhookArgs = args.parse()?;
        let c = &self.0;
        let id = a.webhook_id.unwrap_or_default();
        match method {
            "create_webhook" => json(
                &c.create_webhook(&NewWebhook {
                    url: a.url.unwrap_or_default(),
                    verify_key: Secret::new(a.verify_key.unwrap_or_default()),
                    events: a.events.unwrap_or_default(),
                })
                .await?,
            ),
            "get_webhook" => json(&c.get_webhook(&id).await?),
            "update_webhook" => {
                let update = WebhookUpdate {
                    url: a.url,
                    verify_key: a.verify_key.map(Secret::new),
                    events: a.events,
                };
                json(&c.update_webhook(&id, &update).await?)
            }
            "list_webhooks" => json(&c.list_webhooks().await?),
            "delete_webhook" => {
                c.delete_webhook(&id).await?;
                nothing()
            }
            other => Err(unimplemented(other)),
        }
    }
}

impl Object for Messaging {
    fn call<'a>(&'a self, ctx: &'a Ctx, method: &'static str, args: Args) -> Pending<'a, Reply> {
        Box::pin(async move {
            if method == "send" {
                let raw = args.get("message").cloned().unwrap_or(Value::Null);
                let raw: RawMessage = serde_json::from_value(raw)
                    .map_err(|e| Error::invalid(format!("send: {e}")))?;
                self.0.send(&raw.into_message()?).await?;
                nothing()
            } else if method.starts_with("send_") {
                self.send(ctx, method, args).await
            } else {
                self.webhook(method, args).await
            }
        })
    }

    fn close<'a>(&'a self, ctx: &'a Ctx) -> Pending<'a, ()> {
        closed_now(ctx)
    }
}
