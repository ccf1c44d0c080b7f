//! End-to-end checks of the `flowai` binary: the demo, scripted chats, and the emulator's output contract.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

fn flowai() -> Command {
    Command::new(env!("CARGO_BIN_EXE_flowai"))
}

fn run_with_stdin(args: &[&str], stdin: &str) -> (bool, String) {
    let mut child = flowai()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[test]
fn demo_shows_every_part_and_exits_zero() {
    let (ok, out) = run_with_stdin(&["demo"], "");
    assert!(ok, "{out}");
    for needle in [
        "customer service demo bot",
        "Hi, how can we help?",
        "[1] Chat with flow.ai",
        "[2] Call flow.ai",
        "[3] Ask a question",
        "via webhook",
        "== Flow Socket API",
        "== AIDA chatbot",
        "demo finished",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in:\n{out}");
    }
}

#[test]
fn scripted_socket_chat_picks_quick_reply_by_number() {
    let (ok, out) = run_with_stdin(&["chat", "--emulator", "--event", "INTRO"], "2\nhi\n");
    assert!(ok, "{out}");
    assert!(out.contains("Hi, how can we help?"), "{out}");
    assert!(out.contains("you: What is your phone number?"), "{out}");
    assert!(out.contains("customer service demo bot"), "{out}");
}

#[test]
fn scripted_aida_chat_answers() {
    let (ok, out) = run_with_stdin(
        &["aida", "chat", "--emulator"],
        "what is the weather like\nRotterdam\n",
    );
    assert!(ok, "{out}");
    assert!(out.contains("Which city?"), "{out}");
    assert!(out.contains("Rotterdam"), "{out}");
}

#[test]
fn emulator_prints_url_then_settings() {
    let mut child = flowai()
        .args(["emulator", "--port", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(
        first.starts_with("listening on http://127.0.0.1:"),
        "{first}"
    );
    let names: Vec<String> = lines
        .take(7)
        .map(|l| l.unwrap().split('=').next().unwrap().to_string())
        .collect();
    child.kill().unwrap();
    let _ = child.wait();
    assert_eq!(
        names,
        [
            "FLOWAI_API_URL",
            "FLOWAI_MESSAGING_KEY",
            "FLOWAI_MANAGEMENT_KEY",
            "FLOWAI_CLIENT_ID",
            "FLOWAI_AIDA_URL",
            "FLOWAI_AIDA_BOT",
            "FLOWAI_AIDA_TOKEN"
        ]
    );
}

#[test]
fn send_without_key_is_a_clear_error() {
    let out = flowai()
        .args(["send", "text", "hi"])
        .env_remove("FLOWAI_MESSAGING_KEY")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("FLOWAI_INVALID_ARGUMENT") && err.contains("FLOWAI_MESSAGING_KEY"),
        "{err}"
    );
}

#[test]
fn short_soak_with_faults_loses_and_duplicates_nothing() {
    // Ten seconds with a fault about every second: the command itself fails on any loss or
    // duplicate; the summary must carry every field.
    let out = flowai()
        .args(["soak", "--minutes", "0.17", "--sessions", "8", "--json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    for field in [
        "sends",
        "delivered",
        "failed",
        "lost",
        "duplicated",
        "rss_kib_start",
        "rss_kib_end",
    ] {
        assert!(summary[field].is_u64(), "{field} missing in {summary}");
    }
    assert!(summary["sends"].as_u64().unwrap() > 1000, "{summary}");
    assert!(
        summary["faults_injected"].as_u64().unwrap() >= 3,
        "{summary}"
    );
    assert_eq!(summary["lost"], 0);
    assert_eq!(summary["duplicated"], 0);
}
