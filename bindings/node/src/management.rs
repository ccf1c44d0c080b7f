//! `ManagementClient`: flows, intents, entity types, projects and members.

use flowai_core::management::ManagementClient as CoreClient;
use napi_derive::napi;
use serde_json::Value;

use crate::config::{ClientOptions, config_from};
use crate::{js_error, to_json};

/// A client of the Management API, authenticated with the management key.
#[napi]
#[derive(Debug)]
pub struct ManagementClient {
    inner: CoreClient,
}

#[napi]
impl ManagementClient {
    /// A client from `options` over the `FLOWAI_*` environment variables.
    #[napi(constructor)]
    pub fn new(options: Option<ClientOptions>) -> napi::Result<Self> {
        let inner = CoreClient::new(config_from(options)?).map_err(js_error)?;
        Ok(ManagementClient { inner })
    }

    /// Every flow.
    #[napi(ts_return_type = "Promise<any[]>")]
    pub async fn list_flows(&self) -> napi::Result<Value> {
        to_json(&self.inner.list_flows().await.map_err(js_error)?)
    }

    /// One flow with its intents and actions.
    #[napi(ts_return_type = "Promise<any>")]
    pub async fn flow_info(&self, flow_id: String) -> napi::Result<Value> {
        to_json(&self.inner.flow_info(&flow_id).await.map_err(js_error)?)
    }

    /// Every intent.
    #[napi(ts_return_type = "Promise<any[]>")]
    pub async fn list_intents(&self) -> napi::Result<Value> {
        to_json(&self.inner.list_intents().await.map_err(js_error)?)
    }

    /// One intent with its examples.
    #[napi(ts_return_type = "Promise<any>")]
    pub async fn intent_info(&self, intent_id: String) -> napi::Result<Value> {
        to_json(&self.inner.intent_info(&intent_id).await.map_err(js_error)?)
    }

    /// Every entity type.
    #[napi(ts_return_type = "Promise<any[]>")]
    pub async fn list_entity_types(&self) -> napi::Result<Value> {
        to_json(&self.inner.list_entity_types().await.map_err(js_error)?)
    }

    /// One entity type.
    #[napi(ts_return_type = "Promise<any>")]
    pub async fn entity_type_info(&self, entity_type_id: String) -> napi::Result<Value> {
        let found = self
            .inner
            .entity_type_info(&entity_type_id)
            .await
            .map_err(js_error)?;
        to_json(&found)
    }

    /// Every project.
    #[napi(ts_return_type = "Promise<any[]>")]
    pub async fn list_projects(&self) -> napi::Result<Value> {
        to_json(&self.inner.list_projects().await.map_err(js_error)?)
    }

    /// One project.
    #[napi(ts_return_type = "Promise<any>")]
    pub async fn project_info(&self, project_id: String) -> napi::Result<Value> {
        to_json(
            &self
                .inner
                .project_info(&project_id)
                .await
                .map_err(js_error)?,
        )
    }

    /// Every member of the organisation.
    #[napi(ts_return_type = "Promise<any[]>")]
    pub async fn list_members(&self) -> napi::Result<Value> {
        to_json(&self.inner.list_members().await.map_err(js_error)?)
    }
}
