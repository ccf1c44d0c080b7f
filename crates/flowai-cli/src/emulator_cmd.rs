//! `flowai emulator`: serve the emulator and print how to reach it.

use std::io::Write;
use std::path::PathBuf;

use flowai_emulator::{Emulator, EmulatorOptions, TlsOptions};

/// Options of `flowai emulator`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// A project file (a JSON list of flows, as the Management API returns them).
    #[arg(long)]
    project: Option<PathBuf>,
    /// Multiply service-side waits such as webhook retry backoff (e.g. 0.001 for tests).
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,
    /// Serve HTTPS and WSS with a fresh self-signed certificate; its PEM is written to a
    /// file named by the extra `FLOWAI_CA_CERT=` line.
    #[arg(long)]
    tls: bool,
}

/// Start the emulator, print `listening on URL` and the `NAME=value` lines, serve until Ctrl-C.
pub async fn run(args: Args) -> Result<(), String> {
    let options = EmulatorOptions {
        port: args.port,
        project: args.project,
        time_scale: args.time_scale,
        tls: if args.tls {
            Some(TlsOptions::self_signed()?)
        } else {
            None
        },
        ..EmulatorOptions::default()
    };
    let running = Emulator::new(options)
        .start()
        .await
        .map_err(|e| e.to_string())?;
    let ca_file = match running.tls_certificate_pem() {
        Some(pem) => Some(write_ca_file(pem, running.addr().port())?),
        None => None,
    };
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on {}", running.base_url());
        for line in running.env_lines() {
            let _ = writeln!(out, "{line}");
        }
        if let Some(path) = &ca_file {
            let _ = writeln!(out, "FLOWAI_CA_CERT={}", path.display());
        }
        // Scripts read these lines through a pipe: push them out now.
        let _ = out.flush();
    }
    wait_for_shutdown().await;
    running.shutdown().await;
    if let Some(path) = ca_file {
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}

/// Write the certificate clients must trust to a file of its own in the temp directory.
fn write_ca_file(pem: &str, port: u16) -> Result<PathBuf, String> {
    let path = std::env::temp_dir().join(format!(
        "flowai-emulator-ca-{}-{port}.pem",
        std::process::id()
    ));
    std::fs::write(&path, pem)
        .map_err(|e| format!("cannot write the certificate to {}: {e}", path.display()))?;
    Ok(path)
}

async fn wait_for_shutdown() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// An emulator in this process with default options, for commands run with `--emulator`.
pub async fn start_embedded() -> Result<flowai_emulator::RunningEmulator, String> {
    Emulator::new(EmulatorOptions::default())
        .start()
        .await
        .map_err(|e| e.to_string())
}
