//! flowai-emulator: a local, in-memory Flow.ai + AIDA server on loopback, for offline development and tests.
//!
//! Start it in-process with [`Emulator::start`], or from the command line with
//! `flowai emulator`. Every API of the SDK is served from one port:
//! the Messaging REST API and webhooks ([`rest`], [`webhooks`]), the Management API
//! ([`management`]), socket.info and the Flow websocket ([`socket`]), and the AIDA
//! Phoenix endpoint with its image store ([`aida`]), and the Flow REST API v1 ([`v1`]). Faults can be injected at run time
//! ([`faults`]). Real sessions can be recorded through a proxy ([`record`]) into a
//! recording ([`recording`]) and served again offline ([`replay`]).

pub mod aida;
pub mod auth;
pub mod engine;
pub mod faults;
pub mod management;
pub mod record;
pub mod recording;
pub mod replay;
pub mod rest;
pub mod socket;
pub mod tls;
pub mod v1;
pub mod webhooks;

use std::net::SocketAddr;
use std::ops::Deref;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use engine::Engine;
pub use faults::Faults;
pub use tls::TlsOptions;

/// The credentials the emulator accepts, printed by `flowai emulator`.
#[derive(Clone)]
pub struct Credentials {
    /// Bearer key of the Messaging API.
    pub messaging_key: String,
    /// Bearer key of the Management API.
    pub management_key: String,
    /// Socket client id: base64 of `<organisation>|<channelId>`.
    pub client_id: String,
    /// The organisation id inside the client id.
    pub organisation_id: String,
    /// UUID of the AIDA bot served.
    pub aida_bot: String,
    /// Access token of that bot.
    pub aida_token: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("organisation_id", &self.organisation_id)
            .field("aida_bot", &self.aida_bot)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// Fresh random credentials of the shapes Flow.ai and AIDA use.
    pub fn random() -> Self {
        use base64::Engine as _;
        let organisation_id = uuid::Uuid::new_v4().to_string();
        let channel_id = uuid::Uuid::new_v4().simple().to_string();
        let client_id = base64::engine::general_purpose::STANDARD
            .encode(format!("{organisation_id}|{channel_id}"));
        Credentials {
            messaging_key: format!("emu-msg-{}", uuid::Uuid::new_v4().simple()),
            management_key: format!("emu-mgmt-{}", uuid::Uuid::new_v4().simple()),
            client_id,
            organisation_id,
            aida_bot: uuid::Uuid::new_v4().to_string(),
            aida_token: format!("emu-aida-{}", uuid::Uuid::new_v4().simple()),
        }
    }
}

/// How the emulator runs. `Default` gives real-world timings and random credentials.
#[derive(Clone, Debug)]
pub struct EmulatorOptions {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// A project file (Management API JSON: a list of flows) replacing the demo project.
    pub project: Option<PathBuf>,
    /// Accepted credentials.
    pub credentials: Credentials,
    /// Multiplies every service-side wait (webhook retry backoff, ...); 0.001 makes hours into seconds.
    pub time_scale: f64,
    /// How long a socket.info endpoint URL stays valid.
    pub endpoint_ttl: Duration,
    /// A socket without inbound frames for this long is dropped.
    pub idle_timeout: Duration,
    /// How long webhook delivery keeps retrying one event (before `time_scale`).
    pub webhook_retry_window: Duration,
    /// Deadline for one webhook call.
    pub webhook_timeout: Duration,
    /// Serve HTTPS and WSS with this certificate instead of HTTP and WS.
    pub tls: Option<TlsOptions>,
}

impl Default for EmulatorOptions {
    fn default() -> Self {
        EmulatorOptions {
            port: 0,
            project: None,
            credentials: Credentials::random(),
            time_scale: 1.0,
            endpoint_ttl: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(50),
            webhook_retry_window: Duration::from_secs(4 * 3600),
            webhook_timeout: Duration::from_secs(10),
            tls: None,
        }
    }
}

impl EmulatorOptions {
    /// Scale a service-side wait by `time_scale`.
    pub fn scaled(&self, d: Duration) -> Duration {
        d.mul_f64(self.time_scale.max(0.0))
    }
}

/// State shared by every handler.
#[derive(Debug)]
pub struct Shared {
    /// The options the emulator was started with.
    pub options: EmulatorOptions,
    /// The base URL, e.g. `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// The flow engine answering every channel.
    pub engine: Engine,
    /// Fault knobs.
    pub faults: Faults,
    /// Messaging REST state.
    pub rest: rest::RestState,
    /// Webhook subscriptions and delivery.
    pub webhooks: webhooks::WebhookState,
    /// Flow socket state.
    pub socket: socket::SocketState,
    /// AIDA state.
    pub aida: aida::AidaState,
    /// Flow REST API v1 state.
    pub v1: v1::V1State,
}

/// Cheap handle to [`Shared`], the axum state.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Shared>);

