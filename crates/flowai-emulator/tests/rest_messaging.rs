//! Messaging REST API of the emulator, over loopback with a plain HTTP client.
#![allow(clippy::unwrap_used)]

use flowai_emulator::engine::Input;
use flowai_emulator::{Emulator, EmulatorOptions, RunningEmulator};
use serde_json::{Value, json};

async fn start() -> RunningEmulator {
    Emulator::new(EmulatorOptions {
        time_scale: 0.001,
        ..Default::default()
    })
    .start()
    .await
    .unwrap()
}

async fn post(emu: &RunningEmulator, path: &str, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}{path}", emu.base_url()))
        .bearer_auth(&emu.credentials().messaging_key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn every_message_kind_is_accepted() {
    let emu = start().await;
    let ok = json!({"status": "ok"});
    let cases = [
        json!({"threadId": "t1", "type": "text", "text": "Hello", "traceId": 7, "lang": "en", "timezone": 2, "params": {"a": [{"value": "b"}]}}),
        json!({"threadId": "t1", "type": "event", "eventName": "INTRO"}),
        json!({"threadId": "t1", "type": "location", "lat": "52.37", "lng": "4.89"}),
    ];
    for body in cases {
        assert_eq!(
            post(&emu, "/v1/messaging/message", body).await,
            (200, ok.clone())
        );
    }
    // The seed's snippets use /query: it is an alias.
    let (status, body) = post(
        &emu,
        "/v1/messaging/query",
        json!({"threadId": "t2", "type": "text", "text": "hi"}),
    )
    .await;
    assert_eq!((status, body), (200, ok.clone()));

    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(vec![7u8; 1024])
                .file_name("image.png")
                .mime_str("image/png")
                .unwrap(),
        )
        .text(
            "query",
            json!({"threadId": "t3", "type": "media", "mediaType": "image", "mimeType": "image/png"})
                .to_string(),
        );
    let r = reqwest::Client::new()
        .post(format!("{}/v1/messaging/message", emu.base_url()))
        .bearer_auth(&emu.credentials().messaging_key)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap(), ok);

    let got = emu.state().rest.messages();
    assert_eq!(got.len(), 5);
    assert_eq!(got[0].input, Input::Text("Hello".into()));
    assert_eq!(got[0].trace_id, Some(7));
    assert_eq!(got[0].lang.as_deref(), Some("en"));
    assert_eq!(got[1].input, Input::Event("INTRO".into()));
    assert_eq!(
        got[2].input,
        Input::Location {
            lat: "52.37".into(),
            lng: "4.89".into()
        }
    );
    let media = got[4].media.as_ref().unwrap();
    assert_eq!(media.size, 1024);
    assert_eq!(media.media_type, "image");
    assert_eq!(media.file_name.as_deref(), Some("image.png"));
    assert_eq!(media.mime_type.as_deref(), Some("image/png"));
}

#[tokio::test]
async fn media_beyond_the_default_body_limit_is_streamed() {
    let emu = start().await;
    // 8 MiB, sent as a stream of chunks: well above axum's 2 MB default limit.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..128).map(|_| Ok(vec![1u8; 65536])).collect();
    let stream = futures_util::stream::iter(chunks);
    let part = reqwest::multipart::Part::stream_with_length(
        reqwest::Body::wrap_stream(stream),
        8 * 1024 * 1024,
    )
    .file_name("clip.mp4");
    let form = reqwest::multipart::Form::new()
        .text(
            "query",
            json!({"threadId": "big", "type": "media", "mediaType": "video"}).to_string(),
        )
        .part("file", part);
    let r = reqwest::Client::new()
        .post(format!("{}/v1/messaging/message", emu.base_url()))
        .bearer_auth(&emu.credentials().messaging_key)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let got = emu.state().rest.messages();
    assert_eq!(got[0].media.as_ref().unwrap().size, 8 * 1024 * 1024);
    assert_eq!(
        got[0].input,
        Input::Media {
            media_type: "video".into()
        }
    );
}

