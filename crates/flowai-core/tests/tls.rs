//! HTTPS and WSS against the emulator with TLS: trusted through `FLOWAI_CA_CERT`, refused without it, one crypto provider.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::wait_for;
use flowai_core::aida::{AidaClient, AidaOptions};
use flowai_core::messaging::{MessageOptions, MessagingClient};
use flowai_core::phoenix::SocketSettings;
use flowai_core::socket::{Session, SessionEvent, SessionOptions};
use flowai_core::tls::CaCert;
use flowai_core::{Config, ErrorKind};
use flowai_emulator::{Emulator, EmulatorOptions, RunningEmulator, TlsOptions};

/// Generous guard so a broken test fails instead of hanging; never a timing assertion.
const GUARD: Duration = Duration::from_secs(15);

struct TlsEmulator {
    emu: RunningEmulator,
    /// Holds the certificate file `FLOWAI_CA_CERT` names.
    _dir: tempfile::TempDir,
    ca_path: String,
}

async fn tls_emulator() -> TlsEmulator {
    let options = EmulatorOptions {
        tls: Some(TlsOptions::self_signed().unwrap()),
        ..EmulatorOptions::default()
    };
    let emu = Emulator::new(options).start().await.unwrap();
    assert!(emu.base_url().starts_with("https://127.0.0.1:"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("emulator-ca.pem");
    std::fs::write(&path, emu.tls_certificate_pem().unwrap()).unwrap();
    TlsEmulator {
        emu,
        _dir: dir,
        ca_path: path.to_string_lossy().into_owned(),
    }
}

/// The configuration a user gets from the emulator's env lines, with or without the CA line.
fn config(t: &TlsEmulator, trust: bool) -> Config {
    let mut env: Vec<(String, String)> = t
        .emu
        .env_lines()
        .iter()
        .filter_map(|l| {
            l.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect();
    if trust {
        env.push(("FLOWAI_CA_CERT".into(), t.ca_path.clone()));
    }
    let mut config =
        Config::from_lookup(|name| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()));
    config.request_timeout = Duration::from_secs(5);
    config
}

fn session_options(config: &Config) -> SessionOptions {
    let mut options = SessionOptions::from_config(config).unwrap();
    options.backoff.base = Duration::from_millis(5);
    options.backoff.cap = Duration::from_millis(20);
    options
}

fn aida_options(config: &Config) -> AidaOptions {
    let mut options = AidaOptions::from_config(config).unwrap();
    options.settings = SocketSettings {
        reconnect_after: vec![Duration::from_millis(5)],
        connect_timeout: Duration::from_secs(5),
        ..SocketSettings::default()
    };
    options
}

#[tokio::test]
async fn messaging_over_https_with_trusted_certificate() {
    let t = tls_emulator().await;
    let config = config(&t, true);
    assert_eq!(config.ca_cert, Some(CaCert::file(&t.ca_path)));
    let api = MessagingClient::new(config).unwrap();
    api.send_text("tls-thread", "Hello over TLS", MessageOptions::default())
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_over_wss_gets_the_intro_reply() {
    let t = tls_emulator().await;
    let (session, mut events) = Session::connect(session_options(&config(&t, true)))
        .await
        .unwrap();
    wait_for(&mut events, |e| matches!(e, SessionEvent::Connected)).await;
    assert_eq!(t.emu.state().socket.connections(), 1);
    session.send_event("INTRO").await.unwrap();
    let reply = wait_for(&mut events, |e| matches!(e, SessionEvent::Reply(_))).await;
    let SessionEvent::Reply(received) = reply else {
        unreachable!()
    };
    assert_eq!(received.messages[0].texts(), vec!["Hi, how can we help?"]);
    session.close().await.unwrap();
}

#[tokio::test]
async fn aida_over_wss_joins_and_gets_a_reply() {
    let t = tls_emulator().await;
    let client = AidaClient::connect(aida_options(&config(&t, true)))
        .await
        .unwrap();
    assert!(client.is_connected());
    let session = client.new_session(None).await.unwrap();
    session.send_text("hi").await.unwrap();
    let reply = tokio::time::timeout(GUARD, session.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(reply.session, session.id());
    assert!(
        reply.text.as_deref().unwrap_or("").contains("demo bot"),
        "{reply:?}"
    );
    client.close().await;
}

#[tokio::test]
async fn untrusted_certificate_is_a_connection_error() {
    let t = tls_emulator().await;
    let config = config(&t, false);
    assert!(config.ca_cert.is_none());

    let api = MessagingClient::new(config.clone()).unwrap();
    let err = api
        .send_text("tls-thread", "Hello", MessageOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connection, "{err}");
    assert!(err.to_string().contains("certificate"), "{err}");

    let err = AidaClient::connect(aida_options(&config))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connection, "{err}");
    assert!(err.to_string().contains("certificate"), "{err}");
    assert!(!err.to_string().contains(&t.emu.credentials().aida_token));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untrusted_certificate_keeps_a_session_offline() {
    let t = tls_emulator().await;
    // A connect failure other than an authorization refusal is retried, not returned:
    // the session starts offline and reports each failed attempt with its reason.
    let (session, mut events) = Session::connect(session_options(&config(&t, false)))
        .await
        .unwrap();
    for _ in 0..3 {
        let ev = tokio::time::timeout(GUARD, events.next())
            .await
            .unwrap()
            .unwrap();
        let SessionEvent::Disconnected { reason } = ev else {
            panic!("expected the failed attempt, got {ev:?}");
        };
        assert!(reason.contains("certificate"), "{reason}");
        let ev = tokio::time::timeout(GUARD, events.next())
            .await
            .unwrap()
            .unwrap();
        assert!(matches!(ev, SessionEvent::Reconnecting { .. }), "{ev:?}");
    }
    assert_eq!(t.emu.state().socket.connections(), 0);
    session.close().await.unwrap();
    let last = wait_for(&mut events, |e| matches!(e, SessionEvent::Closed { .. })).await;
    assert!(matches!(last, SessionEvent::Closed { error: None }));

    // With socket.info trusted but the websocket not, the handshake is what fails.
    let mut options = session_options(&config(&t, false));
    let trusting = config(&t, true);
    options.http_client = Some(flowai_core::http::build_client(&trusting).unwrap());
    let (session, mut events) = Session::connect(options).await.unwrap();
    let ev = tokio::time::timeout(GUARD, events.next())
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(&ev, SessionEvent::Disconnected { reason } if reason.contains("certificate")),
        "{ev:?}"
    );
    assert_eq!(t.emu.state().socket.connections(), 0);
    session.close().await.unwrap();
}

#[tokio::test]
async fn unreadable_ca_file_is_invalid_argument() {
    let t = tls_emulator().await;
    let mut config = config(&t, false);
    config.ca_cert = Some(CaCert::file(format!("{}.missing", t.ca_path)));

    let err = MessagingClient::new(config.clone()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
    assert!(err.to_string().contains(".missing"), "{err}");

    let err = Session::connect(SessionOptions::from_config(&config).unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");

    let err = AidaClient::connect(AidaOptions::from_config(&config).unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");

    config.ca_cert = Some(CaCert::pem(
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    ));
    let err = MessagingClient::new(config).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_provider_and_no_process_default() {
    let t = tls_emulator().await;
    let config = config(&t, true);
    MessagingClient::new(config.clone())
        .unwrap()
        .send_text("tls-thread", "Hello", MessageOptions::default())
        .await
        .unwrap();
    let client = AidaClient::connect(aida_options(&config)).await.unwrap();
    client.close().await;
    // Every config names the SDK's provider itself: TLS traffic never installs (or needs)
    // a process-wide default, so an application may install its own without conflict.
    assert!(rustls::crypto::CryptoProvider::get_default().is_none());
    let client_config =
        flowai_core::tls::client_config(Some(&CaCert::pem(t.emu.tls_certificate_pem().unwrap())))
            .unwrap();
    let provider = client_config.crypto_provider();
    assert!(std::sync::Arc::ptr_eq(
        provider,
        &flowai_core::tls::crypto_provider()
    ));
    let aws_lc = rustls::crypto::aws_lc_rs::default_provider();
    let names = |p: &rustls::crypto::CryptoProvider| {
        p.cipher_suites
            .iter()
            .map(|s| s.suite())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(provider), names(&aws_lc));
}
