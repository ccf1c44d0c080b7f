"""Flow Socket sessions: conversation, callbacks, iteration, context managers and errors."""

from __future__ import annotations

import asyncio
import queue
import threading
from pathlib import Path
from typing import Any

import pytest

import flowai
from conftest import wait_for


def next_reply(session: flowai.Session) -> flowai.Reply:
    for event in session:
        if event.type == "reply" and event.reply is not None:
            return event.reply
    raise AssertionError("session ended without a reply")


def test_conversation_blocking(emulator: dict[str, str]) -> None:
    with flowai.Session.connect() as session:
        assert session.thread_id and not session.closed
        delivered = session.send_event("INTRO")
        assert isinstance(delivered, flowai.Delivered) and delivered.trace_id is not None
        intro = next_reply(session)
        assert "Hi, how can we help?" in intro.texts
        assert len(intro.quick_replies) == 3
        delivered = session.send_text("hi")
        assert delivered.thread_id == session.thread_id
        reply = next_reply(session)
        assert any("customer service demo bot" in t for t in reply.texts)
        session.typing()
        session.noticed()
        assert session.history() is not None
        assert session.unnoticed() is not None
    assert session.closed
    with pytest.raises(flowai.ClosedError) as info:
        session.send_text("after close")
    assert info.value.code == "FLOWAI_CLOSED"


def test_iteration_ends_with_closed(emulator: dict[str, str]) -> None:
    session = flowai.Session.connect()
    session.send_text("hi")
    next_reply(session)
    session.close()
    session.close()  # closing twice is fine
    kinds = [event.type for event in session]
    assert kinds[-1] == "closed"
    assert session.next_event(timeout=0.05) is None


def test_send_options_and_validation(emulator: dict[str, str]) -> None:
    with flowai.Session.connect(originator={"name": "Py Tester", "role": "external"}) as session:
        d = session.send("hi", trace_id=4242, lang="en", timezone=1, params={"k": [{"value": "v"}]})
        assert d.trace_id == 4242
        session.send(event="INTRO")
        with pytest.raises(flowai.InvalidArgumentError):
            session.send_text("x" * 256)
        with pytest.raises(flowai.InvalidArgumentError):
            session.send()
        with pytest.raises(TypeError):
            session.send_text(5)  # type: ignore[arg-type]


def test_upload(emulator: dict[str, str], tmp_path: Path) -> None:
    f = tmp_path / "photo.jpg"
    f.write_bytes(bytes(100_000))
    progress: list[tuple[int, int]] = []
    with flowai.Session.connect() as session:
        result = session.upload(f, progress=lambda s, t: progress.append((s, t)))
        assert result is not None
    assert progress[-1] == (100_000, 100_000)


def test_callbacks_on_event_thread(emulator: dict[str, str]) -> None:
    events: queue.Queue[flowai.Event] = queue.Queue()
    replies: list[flowai.Event] = []
    threads: set[int] = set()

    def on_event(event: flowai.Event) -> None:
        threads.add(threading.get_ident())
        events.put(event)

    session = flowai.Session.connect(on_event=on_event)
    session.on("reply", replies.append)
    session.send_event("INTRO")
    assert wait_for(lambda: bool(replies))
    assert replies[0].reply is not None and "Hi, how can we help?" in replies[0].reply.texts
    session.close()
    kinds = []
    while True:
        e = events.get(timeout=10)
        kinds.append(e.type)
        if e.type == "closed":
            break
    assert "reply" in kinds and "delivered" in kinds
    assert kinds.count("closed") == 1
    assert threading.get_ident() not in threads


def test_callback_exception_reported_and_session_goes_on(emulator: dict[str, str], unraisable: Any) -> None:
    replies: list[flowai.Reply] = []

    def bad(event: flowai.Event) -> None:
        raise ValueError("callback failure")

    with flowai.Session.connect(on_event=bad) as session:
        session.on("reply", lambda e: replies.append(e.reply))
        session.send_text("hi")
        assert wait_for(lambda: bool(replies))
        session.send_event("INTRO")
        assert wait_for(lambda: len(replies) >= 2)
        assert any(isinstance(e, ValueError) and "callback failure" in str(e) for e in unraisable.seen)
        assert not session.closed


