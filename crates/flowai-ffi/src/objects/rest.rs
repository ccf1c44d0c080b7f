//! `rest`: the Flow REST API v1 client, its results as the API's JSON and its listings as page cursors.

use std::sync::Arc;
use std::time::Duration;

use flowai_core::event::Case;
use flowai_core::settings::RestSettings;
use flowai_core::v1::{
    Broadcast, CallOptions, FIRST_PAGE, Page, RestClient, RestMessage, SegmentBroadcast,
    SendOptions,
};
use flowai_core::{Error, Result};
use serde::Deserialize;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::cursor::{self, FetchPage};
use super::{closed_now, json, settings, small_queue, unimplemented};
use crate::args::Args;
use crate::handle::{Ctx, Object, Opened, Pending, Reply};

struct Rest(RestClient);

pub(super) fn open(value: &Value, case: Case) -> Result<Opened> {
    let s: RestSettings = settings(value, RestSettings::FIELDS)?;
    let client = RestClient::new(s.into_options()?)?;
    Ok(Opened {
        object: Arc::new(Rest(client)),
        events: small_queue(case),
    })
}

/// Every argument any method of the kind takes (the table says which one has which).
#[derive(Deserialize)]
struct RestArgs {
    thread_id: Option<String>,
    message: Option<Value>,
    text: Option<String>,
    sync: Option<bool>,
    write_concern: Option<bool>,
    timeout_ms: Option<u64>,
    page: Option<u32>,
    seconds: Option<u64>,
    event_name: Option<String>,
    request: Option<Value>,
}

impl RestArgs {
    /// The per-call deadline; like the settings' `timeout_ms`, it must be greater than 0.
    fn timeout(&self) -> Result<Option<Duration>> {
        match self.timeout_ms {
            Some(0) => Err(Error::invalid("timeout_ms must be greater than 0")),
            ms => Ok(ms.map(Duration::from_millis)),
        }
    }

    fn call_options(&self) -> Result<CallOptions> {
        Ok(CallOptions {
            timeout: self.timeout()?,
        })
    }

    fn send_options(&self) -> Result<SendOptions> {
        Ok(SendOptions {
            sync: self.sync.unwrap_or(false),
            write_concern: self.write_concern.unwrap_or(false),
            timeout: self.timeout()?,
        })
    }

    fn thread(&self) -> &str {
        self.thread_id.as_deref().unwrap_or_default()
    }

    fn page(&self) -> Result<u32> {
        match self.page {
            Some(n) if n < FIRST_PAGE => Err(Error::invalid("page counts from 1")),
            page => Ok(page.unwrap_or(FIRST_PAGE)),
        }
    }
}

/// A JSON argument read as one of the API's request types; the API's own field names.
fn request<T: DeserializeOwned>(method: &str, value: Option<Value>) -> Result<T> {
    serde_json::from_value(value.unwrap_or(Value::Null))
        .map_err(|e| Error::invalid(format!("{method}: {e}")))
}

/// A page with its items as JSON, for a cursor.
fn page_of_values<T: Serialize>(page: Page<T>) -> Result<Page<Value>> {
    Ok(Page {
        page: page.page,
        items: cursor::items(&page.items)?,
        has_more: page.has_more,
    })
}

impl Rest {
    async fn run(&self, method: &str, a: RestArgs, ctx: &Ctx) -> Result<Reply> {
        let (c, case) = (&self.0, ctx.case);
        let o = a.call_options()?;
        match method {
            "send" | "send_text" => {
                let message = if method == "send" {
                    request::<RestMessage>(method, a.message.clone())?
                } else {
                    RestMessage::text(a.text.clone().unwrap_or_default())
                };
                let options = a.send_options()?;
                json(&c.send(a.thread_id.as_deref(), &message, &options).await?)
            }
            "messages_page" => {
                cursor::page_reply(ctx, c.messages_page(a.thread(), a.page()?, &o).await?)
            }
            "threads_page" => cursor::page_reply(ctx, c.threads_page(a.page()?, &o).await?),
            "messages" => Ok(self.messages_cursor(a.thread(), case)),
            "threads" => Ok(self.threads_cursor(case)),
            "handover" => json(&c.handover(a.thread(), a.seconds, &o).await?),
            #[allow(deprecated)]
            "takeover" => json(&c.takeover(a.thread(), &o).await?),
            "resolve" => json(&c.resolve(a.thread(), &o).await?),
            "trigger_events" => json(&c.trigger_events(&o).await?),
            "trigger_event" => {
                let name = a.event_name.as_deref().unwrap_or_default();
                json(&c.trigger_event(a.thread(), name, &o).await?)
            }
            "business_hours" => json(&c.business_hours(&o).await?),
            "pause" => json(&c.pause(a.thread(), a.seconds, &o).await?),
            "resume" => json(&c.resume(a.thread(), &o).await?),
            "pause_status" => json(&c.pause_status(a.thread(), &o).await?),
            "broadcast" => {
                let body: Broadcast = request(method, a.request.clone())?;
                json(&c.broadcast(&body, &o).await?)
            }
            "broadcast_segment" => {
                let body: SegmentBroadcast = request(method, a.request.clone())?;
                json(&c.broadcast_segment(&body, &o).await?)
            }
            "segments" => json(&c.segments(&o).await?),
            other => Err(unimplemented(other)),
        }
    }

    fn threads_cursor(&self, case: Case) -> Reply {
        let client = self.0.clone();
        let fetch: FetchPage = Box::new(move |n| {
            let client = client.clone();
            Box::pin(async move {
                page_of_values(client.threads_page(n, &CallOptions::default()).await?)
            })
        });
        cursor::open(fetch, case)
    }

    fn messages_cursor(&self, thread_id: &str, case: Case) -> Reply {
        let (client, thread_id) = (self.0.clone(), thread_id.to_string());
        let fetch: FetchPage = Box::new(move |n| {
            let (client, thread_id) = (client.clone(), thread_id.clone());
            Box::pin(async move {
                page_of_values(
                    client
                        .messages_page(&thread_id, n, &CallOptions::default())
                        .await?,
                )
            })
        });
        cursor::open(fetch, case)
    }
}

impl Object for Rest {
    fn call<'a>(&'a self, ctx: &'a Ctx, method: &'static str, args: Args) -> Pending<'a, Reply> {
        Box::pin(async move { self.run(method, args.parse()?, ctx).await })
    }

    fn close<'a>(&'a self, ctx: &'a Ctx) -> Pending<'a, ()> {
        closed_now(ctx)
    }
}
