//! `AidaClient` and `AidaSession`: conversations with an AIDA bot over its Phoenix channel, blocking and asyncio.

use std::path::PathBuf;
use std::sync::Arc;

use flowai_core::aida::{self as core, AidaOptions, BotMessage, ImageSource};
use flowai_core::{Config, Secret};
use pyo3::exceptions::{PyStopAsyncIteration, PyStopIteration, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};
use serde_json::json;

use crate::bridge::{Json, Model, awaitable, block_on, from_py, runtime, to_pyerr};
use crate::messaging::duration;

/// Raw image bytes handed to Python as `bytes`.
#[derive(Debug)]
pub struct Bytes(bytes::Bytes);

impl<'py> IntoPyObject<'py> for Bytes {
    type Target = PyBytes;
    type Output = Bound<'py, PyBytes>;
    type Error = std::convert::Infallible;

    fn into_pyobject(self, py: Python<'py>) -> Result<Self::Output, Self::Error> {
        Ok(PyBytes::new(py, &self.0))
    }
}

fn message(m: BotMessage) -> Model {
    Model(
        "AidaMessage",
        json!({ "session": m.session, "text": m.text, "payload": m.payload }),
    )
}

/// A connection to one AIDA bot (one websocket, one channel `bot:<uuid>`); sessions share it.
///
/// AIDA sends every session's replies to every client joined to the bot; each
/// `AidaSession` only yields its own.
#[pyclass(module = "flowai._flowai", frozen)]
#[derive(Debug)]
pub struct AidaClient {
    inner: core::AidaClient,
}

fn aida_options(
    url: Option<String>,
    bot: Option<String>,
    token: Option<String>,
    timeout: Option<f64>,
) -> flowai_core::Result<AidaOptions> {
    let mut config = Config::from_env();
    if let Some(url) = url {
        config.aida_url = Some(url);
    }
    if let Some(bot) = bot {
        config.aida_bot = Some(bot);
    }
    if let Some(token) = token {
        config.aida_token = Some(Secret::new(token));
    }
    if let Some(t) = timeout {
        config.request_timeout = duration(t, "timeout")?;
    }
    AidaOptions::from_config(&config)
}

#[pymethods]
impl AidaClient {
    /// Connect and join the bot's channel; a refused join raises `AuthenticationError`.
    #[staticmethod]
    #[pyo3(signature = (*, url=None, bot=None, token=None, timeout=None))]
    fn connect(
        py: Python<'_>,
        url: Option<String>,
        bot: Option<String>,
        token: Option<String>,
        timeout: Option<f64>,
    ) -> PyResult<AidaClient> {
        let options = aida_options(url, bot, token, timeout).map_err(|e| to_pyerr(py, &e))?;
        block_on(py, async move {
            Ok(AidaClient {
                inner: core::AidaClient::connect(options).await?,
            })
        })
    }

    #[staticmethod]
    #[pyo3(signature = (*, url=None, bot=None, token=None, timeout=None))]
    fn connect_async<'py>(
        py: Python<'py>,
        url: Option<String>,
        bot: Option<String>,
        token: Option<String>,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let options = aida_options(url, bot, token, timeout).map_err(|e| to_pyerr(py, &e))?;
        awaitable(py, async move {
            Ok(AidaClient {
                inner: core::AidaClient::connect(options).await?,
            })
        })
    }

    /// The bot UUID.
    #[getter]
    fn bot(&self) -> &str {
        self.inner.bot()
    }

    /// Whether the websocket is open right now.
    #[getter]
    fn connected(&self) -> bool {
        self.inner.is_connected()
    }

    fn __repr__(&self) -> String {
        format!("AidaClient(bot={:?})", self.inner.bot())
    }

    /// Start a session; `data` is merged into the session's data on the server.
    #[pyo3(signature = (data=None))]
    fn new_session(&self, py: Python<'_>, data: Option<Bound<'_, PyAny>>) -> PyResult<AidaSession> {
        let data = data.map(|d| from_py(&d, "data")).transpose()?;
        let c = self.inner.clone();
        block_on(py, async move {
            Ok(AidaSession::wrap(c.new_session(data).await?))
        })
    }

    #[pyo3(signature = (data=None))]
    fn new_session_async<'py>(
        &self,
        py: Python<'py>,
        data: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let data = data.map(|d| from_py(&d, "data")).transpose()?;
        let c = self.inner.clone();
        awaitable(py, async move {
            Ok(AidaSession::wrap(c.new_session(data).await?))
        })
    }

    /// A handle to an existing session by id (replies sent before this call are not seen).
    fn session(&self, session_id: String) -> AidaSession {
        AidaSession::wrap(self.inner.session(session_id))
    }

    /// The bytes of an image by id.
    fn fetch_image(&self, py: Python<'_>, image_id: String) -> PyResult<Bytes> {
        let c = self.inner.clone();
        block_on(
            py,
            async move { Ok(Bytes(c.download_image(&image_id).await?)) },
        )
    }

    fn fetch_image_async<'py>(
        &self,
        py: Python<'py>,
        image_id: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let c = self.inner.clone();
        awaitable(
            py,
            async move { Ok(Bytes(c.download_image(&image_id).await?)) },
        )
    }

    /// Close the connection; sessions on it then raise `ClosedError`.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let c = self.inner.clone();
        block_on(py, async move {
            c.close().await;
            Ok(())
        })
    }

    fn close_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let c = self.inner.clone();
        awaitable(py, async move {
            c.close().await;
            Ok(())
        })
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    fn __aenter__<'py>(slf: Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let me = slf.clone().unbind();
        awaitable(slf.py(), async move { Ok(me) })
    }

    #[pyo3(signature = (*_args))]
    fn __aexit__<'py>(
        &self,
        py: Python<'py>,
        _args: &Bound<'py, PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let c = self.inner.clone();
        awaitable(py, async move {
            c.close().await;
            Ok(false)
        })
    }
}

