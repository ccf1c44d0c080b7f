//! `flowai flows`: read flows through the Management API.

use flowai_core::management::ManagementClient;

use crate::common::{ConnectArgs, fail, print_json};

/// Options of `flowai flows`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
    #[command(flatten)]
    connect: ConnectArgs,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// List every flow.
    List,
    /// Show one flow with its steps.
    Info { flow_id: String },
}

/// Run the action and print the result.
pub async fn run(args: Args) -> Result<(), String> {
    let client = ManagementClient::new(args.connect.config()).map_err(fail)?;
    match args.action {
        Action::List => {
            let flows = client.list_flows().await.map_err(fail)?;
            if args.connect.json {
                print_json(&serde_json::to_value(&flows).unwrap_or_default());
            } else {
                for f in &flows {
                    println!(
                        "{}  {:<16} {} ({} steps)",
                        f.flow_id,
                        f.group,
                        f.title,
                        f.steps.len()
                    );
                }
            }
        }
        Action::Info { flow_id } => {
            let flow = client.flow_info(&flow_id).await.map_err(fail)?;
            if args.connect.json {
                print_json(&serde_json::to_value(&flow).unwrap_or_default());
            } else {
                println!("{} ({}), group {}", flow.title, flow.flow_id, flow.group);
                for step in &flow.steps {
                    println!("  {:<8} {}", step.kind.as_str(), step.title);
                }
            }
        }
    }
    Ok(())
}
