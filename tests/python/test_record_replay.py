"""A conversation recorded with `flowai emulator --record` (against the suite's emulator as the
real service) and served by `flowai emulator --replay`: the binding sees the recorded bot replies,
with its own thread ids, trace ids and keys. The same through `flowai.Emulator(record=...)` and
`flowai.Emulator(replay=...)` in this process."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import flowai
from conftest import reply_texts

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("FLOWAI_BIN") or str(ROOT / "target" / "debug" / "flowai")


class Server:
    """A `flowai emulator ...` child and the NAME=value lines it printed."""

    def __init__(self, *args: str, last: str) -> None:
        self.proc = subprocess.Popen(
            [BIN, "emulator", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        self.env: dict[str, str] = {}
        while last not in self.env:
            line = self.proc.stdout.readline()
            if not line:
                raise AssertionError(f"flowai emulator {' '.join(args)} ended early")
            name, sep, value = line.strip().partition("=")
            if sep:
                self.env[name] = value

    def stop(self) -> int:
        """SIGTERM, as Ctrl-C would; the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=15)


@pytest.fixture
def recording(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "session.jsonl"
    yield path
    path.unlink(missing_ok=True)


def started(*args: str, last: str) -> Server:
    if not Path(BIN).exists():
        pytest.fail(f"{BIN} is missing: cargo build -p flowai-cli")
    return Server(*args, last=last)


def next_reply(session: flowai.Session) -> flowai.Event:
    for event in session:
        if event.name == "reply":
            return event
    raise AssertionError("session ended without a reply")


def socket_conversation(api_url: str, client_id: str) -> tuple[list[str], list[str]]:
    """INTRO then "hi"; each delivery and reply must carry this session's thread and traceId."""
    with flowai.Session.connect(api_url=api_url, client_id=client_id) as session:
        thread = session.info()["thread_id"]
        delivered = session.send_event("INTRO")
        assert delivered["threadId"] == thread
        intro = next_reply(session)
        assert intro.payload["thread_id"] == thread
        assert intro.payload["reply"]["traceId"] == delivered["traceId"]
        delivered = session.send_text("hi")
        greeting = next_reply(session)
        assert greeting.payload["reply"]["traceId"] == delivered["traceId"]
        return reply_texts(intro), reply_texts(greeting)


def test_a_socket_conversation_replays(emulator: dict[str, str], recording: Path) -> None:
    recorder = started("--record", str(recording), "--upstream", emulator["FLOWAI_API_URL"], last="FLOWAI_AIDA_URL")
    try:
        live = socket_conversation(recorder.env["FLOWAI_API_URL"], emulator["FLOWAI_CLIENT_ID"])
    finally:
        assert recorder.stop() == 0
    assert live[0] == ["Hi, how can we help?"]
    assert any("customer service demo bot" in t for t in live[1])
    text = recording.read_text(encoding="utf-8")
    assert emulator["FLOWAI_CLIENT_ID"] not in text
    assert '"version":1' in text.splitlines()[0]

    replay = started("--replay", str(recording), last="FLOWAI_AIDA_TOKEN")
    try:
        assert replay.env["FLOWAI_CLIENT_ID"] != emulator["FLOWAI_CLIENT_ID"]
        replayed = socket_conversation(replay.env["FLOWAI_API_URL"], replay.env["FLOWAI_CLIENT_ID"])
    finally:
        assert replay.stop() == 0
    assert replayed == live


def rest_conversation(api_url: str, key: str, verify_key: str, thread: str) -> list[str]:
    """Subscribe a receiver, send "hi" over the Messaging API, return the reply's texts."""
    events: queue.Queue[flowai.Event] = queue.Queue()
    with flowai.MessagingClient(api_url=api_url, messaging_key=key) as client, flowai.WebhookReceiver(
        verify_key=verify_key
    ) as receiver:
        receiver.on("*", events.put)
        url = receiver.info()["url"]
        hook = client.create_webhook(url, verify_key, ["message.reply"])
        assert hook["url"] == url
        try:
            client.send_text(thread, "hi", trace_id=31)
            while True:
                event = events.get(timeout=15)
                if event.name == "reply":
                    break
            assert event.payload["thread_id"] == thread
            assert event.payload["reply"]["traceId"] == 31
            return reply_texts(event)
        finally:
            client.delete_webhook(hook["webhookId"])


def test_a_message_and_its_webhook_reply_replay(emulator: dict[str, str], recording: Path) -> None:
    recorder = started("--record", str(recording), "--upstream", emulator["FLOWAI_API_URL"], last="FLOWAI_AIDA_URL")
    recorded_key = f"vk-{uuid.uuid4().hex}"
    try:
        live = rest_conversation(
            recorder.env["FLOWAI_API_URL"], emulator["FLOWAI_MESSAGING_KEY"], recorded_key, f"py-rec-{uuid.uuid4().hex}"
        )
    finally:
        assert recorder.stop() == 0
    assert any("customer service demo bot" in t for t in live)
    text = recording.read_text(encoding="utf-8")
    for secret in (emulator["FLOWAI_MESSAGING_KEY"], recorded_key):
        assert secret not in text
    assert '"kind":"webhook"' in text

    replay = started("--replay", str(recording), last="FLOWAI_AIDA_TOKEN")
    try:
        replayed = rest_conversation(
            replay.env["FLOWAI_API_URL"],
            replay.env["FLOWAI_MESSAGING_KEY"],
            f"vk-{uuid.uuid4().hex}",
            f"py-replay-{uuid.uuid4().hex}",
        )
    finally:
        assert replay.stop() == 0
    assert replayed == live


def say_hi(settings: dict[str, Any]) -> list[str]:
    """A session with `settings` says "hi"; the texts of the reply, which carries its thread and traceId."""
    with flowai.Session.connect(**settings) as session:
        thread = session.info()["thread_id"]
        delivered = session.send_text("hi")
        assert delivered["speech"] == "hi"
        reply = next_reply(session)
        assert reply.payload["thread_id"] == thread
        assert reply.payload["reply"]["traceId"] == delivered["traceId"]
        return reply_texts(reply)


def test_an_emulator_object_records_and_another_replays(recording: Path) -> None:
    """The same round trip in this process: `flowai.Emulator(record=..., upstream=...)`, then `replay=...`."""
    with flowai.Emulator() as service:
        real = service.info()
        with flowai.Emulator(record=str(recording), upstream=real["api_url"]) as recorder:
            urls = recorder.info()
            # Its URLs only: the keys are the service's, and pass through the recorder.
            assert sorted(urls) == ["aida_url", "api_url"]
            assert urls["api_url"] != real["api_url"]
            live = say_hi({**real, **urls})
        # Complete once the recorder closed; the client id masked.
        text = recording.read_text(encoding="utf-8")
        assert '"format":"flowai-recording"' in text.splitlines()[0]
        assert '"kind":"frame"' in text
        assert real["client_id"] not in text
    assert any("customer service demo bot" in t for t in live)

    # The service is gone: the replay answers alone, with keys of its own and no AIDA bot
    # (the recording has no AIDA traffic).
    with flowai.Emulator(replay=str(recording)) as replay:
        settings = replay.info()
        assert settings["client_id"] != real["client_id"]
        assert "aida_bot" not in settings
        assert say_hi(settings) == live

    with pytest.raises(flowai.InvalidArgumentError) as info:
        flowai.Emulator(record=str(recording))
    assert info.value.message == "record needs upstream: the URL of the service to record"
    with pytest.raises(flowai.InvalidArgumentError) as info:
        flowai.Emulator(replay=str(recording), time_scale=0.5)
    assert info.value.message == "replay cannot be combined with time_scale: a replay serves the recording as it is"