/// One conversation with the bot; iterate it (`for` / `async for`) or call `recv` for replies.
#[pyclass(module = "flowai._flowai", frozen)]
#[derive(Debug)]
pub struct AidaSession {
    inner: Arc<core::AidaSession>,
}

impl AidaSession {
    fn wrap(inner: core::AidaSession) -> Self {
        AidaSession {
            inner: Arc::new(inner),
        }
    }
}

fn image_source(obj: &Bound<'_, PyAny>) -> PyResult<ImageSource> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(ImageSource::Bytes(bytes::Bytes::copy_from_slice(
            b.as_bytes(),
        )));
    }
    obj.extract::<PathBuf>()
        .map(ImageSource::Path)
        .map_err(|_| PyTypeError::new_err("image must be bytes or a path"))
}

#[pymethods]
impl AidaSession {
    /// The session id given by the server.
    #[getter]
    fn id(&self) -> &str {
        self.inner.id()
    }

    fn __repr__(&self) -> String {
        format!("AidaSession(id={:?})", self.inner.id())
    }

    /// Send the user's text; returns the server's acknowledgement.
    fn send_text(&self, py: Python<'_>, text: String) -> PyResult<Json> {
        let s = self.inner.clone();
        block_on(py, async move { Ok(Json(s.send_text(&text).await?)) })
    }

    fn send_text_async<'py>(&self, py: Python<'py>, text: String) -> PyResult<Bound<'py, PyAny>> {
        let s = self.inner.clone();
        awaitable(py, async move { Ok(Json(s.send_text(&text).await?)) })
    }

    /// Merge `data` into the session's data on the server.
    fn put_data(&self, py: Python<'_>, data: Bound<'_, PyAny>) -> PyResult<Json> {
        let data = from_py(&data, "data")?;
        let s = self.inner.clone();
        block_on(py, async move { Ok(Json(s.put_data(data).await?)) })
    }

    fn put_data_async<'py>(
        &self,
        py: Python<'py>,
        data: Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let data = from_py(&data, "data")?;
        let s = self.inner.clone();
        awaitable(py, async move { Ok(Json(s.put_data(data).await?)) })
    }

    /// Upload an image (a path or bytes) and send it; returns the image id.
    #[pyo3(signature = (image, *, filename="image.png", content_type="image/png"))]
    fn send_image(
        &self,
        py: Python<'_>,
        image: Bound<'_, PyAny>,
        filename: &str,
        content_type: &str,
    ) -> PyResult<String> {
        let source = image_source(&image)?;
        let (filename, content_type) = (filename.to_owned(), content_type.to_owned());
        let s = self.inner.clone();
        block_on(py, async move {
            s.send_image(source, &filename, &content_type).await
        })
    }

    #[pyo3(signature = (image, *, filename="image.png", content_type="image/png"))]
    fn send_image_async<'py>(
        &self,
        py: Python<'py>,
        image: Bound<'py, PyAny>,
        filename: &str,
        content_type: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let source = image_source(&image)?;
        let (filename, content_type) = (filename.to_owned(), content_type.to_owned());
        let s = self.inner.clone();
        awaitable(py, async move {
            s.send_image(source, &filename, &content_type).await
        })
    }

    /// Delete the session on the server; afterwards calls raise `ClosedError`.
    fn delete(&self, py: Python<'_>) -> PyResult<()> {
        let s = self.inner.clone();
        block_on(py, async move { s.delete().await })
    }

    fn delete_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let s = self.inner.clone();
        awaitable(py, async move { s.delete().await })
    }

    /// The next reply of the bot for this session, waiting at most `timeout` seconds
    /// (None: no limit); None on timeout or once the session ended.
    #[pyo3(signature = (timeout=None))]
    fn recv(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<Model>> {
        let limit = timeout
            .map(|t| duration(t, "timeout"))
            .transpose()
            .map_err(|e| to_pyerr(py, &e))?;
        let s = self.inner.clone();
        block_on(py, async move {
            let got = match limit {
                Some(limit) => tokio::time::timeout(limit, s.recv()).await.ok().flatten(),
                None => s.recv().await,
            };
            Ok(got.map(message))
        })
    }

    #[pyo3(signature = (timeout=None))]
    fn recv_async<'py>(
        &self,
        py: Python<'py>,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let limit = timeout
            .map(|t| duration(t, "timeout"))
            .transpose()
            .map_err(|e| to_pyerr(py, &e))?;
        let s = self.inner.clone();
        awaitable(py, async move {
            let got = match limit {
                Some(limit) => tokio::time::timeout(limit, s.recv()).await.ok().flatten(),
                None => s.recv().await,
            };
            Ok(got.map(message))
        })
    }

    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Model> {
        let s = self.inner.clone();
        match block_on(py, async move { Ok(s.recv().await) })? {
            Some(m) => Ok(message(m)),
            None => Err(PyStopIteration::new_err(())),
        }
    }

    fn __aiter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __anext__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let s = self.inner.clone();
        runtime()?;
        pyo3_async_runtimes::tokio::future_into_py(py, async move {
            match s.recv().await {
                Some(m) => Ok(message(m)),
                None => Err(PyStopAsyncIteration::new_err(())),
            }
        })
    }
}
