//! `MessagingClient`: the Messaging REST API (messages and webhook subscriptions), blocking and asyncio.

use std::path::PathBuf;
use std::sync::Arc;

use flowai_core::messaging::{self as core, MediaType, MediaUpload, MessageOptions};
use flowai_core::models::{NewWebhook, Params, WebhookUpdate};
use flowai_core::{Config, Error, Secret};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::bridge::{Callback, Model, Models, awaitable, block_on, from_py, json_of, to_pyerr};

/// Build a [`Config`] from `FLOWAI_*` plus the keyword arguments that were given.
pub fn config(
    api_url: Option<String>,
    messaging_key: Option<String>,
    management_key: Option<String>,
    client_id: Option<String>,
    timeout: Option<f64>,
) -> flowai_core::Result<Config> {
    let mut config = Config::from_env();
    if let Some(url) = api_url {
        config = config.with_api_url(url);
    }
    if let Some(key) = messaging_key {
        config = config.with_messaging_key(key);
    }
    if let Some(key) = management_key {
        config = config.with_management_key(key);
    }
    if let Some(id) = client_id {
        config = config.with_client_id(id);
    }
    if let Some(secs) = timeout {
        config.request_timeout = duration(secs, "timeout")?;
    }
    Ok(config)
}

/// A positive, finite number of seconds.
pub fn duration(secs: f64, what: &str) -> flowai_core::Result<std::time::Duration> {
    if secs.is_finite() && secs > 0.0 {
        Ok(std::time::Duration::from_secs_f64(secs))
    } else {
        Err(Error::invalid(format!(
            "{what} must be a positive number of seconds"
        )))
    }
}

/// The optional fields every message may carry, from keyword arguments.
pub fn options(
    trace_id: Option<u64>,
    lang: Option<String>,
    timezone: Option<f64>,
    params: Option<&Bound<'_, PyAny>>,
) -> PyResult<MessageOptions> {
    let params = match params {
        None => None,
        Some(p) if p.is_none() => None,
        Some(p) => {
            let value = from_py(p, "params")?;
            let parsed: Params = serde_json::from_value(value).map_err(|e| {
                to_pyerr(
                    p.py(),
                    &Error::invalid(format!(
                        "params must map names to lists of {{\"value\": ...}}: {e}"
                    )),
                )
            })?;
            Some(parsed)
        }
    };
    Ok(MessageOptions {
        trace_id,
        lang,
        timezone,
        params,
    })
}

/// A client of the Messaging REST API. Every network call has a blocking form and an
/// `_async` form returning an awaitable; configuration comes from keyword arguments or
/// the `FLOWAI_*` environment variables.
#[pyclass(module = "flowai._flowai", frozen)]
#[derive(Debug)]
pub struct MessagingClient {
    inner: core::MessagingClient,
}

#[pymethods]
impl MessagingClient {
    #[new]
    #[pyo3(signature = (*, api_url=None, messaging_key=None, timeout=None))]
    fn new(
        py: Python<'_>,
        api_url: Option<String>,
        messaging_key: Option<String>,
        timeout: Option<f64>,
    ) -> PyResult<Self> {
        let inner = config(api_url, messaging_key, None, None, timeout)
            .and_then(core::MessagingClient::new)
            .map_err(|e| to_pyerr(py, &e))?;
        Ok(MessagingClient { inner })
    }

