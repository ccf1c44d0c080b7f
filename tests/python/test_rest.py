"""Flow REST API v1: sync sends with the bot's replies, listings walked page by page (blocking and asyncio), bot pause."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

import pytest

import flowai

THREADS = 45  # more than two pages of 20


def texts(receipt: dict[str, Any]) -> list[str]:
    """The texts of the bot's replies in a sync send's answer."""
    return [
        r["payload"]["text"]
        for m in receipt["messages"]
        for r in m.get("responses", [])
        if r["type"] == "text" and "text" in r["payload"]
    ]


@pytest.fixture(scope="module")
def settings() -> Iterator[dict[str, Any]]:
    """The settings of an emulator of this module's own, so the thread count is known."""
    emulator = flowai.Emulator()
    yield emulator.info()
    emulator.close()


@pytest.fixture(scope="module")
def rest(settings: dict[str, Any]) -> Iterator[flowai.RestClient]:
    with flowai.RestClient(**settings) as client:
        yield client


def test_sync_send_answers_with_the_greeting(rest: flowai.RestClient) -> None:
    receipt = rest.send_text("hi", sync=True)
    assert receipt["threadId"]
    assert any("customer service demo bot" in t for t in texts(receipt)), receipt


def test_listings_fetch_page_after_page(rest: flowai.RestClient) -> None:
    made = {rest.send_text(f"hello {i}")["threadId"] for i in range(THREADS)}
    assert len(made) == THREADS
    first = rest.threads_page(page=1)
    assert len(first["items"]) == 20 and first["has_more"] is True
    listing = rest.threads()
    seen = [t["threadId"] for t in listing]
    assert len(seen) == len(set(seen)), "a thread listed twice"
    assert made <= set(seen)

    async def walk() -> list[str]:
        return [t["threadId"] async for t in listing]

    assert asyncio.run(walk()) == seen  # each iteration starts from the first page again
    thread = next(iter(made))
    messages = list(rest.messages(thread))
    assert messages, "the thread's message is listed"


def test_pause_stops_the_bot_until_resumed(rest: flowai.RestClient) -> None:
    thread = rest.send_text("hi", sync=True)["threadId"]
    assert rest.pause(thread)["isPaused"] is True
    assert rest.pause_status(thread)["isPaused"] is True
    assert texts(rest.send_text("hi", thread_id=thread, sync=True)) == []
    assert rest.resume(thread)["isPaused"] is False
    assert texts(rest.send_text("hi", thread_id=thread, sync=True))


def test_bad_input_is_refused_before_sending(rest: flowai.RestClient) -> None:
    with pytest.raises(flowai.InvalidArgumentError):
        rest.send_text("x" * 256, sync=True)
    with pytest.raises(flowai.InvalidArgumentError):
        rest.send({"payload": {"type": "fax"}})


def test_requests_log_through_logging_without_the_key(
    rest: flowai.RestClient, settings: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="flowai")
    thread = rest.send_text("hi")["threadId"]
    rest.pause_status(thread)
    lines = [r.getMessage() for r in caplog.records if r.name == "flowai"]
    assert any("/rest/v1/pause/" in line for line in lines), lines
    assert any("/rest/v1/messages" in line for line in lines), lines
    key = settings["messaging_key"]
    assert not any(key in line for line in lines)
    assert key not in repr(rest)
