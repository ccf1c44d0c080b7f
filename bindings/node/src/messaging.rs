//! `MessagingClient`: the Messaging REST API and webhook subscriptions.

use std::fmt;
use std::sync::Arc;

use flowai_core::messaging::{MediaType, MediaUpload, MessagingClient as CoreClient, ProgressFn};
use flowai_core::models::{self, Params};
use flowai_core::{Error, Secret};
use napi::Status;
use napi::bindgen_prelude::FnArgs;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use serde_json::Value;

use crate::config::{ClientOptions, config_from};
use crate::{js_error, to_json};

/// Optional fields every message may carry.
#[napi(object)]
#[derive(Debug, Default)]
pub struct MessageOptions {
    /// A number identifying the message in delivery events (0 to 2^53 - 1).
    pub trace_id: Option<i64>,
    /// ISO 639-1 language code (two letters).
    pub lang: Option<String>,
    /// Offset from UTC in hours.
    pub timezone: Option<f64>,
    /// Parameters for the AI engine: `{ name: [{ value, match? }] }`.
    pub params: Option<Value>,
    /// MIME type of a media upload (`sendMedia` only).
    pub mime_type: Option<String>,
}

impl MessageOptions {
    fn into_core(self) -> Result<flowai_core::messaging::MessageOptions, Error> {
        let trace_id = match self.trace_id {
            Some(id) => Some(
                u64::try_from(id).map_err(|_| Error::invalid("traceId must not be negative"))?,
            ),
            None => None,
        };
        let params = match self.params {
            Some(Value::Null) | None => None,
            Some(value) => Some(serde_json::from_value::<Params>(value).map_err(|e| {
                Error::invalid(format!("params must map names to [{{value}}] lists: {e}"))
            })?),
        };
        Ok(flowai_core::messaging::MessageOptions {
            trace_id,
            lang: self.lang,
            timezone: self.timezone,
            params,
        })
    }
}

fn core_options(
    options: Option<MessageOptions>,
) -> napi::Result<flowai_core::messaging::MessageOptions> {
    options.unwrap_or_default().into_core().map_err(js_error)
}

/// What is needed to create a webhook.
#[napi(object)]
pub struct NewWebhook {
    /// URL Flow.ai shall call.
    pub url: String,
    /// Key sent with each call so the receiver can verify it.
    pub verify_key: String,
    /// Event types, at least one (e.g. `message.reply`).
    pub events: Vec<String>,
}

impl fmt::Debug for NewWebhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewWebhook")
            .field("url", &self.url)
            .field("events", &self.events)
            .finish_non_exhaustive()
    }
}

/// A partial webhook update: fields left out stay unchanged.
#[napi(object)]
#[derive(Default)]
pub struct WebhookUpdate {
    /// New URL.
    pub url: Option<String>,
    /// New verify key.
    pub verify_key: Option<String>,
    /// New event list.
    pub events: Option<Vec<String>>,
}

impl fmt::Debug for WebhookUpdate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookUpdate")
            .field("url", &self.url)
            .field("events", &self.events)
            .finish_non_exhaustive()
    }
}

/// `(bytesSent, totalBytes) => void`, called from the runtime as the upload goes out.
type ProgressCallback =
    ThreadsafeFunction<FnArgs<(f64, f64)>, (), FnArgs<(f64, f64)>, Status, false>;

/// A client of the Messaging REST API, authenticated with the messaging key.
#[napi]
#[derive(Debug)]
pub struct MessagingClient {
    inner: CoreClient,
}

#[napi]
impl MessagingClient {
    /// A client from `options` over the `FLOWAI_*` environment variables.
    #[napi(constructor)]
    pub fn new(options: Option<ClientOptions>) -> napi::Result<Self> {
        let inner = CoreClient::new(config_from(options)?).map_err(js_error)?;
        Ok(MessagingClient { inner })
    }

    /// Send a text of at most 255 characters.
    #[napi]
    pub async fn send_text(
        &self,
        thread_id: String,
        text: String,
        options: Option<MessageOptions>,
    ) -> napi::Result<()> {
        let options = core_options(options)?;
        self.inner
            .send_text(&thread_id, &text, options)
            .await
            .map_err(js_error)
    }

