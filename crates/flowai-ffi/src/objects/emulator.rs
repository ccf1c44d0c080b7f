//! `emulator`: a local Flow.ai + AIDA server in the app's own process, for tests that run offline.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use flowai_core::event::Case;
use flowai_core::{Error, Result};
use flowai_emulator::{Emulator, EmulatorOptions, RunningEmulator};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{small_queue, unimplemented};
use crate::args::Args;
use crate::handle::{Ctx, Object, Opened, Pending, Reply};

/// The settings of an embedded emulator.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct EmulatorSettings {
    /// A project file (flows in the Management API's JSON) instead of the built-in demo.
    project: Option<PathBuf>,
    /// Speed of the emulator's clocks (webhook retries, endpoint lifetimes); 1 is real time.
    time_scale: Option<f64>,
}

/// Every field of [`EmulatorSettings`], for the method table.
pub const FIELDS: &[&str] = flowai_core::settings::EMULATOR_FIELDS;

struct EmulatorObject {
    running: Mutex<Option<RunningEmulator>>,
    settings: Value,
    http: reqwest::Client,
}

pub(super) async fn open(value: &Value, case: Case) -> Result<Opened> {
    let s: EmulatorSettings = flowai_core::settings::resolve(value, |_| None, FIELDS)?;
    let mut options = EmulatorOptions {
        project: s.project,
        ..Default::default()
    };
    if let Some(scale) = s.time_scale {
        if !(scale.is_finite() && scale > 0.0) {
            return Err(Error::invalid("time_scale must be greater than 0"));
        }
        options.time_scale = scale;
    }
    let running = Emulator::new(options)
        .start()
        .await
        .map_err(|e| Error::invalid(format!("cannot start the emulator: {e}")))?;
    let c = running.credentials();
    // The settings every client kind takes, so they can be passed on as they are.
    let settings = json!({
        "api_url": running.base_url(),
        "messaging_key": c.messaging_key,
        "management_key": c.management_key,
        "client_id": c.client_id,
        "aida_url": running.aida_url(),
        "aida_bot": c.aida_bot,
        "aida_token": c.aida_token,
    });
    let http = reqwest::Client::builder()
        .build()
        .map_err(|e| Error::internal(e.to_string()))?;
    Ok(Opened {
        object: Arc::new(EmulatorObject {
            running: Mutex::new(Some(running)),
            settings,
            http,
        }),
        events: small_queue(case),
    })
}

#[derive(Deserialize)]
struct Call {
    url: String,
    body: String,
    verify_key: Option<String>,
    delivery_id: Option<String>,
}

impl EmulatorObject {
    /// Make a webhook call the way the emulator's deliveries do, and give its status.
    async fn post_webhook(&self, ctx: &Ctx, args: Args) -> Result<Reply> {
        let call: Call = args.parse()?;
        let url = flowai_core::config::parse_http_url(&call.url, "url")?;
        let mut request = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .body(call.body);
        if let Some(key) = call.verify_key {
            request = request.header(flowai_core::webhook::DEFAULT_VERIFY_HEADER, key);
        }
        if let Some(id) = call.delivery_id {
            request = request.header(flowai_core::webhook::DELIVERY_ID_HEADER, id);
        }
        let response = request.send().await?;
        Ok(Reply::Value(ctx.sdk_object(
            json!({ "status": response.status().as_u16() }),
        )))
    }
}

impl Object for EmulatorObject {
    fn call<'a>(&'a self, ctx: &'a Ctx, method: &'static str, args: Args) -> Pending<'a, Reply> {
        Box::pin(async move {
            match method {
                "info" => Ok(Reply::Value(ctx.sdk_object(self.settings.clone()))),
                "post_webhook" => self.post_webhook(ctx, args).await,
                other => Err(unimplemented(other)),
            }
        })
    }

    fn close<'a>(&'a self, ctx: &'a Ctx) -> Pending<'a, ()> {
        let running = self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        Box::pin(async move {
            if let Some(running) = running {
                running.shutdown().await;
            }
            ctx.events.finish();
            Ok(())
        })
    }
}
