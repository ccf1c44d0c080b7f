//! `flowai webhooks`: manage webhook subscriptions.

use flowai_core::Secret;
use flowai_core::messaging::MessagingClient;
use flowai_core::models::{NewWebhook, Webhook, WebhookUpdate};

use crate::common::{ConnectArgs, fail, print_json};

/// Options of `flowai webhooks`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
    #[command(flatten)]
    connect: ConnectArgs,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Subscribe a URL (Flow.ai first calls it with a GET that must answer 2xx).
    Create {
        url: String,
        /// Key sent with every call [env: FLOWAI_VERIFY_KEY].
        #[arg(long, env = "FLOWAI_VERIFY_KEY", hide_env_values = true)]
        verify_key: String,
        /// Event types (repeatable).
        #[arg(long = "event", default_values_t = ["message.reply".to_string(), "message.delivered".to_string()])]
        events: Vec<String>,
    },
    /// Show one subscription.
    Get { id: String },
    /// Change some fields of a subscription.
    Update {
        id: String,
        #[arg(long)]
        url: Option<String>,
        #[arg(long, hide_env_values = true)]
        verify_key: Option<String>,
        #[arg(long = "event")]
        events: Vec<String>,
    },
    /// List subscriptions, newest first.
    List,
    /// Delete a subscription.
    Delete { id: String },
}

/// Run the action and print the result.
pub async fn run(args: Args) -> Result<(), String> {
    let client = MessagingClient::new(args.connect.config()).map_err(fail)?;
    let json = args.connect.json;
    match args.action {
        Action::Create {
            url,
            verify_key,
            events,
        } => {
            let new = NewWebhook {
                url,
                verify_key: Secret::new(verify_key),
                events,
            };
            show(&[client.create_webhook(&new).await.map_err(fail)?], json);
        }
        Action::Get { id } => show(&[client.get_webhook(&id).await.map_err(fail)?], json),
        Action::Update {
            id,
            url,
            verify_key,
            events,
        } => {
            let update = WebhookUpdate {
                url,
                verify_key: verify_key.map(Secret::new),
                events: (!events.is_empty()).then_some(events),
            };
            show(
                &[client.update_webhook(&id, &update).await.map_err(fail)?],
                json,
            );
        }
        Action::List => show(&client.list_webhooks().await.map_err(fail)?, json),
        Action::Delete { id } => {
            client.delete_webhook(&id).await.map_err(fail)?;
            if json {
                print_json(&serde_json::json!({ "deleted": id }));
            } else {
                println!("deleted {id}");
            }
        }
    }
    Ok(())
}

fn show(webhooks: &[Webhook], json: bool) {
    if json {
        // Verify keys are secrets: scripts get every field but the key.
        for w in webhooks {
            let mut value = serde_json::to_value(w).unwrap_or_default();
            if let Some(obj) = value.as_object_mut() {
                obj.remove("verifyKey");
            }
            print_json(&value);
        }
        return;
    }
    if webhooks.is_empty() {
        println!("no webhooks");
    }
    for w in webhooks {
        println!("{}  {}  [{}]", w.webhook_id, w.url, w.events.join(", "));
    }
}