    /// Trigger an event by name.
    #[napi]
    pub async fn send_event(
        &self,
        thread_id: String,
        event_name: String,
        options: Option<MessageOptions>,
    ) -> napi::Result<()> {
        let options = core_options(options)?;
        self.inner
            .send_event(&thread_id, &event_name, options)
            .await
            .map_err(js_error)
    }

    /// Send coordinates (as strings, the way the API takes them).
    #[napi]
    pub async fn send_location(
        &self,
        thread_id: String,
        lat: String,
        lng: String,
        options: Option<MessageOptions>,
    ) -> napi::Result<()> {
        let options = core_options(options)?;
        self.inner
            .send_location(&thread_id, &lat, &lng, options)
            .await
            .map_err(js_error)
    }

    /// Upload a file (streamed from disk) as an image, file, audio or video message.
    #[napi(
        ts_args_type = "threadId: string, path: string, mediaType: string, options?: MessageOptions | undefined | null, progress?: ((bytesSent: number, totalBytes: number) => void) | undefined | null"
    )]
    pub async fn send_media(
        &self,
        thread_id: String,
        path: String,
        media_type: String,
        options: Option<MessageOptions>,
        progress: Option<ProgressCallback>,
    ) -> napi::Result<()> {
        let media_type: MediaType = media_type.parse().map_err(js_error)?;
        let mut options = options.unwrap_or_default();
        let mime_type = options.mime_type.take();
        let mut upload = MediaUpload::new(thread_id, path, media_type);
        upload.mime_type = mime_type;
        upload.options = options.into_core().map_err(js_error)?;
        let progress: Option<ProgressFn> = progress.map(|callback| {
            let callback = Arc::new(callback);
            Arc::new(move |sent: u64, total: u64| {
                callback.call(
                    FnArgs::from((sent as f64, total as f64)),
                    ThreadsafeFunctionCallMode::NonBlocking,
                );
            }) as ProgressFn
        });
        self.inner
            .send_media(&upload, progress)
            .await
            .map_err(js_error)
    }

    /// Create a webhook subscription (the service first calls the URL with a GET).
    #[napi(ts_return_type = "Promise<any>")]
    pub async fn create_webhook(&self, webhook: NewWebhook) -> napi::Result<Value> {
        let webhook = models::NewWebhook {
            url: webhook.url,
            verify_key: Secret::new(webhook.verify_key),
            events: webhook.events,
        };
        let created = self
            .inner
            .create_webhook(&webhook)
            .await
            .map_err(js_error)?;
        to_json(&created)
    }

    /// Retrieve one webhook subscription.
    #[napi(ts_return_type = "Promise<any>")]
    pub async fn get_webhook(&self, webhook_id: String) -> napi::Result<Value> {
        let webhook = self
            .inner
            .get_webhook(&webhook_id)
            .await
            .map_err(js_error)?;
        to_json(&webhook)
    }

    /// Change the fields given in `update`.
    #[napi(ts_return_type = "Promise<any>")]
    pub async fn update_webhook(
        &self,
        webhook_id: String,
        update: WebhookUpdate,
    ) -> napi::Result<Value> {
        let update = models::WebhookUpdate {
            url: update.url,
            verify_key: update.verify_key.map(Secret::new),
            events: update.events,
        };
        let webhook = self
            .inner
            .update_webhook(&webhook_id, &update)
            .await
            .map_err(js_error)?;
        to_json(&webhook)
    }

    /// Every webhook subscription, newest first.
    #[napi(ts_return_type = "Promise<any[]>")]
    pub async fn list_webhooks(&self) -> napi::Result<Value> {
        let webhooks = self.inner.list_webhooks().await.map_err(js_error)?;
        to_json(&webhooks)
    }

    /// Delete a webhook subscription.
    #[napi]
    pub async fn delete_webhook(&self, webhook_id: String) -> napi::Result<()> {
        self.inner
            .delete_webhook(&webhook_id)
            .await
            .map_err(js_error)
    }
}
