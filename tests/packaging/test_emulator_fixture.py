"""A user's own test suite: the installed package's `flowai_emulator` fixture (entry point
`pytest11`, no conftest) and `flowai.testing.Emulator`, against the emulator in-process."""

from __future__ import annotations

import os
import queue

import flowai
from flowai.testing import Emulator


def test_the_fixture_points_clients_made_without_settings_at_the_emulator(
    flowai_emulator: Emulator,
) -> None:
    assert os.environ["FLOWAI_API_URL"] == flowai_emulator.settings["api_url"]
    with flowai.Session.connect() as session:
        session.send_event("INTRO")
        for event in session:
            if event.name == "reply":
                texts = [m["fallback"] for m in event.payload["reply"]["messages"]]
                break
    assert any(texts), texts


def test_the_emulator_delivers_replies_to_the_apps_webhook(flowai_emulator: Emulator) -> None:
    client = flowai.MessagingClient()
    with flowai.WebhookReceiver(verify_key="ci-verify-key") as receiver:
        replies: queue.Queue[flowai.Event] = queue.Queue()
        receiver.on("reply", replies.put)
        client.create_webhook(receiver.info()["url"], "ci-verify-key", ["message.reply"])
        client.send_text("ci-user", "hi")
        reply = replies.get(timeout=10).payload["reply"]
    assert reply["messages"][0]["fallback"]


def test_the_context_manager_starts_and_stops_its_own_emulator() -> None:
    with Emulator(time_scale=0.01) as emulator:
        assert emulator.running
        flows = flowai.ManagementClient(**emulator.settings).list_flows()
        assert len(flows) > 0
        assert set(emulator.env) >= {"FLOWAI_API_URL", "FLOWAI_CLIENT_ID", "FLOWAI_MESSAGING_KEY"}
    assert not emulator.running
    # Its port is closed: a client pointed at it cannot connect any more.
    try:
        flowai.ManagementClient(**emulator.settings, timeout_ms=2000).list_flows()
    except flowai.FlowAIError as err:
        assert err.code == "FLOWAI_CONNECTION", err.code
    else:
        raise AssertionError("the stopped emulator still answered")
