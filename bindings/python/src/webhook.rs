//! `WebhookReceiver` (the embedded server calling `on_event`) and `verify_and_parse` for apps with their own server.

use std::sync::Mutex;

use flowai_core::Secret;
use flowai_core::webhook::{ReceiverOptions, Verifier, WebhookReceiver as CoreReceiver};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyMapping, PyString, PyTuple};

use crate::bridge::{Callback, Model, awaitable, block_on, model, to_pyerr};

/// An embedded HTTP server receiving Flow.ai webhook calls on loopback.
///
/// Every call is verified (constant time) before it is parsed; verified, new events go to
/// `on_event` one at a time, in arrival order. When `on_event` raises, the exception goes
/// to `sys.unraisablehook` and the sender gets a 500 (so it retries later); returning
/// `False` declines the event the same way. Use it as a context manager to stop it.
#[pyclass(module = "flowai._flowai", frozen)]
#[derive(Debug)]
pub struct WebhookReceiver {
    server: Mutex<Option<CoreReceiver>>,
    url: String,
    port: u16,
}

#[pymethods]
impl WebhookReceiver {
    #[new]
    #[pyo3(signature = (verify_key, on_event, *, host="127.0.0.1", port=0, path="/webhook", verify_header="X-Flowai-Verify-Key", max_body_bytes=1048576, queue_capacity=1024))]
    fn new(
        py: Python<'_>,
        verify_key: String,
        on_event: Bound<'_, PyAny>,
        host: &str,
        port: u16,
        path: &str,
        verify_header: &str,
        max_body_bytes: usize,
        queue_capacity: usize,
    ) -> PyResult<Self> {
        let callback = Callback::new(py, on_event, "on_event")?;
        let ip: std::net::IpAddr = host.parse().map_err(|_| {
            to_pyerr(
                py,
                &flowai_core::Error::invalid("host must be an IP address"),
            )
        })?;
        let mut options = ReceiverOptions::new(Secret::new(verify_key));
        options.addr = std::net::SocketAddr::new(ip, port);
        options.path = path.to_string();
        options.verify_header = verify_header.to_string();
        options.max_body_bytes = max_body_bytes;
        options.queue_capacity = queue_capacity;
        let handler = move |event: flowai_core::models::WebhookEvent| -> bool {
            let value = event.to_value();
            Python::try_attach(|py| {
                let event = match model(py, "Event", &value) {
                    Ok(e) => e,
                    Err(err) => {
                        err.write_unraisable(py, None);
                        return false;
                    }
                };
                callback.deliver_acked(py, event)
            })
            .unwrap_or(false)
        };
        let server = block_on(
            py,
            async move { CoreReceiver::bind(options, handler).await },
        )?;
        let url = server.url();
        let port = server.local_addr().port();
        Ok(WebhookReceiver {
            server: Mutex::new(Some(server)),
            url,
            port,
        })
    }

    /// The URL to register as the webhook, e.g. `http://127.0.0.1:PORT/webhook`.
    #[getter]
    fn url(&self) -> &str {
        &self.url
    }

    /// The port the server listens on.
    #[getter]
    fn port(&self) -> u16 {
        self.port
    }

    /// Whether the receiver has been closed.
    #[getter]
    fn closed(&self) -> bool {
        self.server
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_none()
    }

    fn __repr__(&self) -> String {
        format!("WebhookReceiver(port={})", self.port)
    }

    /// Stop the server: calls in progress finish, then it ends. Closing twice is fine.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        match self.take() {
            Some(server) => block_on(py, async move {
                server.shutdown().await;
                Ok(())
            }),
            None => Ok(()),
        }
    }

    fn close_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let server = self.take();
        awaitable(py, async move {
            if let Some(server) = server {
                server.shutdown().await;
            }
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
        let server = self.take();
        awaitable(py, async move {
            if let Some(server) = server {
                server.shutdown().await;
            }
            Ok(false)
        })
    }
}

impl WebhookReceiver {
    /// Take the server out to stop it (None when already closed).
    fn take(&self) -> Option<CoreReceiver> {
        self.server.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

/// Verify a webhook call received by your own HTTP server and parse it into an `Event`.
///
/// `headers` is a mapping or a list of `(name, value)` pairs (names match in any case),
/// `body` the raw bytes (or str). A wrong or missing key raises `VerificationError`; a
/// verified body that is not a `{type, payload}` object raises `ProtocolError`.
#[pyfunction]
#[pyo3(signature = (headers, body, verify_key, query=None, *, verify_header="X-Flowai-Verify-Key"))]
pub fn verify_and_parse<'py>(
    py: Python<'py>,
    headers: &Bound<'py, PyAny>,
    body: &Bound<'py, PyAny>,
    verify_key: String,
    query: Option<String>,
    verify_header: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let pairs = header_pairs(headers)?;
    let body: Vec<u8> = if let Ok(b) = body.cast::<PyBytes>() {
        b.as_bytes().to_vec()
    } else if let Ok(s) = body.cast::<PyString>() {
        s.to_str()?.as_bytes().to_vec()
    } else if let Ok(v) = body.extract::<Vec<u8>>() {
        v
    } else {
        return Err(PyTypeError::new_err("body must be bytes or str"));
    };
    let event = Verifier::new(Secret::new(verify_key))
        .and_then(|v| v.with_header_name(verify_header))
        .and_then(|v| {
            v.verify_and_parse_pairs(
                pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())),
                query.as_deref(),
                &body,
            )
        })
        .map_err(|e| to_pyerr(py, &e))?;
    Model("Event", event.to_value()).into_pyobject(py)
}

fn header_pairs(headers: &Bound<'_, PyAny>) -> PyResult<Vec<(String, String)>> {
    let items = if let Ok(map) = headers.cast::<PyMapping>() {
        map.items()?.into_any()
    } else {
        headers.clone()
    };
    let mut pairs = Vec::new();
    for item in items
        .try_iter()
        .map_err(|_| PyTypeError::new_err("headers must be a mapping or (name, value) pairs"))?
    {
        let (name, value): (String, String) = item?
            .extract()
            .map_err(|_| PyTypeError::new_err("headers must map str names to str values"))?;
        pairs.push((name, value));
    }
    Ok(pairs)
}
