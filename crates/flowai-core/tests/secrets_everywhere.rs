//! Distinctive keys set everywhere, every error path exercised: no error message, Debug string or event may show them.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use flowai_core::Config;
use flowai_core::aida::{AidaClient, AidaOptions};
use flowai_core::backoff::Backoff;
use flowai_core::management::ManagementClient;
use flowai_core::messaging::MessagingClient;
use flowai_core::secret::Secret;
use flowai_core::socket::{Session, SessionOptions};
use flowai_core::webhook::Verifier;
use flowai_core::webhook::verify::KeyCheck;
use flowai_emulator::{Emulator, EmulatorOptions};

const MSG: &str = "SECRETmsgKEY7c1a";
const MGMT: &str = "SECRETmgmtKEY3b9e";
const CLIENT: &str = "SECRETclientID55d2";
const AIDA: &str = "SECRETaidaTOKEN81f0";
const VERIFY: &str = "SECRETverifyKEY0a4c";
const ALL: [&str; 5] = [MSG, MGMT, CLIENT, AIDA, VERIFY];

fn clean(what: &str, text: &str) {
    for key in ALL {
        assert!(!text.contains(key), "{what} shows a key: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_key_in_any_error_or_debug() {
    let emu = Emulator::new(EmulatorOptions::default())
        .start()
        .await
        .unwrap();
    let mut checked = 0;
    let config = Config::new()
        .with_api_url(emu.base_url())
        .with_messaging_key(MSG)
        .with_management_key(MGMT)
        .with_client_id(CLIENT);
    clean("Config", &format!("{config:?}"));

    // Wrong keys against a live server (401), an unreachable server, a server failing with 500.
    let unreachable = config.clone().with_api_url("http://127.0.0.1:9");
    for config in [config.clone(), unreachable.clone()] {
        let m = MessagingClient::new(config.clone()).unwrap();
        clean("MessagingClient", &format!("{m:?}"));
        let e = m
            .send_text("thread-1", "hi", Default::default())
            .await
            .unwrap_err();
        clean("messaging error", &format!("{e} {e:?}"));
        let e = m.list_webhooks().await.unwrap_err();
        clean("webhooks error", &format!("{e} {e:?}"));
        let g = ManagementClient::new(config.clone()).unwrap();
        clean("ManagementClient", &format!("{g:?}"));
        let e = g.list_flows().await.unwrap_err();
        clean("management error", &format!("{e} {e:?}"));
        checked += 3;
    }
    emu.faults().update(|f| f.fail_http = 10);
    let real = config
        .clone()
        .with_messaging_key(&emu.credentials().messaging_key);
    let e = MessagingClient::new(real)
        .unwrap()
        .send_text("t", "hi", Default::default())
        .await
        .unwrap_err();
    clean("HTTP 500 error", &format!("{e} {e:?}"));
    emu.faults().clear();

    // Socket: unknown client id (final 401), unreachable server, refused socket.info.
    let mut o = SessionOptions::new(emu.base_url(), CLIENT);
    o.backoff = Backoff {
        base: Duration::from_millis(1),
        cap: Duration::from_millis(5),
        reset_after: Duration::from_secs(1),
    };
    clean("SessionOptions", &format!("{o:?}"));
    let e = Session::connect(o.clone()).await.unwrap_err();
    clean("socket error", &format!("{e} {e:?}"));
    let mut o2 = o.clone();
    o2.api_url = "http://127.0.0.1:9".into();
    let (s, mut events) = Session::connect(o2).await.unwrap();
    clean("Session", &format!("{s:?}"));
    s.close().await.unwrap();
    while let Some(ev) = events.next().await {
        clean("session event", &format!("{ev:?}"));
    }
    checked += 3;

    // AIDA: wrong token, unreachable server.
    let creds = emu.credentials();
    let a = AidaOptions::new(emu.aida_url(), &creds.aida_bot, AIDA);
    clean("AidaOptions", &format!("{a:?}"));
    let e = AidaClient::connect(a).await.unwrap_err();
    clean("aida error", &format!("{e} {e:?}"));
    let mut a = AidaOptions::new("http://127.0.0.1:9", &creds.aida_bot, AIDA);
    a.settings.connect_timeout = Duration::from_millis(500);
    let e = AidaClient::connect(a).await.unwrap_err();
    clean("aida unreachable", &format!("{e} {e:?}"));
    checked += 2;

    // Webhooks: wrong key in header, query and body; the verifier itself.
    let v = Verifier::new(Secret::new(VERIFY)).unwrap();
    clean("Verifier", &format!("{v:?}"));
    for (header, query, body) in [
        (
            Some("SECRETverifyKEY0a4X"),
            None,
            r#"{"type":"x"}"#.to_string(),
        ),
        (
            None,
            Some(format!("verifyKey={VERIFY}x")),
            r#"{"type":"x"}"#.to_string(),
        ),
        (
            None,
            None,
            format!(r#"{{"type":"x","verifyKey":"{VERIFY}x"}}"#),
        ),
        (Some(VERIFY), None, "not json".to_string()),
    ] {
        let pairs: Vec<(&str, &str)> = header
            .map(|h| ("X-Flowai-Verify-Key", h))
            .into_iter()
            .collect();
        if let Err(e) = v.verify_and_parse_pairs(pairs, query.as_deref(), body.as_bytes()) {
            clean("verify error", &format!("{e} {e:?}"));
        }
        checked += 1;
    }
    let e = v.parse_checked(KeyCheck::Absent, b"{").unwrap_err();
    clean("verify error", &format!("{e} {e:?}"));
    clean("Secret", &format!("{:?}", Secret::new(VERIFY)));
    eprintln!("{checked} error paths checked");
}

/// The CLI's error output with the same keys, when the binary was built.
#[test]
fn cli_errors_hide_keys() {
    let bin = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/debug/flowai");
    if !bin.exists() {
        eprintln!("skipped: target/debug/flowai is not built");
        return;
    }
    for args in [
        &["send", "hello", "--thread", "t1"][..],
        &["webhooks", "list"][..],
        &["flows", "list"][..],
    ] {
        let out = std::process::Command::new(&bin)
            .args(args)
            .env("FLOWAI_API_URL", "http://127.0.0.1:9")
            .env("FLOWAI_MESSAGING_KEY", MSG)
            .env("FLOWAI_MANAGEMENT_KEY", MGMT)
            .env("FLOWAI_CLIENT_ID", CLIENT)
            .env("FLOWAI_AIDA_TOKEN", AIDA)
            .env("RUST_LOG", "trace")
            .output()
            .unwrap();
        clean("CLI stdout", &String::from_utf8_lossy(&out.stdout));
        clean("CLI stderr", &String::from_utf8_lossy(&out.stderr));
    }
}
