//! The Management API client: flows, intents, entity types, projects, members.

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::http::{self, ApiClient};
use crate::models::{Flow, Intent, Resource};

/// A client of the Management API (`{api_url}/v1/management`), authenticated with the
/// management key. Cheap to clone; clones share one connection pool.
#[derive(Clone, Debug)]
pub struct ManagementClient {
    api: ApiClient,
}

impl ManagementClient {
    /// A client for `config`; fails when the management key is missing or the URL is invalid.
    pub fn new(config: Config) -> Result<Self> {
        let key = config.require_management_key()?.clone();
        let api = ApiClient::new(&config, &["v1", "management"], key)?;
        Ok(ManagementClient { api })
    }

    /// A client configured from the `FLOWAI_*` environment variables.
    pub fn from_env() -> Result<Self> {
        ManagementClient::new(Config::from_env())
    }

    /// Every flow; steps refer to intents and actions by id.
    pub async fn list_flows(&self) -> Result<Vec<Flow>> {
        self.list("flows").await
    }

    /// One flow with its intents and actions in full.
    pub async fn flow_info(&self, flow_id: &str) -> Result<Flow> {
        self.info("flows", "flowId", flow_id).await
    }

    /// Every intent.
    pub async fn list_intents(&self) -> Result<Vec<Intent>> {
        self.list("intents").await
    }

    /// One intent with its examples.
    pub async fn intent_info(&self, intent_id: &str) -> Result<Intent> {
        self.info("intents", "intentId", intent_id).await
    }

    /// Every entity type (fields kept as the service sends them).
    pub async fn list_entity_types(&self) -> Result<Vec<Resource>> {
        self.list("entitytypes").await
    }

    /// One entity type.
    pub async fn entity_type_info(&self, entity_type_id: &str) -> Result<Resource> {
        self.info("entitytypes", "entityTypeId", entity_type_id)
            .await
    }

    /// Every project.
    pub async fn list_projects(&self) -> Result<Vec<Resource>> {
        self.list("projects").await
    }

    /// One project.
    pub async fn project_info(&self, project_id: &str) -> Result<Resource> {
        self.info("projects", "projectId", project_id).await
    }

    /// Every member of the organisation.
    pub async fn list_members(&self) -> Result<Vec<Resource>> {
        self.list("members").await
    }

    /// `GET /<resource>/list`; accepts a bare array or an object wrapping one in `items`.
    async fn list<T: DeserializeOwned>(&self, resource: &str) -> Result<Vec<T>> {
        let request = self.api.request(Method::GET, &[resource, "list"])?;
        let body: Value = http::send_json(request).await?;
        let items = match body {
            Value::Array(items) => Value::Array(items),
            Value::Object(mut map) => map
                .remove("items")
                .ok_or_else(|| Error::protocol(format!("{resource} list is not a list")))?,
            _ => return Err(Error::protocol(format!("{resource} list is not a list"))),
        };
        serde_json::from_value(items).map_err(Error::from)
    }

    /// `GET /<resource>/info?<param>=<id>`.
    async fn info<T: DeserializeOwned>(&self, resource: &str, param: &str, id: &str) -> Result<T> {
        if id.trim().is_empty() {
            return Err(Error::invalid(format!("{param} must not be empty")));
        }
        let request = self
            .api
            .request(Method::GET, &[resource, "info"])?
            .query(&[(param, id)]);
        http::send_json(request).await
    }
}
