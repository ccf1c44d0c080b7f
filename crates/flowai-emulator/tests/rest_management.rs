//! Management API of the emulator, over loopback with a plain HTTP client.
#![allow(clippy::unwrap_used)]

use flowai_emulator::{Emulator, EmulatorOptions, RunningEmulator};
use serde_json::Value;

async fn get(emu: &RunningEmulator, path: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .get(format!("{}/v1/management{path}", emu.base_url()))
        .bearer_auth(&emu.credentials().management_key)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn start() -> RunningEmulator {
    Emulator::new(EmulatorOptions::default())
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn flows_list_and_info() {
    let emu = start().await;
    let (status, list) = get(&emu, "/flows/list").await;
    assert_eq!(status, 200);
    let flows = list.as_array().unwrap();
    let weather = flows.iter().find(|f| f["title"] == "Weather").unwrap();
    assert_eq!(weather["group"], "Weather");
    assert_eq!(weather["disabled"], false);
    let steps = weather["steps"].as_array().unwrap();
    // In lists, intents and actions are ids.
    assert!(steps[0]["intent"].is_string());
    assert!(steps[0]["actions"][0].is_string());
    assert_eq!(steps[1]["type"], "SLOT");
    assert_eq!(steps[1]["contexts"][0], steps[0]["stepId"]);
    assert_eq!(steps[1]["slot"]["entityId"], "system.query");
    assert_eq!(steps[1]["slot"]["label"], "city");

    let hello = flows.iter().find(|f| f["title"] == "Hello World").unwrap();
    let id = hello["flowId"].as_str().unwrap();
    let (status, info) = get(&emu, &format!("/flows/info?flowId={id}")).await;
    assert_eq!(status, 200);
    assert_eq!(info["group"], "Demo");
    let step = &info["steps"][0];
    assert_eq!(step["type"], "INTENT");
    assert_eq!(step["intent"]["examples"][0]["query"], "Hello");
    assert_eq!(step["actions"][0]["type"], "TEXT");
    assert_eq!(
        step["actions"][0]["payload"]["texts"][0],
        "Hi there! This is a customer service demo bot! "
    );
    // Parses into the SDK's own model.
    let _: flowai_core::models::Flow = serde_json::from_value(info).unwrap();
    let _: Vec<flowai_core::models::Flow> = serde_json::from_value(list).unwrap();

    assert_eq!(get(&emu, "/flows/info?flowId=nope").await.0, 404);
    assert_eq!(get(&emu, "/flows/info").await.0, 400);
}

#[tokio::test]
async fn intents_entity_types_projects_members() {
    let emu = start().await;
    let (status, intents) = get(&emu, "/intents/list").await;
    assert_eq!(status, 200);
    let greeting = intents
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["title"] == "Hello_World_Greeting")
        .unwrap();
    let id = greeting["intentId"].as_str().unwrap();
    let (status, info) = get(&emu, &format!("/intents/info?intentId={id}")).await;
    assert_eq!(status, 200);
    assert_eq!(info["examples"].as_array().unwrap().len(), 6);
    assert_eq!(get(&emu, "/intents/info?intentId=nope").await.0, 404);

    let (status, types) = get(&emu, "/entitytypes/list").await;
    assert_eq!(status, 200);
    assert!(
        types
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["entityTypeId"] == "system.query")
    );
    let (status, t) = get(&emu, "/entitytypes/info?entityTypeId=system.query").await;
    assert_eq!(status, 200);
    assert_eq!(t["entityTypeId"], "system.query");
    assert_eq!(
        get(&emu, "/entitytypes/info?entityTypeId=nope").await.0,
        404
    );

    let (status, projects) = get(&emu, "/projects/list").await;
    assert_eq!(status, 200);
    let pid = projects[0]["projectId"].as_str().unwrap();
    let (status, p) = get(&emu, &format!("/projects/info?projectId={pid}")).await;
    assert_eq!(status, 200);
    assert_eq!(p["organisationId"], emu.credentials().organisation_id);
    assert_eq!(get(&emu, "/projects/info?projectId=nope").await.0, 404);

    let (status, members) = get(&emu, "/members/list").await;
    assert_eq!(status, 200);
    assert!(members[0]["email"].is_string());
}

#[tokio::test]
async fn management_needs_the_management_key() {
    let emu = start().await;
    let url = format!("{}/v1/management/flows/list", emu.base_url());
    let client = reqwest::Client::new();
    assert_eq!(client.get(&url).send().await.unwrap().status(), 401);
    let r = client
        .get(&url)
        .bearer_auth(&emu.credentials().messaging_key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    emu.faults().update(|f| f.fail_http = 1);
    assert_eq!(get(&emu, "/flows/list").await.0, 500);
    assert_eq!(get(&emu, "/flows/list").await.0, 200);
}

#[tokio::test]
async fn the_base_url_checks_the_key_and_errors_are_json() {
    let emu = start().await;
    // The reference's authentication example: the base URL with the key.
    let (status, body) = get(&emu, "").await;
    assert_eq!((status, body), (200, serde_json::json!({"status": "ok"})));
    let client = reqwest::Client::new();
    let r = client
        .get(format!("{}/v1/management", emu.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // An unknown path needs the key too, then is a JSON 404; a wrong method a JSON 405.
    let r = client
        .get(format!("{}/v1/management/nothing/here", emu.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let (status, body) = get(&emu, "/nothing/here").await;
    assert_eq!(status, 404);
    assert_eq!(body["status"], "error");
    let r = client
        .post(format!("{}/v1/management/flows/list", emu.base_url()))
        .bearer_auth(&emu.credentials().management_key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "error");
}

#[tokio::test]
async fn the_demo_project_holds_the_reference_step_examples() {
    let emu = start().await;
    let (_, info) = get(
        &emu,
        "/flows/info?flowId=c48b0a06-9727-4735-8886-49286fae78e3",
    )
    .await;
    let steps = info["steps"].as_array().unwrap();
    // The reference's EVENT step example, a follow-up of its INTENT step example.
    let event = steps
        .iter()
        .find(|s| s["stepId"] == "c7512efe-9c2e-4cd4-9fdc-11fc1d31dfb8")
        .unwrap();
    assert_eq!(event["type"], "EVENT");
    assert_eq!(event["contexts"][0], "31aef3cf-8c96-442b-9871-7fc9be322da1");
    assert_eq!(
        event["actions"][0]["payload"]["tags"],
        serde_json::json!([])
    );
    assert_eq!(
        steps[0]["actions"][0]["payload"]["tags"],
        serde_json::json!([])
    );
}
