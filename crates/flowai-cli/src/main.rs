//! The `flowai` command: the demo, the local emulator, and command-line access to every API.

mod aida_cmd;
mod bench_cmd;
mod chat_cmd;
mod common;
mod demo;
mod emulator_cmd;
mod flows_cmd;
mod listen_cmd;
mod render;
mod rest_cmd;
mod send_cmd;
mod soak_cmd;
mod webhooks_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Talk to Flow.ai and AIDA from the command line, or run a local emulator of both.
#[derive(Debug, Parser)]
#[command(name = "flowai", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a scripted conversation against an embedded emulator.
    Demo(demo::Args),
    /// Run the local Flow.ai + AIDA emulator until interrupted; or record a real service (--record) or replay a recording (--replay).
    Emulator(emulator_cmd::Args),
    /// Send a message through the Messaging REST API.
    Send(send_cmd::Args),
    /// Manage webhook subscriptions.
    Webhooks(webhooks_cmd::Args),
    /// Receive webhook calls and print them.
    Listen(listen_cmd::Args),
    /// Read flows through the Management API.
    Flows(flows_cmd::Args),
    /// Chat in real time over the Flow Socket API.
    Chat(chat_cmd::Args),
    /// Talk to an AIDA chatbot over Phoenix channels.
    Aida(aida_cmd::Args),
    /// Measure the SDK next to raw clients against the emulator.
    Bench(bench_cmd::Args),
    /// Drive many socket sessions with random faults against the emulator; count losses and duplicates.
    Soak(soak_cmd::Args),
    #[command(flatten)]
    Rest(rest_cmd::Command),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Demo(args) => demo::run(args).await,
            Command::Emulator(args) => emulator_cmd::run(args).await,
            Command::Send(args) => send_cmd::run(args).await,
            Command::Webhooks(args) => webhooks_cmd::run(args).await,
            Command::Listen(args) => listen_cmd::run(args).await,
            Command::Flows(args) => flows_cmd::run(args).await,
            Command::Chat(args) => chat_cmd::run(args).await,
            Command::Aida(args) => aida_cmd::run(args).await,
            Command::Bench(args) => bench_cmd::run(args).await,
            Command::Soak(args) => soak_cmd::run(args).await,
            Command::Rest(command) => rest_cmd::run(command).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
