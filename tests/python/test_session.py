"""Flow Socket sessions: conversation, callbacks, iteration, context managers and errors."""

from __future__ import annotations

import asyncio
import json
import queue
import threading
import urllib.request
from pathlib import Path
from typing import Any

import pytest

import flowai
from conftest import reply_texts, wait_for


def next_reply(session: flowai.Session) -> flowai.Event:
    for event in session:
        if event.name == "reply":
            return event
    raise AssertionError("session ended without a reply")


def test_conversation_blocking(emulator: dict[str, str]) -> None:
    with flowai.Session.connect() as session:
        info = session.info()
        assert info["thread_id"] and info["session_id"] and info["closed"] is False
        delivered = session.send_event("INTRO")
        assert delivered["traceId"] is not None and delivered["threadId"] == info["thread_id"]
        intro = next_reply(session)
        assert intro.payload["thread_id"] == info["thread_id"]
        assert "Hi, how can we help?" in reply_texts(intro)
        delivered = session.send_text("hi")
        reply = next_reply(session)
        assert reply.payload["reply"]["traceId"] == delivered["traceId"]
        assert any("customer service demo bot" in t for t in reply_texts(reply))
        session.typing()
        session.noticed()
        assert session.history() is not None
        assert session.unnoticed() is not None
    assert session.closed
    with pytest.raises(flowai.ClosedError) as info_:
        session.send_text("after close")
    assert info_.value.code == "FLOWAI_CLOSED"


def test_events_carry_the_core_fields(emulator: dict[str, str]) -> None:
    with flowai.Session.connect() as session:
        connected = session.next_event(timeout=10)
        assert connected == flowai.Event("connected", {"thread_id": session.info()["thread_id"]})
        sent = session.send_text("hi")
        delivered = session.next_event(timeout=10)
        assert delivered is not None and delivered.name == "delivered"
        assert set(delivered.payload) == {"thread_id", "trace_id", "message"}
        assert delivered.payload["trace_id"] == sent["traceId"]
        reply = session.next_event(timeout=10)
        assert reply is not None and reply.name == "reply" and set(reply.payload) == {"thread_id", "reply"}


def test_iteration_ends_with_closed(emulator: dict[str, str]) -> None:
    session = flowai.Session.connect()
    session.send_text("hi")
    next_reply(session)
    session.close()
    session.close()  # closing twice is fine
    names = [event.name for event in session]
    assert names[-1] == "closed" and names.count("closed") == 1
    assert session.next_event(timeout=0.05) is None
    assert list(session) == []


def test_send_options_and_validation(emulator: dict[str, str]) -> None:
    with flowai.Session.connect(originator={"name": "Py Tester", "role": "external"}) as session:
        d = session.send(text="hi", trace_id=4242, lang="en", timezone=1, params={"k": [{"value": "v"}]})
        assert d["traceId"] == 4242
        session.send(event="INTRO")
        with pytest.raises(flowai.InvalidArgumentError):
            session.send_text("x" * 256)
        with pytest.raises(flowai.InvalidArgumentError) as info:
            session.send()
        assert info.value.message == "send: give exactly one of `text` and `event`"
        with pytest.raises(flowai.InvalidArgumentError):
            session.send_text(5)  # type: ignore[arg-type]


def test_upload_reports_progress(emulator: dict[str, str], tmp_path: Path) -> None:
    f = tmp_path / "photo.jpg"
    f.write_bytes(bytes(100_000))
    with flowai.Session.connect() as session:
        assert session.upload(f) is not None
        progress = [(e.payload["sent"], e.payload["total"]) for e in iter(lambda: session.next_event(0.2), None) if e.name == "progress"]
    assert progress[-1] == (100_000, 100_000)


def test_callbacks_on_event_thread_in_order(emulator: dict[str, str]) -> None:
    events: queue.Queue[flowai.Event] = queue.Queue()
    replies: list[flowai.Event] = []
    threads: set[int] = set()
    order: list[str] = []

    def on_event(event: flowai.Event) -> None:
        threads.add(threading.get_ident())
        order.append("*")
        events.put(event)

    def on_reply(event: flowai.Event) -> None:
        order.append("reply")
        replies.append(event)

    session = flowai.Session.connect()
    session.on("*", on_event)
    session.on("reply", on_reply)
    session.send_event("INTRO")
    assert wait_for(lambda: bool(replies))
    assert "Hi, how can we help?" in reply_texts(replies[0])
    session.close()
    names = []
    while True:
        e = events.get(timeout=10)
        names.append(e.name)
        if e.name == "closed":
            break
    assert names[0] == "connected" and "reply" in names and "delivered" in names
    assert names.count("closed") == 1
    assert threading.get_ident() not in threads
    # Callbacks run in the order they were registered.
    i = order.index("reply")
    assert order[i - 1] == "*"