def test_callback_may_call_blocking_methods(emulator: dict[str, str]) -> None:
    texts: list[str] = []
    with flowai.Session.connect() as session:

        def on_reply(event: flowai.Event) -> None:
            assert event.reply is not None
            texts.extend(event.reply.texts)
            if len(texts) == 1:
                session.send_text("hi")  # a blocking call from the event thread

        session.on("reply", on_reply)
        session.send_event("INTRO")
        assert wait_for(lambda: any("customer service demo bot" in t for t in texts))


def test_conversation_async(emulator: dict[str, str]) -> None:
    async def main() -> list[str]:
        texts: list[str] = []
        async with await flowai.Session.connect_async() as session:
            await session.send_event_async("INTRO")
            async for event in session:
                if event.reply is not None:
                    texts.extend(event.reply.texts)
                    if len(texts) == 1:
                        await session.send_text_async("hi")
                    else:
                        break
            await session.typing_async()
            await session.noticed_async()
            await session.history_async()
        with pytest.raises(flowai.ClosedError):
            await session.send_text_async("late")
        return texts

    texts = asyncio.run(main())
    assert texts[0] == "Hi, how can we help?"
    assert any("customer service demo bot" in t for t in texts)


def test_async_callbacks_run_on_the_loop(emulator: dict[str, str]) -> None:
    async def main() -> flowai.Event:
        loop = asyncio.get_running_loop()
        got: asyncio.Future[flowai.Event] = loop.create_future()

        def on_event(event: flowai.Event) -> None:
            assert asyncio.get_running_loop() is loop
            if event.type == "reply" and not got.done():
                got.set_result(event)

        session = await flowai.Session.connect_async(on_event=on_event)
        try:
            await session.send_text_async("hi")
            return await asyncio.wait_for(got, 10)
        finally:
            await session.close_async()

    event = asyncio.run(main())
    assert event.reply is not None


def test_wrong_client_id_is_auth_error(emulator: dict[str, str]) -> None:
    with pytest.raises(flowai.FlowAIError) as info:
        flowai.Session.connect(client_id="bm90LWEtY2xpZW50fHg=")
    assert info.value.code in ("FLOWAI_AUTH", "FLOWAI_HTTP")


def test_many_concurrent_awaits_each_resolve_once(emulator: dict[str, str]) -> None:
    # Results reach the loop in batches: every awaitable must get its own result, once.
    async def main() -> list[flowai.Delivered]:
        session = await flowai.Session.connect_async()
        try:
            return await asyncio.gather(*(session.send_text_async(f"n {i}") for i in range(300)))
        finally:
            await session.close_async()

    for _ in range(2):  # a second loop gets its own completions
        delivered = asyncio.run(main())
        assert len({d.trace_id for d in delivered}) == 300
        assert all(isinstance(d, flowai.Delivered) for d in delivered)


def test_cancelled_await_leaves_the_session_and_loop_working(emulator: dict[str, str]) -> None:
    import json
    import urllib.request

    def faults(body: dict[str, int]) -> None:
        request = urllib.request.Request(
            emulator["FLOWAI_API_URL"] + "/_emulator/faults",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        urllib.request.urlopen(request, timeout=10).close()

    async def main() -> flowai.Delivered:
        session = await flowai.Session.connect_async()
        try:
            faults({"ackDelayMs": 2000, "ackDelayEvery": 1})
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(session.send_text_async("slow"), 0.05)
            faults({})
            return await asyncio.wait_for(session.send_text_async("fast"), 10)
        finally:
            faults({})
            await session.close_async()

    assert asyncio.run(main()).trace_id is not None
