//! Management API against the emulator over loopback.
#![allow(clippy::unwrap_used)]

use flowai_core::management::ManagementClient;
use flowai_core::{Config, ErrorKind};
use flowai_emulator::{Emulator, EmulatorOptions, RunningEmulator};

async fn emulator() -> RunningEmulator {
    let options = EmulatorOptions {
        time_scale: 0.001,
        ..Default::default()
    };
    Emulator::new(options).start().await.unwrap()
}

fn client(emu: &RunningEmulator, key: &str) -> ManagementClient {
    let config = Config::new()
        .with_api_url(emu.base_url())
        .with_management_key(key);
    ManagementClient::new(config).unwrap()
}

#[tokio::test]
async fn flows_list_and_info_agree() {
    let emu = emulator().await;
    let api = client(&emu, &emu.credentials().management_key);
    let flows = api.list_flows().await.unwrap();
    assert_eq!(flows.len(), emu.state().engine.flows().len());
    for flow in &flows {
        let info = api.flow_info(&flow.flow_id).await.unwrap();
        assert_eq!(info.flow_id, flow.flow_id);
        assert_eq!(info.title, flow.title);
        assert_eq!(info.steps.len(), flow.steps.len());
    }
    let missing = api.flow_info("no-such-flow").await.unwrap_err();
    assert_eq!(missing.status(), Some(404));
    assert_eq!(
        api.flow_info(" ").await.unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
}

#[tokio::test]
async fn other_resources_list_and_info() {
    let emu = emulator().await;
    let api = client(&emu, &emu.credentials().management_key);
    for intent in api.list_intents().await.unwrap() {
        let info = api.intent_info(&intent.intent_id).await.unwrap();
        assert_eq!(info.intent_id, intent.intent_id);
    }
    for entity_type in api.list_entity_types().await.unwrap() {
        if let Some(id) = entity_type.get("entityTypeId").and_then(|v| v.as_str()) {
            let info = api.entity_type_info(id).await.unwrap();
            assert_eq!(info["entityTypeId"], id);
        }
    }
    for project in api.list_projects().await.unwrap() {
        if let Some(id) = project.get("projectId").and_then(|v| v.as_str()) {
            let info = api.project_info(id).await.unwrap();
            assert_eq!(info["projectId"], id);
        }
    }
    api.list_members().await.unwrap();
}

#[tokio::test]
async fn wrong_or_missing_key() {
    let emu = emulator().await;
    let err = client(&emu, "wrong-management-key")
        .list_flows()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    // The messaging key is not a management key.
    let err = client(&emu, &emu.credentials().messaging_key)
        .list_flows()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    let missing = ManagementClient::new(Config::new().with_api_url(emu.base_url())).unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::InvalidArgument);
}
