//! The `flowai` command: the demo, the local emulator, and command-line access to every API.

mod emulator_cmd;

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
    /// Run the local Flow.ai + AIDA emulator until interrupted.
    Emulator(emulator_cmd::Args),
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
            Command::Emulator(args) => emulator_cmd::run(args).await,
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