impl Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// Errors starting the emulator.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The port could not be bound.
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind { port: u16, source: std::io::Error },
    /// The project file could not be read or parsed.
    #[error("cannot load project {path}: {message}")]
    Project { path: PathBuf, message: String },
    /// The TLS certificate or key could not be used.
    #[error("cannot set up TLS: {0}")]
    Tls(String),
}

/// The emulator builder.
#[derive(Debug, Default)]
pub struct Emulator {
    options: EmulatorOptions,
}

impl Emulator {
    /// An emulator with the given options.
    pub fn new(options: EmulatorOptions) -> Self {
        Emulator { options }
    }

    /// Bind 127.0.0.1 and serve on the current tokio runtime until the handle is shut down or dropped.
    pub async fn start(self) -> Result<RunningEmulator, StartError> {
        let options = self.options;
        let engine = match &options.project {
            Some(path) => Engine::from_file(path).map_err(|message| StartError::Project {
                path: path.clone(),
                message,
            })?,
            None => Engine::demo(),
        };
        let listener = TcpListener::bind(("127.0.0.1", options.port))
            .await
            .map_err(|source| StartError::Bind {
                port: options.port,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            port: options.port,
            source,
        })?;
        let tls_config = match &options.tls {
            Some(tls) => Some(tls.server_config().map_err(StartError::Tls)?),
            None => None,
        };
        let tls_certificate = options.tls.as_ref().map(|t| t.cert_chain_pem.clone());
        let scheme = if tls_config.is_some() {
            "https"
        } else {
            "http"
        };
        let base_url = format!("{scheme}://{addr}");
        let state = AppState(Arc::new(Shared {
            rest: rest::RestState::new(&options),
            webhooks: webhooks::WebhookState::new(&options),
            socket: socket::SocketState::new(&options),
            aida: aida::AidaState::new(&options),
            v1: v1::V1State::default(),
            faults: Faults::default(),
            engine,
            base_url: base_url.clone(),
            options,
        }));
        let app = router(state.clone());
        let (stop_tx, mut stop_rx) = watch::channel(false);
        if let Some(config) = tls_config {
            let server = tokio::spawn(tls::serve(listener, app, config, stop_rx));
            return Ok(RunningEmulator {
                addr,
                base_url,
                state,
                stop: stop_tx,
                server: Some(server),
                tls_certificate,
            });
        }
        let server = tokio::spawn(async move {
            let shutdown = async move {
                let _ = stop_rx.wait_for(|stop| *stop).await;
            };
            let service = app.into_make_service_with_connect_info::<SocketAddr>();
            // Without TCP_NODELAY, Nagle holds the second of two small writes (a websocket
            // `message.delivered` followed by its reply) until the peer's delayed ACK:
            // a 40 ms stall on loopback.
            use axum::serve::ListenerExt as _;
            let listener = listener.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            if let Err(err) = axum::serve(listener, service)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::warn!("emulator server stopped: {err}");
            }
        });
        Ok(RunningEmulator {
            addr,
            base_url,
            state,
            stop: stop_tx,
            server: Some(server),
            tls_certificate: None,
        })
    }
}

/// Every route of the emulator.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(rest::router())
        .merge(webhooks::router())
        .merge(management::router())
        .merge(socket::router())
        .merge(aida::router())
        .merge(faults::router())
        .merge(v1::router(state.clone()))
        .with_state(state)
}

/// A running emulator. Dropping it stops the server.
#[derive(Debug)]
pub struct RunningEmulator {
    addr: SocketAddr,
    base_url: String,
    state: AppState,
    stop: watch::Sender<bool>,
    server: Option<JoinHandle<()>>,
    tls_certificate: Option<String>,
}

impl RunningEmulator {
    /// The PEM of the served certificate chain when TLS is on: what clients must trust
    /// (`FLOWAI_CA_CERT` names a file holding it).
    pub fn tls_certificate_pem(&self) -> Option<&str> {
        self.tls_certificate.as_deref()
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` (`https://` with TLS), the value of `FLOWAI_API_URL`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The AIDA server URL, the value of `FLOWAI_AIDA_URL`.
    pub fn aida_url(&self) -> &str {
        &self.base_url
    }

    /// The accepted credentials.
    pub fn credentials(&self) -> &Credentials {
        &self.state.options.credentials
    }

    /// The shared state, for tests that inspect or steer the emulator.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The fault knobs.
    pub fn faults(&self) -> &Faults {
        &self.state.faults
    }

    /// `NAME=value` lines for every credential and URL a client needs.
    pub fn env_lines(&self) -> Vec<String> {
        let c = self.credentials();
        vec![
            format!("FLOWAI_API_URL={}", self.base_url),
            format!("FLOWAI_MESSAGING_KEY={}", c.messaging_key),
            format!("FLOWAI_MANAGEMENT_KEY={}", c.management_key),
            format!("FLOWAI_CLIENT_ID={}", c.client_id),
            format!("FLOWAI_AIDA_URL={}", self.aida_url()),
            format!("FLOWAI_AIDA_BOT={}", c.aida_bot),
            format!("FLOWAI_AIDA_TOKEN={}", c.aida_token),
        ]
    }

    /// Stop accepting connections and wait for the server task to end.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}