    fn __repr__(&self) -> &'static str {
        "MessagingClient(...)"
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, PyTuple>) -> bool {
        false
    }

    #[pyo3(signature = (thread_id, text, *, trace_id=None, lang=None, timezone=None, params=None))]
    fn send_text(
        &self,
        py: Python<'_>,
        thread_id: String,
        text: String,
        trace_id: Option<u64>,
        lang: Option<String>,
        timezone: Option<f64>,
        params: Option<Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let opts = options(trace_id, lang, timezone, params.as_ref())?;
        let c = self.inner.clone();
        block_on(
            py,
            async move { c.send_text(&thread_id, &text, opts).await },
        )
    }

    #[pyo3(signature = (thread_id, text, *, trace_id=None, lang=None, timezone=None, params=None))]
    fn send_text_async<'py>(
        &self,
        py: Python<'py>,
        thread_id: String,
        text: String,
        trace_id: Option<u64>,
        lang: Option<String>,
        timezone: Option<f64>,
        params: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let opts = options(trace_id, lang, timezone, params.as_ref())?;
        let c = self.inner.clone();
        awaitable(
            py,
            async move { c.send_text(&thread_id, &text, opts).await },
        )
    }

    #[pyo3(signature = (thread_id, event_name, *, trace_id=None, lang=None, timezone=None, params=None))]
    fn send_event(
        &self,
        py: Python<'_>,
        thread_id: String,
        event_name: String,
        trace_id: Option<u64>,
        lang: Option<String>,
        timezone: Option<f64>,
        params: Option<Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let opts = options(trace_id, lang, timezone, params.as_ref())?;
        let c = self.inner.clone();
        block_on(py, async move {
            c.send_event(&thread_id, &event_name, opts).await
        })
    }

    #[pyo3(signature = (thread_id, event_name, *, trace_id=None, lang=None, timezone=None, params=None))]
    fn send_event_async<'py>(
        &self,
        py: Python<'py>,
        thread_id: String,
        event_name: String,
        trace_id: Option<u64>,
        lang: Option<String>,
        timezone: Option<f64>,
        params: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let opts = options(trace_id, lang, timezone, params.as_ref())?;
        let c = self.inner.clone();
        awaitable(py, async move {
            c.send_event(&thread_id, &event_name, opts).await
        })
    }

    #[pyo3(signature = (thread_id, lat, lng, *, trace_id=None, lang=None, timezone=None, params=None))]
    fn send_location(
        &self,
        py: Python<'_>,
        thread_id: String,
        lat: Coordinate,
        lng: Coordinate,
        trace_id: Option<u64>,
        lang: Option<String>,
        timezone: Option<f64>,
        params: Option<Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let opts = options(trace_id, lang, timezone, params.as_ref())?;
        let c = self.inner.clone();
        block_on(py, async move {
            c.send_location(&thread_id, &lat.0, &lng.0, opts).await
        })
    }

    #[pyo3(signature = (thread_id, lat, lng, *, trace_id=None, lang=None, timezone=None, params=None))]
    fn send_location_async<'py>(
        &self,
        py: Python<'py>,
        thread_id: String,
        lat: Coordinate,
        lng: Coordinate,
        trace_id: Option<u64>,
        lang: Option<String>,
        timezone: Option<f64>,
        params: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let opts = options(trace_id, lang, timezone, params.as_ref())?;
        let c = self.inner.clone();
        awaitable(py, async move {
            c.send_location(&thread_id, &lat.0, &lng.0, opts).await
        })
    }

    #[pyo3(signature = (thread_id, path, media_type, *, mime_type=None, progress=None, trace_id=None, lang=None, timezone=None, params=None))]
    fn send_media(
        &self,
        py: Python<'_>,
        thread_id: String,
        path: PathBuf,
        media_type: String,
        mime_type: Option<String>,
        progress: Option<Bound<'_, PyAny>>,
        trace_id: Option<u64>,
        lang: Option<String>,
        timezone: Option<f64>,
        params: Option<Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let (upload, progress) = media(
            py,
            thread_id,
            path,
            &media_type,
            mime_type,
            progress,
            (trace_id, lang, timezone, params),
        )?;
        let c = self.inner.clone();
        block_on(py, async move { c.send_media(&upload, progress).await })
    }

    #[pyo3(signature = (thread_id, path, media_type, *, mime_type=None, progress=None, trace_id=None, lang=None, timezone=None, params=None))]
    fn send_media_async<'py>(
        &self,
        py: Python<'py>,
        thread_id: String,
        path: PathBuf,
        media_type: String,
        mime_type: Option<String>,
        progress: Option<Bound<'py, PyAny>>,
        trace_id: Option<u64>,
        lang: Option<String>,
        timezone: Option<f64>,
        params: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (upload, progress) = media(
            py,
            thread_id,
            path,
            &media_type,
            mime_type,
            progress,
            (trace_id, lang, timezone, params),
        )?;
        let c = self.inner.clone();
        awaitable(py, async move { c.send_media(&upload, progress).await })
    }

    #[pyo3(signature = (url, verify_key, events))]
    fn create_webhook(
        &self,
        py: Python<'_>,
        url: String,
        verify_key: String,
        events: Vec<String>,
    ) -> PyResult<Model> {
        let new = NewWebhook {
            url,
            verify_key: Secret::new(verify_key),
            events,
        };
        let c = self.inner.clone();
        block_on(py, async move {
            Ok(Model("Webhook", json_of(&c.create_webhook(&new).await?)?))
        })
    }

    #[pyo3(signature = (url, verify_key, events))]
    fn create_webhook_async<'py>(
        &self,
        py: Python<'py>,
        url: String,
        verify_key: String,
        events: Vec<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let new = NewWebhook {
            url,
            verify_key: Secret::new(verify_key),
            events,
        };
        let c = self.inner.clone();
        awaitable(py, async move {
            Ok(Model("Webhook", json_of(&c.create_webhook(&new).await?)?))
        })
    }

    fn get_webhook(&self, py: Python<'_>, webhook_id: String) -> PyResult<Model> {
        let c = self.inner.clone();
        block_on(py, async move {
            Ok(Model(
                "Webhook",
                json_of(&c.get_webhook(&webhook_id).await?)?,
            ))
        })
    }

    fn get_webhook_async<'py>(
        &self,
        py: Python<'py>,
        webhook_id: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let c = self.inner.clone();
        awaitable(py, async move {
            Ok(Model(
                "Webhook",
                json_of(&c.get_webhook(&webhook_id).await?)?,
            ))
        })
    }

    #[pyo3(signature = (webhook_id, *, url=None, verify_key=None, events=None))]
    fn update_webhook(
        &self,
        py: Python<'_>,
        webhook_id: String,
        url: Option<String>,
        verify_key: Option<String>,
        events: Option<Vec<String>>,
    ) -> PyResult<Model> {
        let update = WebhookUpdate {
            url,
            verify_key: verify_key.map(Secret::new),
            events,
        };
        let c = self.inner.clone();
        block_on(py, async move {
            Ok(Model(
                "Webhook",
                json_of(&c.update_webhook(&webhook_id, &update).await?)?,
            ))
        })
    }

    #[pyo3(signature = (webhook_id, *, url=None, verify_key=None, events=None))]
    fn update_webhook_async<'py>(
        &self,
        py: Python<'py>,
        webhook_id: String,
        url: Option<String>,
        verify_key: Option<String>,
        events: Option<Vec<String>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let update = WebhookUpdate {
            url,
            verify_key: verify_key.map(Secret::new),
            events,
        };
        let c = self.inner.clone();
        awaitable(py, async move {
            Ok(Model(
                "Webhook",
                json_of(&c.update_webhook(&webhook_id, &update).await?)?,
            ))
        })
    }

    fn list_webhooks(&self, py: Python<'_>) -> PyResult<Models> {
        let c = self.inner.clone();
        block_on(py, async move {
            Ok(Models("Webhook", json_list(&c.list_webhooks().await?)?))
        })
    }

    fn list_webhooks_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let c = self.inner.clone();
        awaitable(py, async move {
            Ok(Models("Webhook", json_list(&c.list_webhooks().await?)?))
        })
    }

    fn delete_webhook(&self, py: Python<'_>, webhook_id: String) -> PyResult<()> {
        let c = self.inner.clone();
        block_on(py, async move { c.delete_webhook(&webhook_id).await })
    }

    fn delete_webhook_async<'py>(
        &self,
        py: Python<'py>,
        webhook_id: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let c = self.inner.clone();
        awaitable(py, async move { c.delete_webhook(&webhook_id).await })
    }
}

