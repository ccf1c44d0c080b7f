//! Client options from JS, layered over the `FLOWAI_*` environment variables.

use std::fmt;
use std::time::Duration;

use flowai_core::tls::CaCert;
use flowai_core::{Config, Error, Secret};
use napi_derive::napi;

/// Connection settings; anything left out comes from the `FLOWAI_*` environment variables.
#[napi(object)]
#[derive(Default)]
pub struct ClientOptions {
    /// Base URL of every Flow.ai endpoint (FLOWAI_API_URL).
    pub api_url: Option<String>,
    /// Messaging API key (FLOWAI_MESSAGING_KEY).
    pub messaging_key: Option<String>,
    /// Management API key (FLOWAI_MANAGEMENT_KEY).
    pub management_key: Option<String>,
    /// Socket channel client id (FLOWAI_CLIENT_ID).
    pub client_id: Option<String>,
    /// AIDA server base URL (FLOWAI_AIDA_URL).
    pub aida_url: Option<String>,
    /// AIDA bot UUID (FLOWAI_AIDA_BOT).
    pub aida_bot: Option<String>,
    /// AIDA access token (FLOWAI_AIDA_TOKEN).
    pub aida_token: Option<String>,
    /// Deadline of one HTTP request in milliseconds (default 30000).
    pub request_timeout_ms: Option<u32>,
    /// Path of a PEM file with an extra root certificate to trust (FLOWAI_CA_CERT).
    pub ca_cert: Option<String>,
}

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |v: &Option<String>| v.as_ref().map(|_| "[REDACTED]");
        f.debug_struct("ClientOptions")
            .field("api_url", &self.api_url)
            .field("messaging_key", &set(&self.messaging_key))
            .field("management_key", &set(&self.management_key))
            .field("client_id", &set(&self.client_id))
            .field("aida_url", &self.aida_url)
            .field("aida_bot", &self.aida_bot)
            .field("aida_token", &set(&self.aida_token))
            .field("request_timeout_ms", &self.request_timeout_ms)
            .field("ca_cert", &self.ca_cert)
            .finish()
    }
}

impl ClientOptions {
    /// The core configuration: environment first, then every option that is given.
    pub(crate) fn into_config(self) -> Result<Config, Error> {
        let mut config = Config::from_env();
        if let Some(url) = self.api_url {
            config = config.with_api_url(url);
        }
        if let Some(key) = self.messaging_key {
            config = config.with_messaging_key(key);
        }
        if let Some(key) = self.management_key {
            config = config.with_management_key(key);
        }
        if let Some(id) = self.client_id {
            config = config.with_client_id(id);
        }
        if let Some(url) = self.aida_url {
            config.aida_url = Some(url.trim().trim_end_matches('/').to_string());
        }
        if let Some(bot) = self.aida_bot {
            config.aida_bot = Some(bot);
        }
        if let Some(token) = self.aida_token {
            config.aida_token = Some(Secret::new(token));
        }
        if let Some(path) = self.ca_cert {
            config = config.with_ca_cert(CaCert::file(path.trim()));
        }
        if let Some(ms) = self.request_timeout_ms {
            if ms == 0 {
                return Err(Error::invalid("requestTimeoutMs must be positive"));
            }
            config.request_timeout = Duration::from_millis(u64::from(ms));
        }
        Ok(config)
    }
}

/// The configuration for optional JS options.
pub(crate) fn config_from(options: Option<ClientOptions>) -> napi::Result<Config> {
    options
        .unwrap_or_default()
        .into_config()
        .map_err(crate::js_error)
}
