//! `flowai demo`: a scripted conversation against the embedded emulator, showing each capability.

mod aida;
mod rest;
mod socket;

use flowai_emulator::{Emulator, EmulatorOptions, RunningEmulator};

/// Options of `flowai demo`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Start the emulator in-process on a free port and run every part of the demo.
pub async fn run(_args: Args) -> Result<(), String> {
    let emulator = Emulator::new(EmulatorOptions::default())
        .start()
        .await
        .map_err(|e| e.to_string())?;
    println!("flowai demo: emulator listening on {}", emulator.base_url());
    let result = run_parts(&emulator).await;
    emulator.shutdown().await;
    result?;
    println!();
    println!("demo finished: every part answered as expected");
    Ok(())
}

async fn run_parts(emulator: &RunningEmulator) -> Result<(), String> {
    rest::run(emulator).await?;
    socket::run(emulator).await?;
    aida::run(emulator).await
}

/// Print a section heading.
fn heading(title: &str) {
    println!();
    println!("== {title} ==");
}
