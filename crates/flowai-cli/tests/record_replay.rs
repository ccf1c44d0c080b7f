//! `flowai emulator --record` and `--replay` end to end: a scripted `flowai chat` recorded through the proxy against a second `flowai emulator`, then run again against the replay.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

fn flowai() -> Command {
    Command::new(env!("CARGO_BIN_EXE_flowai"))
}

/// A `flowai emulator ...` child and the `NAME=value` lines it printed; killed on drop.
struct Server {
    child: Child,
    env: HashMap<String, String>,
}

impl Server {
    /// Start and read stdout until `last` has been printed.
    fn start(args: &[&str], last: &str) -> Server {
        let mut child = flowai()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut env = HashMap::new();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        while !env.contains_key(last) {
            let line = lines.next().expect("the server ended early").unwrap();
            if let Some((k, v)) = line.split_once('=') {
                env.insert(k.to_string(), v.to_string());
            }
        }
        Server { child, env }
    }

    fn get(&self, name: &str) -> &str {
        &self.env[name]
    }

    /// SIGTERM, as Ctrl-C would, and wait: the recorder stops cleanly.
    fn terminate(mut self) -> bool {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success());
        self.child.wait().unwrap().success()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `flowai chat --event INTRO` with "hi" typed, against `api_url` as `client_id`.
fn chat(api_url: &str, client_id: &str) -> String {
    let mut child = flowai()
        .args(["chat", "--event", "INTRO"])
        .env("FLOWAI_API_URL", api_url)
        .env("FLOWAI_CLIENT_ID", client_id)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"hi\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    text
}

#[test]
fn a_chat_recorded_against_the_emulator_replays_offline() {
    let file: PathBuf =
        std::env::temp_dir().join(format!("flowai-cli-recording-{}.jsonl", std::process::id()));
    let service = Server::start(&["emulator", "--port", "0"], "FLOWAI_AIDA_TOKEN");
    let client_id = service.get("FLOWAI_CLIENT_ID").to_string();
    let recorder = Server::start(
        &[
            "emulator",
            "--record",
            file.to_str().unwrap(),
            "--upstream",
            service.get("FLOWAI_API_URL"),
        ],
        "FLOWAI_AIDA_URL",
    );
    let proxy = recorder.get("FLOWAI_API_URL").to_string();
    assert!(proxy.starts_with("http://127.0.0.1:"), "{proxy}");
    assert_ne!(proxy, service.get("FLOWAI_API_URL"));

    let live = chat(&proxy, &client_id);
    assert!(live.contains("Hi, how can we help?"), "{live}");
    assert!(live.contains("customer service demo bot"), "{live}");
    assert!(recorder.terminate(), "the recorder did not stop cleanly");
    drop(service);

    let recording = std::fs::read_to_string(&file).unwrap();
    assert!(
        recording.starts_with(
            r#"{"seq":0,"ms":0,"kind":"recording","format":"flowai-recording","version":1,"#
        ),
        "{recording}"
    );
    assert!(!recording.contains(&client_id));
    assert!(recording.contains(r#""speech":"hi""#));

    // The service is gone: the replay alone answers, as another client.
    let replay = Server::start(
        &["emulator", "--replay", file.to_str().unwrap()],
        "FLOWAI_AIDA_TOKEN",
    );
    assert_ne!(replay.get("FLOWAI_CLIENT_ID"), client_id);
    let replayed = chat(replay.get("FLOWAI_API_URL"), replay.get("FLOWAI_CLIENT_ID"));
    let bot_lines = |out: &str| -> Vec<String> {
        out.lines()
            .filter(|l| l.starts_with("bot:") || l.starts_with("  ["))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(bot_lines(&replayed), bot_lines(&live), "{replayed}");
    assert!(replay.terminate());
    let _ = std::fs::remove_file(&file);
}

#[test]
fn record_needs_an_upstream_and_replay_needs_a_recording() {
    let out = flowai()
        .args(["emulator", "--record", "x.jsonl"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--upstream"));

    let missing = std::env::temp_dir().join("flowai-no-such-recording.jsonl");
    let out = flowai()
        .args(["emulator", "--replay", missing.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read the recording"));

    let bad =
        std::env::temp_dir().join(format!("flowai-bad-recording-{}.jsonl", std::process::id()));
    std::fs::write(
        &bad,
        r#"{"seq":0,"ms":0,"kind":"recording","format":"flowai-recording","version":99,"upstream":"u"}"#,
    )
    .unwrap();
    let out = flowai()
        .args(["emulator", "--replay", bad.to_str().unwrap()])
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&bad);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("version 99"));
}
