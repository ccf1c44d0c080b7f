//! The REST API v1 commands of the `flowai` binary against an emulator in the test's own process.
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::process::{Command, Output};

use flowai_core::v1::{RestClient, RestMessage, RestOptions, SendOptions};
use flowai_emulator::{Emulator, EmulatorOptions, RunningEmulator};

/// An emulator on a runtime that stays alive as long as the pair.
struct Peer {
    runtime: tokio::runtime::Runtime,
    emulator: RunningEmulator,
}

impl Peer {
    fn start() -> Peer {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let emulator = runtime
            .block_on(Emulator::new(EmulatorOptions::default()).start())
            .unwrap();
        Peer { runtime, emulator }
    }

    /// Run `flowai ARGS` pointed at this emulator.
    fn flowai(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_flowai"))
            .args(args)
            .env_remove("FLOWAI_REST_URL")
            .env("FLOWAI_API_URL", self.emulator.base_url())
            .env(
                "FLOWAI_MESSAGING_KEY",
                &self.emulator.credentials().messaging_key,
            )
            .output()
            .unwrap()
    }

    /// Start `count` threads with a message each; their ids.
    fn make_threads(&self, count: usize) -> HashSet<String> {
        let options = RestOptions::new(
            format!("{}/rest/v1", self.emulator.base_url()),
            self.emulator.credentials().messaging_key.clone(),
        );
        let client = RestClient::new(options).unwrap();
        self.runtime.block_on(async {
            let mut ids = HashSet::new();
            for i in 0..count {
                let message = RestMessage::text(format!("hello {i}"));
                let receipt = client
                    .send(None, &message, &SendOptions::default())
                    .await
                    .unwrap();
                ids.insert(receipt.thread_id);
            }
            ids
        })
    }
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[test]
fn send_sync_prints_the_greeting() {
    let peer = Peer::start();
    let text = stdout(&peer.flowai(&["send", "--sync", "text", "hi"]));
    assert!(text.contains("customer service demo bot"), "{text}");
    assert!(text.starts_with("thread: "), "{text}");
    let json: serde_json::Value = serde_json::from_str(&stdout(
        &peer.flowai(&["send", "--sync", "--json", "text", "hi"]),
    ))
    .unwrap();
    assert!(json["threadId"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(json["messages"].as_array().is_some_and(|m| !m.is_empty()));
    let long = "x".repeat(256);
    let out = peer.flowai(&["send", "--sync", "text", &long]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("FLOWAI_INVALID_ARGUMENT"));
}

#[test]
fn threads_list_json_pages_through_every_thread() {
    let peer = Peer::start();
    let made = peer.make_threads(45);
    let text = stdout(&peer.flowai(&["threads", "list", "--json"]));
    let ids: Vec<String> = text
        .lines()
        .map(|line| {
            let thread: serde_json::Value = serde_json::from_str(line).unwrap();
            thread["threadId"].as_str().unwrap().to_string()
        })
        .collect();
    assert!(ids.len() > 40, "{} threads listed", ids.len());
    let listed: HashSet<String> = ids.iter().cloned().collect();
    assert_eq!(listed.len(), ids.len(), "a thread listed twice");
    assert!(made.is_subset(&listed));
}

#[test]
fn pause_status_resume_and_trigger() {
    let peer = Peer::start();
    let thread = peer.make_threads(1).into_iter().next().unwrap();
    let paused = stdout(&peer.flowai(&["pause", &thread, "--seconds", "60"]));
    assert!(paused.contains("bot paused"), "{paused}");
    let status = stdout(&peer.flowai(&["status", &thread, "--json"]));
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(status["isPaused"], true);
    let silent = stdout(&peer.flowai(&["send", "--sync", "--thread", &thread, "text", "hi"]));
    assert!(!silent.contains("bot:"), "a paused bot answered: {silent}");
    let resumed = stdout(&peer.flowai(&["resume", &thread]));
    assert!(resumed.contains("bot active"), "{resumed}");
    let events = stdout(&peer.flowai(&["trigger", "list"]));
    assert!(events.lines().any(|l| l == "INTRO"), "{events}");
    let triggered = stdout(&peer.flowai(&["trigger", &thread, "INTRO"]));
    assert!(triggered.contains("triggered INTRO"), "{triggered}");
}
