//! Shared HTTP plumbing: one reqwest client per object, bearer auth, error bodies mapped to [`Error`].

use std::fmt;

use reqwest::{Method, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// The `User-Agent` every request carries: `flowai/<version>`.
pub const USER_AGENT: &str = concat!("flowai/", env!("CARGO_PKG_VERSION"));

/// The answer header naming a request, copied into errors.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// How many bytes of an error body are read at most; the rest is not needed for a message.
const MAX_ERROR_BODY: usize = 16 * 1024;

/// Build the one reqwest client an API object uses.
///
/// Redirects are not followed: a 3xx is reported as an error, so a bearer key never
/// travels to a host the caller did not name. `request_timeout` bounds connecting and
/// each read; whole-request deadlines are set per request (uploads have none).
pub fn build_client(config: &Config) -> Result<reqwest::Client> {
    let builder = reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(config.request_timeout)
        .read_timeout(config.request_timeout);
    crate::tls::add_roots(builder, config.ca_cert.as_ref())?
        .build()
        .map_err(|e| Error::internal(format!("cannot build the HTTP client: {e}")))
}

/// A client for one API: a base URL (e.g. `{api_url}/v1/messaging`) and a bearer key.
///
/// Debug shows neither the key nor the URL.
#[derive(Clone)]
pub struct ApiClient {
    client: reqwest::Client,
    base: url::Url,
    key: Secret,
    timeout: std::time::Duration,
}

impl fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiClient")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl ApiClient {
    /// A client for `{config.api_url}/{prefix...}` authenticated with `key`.
    pub fn new(config: &Config, prefix: &[&str], key: Secret) -> Result<Self> {
        let mut base = config.validate_api_url()?;
        if base.cannot_be_a_base() {
            return Err(Error::invalid("FLOWAI_API_URL cannot be a base URL"));
        }
        extend_path(&mut base, prefix)?;
        Ok(ApiClient {
            client: build_client(config)?,
            base,
            key,
            timeout: config.request_timeout,
        })
    }

    /// The URL of `segments` under the base; each segment is percent-encoded, so an id
    /// can never change the path.
    pub fn url(&self, segments: &[&str]) -> Result<url::Url> {
        let mut url = self.base.clone();
        extend_path(&mut url, segments)?;
        Ok(url)
    }

    /// A request with the bearer key and the per-request deadline.
    pub fn request(&self, method: Method, segments: &[&str]) -> Result<RequestBuilder> {
        Ok(self
            .request_without_deadline(method, segments)?
            .timeout(self.timeout))
    }

    /// A request with the bearer key and no overall deadline (long uploads).
    pub fn request_without_deadline(
        &self,
        method: Method,
        segments: &[&str],
    ) -> Result<RequestBuilder> {
        let url = self.url(segments)?;
        Ok(self
            .client
            .request(method, url)
            .bearer_auth(self.key.expose()))
    }
}

fn extend_path(url: &mut url::Url, segments: &[&str]) -> Result<()> {
    let mut path = url
        .path_segments_mut()
        .map_err(|()| Error::invalid("the API URL cannot be a base URL"))?;
    path.pop_if_empty().extend(segments);
    Ok(())
}

/// Send a request and decode a success body as `T`; any other status becomes an [`Error`]
/// carrying the status and the service's own message.
pub async fn send_json<T: DeserializeOwned>(request: RequestBuilder) -> Result<T> {
    let response = checked(request.send().await?).await?;
    let bytes = response.bytes().await?;
    serde_json::from_slice(&bytes).map_err(Error::from)
}

/// Send a request and expect a 2xx; the body is ignored.
pub async fn send_empty(request: RequestBuilder) -> Result<()> {
    checked(request.send().await?).await.map(drop)
}

/// Send a request and expect `{"status": "ok"}`.
pub async fn send_expect_ok(request: RequestBuilder) -> Result<()> {
    let body: Value = send_json(request).await?;
    let status = body.get("status").and_then(Value::as_str).unwrap_or("");
    if status.eq_ignore_ascii_case("ok") {
        Ok(())
    } else {
        Err(Error::protocol(
            "the service did not answer {\"status\": \"ok\"}",
        ))
    }
}

/// The response itself when its status is 2xx, else the error it describes, with the
/// service's request id (`x-request-id`) when it gave one.
pub async fn checked(response: Response) -> Result<Response> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let request_id = request_id(&response);
    let detail = read_error_detail(response).await;
    Err(Error::from_status(status.as_u16(), &detail).with_request_id(request_id))
}

/// The `x-request-id` header of an answer (at most 200 characters).
pub fn request_id(response: &Response) -> Option<String> {
    response
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(200).collect())
}

/// The service's message from an error body: the `message` (or `error`) field of a JSON
/// body, or the body text itself.
pub(crate) async fn read_error_detail(mut response: Response) -> String {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        body.extend_from_slice(&chunk);
        if body.len() >= MAX_ERROR_BODY {
            break;
        }
    }
    error_detail(&body)
}

/// The human part of an error body.
pub fn error_detail(body: &[u8]) -> String {
    if let Ok(value) = serde_json::from_slice::<Value>(body) {
        for field in ["message", "error"] {
            if let Some(text) = value.get(field).and_then(Value::as_str) {
                return text.to_string();
            }
        }
    }
    String::from_utf8_lossy(body).trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detail_prefers_json_message() {
        assert_eq!(
            error_detail(br#"{"status":"error","message":"bad thread"}"#),
            "bad thread"
        );
        assert_eq!(error_detail(b"  plain text "), "plain text");
    }

    #[test]
    fn segments_are_encoded() {
        let config = Config::new().with_api_url("http://127.0.0.1:9/base/");
        let api = ApiClient::new(&config, &["v1", "messaging"], Secret::new("k")).unwrap();
        let url = api.url(&["webhooks", "a/../b?c"]).unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:9/base/v1/messaging/webhooks/a%2F..%2Fb%3Fc"
        );
        let api = ApiClient::new(&config, &[], Secret::new("sk-hidden-77")).unwrap();
        assert!(!format!("{api:?}").contains("sk-hidden-77"));
    }
}