#[tokio::test]
async fn invalid_messages_are_400() {
    let emu = start().await;
    let long = "x".repeat(256);
    let (status, body) = post(
        &emu,
        "/v1/messaging/message",
        json!({"threadId": "t", "type": "text", "text": long}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["status"], "error");
    assert!(body["message"].as_str().unwrap().contains("255"));
    // Exactly 255 characters (multi-byte ones count once) is fine.
    let (status, _) = post(
        &emu,
        "/v1/messaging/message",
        json!({"threadId": "t", "type": "text", "text": "é".repeat(255)}),
    )
    .await;
    assert_eq!(status, 200);

    for bad in [
        json!({"type": "text", "text": "hi"}),
        json!({"threadId": "t", "text": "hi"}),
        json!({"threadId": "t", "type": "text"}),
        json!({"threadId": "t", "type": "event"}),
        json!({"threadId": "t", "type": "location", "lat": "1"}),
        json!({"threadId": "t", "type": "location", "lat": "north", "lng": "2"}),
        json!({"threadId": "t", "type": "media", "mediaType": "image"}),
        json!({"threadId": "t", "type": "telepathy"}),
        json!({"threadId": "t", "type": "text", "text": "hi", "traceId": "abc"}),
        json!({"threadId": "", "type": "text", "text": "hi"}),
        json!(["not", "an", "object"]),
    ] {
        let (status, body) = post(&emu, "/v1/messaging/message", bad.clone()).await;
        assert_eq!(status, 400, "{bad}");
        assert_eq!(body["status"], "error");
        assert!(body["message"].is_string());
    }

    // Media: unknown mediaType, missing file part.
    for (media_type, with_file) in [("hologram", true), ("image", false)] {
        let mut form = reqwest::multipart::Form::new().text(
            "query",
            json!({"threadId": "t", "type": "media", "mediaType": media_type}).to_string(),
        );
        if with_file {
            form = form.part("file", reqwest::multipart::Part::bytes(vec![1, 2, 3]));
        }
        let r = reqwest::Client::new()
            .post(format!("{}/v1/messaging/message", emu.base_url()))
            .bearer_auth(&emu.credentials().messaging_key)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
    }
    assert_eq!(emu.state().rest.total(), 1);
}

#[tokio::test]
async fn wrong_or_missing_key_is_401_and_faults_give_500() {
    let emu = start().await;
    let url = format!("{}/v1/messaging/message", emu.base_url());
    let body = json!({"threadId": "t", "type": "text", "text": "hi"});
    let client = reqwest::Client::new();
    let r = client.post(&url).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "error");
    let r = client
        .post(&url)
        .bearer_auth("wrong")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // The management key is not a messaging key.
    let r = client
        .post(&url)
        .bearer_auth(&emu.credentials().management_key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    emu.faults().update(|f| f.fail_http = 1);
    assert_eq!(
        post(&emu, "/v1/messaging/message", body.clone()).await.0,
        500
    );
    assert_eq!(post(&emu, "/v1/messaging/message", body).await.0, 200);
    assert_eq!(emu.state().rest.total(), 1);
}

#[tokio::test]
async fn a_wrong_method_or_path_is_a_json_error() {
    // "JSON is returned by all API responses, including errors."
    let emu = start().await;
    let client = reqwest::Client::new();
    for (method, path, status) in [
        (reqwest::Method::GET, "/v1/messaging/message", 405),
        (reqwest::Method::DELETE, "/v1/messaging/query", 405),
        (reqwest::Method::POST, "/v1/messaging/nothing-here", 404),
        (reqwest::Method::GET, "/v1/messaging", 404),
        (reqwest::Method::GET, "/messages/v1/nothing-here", 404),
        (reqwest::Method::PATCH, "/v1/messaging/webhooks", 405),
        (reqwest::Method::PATCH, "/messages/v1/webhooks/some-id", 405),
    ] {
        let r = client
            .request(method.clone(), format!("{}{path}", emu.base_url()))
            .bearer_auth(&emu.credentials().messaging_key)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), status, "{method} {path}");
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json"),
            "{method} {path}"
        );
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["status"], "error", "{method} {path}");
        assert!(body["message"].is_string(), "{method} {path}");
    }
}

#[tokio::test]
async fn browsers_may_call_the_messaging_api() {
    // "Our messaging API supports cross-origin resource sharing."
    let emu = start().await;
    let client = reqwest::Client::new();
    for path in ["/v1/messaging/message", "/v1/messaging/webhooks"] {
        let r = client
            .request(
                reqwest::Method::OPTIONS,
                format!("{}{path}", emu.base_url()),
            )
            .header("Origin", "https://app.example")
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "authorization,content-type",
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204, "{path}");
        let h = r.headers();
        assert_eq!(h["access-control-allow-origin"], "https://app.example");
        assert!(
            h["access-control-allow-methods"]
                .to_str()
                .unwrap()
                .contains("POST")
        );
        assert_eq!(
            h["access-control-allow-headers"],
            "authorization,content-type"
        );
    }
    let r = client
        .post(format!("{}/v1/messaging/message", emu.base_url()))
        .bearer_auth(&emu.credentials().messaging_key)
        .header("Origin", "https://app.example")
        .json(&json!({"threadId": "t", "type": "text", "text": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    // Errors reach the page too, so that it can show them.
    let r = client
        .post(format!("{}/v1/messaging/message", emu.base_url()))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
}