/// Serialise each item of a list.
pub fn json_list<T: serde::Serialize>(items: &[T]) -> flowai_core::Result<Vec<serde_json::Value>> {
    items.iter().map(json_of).collect()
}

type OptionArgs<'py> = (
    Option<u64>,
    Option<String>,
    Option<f64>,
    Option<Bound<'py, PyAny>>,
);

fn media(
    py: Python<'_>,
    thread_id: String,
    path: PathBuf,
    media_type: &str,
    mime_type: Option<String>,
    progress: Option<Bound<'_, PyAny>>,
    (trace_id, lang, timezone, params): OptionArgs<'_>,
) -> PyResult<(MediaUpload, Option<core::ProgressFn>)> {
    let media_type: MediaType = media_type.parse().map_err(|e| to_pyerr(py, &e))?;
    let mut upload = MediaUpload::new(thread_id, path, media_type);
    upload.mime_type = mime_type;
    upload.options = options(trace_id, lang, timezone, params.as_ref())?;
    let progress = match progress {
        Some(p) if !p.is_none() => {
            let cb = Arc::new(Callback::new(py, p, "progress")?);
            let f: core::ProgressFn = Arc::new(move |sent: u64, total: u64| {
                cb.call(|py| (sent, total).into_pyobject(py));
            });
            Some(f)
        }
        _ => None,
    };
    Ok((upload, progress))
}

/// A latitude or longitude given as a string or a number; sent as a string.
#[derive(Debug)]
pub struct Coordinate(String);

impl<'a, 'py> FromPyObject<'a, 'py> for Coordinate {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(s) = obj.extract::<String>() {
            return Ok(Coordinate(s));
        }
        if obj.is_instance_of::<pyo3::types::PyBool>() {
            return Err(pyo3::exceptions::PyTypeError::new_err(
                "a coordinate must be a str or a number",
            ));
        }
        if let Ok(f) = obj.extract::<f64>() {
            return Ok(Coordinate(
                obj.str()
                    .map(|s| s.to_string())
                    .unwrap_or_else(|_| f.to_string()),
            ));
        }
        Err(pyo3::exceptions::PyTypeError::new_err(
            "a coordinate must be a str or a number",
        ))
    }
}
