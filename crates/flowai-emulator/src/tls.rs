//! Optional TLS for the emulator: HTTPS and WSS on the one port, with a given or self-signed certificate.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// The certificate the emulator serves. Debug never shows the private key.
#[derive(Clone)]
pub struct TlsOptions {
    /// PEM of the certificate chain, leaf first; clients trust its last (or only) certificate.
    pub cert_chain_pem: String,
    /// PEM of the private key (PKCS#8, PKCS#1 or SEC1).
    pub key_pem: String,
}

impl std::fmt::Debug for TlsOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsOptions").finish_non_exhaustive()
    }
}

impl TlsOptions {
    /// A fresh self-signed certificate for `127.0.0.1` and `localhost`.
    pub fn self_signed() -> Result<Self, String> {
        let names = vec!["127.0.0.1".to_string(), "localhost".to_string()];
        let certified = rcgen::generate_simple_self_signed(names)
            .map_err(|e| format!("cannot generate a certificate: {e}"))?;
        Ok(TlsOptions {
            cert_chain_pem: certified.cert.pem(),
            key_pem: certified.signing_key.serialize_pem(),
        })
    }

    /// The rustls server config: the same aws-lc-rs provider as the SDK, HTTP/1.1 only
    /// (websocket upgrades need it).
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, String> {
        let chain = CertificateDer::pem_slice_iter(self.cert_chain_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("the TLS certificate is not valid PEM: {e}"))?;
        if chain.is_empty() {
            return Err("the TLS certificate PEM holds no certificate".to_string());
        }
        let key = PrivateKeyDer::from_pem_slice(self.key_pem.as_bytes())
            .map_err(|e| format!("the TLS private key is not valid PEM: {e}"))?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("cannot set up TLS: {e}"))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| format!("the TLS certificate or key cannot be used: {e}"))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// Serve `app` over TLS on `listener` until `stop` turns true.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    config: Arc<rustls::ServerConfig>,
    mut stop: watch::Receiver<bool>,
) {
    let listener = match listener.into_std() {
        Ok(listener) => listener,
        Err(err) => {
            tracing::warn!("emulator TLS server cannot start: {err}");
            return;
        }
    };
    let rustls = axum_server::tls_rustls::RustlsConfig::from_config(config);
    let server = match axum_server::tls_rustls::from_tcp_rustls(listener, rustls) {
        Ok(server) => server,
        Err(err) => {
            tracing::warn!("emulator TLS server cannot start: {err}");
            return;
        }
    };
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        let _ = stop.wait_for(|stop| *stop).await;
        // Open websockets would hold a graceful shutdown forever; give them a moment.
        stopper.graceful_shutdown(Some(Duration::from_secs(1)));
    });
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    if let Err(err) = server.handle(handle).serve(service).await {
        tracing::warn!("emulator TLS server stopped: {err}");
    }
}
