//! Configuration from arguments or from the `FLOWAI_*` environment variables, the same in every language.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::tls::CaCert;

/// The default base URL of every Flow.ai endpoint.
pub const DEFAULT_API_URL: &str = "https://api.flow.ai";

/// Environment variable names, shared by every binding and the CLI.
pub mod env {
    /// Base URL for every Flow.ai endpoint (REST, management, socket.info).
    pub const API_URL: &str = "FLOWAI_API_URL";
    /// Messaging API key (bearer token).
    pub const MESSAGING_KEY: &str = "FLOWAI_MESSAGING_KEY";
    /// Management API key (bearer token).
    pub const MANAGEMENT_KEY: &str = "FLOWAI_MANAGEMENT_KEY";
    /// Client id of a socket channel.
    pub const CLIENT_ID: &str = "FLOWAI_CLIENT_ID";
    /// Base URL of an AIDA server (http(s) or ws(s)).
    pub const AIDA_URL: &str = "FLOWAI_AIDA_URL";
    /// UUID of an AIDA bot.
    pub const AIDA_BOT: &str = "FLOWAI_AIDA_BOT";
    /// Access token for an AIDA bot.
    pub const AIDA_TOKEN: &str = "FLOWAI_AIDA_TOKEN";
    /// Path of a PEM file with an extra root certificate to trust (corporate proxy, TLS emulator).
    pub const CA_CERT: &str = "FLOWAI_CA_CERT";
}

/// Everything a client needs to reach Flow.ai and AIDA.
///
/// Build it with [`Config::from_env`] and override fields, or with [`Config::new`].
/// Debug output redacts every key.
#[derive(Clone, Debug)]
pub struct Config {
    /// Base URL of every Flow.ai endpoint, without a trailing slash.
    pub api_url: String,
    /// Messaging API key.
    pub messaging_key: Option<Secret>,
    /// Management API key.
    pub management_key: Option<Secret>,
    /// Socket channel client id.
    pub client_id: Option<Secret>,
    /// AIDA server base URL.
    pub aida_url: Option<String>,
    /// AIDA bot UUID.
    pub aida_bot: Option<String>,
    /// AIDA access token.
    pub aida_token: Option<Secret>,
    /// Deadline for one HTTP request (connect + answer); uploads use their own.
    pub request_timeout: Duration,
    /// An extra root certificate trusted by every HTTPS and WSS connection, besides the
    /// platform's roots; read when a client is built.
    pub ca_cert: Option<CaCert>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            api_url: DEFAULT_API_URL.to_string(),
            messaging_key: None,
            management_key: None,
            client_id: None,
            aida_url: None,
            aida_bot: None,
            aida_token: None,
            request_timeout: Duration::from_secs(30),
            ca_cert: None,
        }
    }
}

impl Config {
    /// A configuration with the default base URL and no keys.
    pub fn new() -> Self {
        Config::default()
    }

    /// Read the `FLOWAI_*` variables; unset or empty ones keep their defaults.
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`Config::from_env`] but reading from any lookup (tests, bindings with their own env).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let mut config = Config::default();
        if let Some(url) = get(env::API_URL) {
            config.api_url = trim_base(&url);
        }
        config.messaging_key = get(env::MESSAGING_KEY).map(Secret::new);
        config.management_key = get(env::MANAGEMENT_KEY).map(Secret::new);
        config.client_id = get(env::CLIENT_ID).map(Secret::new);
        config.aida_url = get(env::AIDA_URL).map(|u| trim_base(&u));
        config.aida_bot = get(env::AIDA_BOT);
        config.aida_token = get(env::AIDA_TOKEN).map(Secret::new);
        config.ca_cert = get(env::CA_CERT).map(|path| CaCert::file(path.trim()));
        config
    }

    /// Set the base URL (a trailing slash is dropped).
    pub fn with_api_url(mut self, url: impl AsRef<str>) -> Self {
        self.api_url = trim_base(url.as_ref());
        self
    }

    /// Set the messaging key.
    pub fn with_messaging_key(mut self, key: impl Into<String>) -> Self {
        self.messaging_key = Some(Secret::new(key));
        self
    }

    /// Set the management key.
    pub fn with_management_key(mut self, key: impl Into<String>) -> Self {
        self.management_key = Some(Secret::new(key));
        self
    }

    /// Set the socket client id.
    pub fn with_client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = Some(Secret::new(id));
        self
    }

    /// Trust an extra root certificate.
    pub fn with_ca_cert(mut self, ca: CaCert) -> Self {
        self.ca_cert = Some(ca);
        self
    }

    /// Check that `api_url` is an http(s) URL.
    pub fn validate_api_url(&self) -> Result<url::Url> {
        parse_http_url(&self.api_url, env::API_URL)
    }

    /// The messaging key, or a clear error naming the variable to set.
    pub fn require_messaging_key(&self) -> Result<&Secret> {
        require(
            self.messaging_key.as_ref(),
            "messaging key",
            env::MESSAGING_KEY,
        )
    }

    /// The management key, or a clear error naming the variable to set.
    pub fn require_management_key(&self) -> Result<&Secret> {
        require(
            self.management_key.as_ref(),
            "management key",
            env::MANAGEMENT_KEY,
        )
    }

    /// The client id, or a clear error naming the variable to set.
    pub fn require_client_id(&self) -> Result<&Secret> {
        require(self.client_id.as_ref(), "client id", env::CLIENT_ID)
    }
}

fn require<'a>(value: Option<&'a Secret>, what: &str, var: &str) -> Result<&'a Secret> {
    match value {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(Error::invalid(format!(
            "no {what} given: pass one or set {var}"
        ))),
    }
}

fn trim_base(url: &str) -> String {
    url.trim().trim_end_matches('/').to_string()
}

/// Parse `value` as an http or https URL; `what` names it in the error.
pub fn parse_http_url(value: &str, what: &str) -> Result<url::Url> {
    let url = url::Url::parse(value)
        .map_err(|e| Error::invalid(format!("{what} is not a valid URL: {e}")))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(Error::invalid(format!(
            "{what} must be http or https, not {other}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lookup_and_trims() {
        let c = Config::from_lookup(|name| match name {
            "FLOWAI_API_URL" => Some("http://127.0.0.1:9/".into()),
            "FLOWAI_MESSAGING_KEY" => Some("mk-secret".into()),
            "FLOWAI_MANAGEMENT_KEY" => Some("  ".into()),
            _ => None,
        });
        assert_eq!(c.api_url, "http://127.0.0.1:9");
        assert_eq!(
            c.messaging_key.as_ref().map(Secret::expose),
            Some("mk-secret")
        );
        assert!(c.management_key.is_none());
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("mk-secret"), "{dbg}");
    }

    #[test]
    fn missing_key_names_the_variable() {
        let err = Config::new().require_messaging_key().unwrap_err();
        assert!(err.message().contains("FLOWAI_MESSAGING_KEY"));
    }

    #[test]
    fn rejects_non_http_url() {
        let c = Config::new().with_api_url("ftp://x");
        assert!(c.validate_api_url().is_err());
    }
}
