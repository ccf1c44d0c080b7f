//! `socket.info`: asks the service for a fresh single-use websocket endpoint, and the thread REST calls that share its headers.

use std::time::Duration;

use serde_json::Value;

use crate::error::{Error, ErrorKind, Result};
use crate::secret::Secret;

/// Who the session is, as sent on every socket.info and thread call.
#[derive(Clone)]
pub(crate) struct Identity {
    pub api_url: String,
    pub client_id: Secret,
    pub session_id: String,
    pub thread_id: String,
}

/// A fresh endpoint and the nonce that came with it.
pub(crate) struct Endpoint {
    /// The ws(s) URL; single-use, so it is a secret.
    pub url: Secret,
    /// A top-level `secret` of the answer.
    pub secret: Option<Secret>,
}

impl Identity {
    /// Add the identity headers (the official SDK's form) to a request.
    pub fn headers(
        &self,
        req: reqwest::RequestBuilder,
        secret: Option<&Secret>,
    ) -> reqwest::RequestBuilder {
        let req = req
            .header("x-flowai-clientid", self.client_id.expose())
            .header("x-flowai-sessionid", &self.session_id)
            .header("x-flowai-threadid", &self.thread_id);
        match secret {
            Some(s) => req.header("x-flowai-secret", s.expose()),
            None => req,
        }
    }

    /// `{api_url}/{path}` with the identity in the query string too (the seeds' form).
    fn url(&self, path: &str) -> Result<url::Url> {
        let mut url = crate::config::parse_http_url(
            &format!("{}/{path}", self.api_url),
            crate::config::env::API_URL,
        )?;
        url.query_pairs_mut()
            .append_pair("clientId", self.client_id.expose())
            .append_pair("sessionId", &self.session_id)
            .append_pair("threadId", &self.thread_id);
        Ok(url)
    }

    /// GET socket.info. Errors keep the HTTP status so the caller can tell final from retryable.
    pub async fn socket_info(
        &self,
        http: &reqwest::Client,
        secret: Option<&Secret>,
        timeout: Duration,
    ) -> Result<Endpoint> {
        let req = self
            .headers(http.get(self.url("socket.info")?), secret)
            .timeout(timeout);
        let body = send_json(req).await?;
        let status_ok = body
            .get("status")
            .and_then(Value::as_str)
            .is_some_and(|s| s.eq_ignore_ascii_case("ok"));
        if !status_ok {
            return Err(Error::protocol(format!(
                "socket.info did not answer status ok: {}",
                detail(&body)
            )));
        }
        let endpoint = body
            .get("payload")
            .and_then(|p| p.get("endpoint"))
            .and_then(Value::as_str)
            .ok_or_else(|| Error::protocol("socket.info answered without payload.endpoint"))?;
        let url = websocket_url(endpoint)?;
        let secret = body
            .get("secret")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(Secret::new);
        Ok(Endpoint {
            url: Secret::new(url),
            secret,
        })
    }

    /// GET a thread call (`thread.history`, `thread.unnoticed`) and return its JSON.
    pub async fn get_json(
        &self,
        http: &reqwest::Client,
        path: &str,
        secret: Option<&Secret>,
        timeout: Duration,
    ) -> Result<Value> {
        let req = self
            .headers(http.get(self.url(path)?), secret)
            .timeout(timeout);
        send_json(req).await
    }

    /// POST a multipart form to a thread call (`thread.upload`).
    pub async fn post_multipart(
        &self,
        http: &reqwest::Client,
        path: &str,
        form: reqwest::multipart::Form,
        secret: Option<&Secret>,
    ) -> Result<Value> {
        let req = self
            .headers(http.post(self.url(path)?), secret)
            .multipart(form);
        send_json(req).await
    }
}

/// Whether a socket.info error must end the session instead of being retried.
pub(crate) fn is_final(err: &Error) -> bool {
    matches!(err.status(), Some(400 | 401 | 403)) || err.kind() == ErrorKind::InvalidArgument
}

async fn send_json(req: reqwest::RequestBuilder) -> Result<Value> {
    let resp = req.send().await?;
    let status = resp.status();
    let bytes = resp.bytes().await?;
    if !status.is_success() {
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        return Err(Error::from_status(status.as_u16(), &detail(&body)));
    }
    serde_json::from_slice(&bytes).map_err(Error::from)
}

fn detail(body: &Value) -> String {
    match body.get("message") {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

/// Accept ws(s) URLs, and http(s) ones mapped to ws(s).
fn websocket_url(endpoint: &str) -> Result<String> {
    let url = url::Url::parse(endpoint)
        .map_err(|e| Error::protocol(format!("socket.info endpoint is not a URL: {e}")))?;
    let scheme = match url.scheme() {
        "ws" | "http" => "ws",
        "wss" | "https" => "wss",
        _ => return Err(Error::protocol("socket.info endpoint is not a ws(s) URL")),
    };
    let rest = &endpoint[url.scheme().len()..];
    Ok(format!("{scheme}{rest}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_http_to_ws() {
        assert_eq!(websocket_url("https://a/ws/1").unwrap(), "wss://a/ws/1");
        assert_eq!(websocket_url("ws://a/ws/1").unwrap(), "ws://a/ws/1");
        assert!(websocket_url("ftp://a").is_err());
        let e = websocket_url("nope").unwrap_err();
        assert!(!e.message().contains("nope"));
    }

    #[test]
    fn final_statuses() {
        assert!(is_final(&Error::from_status(401, "")));
        assert!(is_final(&Error::from_status(400, "")));
        assert!(!is_final(&Error::from_status(503, "")));
        assert!(!is_final(&Error::connection("x")));
    }
}
