//! No key ever shows in Debug or Display of clients, configs, errors or webhooks.
#![allow(clippy::unwrap_used)]

use flowai_core::management::ManagementClient;
use flowai_core::messaging::{MessageOptions, MessagingClient};
use flowai_core::models::{NewWebhook, WebhookUpdate};
use flowai_core::webhook::{ReceiverOptions, Verifier, WebhookReceiver};
use flowai_core::{Config, Secret};
use flowai_emulator::{Credentials, Emulator, EmulatorOptions};

const MESSAGING_KEY: &str = "sk-msg-DISTINCT-7Q4z";
const MANAGEMENT_KEY: &str = "sk-mgmt-DISTINCT-9X2w";
const WRONG_KEY: &str = "sk-wrong-DISTINCT-3K8p";
const VERIFY_KEY: &str = "vk-hook-DISTINCT-5M1r";
const ALL: [&str; 4] = [MESSAGING_KEY, MANAGEMENT_KEY, WRONG_KEY, VERIFY_KEY];

fn assert_clean(what: &str, text: String) {
    for key in ALL {
        assert!(!text.contains(key), "{what} shows a key: {text}");
    }
}

fn check_debug(what: &str, value: &impl std::fmt::Debug) {
    assert_clean(what, format!("{value:?}"));
    assert_clean(what, format!("{value:#?}"));
}

fn check_error(what: &str, err: &flowai_core::Error) {
    check_debug(what, err);
    assert_clean(what, err.to_string());
    assert_clean(what, err.message().to_string());
}

#[tokio::test]
async fn keys_never_print() {
    let credentials = Credentials {
        messaging_key: MESSAGING_KEY.into(),
        management_key: MANAGEMENT_KEY.into(),
        ..Credentials::random()
    };
    let options = EmulatorOptions {
        time_scale: 0.001,
        credentials,
        ..Default::default()
    };
    let emu = Emulator::new(options).start().await.unwrap();
    let config = Config::new()
        .with_api_url(emu.base_url())
        .with_messaging_key(MESSAGING_KEY)
        .with_management_key(MANAGEMENT_KEY);
    check_debug("config", &config);
    let messaging = MessagingClient::new(config.clone()).unwrap();
    let management = ManagementClient::new(config.clone()).unwrap();
    check_debug("messaging client", &messaging);
    check_debug("management client", &management);

    // A receiver and a webhook subscription carrying the verify key.
    let options = ReceiverOptions::new(VERIFY_KEY);
    check_debug("receiver options", &options);
    let receiver = WebhookReceiver::bind(options, |_| ()).await.unwrap();
    check_debug("receiver", &receiver);
    let new = NewWebhook {
        url: receiver.url(),
        verify_key: Secret::new(VERIFY_KEY),
        events: vec!["message.reply".into()],
    };
    check_debug("new webhook", &new);
    let webhook = messaging.create_webhook(&new).await.unwrap();
    check_debug("webhook", &webhook);
    check_debug("webhook list", &messaging.list_webhooks().await.unwrap());
    let update = WebhookUpdate {
        verify_key: Some(Secret::new(VERIFY_KEY)),
        ..Default::default()
    };
    check_debug("webhook update", &update);
    let verifier = Verifier::new(Secret::new(VERIFY_KEY)).unwrap();
    check_debug("verifier", &verifier);

    // Errors: a wrong key, a refused connection, a failed verification.
    let wrong = config.clone().with_messaging_key(WRONG_KEY);
    let err = MessagingClient::new(wrong)
        .unwrap()
        .send_text("t", "hi", MessageOptions::default())
        .await
        .unwrap_err();
    check_error("auth error", &err);
    let wrong = config.clone().with_management_key(WRONG_KEY);
    let err = ManagementClient::new(wrong)
        .unwrap()
        .list_flows()
        .await
        .unwrap_err();
    check_error("management auth error", &err);
    let closed_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let refused = config.with_api_url(format!("http://{closed_port}"));
    let err = MessagingClient::new(refused)
        .unwrap()
        .send_text("t", "hi", MessageOptions::default())
        .await
        .unwrap_err();
    check_error("connection error", &err);
    let err = verifier
        .verify_and_parse_pairs([("X-Flowai-Verify-Key", WRONG_KEY)], None, b"{}")
        .unwrap_err();
    check_error("verification error", &err);
    receiver.shutdown().await;
}
