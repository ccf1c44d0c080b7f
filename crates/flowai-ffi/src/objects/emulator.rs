//! `emulator`: a local Flow.ai + AIDA server in the app's own process, for tests that run offline; or a recorder in front of a real service, or a recording served again.
//!
//! The settings choose the mode (validated by `flowai_core::settings::EmulatorSettings`):
//! none of `record`/`replay` starts the emulator; `record` + `upstream` start the recording
//! proxy of `flowai emulator --record`; `replay` serves a recording as `--replay` does.
//! `info()` gives, in each mode, the settings that point clients at it; `env()` the same as
//! `FLOWAI_*` variables.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use flowai_core::event::Case;
use flowai_core::settings::{EmulatorMode, EmulatorSettings};
use flowai_core::{Error, Result};
use flowai_emulator::record::{self, RecordOptions, RunningRecorder};
use flowai_emulator::recording::Recording;
use flowai_emulator::replay::{self, ReplayOptions, RunningReplay};
use flowai_emulator::{Emulator, EmulatorOptions, RunningEmulator};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{small_queue, unimplemented};
use crate::args::Args;
use crate::handle::{Ctx, Object, Opened, Pending, Reply};

/// Every field of [`EmulatorSettings`], for the method table.
pub const FIELDS: &[&str] = flowai_core::settings::EMULATOR_FIELDS;

/// What runs behind the object until it is closed.
enum Running {
    Emulator(RunningEmulator),
    /// The recorder and its file, named in the error of a failed flush.
    Recorder(RunningRecorder, PathBuf),
    Replay(RunningReplay),
}

impl Running {
    async fn shutdown(self) -> Result<()> {
        match self {
            Running::Emulator(e) => e.shutdown().await,
            Running::Recorder(r, file) => r.shutdown().await.map_err(|e| {
                Error::internal(format!(
                    "cannot finish the recording {}: {e}",
                    file.display()
                ))
            })?,
            Running::Replay(r) => r.shutdown().await,
        }
        Ok(())
    }
}

struct EmulatorObject {
    running: Mutex<Option<Running>>,
    settings: Value,
    http: reqwest::Client,
}

pub(super) async fn open(value: &Value, case: Case) -> Result<Opened> {
    // The emulator has no FLOWAI_* variables of its own: only what the app gives counts.
    let s: EmulatorSettings = flowai_core::settings::resolve(value, |_| None, FIELDS)?;
    let (running, settings) = match s.into_mode()? {
        EmulatorMode::Emulate {
            project,
            time_scale,
        } => start_emulator(project, time_scale).await?,
        EmulatorMode::Record { file, upstream } => start_recorder(file, upstream).await?,
        EmulatorMode::Replay { file } => start_replay(&file).await?,
    };
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

async fn start_emulator(
    project: Option<PathBuf>,
    time_scale: Option<f64>,
) -> Result<(Running, Value)> {
    let defaults = EmulatorOptions::default();
    let options = EmulatorOptions {
        project,
        time_scale: time_scale.unwrap_or(defaults.time_scale),
        ..defaults
    };
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
    Ok((Running::Emulator(running), settings))
}

/// The recording proxy. Its clients use the real service's keys, which it forwards as they
/// are: `info()` gives its URLs only, to be laid over the app's settings for that service.
async fn start_recorder(file: PathBuf, upstream: String) -> Result<(Running, Value)> {
    let options = RecordOptions {
        // As `flowai emulator --record`: credentials in this process's environment are
        // masked from the first line on, before any request shows them.
        known_secrets: record::secrets_from(flowai_core::settings::process_env),
        ..RecordOptions::new(upstream, file.clone())
    };
    let recorder = record::start(options)
        .await
        .map_err(|e| Error::invalid(format!("cannot start the recorder: {e}")))?;
    let settings = json!({
        "api_url": recorder.base_url(),
        "aida_url": recorder.base_url(),
    });
    Ok((Running::Recorder(recorder, file), settings))
}

/// A recording served: any credentials are accepted; `info()` gives fresh ones in the shape
/// of the service's, and the recorded AIDA bot, whose id is part of the conversation.
async fn start_replay(file: &std::path::Path) -> Result<(Running, Value)> {
    let recording = Recording::load(file)
        .map_err(|e| Error::invalid(format!("cannot start the replay: {e}")))?;
    let bot = replay::recorded_bot(&recording);
    let running = replay::start(ReplayOptions::new(recording))
        .await
        .map_err(|e| Error::invalid(format!("cannot start the replay: {e}")))?;
    let c = running.credentials();
    let mut settings = json!({
        "api_url": running.base_url(),
        "messaging_key": c.messaging_key,
        "management_key": c.management_key,
        "client_id": c.client_id,
        "aida_url": running.base_url(),
        "aida_token": c.aida_token,
    });
    // Without a recorded bot, a made-up one would only join a conversation that is not there.
    if let (Some(bot), Value::Object(map)) = (bot, &mut settings) {
        map.insert("aida_bot".into(), Value::String(bot));
    }
    Ok((Running::Replay(running), settings))
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

impl EmulatorObject {
    /// Change some fault knobs (the emulator's camelCase names) and give them all.
    fn set_faults(&self, ctx: &Ctx, args: &Args) -> Result<Reply> {
        let running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        let Some(Running::Emulator(emulator)) = running.as_ref() else {
            return Err(Error::invalid(
                "set_faults: only a running emulator (not a recorder or a replay) has faults",
            ));
        };
        let faults = emulator.faults();
        let mut merged = serde_json::to_value(faults.get())
            .map_err(|e| Error::internal(format!("cannot serialize the faults: {e}")))?;
        if let (Value::Object(all), Some(Value::Object(given))) = (&mut merged, args.get("faults"))
        {
            for (key, value) in given {
                if !all.contains_key(key) {
                    let names: Vec<&str> = all.keys().map(String::as_str).collect();
                    return Err(Error::invalid(format!(
                        "set_faults: no fault `{key}`; one of: {}",
                        names.join(", ")
                    )));
                }
                all.insert(key.clone(), value.clone());
            }
        }
        let config = serde_json::from_value(merged.clone())
            .map_err(|e| Error::invalid(format!("set_faults: {e}")))?;
        faults.set(config);
        Ok(Reply::Value(ctx.sdk_object(merged)))
    }
}

impl Object for EmulatorObject {
    fn call<'a>(&'a self, ctx: &'a Ctx, method: &'static str, args: Args) -> Pending<'a, Reply> {
        Box::pin(async move {
            match method {
                "info" => Ok(Reply::Value(ctx.sdk_object(self.settings.clone()))),
                // Variable names are the same in every language: no case conversion.
                "env" => Ok(Reply::Value(Value::Object(
                    self.settings
                        .as_object()
                        .map(flowai_core::settings::as_env)
                        .unwrap_or_default(),
                ))),
                "post_webhook" => self.post_webhook(ctx, args).await,
                "set_faults" => self.set_faults(ctx, &args),
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
            // The events end even when a recording could not be finished: the object is
            // closed either way, and the error says what was lost.
            let result = match running {
                Some(running) => running.shutdown().await,
                None => Ok(()),
            };
            ctx.events.finish();
            result
        })
    }
}
