//! `management`: the Management API.

use std::sync::Arc;

use flowai_core::Result;
use flowai_core::event::Case;
use flowai_core::management::ManagementClient;
use flowai_core::settings::ManagementSettings;
use serde_json::Value;

use super::{closed_now, json, settings, small_queue, unimplemented};
use crate::args::Args;
use crate::handle::{Ctx, Object, Opened, Pending, Reply};

struct Management(ManagementClient);

pub(super) fn open(value: &Value, case: Case) -> Result<Opened> {
    let s: ManagementSettings = settings(value, ManagementSettings::FIELDS)?;
    let client = ManagementClient::new(s.into_config()?)?;
    Ok(Opened {
        object: Arc::new(Management(client)),
        events: small_queue(case),
    })
}

impl Management {
    async fn run(&self, method: &str, args: Args) -> Result<Reply> {
        let c = &self.0;
        let id = |name: &str| args.string(name);
        match method {
            "list_flows" => json(&c.list_flows().await?),
            "get_flow" => json(&c.flow_info(&id("flow_id")?).await?),
            "list_intents" => json(&c.list_intents().await?),
            "get_intent" => json(&c.intent_info(&id("intent_id")?).await?),
            "list_entity_types" => json(&c.list_entity_types().await?),
            "get_entity_type" => json(&c.entity_type_info(&id("entity_type_id")?).await?),
            "list_projects" => json(&c.list_projects().await?),
            "get_project" => json(&c.project_info(&id("project_id")?).await?),
            "list_members" => json(&c.list_members().await?),
            other => Err(unimplemented(other)),
        }
    }
}

impl Object for Management {
    fn call<'a>(&'a self, _ctx: &'a Ctx, method: &'static str, args: Args) -> Pending<'a, Reply> {
        Box::pin(self.run(method, args))
    }

    fn close<'a>(&'a self, ctx: &'a Ctx) -> Pending<'a, ()> {
        closed_now(ctx)
    }
}
