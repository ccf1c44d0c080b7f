//! TLS for every connection the SDK opens: rustls with the aws-lc-rs provider only, the platform's roots plus an optional extra CA.
//!
//! HTTPS goes through reqwest (which uses the same provider and the platform verifier);
//! websockets (Flow socket, Phoenix/AIDA) get a rustls [`ClientConfig`] built here the
//! same way, so both trust exactly the same certificates.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use rustls::ClientConfig;
use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::error::{Error, Result};

/// An extra root certificate to trust besides the platform's (a corporate proxy, the
/// emulator started with TLS). Certificates are public: Debug shows them as they are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaCert {
    /// A PEM file (one or more certificates), read whenever a client is built.
    File(PathBuf),
    /// PEM text (one or more certificates).
    Pem(String),
}

impl CaCert {
    /// A PEM file, read when a client is built.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        CaCert::File(path.into())
    }

    /// PEM text.
    pub fn pem(text: impl Into<String>) -> Self {
        CaCert::Pem(text.into())
    }

    fn pem_bytes(&self) -> Result<Vec<u8>> {
        match self {
            CaCert::Pem(text) => Ok(text.as_bytes().to_vec()),
            CaCert::File(path) => std::fs::read(path).map_err(|e| {
                Error::invalid(format!(
                    "cannot read the CA certificate file {}: {e}",
                    path.display()
                ))
            }),
        }
    }

    /// The certificates it holds; an unreadable file, a PEM without a certificate or a
    /// certificate rustls cannot use is an `InvalidArgument` error.
    pub fn certificates(&self) -> Result<Vec<CertificateDer<'static>>> {
        parse_certificates(&self.pem_bytes()?)
    }
}

fn parse_certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::invalid(format!("the CA certificate is not valid PEM: {e}")))?;
    if certs.is_empty() {
        return Err(Error::invalid(
            "the CA certificate PEM holds no CERTIFICATE block",
        ));
    }
    // Parse them as trust anchors now, so a bad one is reported here and not as a
    // handshake failure later.
    let mut store = RootCertStore::empty();
    for cert in &certs {
        store
            .add(cert.clone())
            .map_err(|e| Error::invalid(format!("the CA certificate cannot be used: {e}")))?;
    }
    Ok(certs)
}

/// The one crypto provider of the SDK (aws-lc-rs), shared by every config built here.
/// The process-wide default provider is neither read nor installed.
pub fn crypto_provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .clone()
}

/// A rustls client config trusting the platform's roots (the bundled Mozilla roots when
/// the platform has none) plus `ca`.
pub fn client_config(ca: Option<&CaCert>) -> Result<Arc<ClientConfig>> {
    let extra = match ca {
        Some(ca) => ca.certificates()?,
        None => Vec::new(),
    };
    build_client_config(extra).map(Arc::new)
}

fn build_client_config(extra: Vec<CertificateDer<'static>>) -> Result<ClientConfig> {
    let provider = crypto_provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::internal(format!("cannot set up TLS: {e}")))?;
    match rustls_platform_verifier::Verifier::new_with_extra_roots(extra.clone(), provider) {
        Ok(verifier) => Ok(builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth()),
        Err(e) => {
            // Only a platform without any CA store gets here (the extra roots were
            // checked already): fall back to the bundled roots rather than trust nothing.
            tracing::debug!("platform TLS roots unavailable, using bundled roots: {e}");
            let mut roots = RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            for cert in extra {
                roots.add(cert).map_err(|e| {
                    Error::invalid(format!("the CA certificate cannot be used: {e}"))
                })?;
            }
            Ok(builder.with_root_certificates(roots).with_no_client_auth())
        }
    }
}

/// The TLS settings of websocket handshakes (`wss://`); cached, so thousands of sessions
/// do not each load the platform's roots.
pub fn websocket_config(ca: Option<&CaCert>) -> Result<Arc<ClientConfig>> {
    static DEFAULT: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    static WITH_CA: Mutex<Option<(Vec<u8>, Arc<ClientConfig>)>> = Mutex::new(None);
    let config = match ca {
        None => match DEFAULT.get() {
            Some(config) => config.clone(),
            None => {
                let config = Arc::new(build_client_config(Vec::new())?);
                DEFAULT.get_or_init(|| config).clone()
            }
        },
        Some(ca) => {
            // Keyed by content, not path: a replaced file is picked up by the next client.
            let pem = ca.pem_bytes()?;
            let mut cached = WITH_CA.lock().unwrap_or_else(|e| e.into_inner());
            match cached.as_ref() {
                Some((key, config)) if *key == pem => config.clone(),
                _ => {
                    let config = Arc::new(build_client_config(parse_certificates(&pem)?)?);
                    *cached = Some((pem, config.clone()));
                    config
                }
            }
        }
    };
    Ok(config)
}

/// Add `ca` to a reqwest client's roots, keeping the platform's.
pub fn add_roots(
    builder: reqwest::ClientBuilder,
    ca: Option<&CaCert>,
) -> Result<reqwest::ClientBuilder> {
    let Some(ca) = ca else {
        return Ok(builder);
    };
    let certs = ca
        .certificates()?
        .iter()
        .map(|der| reqwest::Certificate::from_der(der.as_ref()))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::invalid(format!("the CA certificate cannot be used: {e}")))?;
    Ok(builder.tls_certs_merge(certs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn missing_file_is_invalid_argument() {
        let err = CaCert::file("/nonexistent/flowai-ca.pem")
            .certificates()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        assert!(
            err.message().contains("/nonexistent/flowai-ca.pem"),
            "{err}"
        );
    }

    #[test]
    fn pem_without_certificate_is_invalid_argument() {
        for text in [
            "",
            "not a pem",
            "-----BEGIN CERTIFICATE-----\n@@@\n-----END CERTIFICATE-----\n",
        ] {
            let err = CaCert::pem(text).certificates().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{text:?}: {err}");
        }
        assert!(client_config(Some(&CaCert::pem("junk"))).is_err());
        assert!(websocket_config(Some(&CaCert::pem("junk"))).is_err());
    }

    #[test]
    fn default_config_uses_the_sdk_provider() {
        let config = client_config(None).unwrap();
        assert!(Arc::ptr_eq(config.crypto_provider(), &crypto_provider()));
    }
}
