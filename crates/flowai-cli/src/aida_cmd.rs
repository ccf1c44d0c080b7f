//! `flowai aida chat`: an interactive AIDA chatbot session over Phoenix channels.

use std::io::IsTerminal;

use flowai_core::Config;
use flowai_core::aida::{AidaClient, AidaOptions};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::common::{fail, print_json};

/// Options of `flowai aida`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Chat with the bot: each stdin line is sent, replies are printed; `/quit` ends.
    Chat {
        /// Start an embedded emulator instead of using FLOWAI_AIDA_URL / _BOT / _TOKEN.
        #[arg(long)]
        emulator: bool,
        /// Print one JSON object per reply.
        #[arg(long)]
        json: bool,
    },
}

/// Run the action.
pub async fn run(args: Args) -> Result<(), String> {
    let Action::Chat { emulator, json } = args.action;
    let embedded = if emulator {
        Some(crate::emulator_cmd::start_embedded().await?)
    } else {
        None
    };
    let options = match &embedded {
        Some(e) => AidaOptions::new(
            e.aida_url(),
            e.credentials().aida_bot.clone(),
            e.credentials().aida_token.clone(),
        ),
        None => AidaOptions::from_config(&Config::from_env()).map_err(fail)?,
    };
    let client = AidaClient::connect(options).await.map_err(fail)?;
    let session = client.new_session(None).await.map_err(fail)?;
    if !json {
        println!(
            "joined bot:{} as session {} (/quit to end)",
            client.bot(),
            session.id()
        );
    }
    let echo = !json && !std::io::stdin().is_terminal();
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    loop {
        tokio::select! {
            line = lines.next_line() => {
                let line = line.map_err(|e| format!("cannot read stdin: {e}"))?;
                let Some(line) = line else { break };
                let line = line.trim();
                if line == "/quit" {
                    break;
                }
                if line.is_empty() {
                    continue;
                }
                if echo {
                    println!("you: {line}");
                }
                session.send_text(line).await.map_err(fail)?;
                // Wait for the answer so a script's transcript stays in order.
                if let Ok(Some(reply)) =
                    tokio::time::timeout(std::time::Duration::from_secs(10), session.recv()).await
                {
                    show(&reply, json);
                }
            }
            Some(reply) = session.recv() => show(&reply, json),
        }
    }
    session.delete().await.map_err(fail)?;
    client.close().await;
    if let Some(e) = embedded {
        e.shutdown().await;
    }
    Ok(())
}

fn show(reply: &flowai_core::aida::BotMessage, json: bool) {
    if json {
        print_json(&reply.payload);
    } else {
        println!("bot: {}", reply.text.as_deref().unwrap_or("").trim_end());
    }
}
