//! Messaging REST API and webhook subscriptions against the emulator over loopback.
#![allow(clippy::unwrap_used)]

use std::io::ErrorKind as IoKind;
use std::sync::{Arc, Mutex};

use flowai_core::messaging::{
    MAX_MEDIA_BYTES, MediaType, MediaUpload, MessageOptions, MessagingClient, ProgressFn,
};
use flowai_core::models::{NewWebhook, Param, WebhookUpdate};
use flowai_core::webhook::{ReceiverOptions, WebhookReceiver};
use flowai_core::{Config, ErrorKind};
use flowai_emulator::{Emulator, EmulatorOptions, RunningEmulator};

async fn emulator() -> RunningEmulator {
    let options = EmulatorOptions {
        time_scale: 0.001,
        ..Default::default()
    };
    Emulator::new(options).start().await.unwrap()
}

fn client(emu: &RunningEmulator) -> MessagingClient {
    let config = Config::new()
        .with_api_url(emu.base_url())
        .with_messaging_key(emu.credentials().messaging_key.clone());
    MessagingClient::new(config).unwrap()
}

/// A listener nobody answers on, to prove a call never opened a connection.
fn silent_listener() -> (std::net::TcpListener, MessagingClient) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let config = Config::new().with_api_url(url).with_messaging_key("k");
    (listener, MessagingClient::new(config).unwrap())
}

fn assert_no_connection(listener: &std::net::TcpListener) {
    let err = listener.accept().unwrap_err();
    assert_eq!(
        err.kind(),
        IoKind::WouldBlock,
        "a request reached the server"
    );
}

#[tokio::test]
async fn sends_text_event_and_location() {
    let emu = emulator().await;
    let api = client(&emu);
    let mut params = flowai_core::models::Params::new();
    params.insert("seats".into(), vec![Param::new("Business class")]);
    let options = MessageOptions {
        trace_id: Some(1519091841664),
        lang: Some("en".into()),
        timezone: Some(-5.0),
        params: Some(params),
    };
    api.send_text("thread-1", "Hello", options).await.unwrap();
    api.send_text("thread-1", &"é".repeat(255), MessageOptions::default())
        .await
        .unwrap();
    api.send_event("thread-1", "INTRO", MessageOptions::with_trace_id(2))
        .await
        .unwrap();
    api.send_location("thread-1", "52.37", "4.89", MessageOptions::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn sends_media_streamed_with_progress() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("picture.png");
    let content: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&path, &content).unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let progress: ProgressFn =
        Arc::new(move |sent, total| sink.lock().unwrap().push((sent, total)));
    let mut upload = MediaUpload::new("thread-media", &path, MediaType::Image);
    upload.mime_type = Some("image/png".into());
    client(&emu)
        .send_media(&upload, Some(progress))
        .await
        .unwrap();
    let seen = seen.lock().unwrap();
    assert!(seen.len() > 1, "progress reported once only: {seen:?}");
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0));
    assert_eq!(*seen.last().unwrap(), (200_000, 200_000));
}

#[tokio::test]
async fn text_over_255_chars_is_refused_before_sending() {
    let (listener, api) = silent_listener();
    let err = api
        .send_text("t", &"a".repeat(256), MessageOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.message().contains("255"), "{err}");
    assert_no_connection(&listener);
}

#[tokio::test]
async fn media_over_250_mb_is_refused_before_uploading() {
    let (listener, api) = silent_listener();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.bin");
    std::fs::File::create(&path)
        .unwrap()
        .set_len(MAX_MEDIA_BYTES + 1)
        .unwrap();
    let upload = MediaUpload::new("t", &path, MediaType::File);
    let err = api.send_media(&upload, None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.message().contains("250 MB"), "{err}");
    assert_no_connection(&listener);
}

#[tokio::test]
async fn bad_input_is_refused_before_sending() {
    let (listener, api) = silent_listener();
    let none = MessageOptions::default;
    let errors = [
        api.send_text("", "hi", none()).await,
        api.send_text("  ", "hi", none()).await,
        api.send_text("t", "", none()).await,
        api.send_event("t", " ", none()).await,
        api.send_location("t", "", "4", none()).await,
        api.send_text(
            "t",
            "hi",
            MessageOptions {
                lang: Some("eng".into()),
                ..none()
            },
        )
        .await,
        api.send_media(
            &MediaUpload::new("t", "/nonexistent/flowai.png", MediaType::Image),
            None,
        )
        .await,
        api.delete_webhook("").await,
    ];
    for result in errors {
        assert_eq!(result.unwrap_err().kind(), ErrorKind::InvalidArgument);
    }
    assert_eq!(
        "gif".parse::<MediaType>().unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert_no_connection(&listener);
}

#[tokio::test]
async fn wrong_or_missing_key() {
    let emu = emulator().await;
    let wrong = Config::new()
        .with_api_url(emu.base_url())
        .with_messaging_key("not-the-key");
    let err = MessagingClient::new(wrong)
        .unwrap()
        .send_text("t", "hi", MessageOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(err.status(), Some(401));
    let missing = Config::new().with_api_url(emu.base_url());
    let err = MessagingClient::new(missing).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.message().contains("FLOWAI_MESSAGING_KEY"));
}

#[tokio::test]
async fn webhook_crud() {
    let emu = emulator().await;
    let api = client(&emu);
    let receiver = WebhookReceiver::bind(ReceiverOptions::new("vk-crud"), |_| ())
        .await
        .unwrap();
    let new = NewWebhook {
        url: receiver.url(),
        verify_key: "vk-crud".into(),
        events: vec!["message.reply".into()],
    };
    let first = api.create_webhook(&new).await.unwrap();
    assert!(!first.webhook_id.is_empty());
    assert_eq!(first.url, receiver.url());
    assert_eq!(first.verify_key.expose(), "vk-crud");
    let second = api.create_webhook(&new).await.unwrap();

    let got = api.get_webhook(&first.webhook_id).await.unwrap();
    assert_eq!(got.webhook_id, first.webhook_id);

    let update = WebhookUpdate {
        events: Some(vec!["message.reply".into(), "message.delivered".into()]),
        ..Default::default()
    };
    let updated = api
        .update_webhook(&first.webhook_id, &update)
        .await
        .unwrap();
    assert_eq!(updated.events, ["message.reply", "message.delivered"]);
    assert_eq!(updated.url, receiver.url(), "a partial update kept the url");

    let ids: Vec<String> = api
        .list_webhooks()
        .await
        .unwrap()
        .into_iter()
        .map(|w| w.webhook_id)
        .collect();
    assert_eq!(ids, [second.webhook_id.clone(), first.webhook_id.clone()]);

    api.delete_webhook(&first.webhook_id).await.unwrap();
    let gone = api.get_webhook(&first.webhook_id).await.unwrap_err();
    assert_eq!((gone.kind(), gone.status()), (ErrorKind::Http, Some(404)));
    // An id is one path segment, whatever it contains.
    let odd = api.get_webhook("../webhooks").await.unwrap_err();
    assert_eq!(odd.status(), Some(404));
    receiver.shutdown().await;
}
