//! `receiver` and `verifier`: webhook calls, verified and parsed into events.

use std::sync::{Arc, Mutex};

use flowai_core::event::{Case, Event};
use flowai_core::settings::ReceiverSettings;
use flowai_core::webhook::{Verifier, WebhookReceiver};
use flowai_core::{Error, Result};
use serde_json::{Value, json};

use super::{settings, small_queue, unimplemented};
use crate::args::Args;
use crate::handle::{Ctx, Object, Opened, Pending, Reply};
use crate::queue::EventQueue;
use crate::runtime::runtime;

struct Receiver {
    server: Mutex<Option<WebhookReceiver>>,
    url: String,
    port: u16,
}

pub(super) async fn open(value: &Value, case: Case) -> Result<Opened> {
    let s: ReceiverSettings = settings(value, ReceiverSettings::FIELDS)?;
    let options = s.into_options()?;
    let queue = Arc::new(EventQueue::new(case, options.queue_capacity));
    let sink = queue.clone();
    // The handler runs on the receiver's own thread: waiting for room in the queue there
    // holds further calls, which then get 503 and are retried by the sender.
    let server = WebhookReceiver::bind(options, move |event| {
        let event = Event::from_webhook(event);
        runtime().map(|rt| rt.block_on(sink.push(event))).is_ok()
    })
    .await?;
    Ok(Opened {
        object: Arc::new(Receiver {
            url: server.url(),
            port: server.local_addr().port(),
            server: Mutex::new(Some(server)),
        }),
        events: queue,
    })
}

impl Object for Receiver {
    fn call<'a>(&'a self, ctx: &'a Ctx, method: &'static str, _args: Args) -> Pending<'a, Reply> {
        Box::pin(async move {
            match method {
                "info" => Ok(Reply::Value(
                    ctx.sdk_object(json!({ "url": self.url, "port": self.port })),
                )),
                other => Err(unimplemented(other)),
            }
        })
    }

    fn close<'a>(&'a self, ctx: &'a Ctx) -> Pending<'a, ()> {
        let server = self.server.lock().unwrap_or_else(|e| e.into_inner()).take();
        Box::pin(async move {
            if let Some(server) = server {
                server.shutdown().await;
            }
            ctx.events.finish();
            Ok(())
        })
    }
}

struct VerifierObject(Verifier);

pub(super) fn open_verifier(value: &Value, case: Case) -> Result<Opened> {
    let s: ReceiverSettings = settings(value, &["verify_key", "verify_header"])?;
    let options = s.into_options()?;
    let verifier = Verifier::new(options.verify_key)?.with_header_name(&options.verify_header)?;
    Ok(Opened {
        object: Arc::new(VerifierObject(verifier)),
        events: small_queue(case),
    })
}

/// Headers as an object `{name: value}` or a list of `[name, value]` pairs.
fn header_pairs(headers: Option<&Value>) -> Result<Vec<(String, String)>> {
    let bad =
        || Error::invalid("verify: headers must be an object or a list of [name, value] pairs");
    match headers {
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| {
                v.as_str()
                    .map(|v| (k.clone(), v.to_string()))
                    .ok_or_else(bad)
            })
            .collect(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|pair| match pair.as_array().map(Vec::as_slice) {
                Some([Value::String(k), Value::String(v)]) => Ok((k.clone(), v.clone())),
                _ => Err(bad()),
            })
            .collect(),
        _ => Err(bad()),
    }
}

impl Object for VerifierObject {
    fn call<'a>(&'a self, ctx: &'a Ctx, method: &'static str, args: Args) -> Pending<'a, Reply> {
        Box::pin(async move {
            if method != "verify" {
                return Err(unimplemented(method));
            }
            let pairs = header_pairs(args.get("headers"))?;
            let query = args.get("query").and_then(Value::as_str);
            let body = args.string("body")?;
            let event = self.0.verify_and_parse_pairs(
                pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
                query,
                body.as_bytes(),
            )?;
            Ok(Reply::Value(Event::from_webhook(event).to_value(ctx.case)))
        })
    }

    fn close<'a>(&'a self, ctx: &'a Ctx) -> Pending<'a, ()> {
        super::closed_now(ctx)
    }
}
