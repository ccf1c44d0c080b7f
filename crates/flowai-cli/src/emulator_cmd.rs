//! `flowai emulator`: serve the emulator and print how to reach it; with `--record`, record a real service through a proxy; with `--replay`, serve a recording.

use std::io::Write;
use std::path::PathBuf;

use flowai_emulator::record::{self, RecordOptions};
use flowai_emulator::recording::Recording;
use flowai_emulator::replay::{self, ReplayOptions};
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
    /// Record instead: forward everything to --upstream and write every exchange (REST,
    /// webhook calls, socket frames) to FILE as JSON lines, secrets masked.
    #[arg(long, value_name = "FILE", requires = "upstream", conflicts_with_all = ["replay", "project", "tls", "time_scale"])]
    record: Option<PathBuf>,
    /// The service to record, e.g. https://api.flow.ai.
    #[arg(long, value_name = "URL", requires = "record")]
    upstream: Option<String>,
    /// The base URL at which the service reaches the recorder's webhook relay (a public
    /// tunnel to the recorder's port); the recorder's own URL by default.
    #[arg(long, value_name = "URL", requires = "record")]
    webhook_relay_url: Option<String>,
    /// Serve a recording made with --record: the recorded answers, webhook calls and socket
    /// frames, with this run's thread ids, trace ids and keys.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["project", "tls", "time_scale"])]
    replay: Option<PathBuf>,
}

/// Start the emulator, print `listening on URL` and the `NAME=value` lines, serve until Ctrl-C.
pub async fn run(args: Args) -> Result<(), String> {
    if let Some(file) = args.record.clone() {
        return run_record(args, file).await;
    }
    if let Some(file) = args.replay.clone() {
        return run_replay(args.port, file).await;
    }
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

/// `--record`: print the proxy's URL as `FLOWAI_API_URL` and `FLOWAI_AIDA_URL`, record until Ctrl-C.
async fn run_record(args: Args, file: PathBuf) -> Result<(), String> {
    let upstream = args.upstream.unwrap_or_default();
    let options = RecordOptions {
        port: args.port,
        webhook_relay_url: args.webhook_relay_url,
        // The credentials in this process's environment are masked from the first line.
        known_secrets: record::secrets_from(|name| std::env::var(name).ok()),
        ..RecordOptions::new(upstream.clone(), file.clone())
    };
    let recorder = record::start(options).await.map_err(|e| e.to_string())?;
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on {}", recorder.base_url());
        let _ = writeln!(out, "FLOWAI_API_URL={}", recorder.base_url());
        let _ = writeln!(out, "FLOWAI_AIDA_URL={}", recorder.base_url());
        let _ = out.flush();
    }
    eprintln!(
        "recording {upstream} into {} (secrets masked)",
        file.display()
    );
    wait_for_shutdown().await;
    recorder
        .shutdown()
        .await
        .map_err(|e| format!("recording into {}: {e}", file.display()))
}

/// `--replay`: print the same lines as the emulator, serve the recording until Ctrl-C.
async fn run_replay(port: u16, file: PathBuf) -> Result<(), String> {
    let recording = Recording::load(&file)?;
    let options = ReplayOptions {
        port,
        ..ReplayOptions::new(recording)
    };
    let running = replay::start(options).await.map_err(|e| e.to_string())?;
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on {}", running.base_url());
        for line in running.env_lines() {
            let _ = writeln!(out, "{line}");
        }
        let _ = out.flush();
    }
    eprintln!(
        "replaying {} (any credentials are accepted)",
        file.display()
    );
    wait_for_shutdown().await;
    let misses = running.misses();
    if misses > 0 {
        eprintln!("replay: {misses} requests or frames were not in the recording");
    }
    running.shutdown().await;
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
