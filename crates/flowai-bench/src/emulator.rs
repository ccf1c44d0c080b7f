//! The emulator under load, run as a child process so its CPU and memory stay apart from the client's.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Where the clients connect and with which credentials.
#[derive(Clone)]
pub struct Target {
    /// `http://127.0.0.1:PORT`.
    pub api_url: String,
    /// Socket client id.
    pub client_id: String,
    /// Messaging REST bearer key.
    pub messaging_key: String,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("api_url", &self.api_url)
            .finish_non_exhaustive()
    }
}

/// A running emulator child; killed when dropped.
#[derive(Debug)]
pub struct EmulatorChild {
    child: Child,
    pid: u32,
    target: Target,
}

impl EmulatorChild {
    /// Run `program emulator --port 0` and read its `listening on` and `NAME=value` lines.
    pub async fn spawn(program: &Path) -> Result<EmulatorChild, String> {
        let mut child = Command::new(program)
            .args(["emulator", "--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start the emulator ({}): {e}", program.display()))?;
        let pid = child.id().unwrap_or(0);
        let stdout = child
            .stdout
            .take()
            .ok_or("the emulator's output is not readable")?;
        let mut lines = BufReader::new(stdout).lines();
        let (mut api_url, mut client_id, mut messaging_key) = (None, None, None);
        let read = async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some((name, value)) = line.split_once('=') {
                    match name {
                        "FLOWAI_API_URL" => api_url = Some(value.to_string()),
                        "FLOWAI_CLIENT_ID" => client_id = Some(value.to_string()),
                        "FLOWAI_MESSAGING_KEY" => messaging_key = Some(value.to_string()),
                        _ => {}
                    }
                }
                if api_url.is_some() && client_id.is_some() && messaging_key.is_some() {
                    break;
                }
            }
        };
        if tokio::time::timeout(Duration::from_secs(30), read)
            .await
            .is_err()
        {
            return Err("the emulator did not print its address within 30 s".into());
        }
        let (Some(api_url), Some(client_id), Some(messaging_key)) =
            (api_url, client_id, messaging_key)
        else {
            return Err("the emulator exited before printing its address".into());
        };
        Ok(EmulatorChild {
            child,
            pid,
            target: Target {
                api_url,
                client_id,
                messaging_key,
            },
        })
    }

    /// Where to connect.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Stop the child and wait for it.
    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

/// The program to run for the emulator and the worker processes: this executable.
pub fn current_program() -> Result<PathBuf, String> {
    std::env::current_exe().map_err(|e| format!("cannot find the flowai executable: {e}"))
}