def test_callback_exception_reported_and_session_goes_on(emulator: dict[str, str], unraisable: Any) -> None:
    replies: list[flowai.Event] = []

    def bad(event: flowai.Event) -> None:
        raise ValueError("callback failure")

    closed: list[flowai.Event] = []
    with flowai.Session.connect() as session:
        session.on("*", bad)
        session.on("reply", replies.append)
        session.on("closed", closed.append)
        session.send_text("hi")
        assert wait_for(lambda: bool(replies))
        session.send_event("INTRO")
        assert wait_for(lambda: len(replies) >= 2)
        assert any(isinstance(e, ValueError) and "callback failure" in str(e) for e in unraisable.seen)
        assert not session.closed
    assert wait_for(lambda: bool(closed))  # the last report comes while the hook is ours


def test_blocking_call_inside_a_callback_is_misuse(emulator: dict[str, str]) -> None:
    errors: list[BaseException] = []
    with flowai.Session.connect() as session:

        def on_reply(event: flowai.Event) -> None:
            try:
                session.send_text("again")  # would wait for the thread that runs this callback
            except flowai.FlowAIError as e:
                errors.append(e)
            try:
                flowai.MessagingClient(api_url="http://127.0.0.1:9", messaging_key="k")
            except flowai.FlowAIError as e:
                errors.append(e)
            try:
                session.next_event(timeout=1)  # this thread is the one that would deliver it
            except flowai.FlowAIError as e:
                errors.append(e)

        session.on("reply", on_reply)
        session.send_text("hi")
        assert wait_for(lambda: len(errors) == 3)
    assert all(isinstance(e, flowai.MisuseError) and e.code == "FLOWAI_MISUSE" for e in errors)
    # Outside callbacks the same thread-free calls work again.
    assert flowai.MessagingClient(api_url="http://127.0.0.1:9", messaging_key="k").closed is False


def test_loop_callback_may_start_the_async_form(emulator: dict[str, str]) -> None:
    async def main() -> list[str]:
        texts: list[str] = []
        misuse: list[BaseException] = []
        done = asyncio.Event()
        session = await flowai.Session.connect_async()

        def on_reply(event: flowai.Event) -> None:
            texts.extend(reply_texts(event))
            if len(texts) == 1:
                try:
                    session.send_text("hi")
                except flowai.MisuseError as e:
                    misuse.append(e)
                asyncio.ensure_future(session.send_text_async("hi"))
            else:
                done.set()

        session.on("reply", on_reply)
        await session.send_event_async("INTRO")
        await asyncio.wait_for(done.wait(), 10)
        await session.close_async()
        assert len(misuse) == 1
        return texts

    texts = asyncio.run(main())
    assert texts[0] == "Hi, how can we help?"
    assert any("customer service demo bot" in t for t in texts)


def test_conversation_async(emulator: dict[str, str]) -> None:
    async def main() -> list[str]:
        texts: list[str] = []
        async with await flowai.Session.connect_async() as session:
            await session.send_event_async("INTRO")
            async for event in session:
                if event.name == "reply":
                    texts.extend(reply_texts(event))
                    if len(texts) == 1:
                        await session.send_text_async("hi")
                    else:
                        break
            await session.typing_async()
            await session.noticed_async()
            await session.history_async()
        with pytest.raises(flowai.ClosedError):
            await session.send_text_async("late")
        names = [event.name async for event in session]
        assert names[-1] == "closed" and names.count("closed") == 1
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
            if event.name == "reply" and not got.done():
                got.set_result(event)

        session = await flowai.Session.connect_async()
        session.on("*", on_event)
        try:
            await session.send_text_async("hi")
            return await asyncio.wait_for(got, 10)
        finally:
            await session.close_async()

    event = asyncio.run(main())
    assert reply_texts(event)


def test_wrong_client_id_is_auth_error(emulator: dict[str, str]) -> None:
    with pytest.raises(flowai.FlowAIError) as info:
        flowai.Session.connect(client_id="bm90LWEtY2xpZW50fHg=")
    assert info.value.code in ("FLOWAI_AUTH", "FLOWAI_HTTP")


def test_many_concurrent_awaits_each_resolve_once(emulator: dict[str, str]) -> None:
    async def main() -> list[dict[str, Any]]:
        session = await flowai.Session.connect_async()
        try:
            return await asyncio.gather(*(session.send_text_async(f"n {i}") for i in range(300)))
        finally:
            await session.close_async()

    for _ in range(2):  # a second loop gets its own completions
        delivered = asyncio.run(main())
        assert len({d["traceId"] for d in delivered}) == 300


def test_cancelled_await_leaves_the_session_and_loop_working(emulator: dict[str, str]) -> None:
    def faults(body: dict[str, int]) -> None:
        request = urllib.request.Request(
            emulator["FLOWAI_API_URL"] + "/_emulator/faults",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        urllib.request.urlopen(request, timeout=10).close()

    async def main() -> dict[str, Any]:
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

    assert asyncio.run(main())["traceId"] is not None
