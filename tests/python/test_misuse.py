"""Misuse across the native boundary: wrong types, use after close, re-entrant close,
throwing callbacks, many sessions opened and closed, and Ctrl-C during a blocking wait."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any, Callable

import pytest

import flowai
from conftest import wait_for


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/self/status")


def thread_count() -> int:
    return len(os.listdir("/proc/self/task"))


def test_wrong_types_raise_type_error_everywhere(emulator: dict[str, str], tmp_path: Path) -> None:
    bad_calls: list[Callable[[], Any]] = [
        lambda: flowai.Session.connect(client_id=5),  # type: ignore[arg-type]
        lambda: flowai.Session.connect(on_event=42),  # type: ignore[arg-type]
        lambda: flowai.Session.connect(send_timeout="1"),  # type: ignore[arg-type]
        lambda: flowai.Session.connect(originator=["not", "a", "dict"]),  # type: ignore[arg-type]
        lambda: flowai.MessagingClient(api_url=5),  # type: ignore[arg-type]
        lambda: flowai.ManagementClient(management_key=b"k"),  # type: ignore[arg-type]
        lambda: flowai.AidaClient.connect(url=5),  # type: ignore[arg-type]
        lambda: flowai.WebhookReceiver(5, on_event=print),  # type: ignore[arg-type]
        lambda: flowai.verify_and_parse(5, b"{}", "k"),  # type: ignore[arg-type]
        lambda: flowai.verify_and_parse({}, 5, "k"),  # type: ignore[arg-type]
    ]
    for call in bad_calls:
        with pytest.raises(TypeError):
            call()

    with flowai.Session.connect() as session:
        session_calls: list[Callable[[], Any]] = [
            lambda: session.on(5, print),  # type: ignore[arg-type]
            lambda: session.on("reply", 42),  # type: ignore[arg-type]
            lambda: session.send(5),  # type: ignore[arg-type]
            lambda: session.send("hi", trace_id="x"),  # type: ignore[arg-type]
            lambda: session.send("hi", params={"k": object()}),
            lambda: session.send("hi", params={1: "v"}),  # type: ignore[dict-item]
            lambda: session.send("hi", originator=3),  # type: ignore[arg-type]
            lambda: session.send_text(None),  # type: ignore[arg-type]
            lambda: session.send_event(b"INTRO"),  # type: ignore[arg-type]
            lambda: session.send_text_async(1),  # type: ignore[arg-type]
            lambda: session.next_event(timeout="1"),  # type: ignore[arg-type]
            lambda: session.upload(5),  # type: ignore[arg-type]
            lambda: session.upload(tmp_path, progress=7),  # type: ignore[arg-type]
        ]
        for call in session_calls:
            with pytest.raises(TypeError):
                call()
        # The session is unharmed by all of that.
        assert session.send_text("hi").thread_id == session.thread_id


def test_calls_after_close_raise_closed_error(emulator: dict[str, str]) -> None:
    session = flowai.Session.connect()
    session.close()
    assert session.closed
    for call in (
        lambda: session.send_text("hi"),
        lambda: session.send_event("INTRO"),
        lambda: session.send("hi", trace_id=1),
        lambda: session.typing(),
        lambda: session.noticed(),
    ):
        with pytest.raises(flowai.ClosedError) as info:
            call()
        assert info.value.code == "FLOWAI_CLOSED"

    async def late() -> None:
        with pytest.raises(flowai.ClosedError):
            await session.send_text_async("hi")
        await session.close_async()  # closing again is fine

    asyncio.run(late())
    session.close()

    aida = flowai.AidaClient.connect()
    aida.close()
    with pytest.raises(flowai.ClosedError):
        aida.new_session()

    rx = flowai.WebhookReceiver("verify-key", on_event=print)
    rx.close()
    rx.close()
    assert rx.closed


def test_close_inside_a_callback(emulator: dict[str, str]) -> None:
    holder: list[flowai.Session] = []
    ready = threading.Event()
    closed: list[flowai.Event] = []
    after: list[str] = []

    def on_event(event: flowai.Event) -> None:
        ready.wait(10)
        if event.type == "delivered":
            holder[0].close()  # blocking close on the event thread itself
            after.append("returned")
        elif event.type == "closed":
            closed.append(event)

    holder.append(flowai.Session.connect(on_event=on_event))
    ready.set()
    with pytest.raises(flowai.ClosedError):
        # The ack's callback closes the session; whichever comes first, the send ends.
        for _ in range(1000):
            holder[0].send_text("hi")
    assert wait_for(lambda: bool(closed) and bool(after))
    assert holder[0].closed
    # Closed came exactly once, and the session's events are over for iteration too.
    assert len(closed) == 1 and closed[0].payload == {"error": None}
    assert [e.type for e in holder[0]] == ["closed"]
    assert len(closed) == 1


def test_throwing_callbacks_are_reported_and_the_session_goes_on(emulator: dict[str, str], unraisable: Any) -> None:
    acks: list[int] = []

    def raises(event: flowai.Event) -> None:
        raise RuntimeError(f"bad callback for {event.type}")

    def returns_junk(event: flowai.Event) -> object:
        return object()

    with flowai.Session.connect(on_event=raises) as session:
        session.on("delivered", returns_junk)
        session.on("delivered", lambda e: acks.append(e.delivered.trace_id if e.delivered else -1))
        session.on("closed", raises)
        for i in range(20):
            assert session.send("hi", trace_id=1000 + i).trace_id == 1000 + i
        assert wait_for(lambda: len(acks) == 20)
        assert not session.closed
    # Every event raised once in the "*" callback, `closed` twice (both callbacks).
    assert wait_for(lambda: sum("for closed" in str(e) for e in unraisable.seen) == 2)
    assert sum("for delivered" in str(e) for e in unraisable.seen) == 20
    assert all(isinstance(e, RuntimeError) for e in unraisable.seen)


def test_thousands_of_sessions_keep_memory_flat(emulator: dict[str, str]) -> None:
    batches, per_batch, warmup = 40, 50, 8
    threads_before = thread_count()

    async def batch() -> None:
        sessions = await asyncio.gather(*(flowai.Session.connect_async() for _ in range(per_batch)))
        await asyncio.gather(*(s.send_text_async("hi") for s in sessions[:5]))
        await asyncio.gather(*(s.close_async() for s in sessions))
        for s in sessions:
            assert s.closed

    async def run() -> list[int]:
        samples = []
        for _ in range(batches):
            await batch()
            samples.append(rss_kib())
        return samples

    samples = asyncio.run(run())
    warm = max(samples[:warmup])
    last = samples[-1]
    # A leak of even 8 KiB per session would add ~250 MiB over the 32 measured batches of
    # 1,600 sessions; allocator noise stays well under the bound.
    assert last - warm < 48 * 1024, (warm, last, samples)
    # Every session's event thread has ended.
    assert wait_for(lambda: thread_count() <= threads_before + 2), (threads_before, thread_count())


def interrupt_after(seconds: float) -> threading.Timer:
    timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    return timer


@pytest.fixture
def default_sigint() -> None:
    # Ctrl-C must reach Python's own handler, which raises KeyboardInterrupt.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_ctrl_c_interrupts_a_blocking_wait(emulator: dict[str, str], default_sigint: None) -> None:
    with flowai.Session.connect() as session:
        assert session.next_event(timeout=10) is not None  # connected
        for wait in (lambda: session.next_event(timeout=None), lambda: next(iter(session))):
            timer = interrupt_after(0.2)
            start = time.monotonic()
            with pytest.raises(KeyboardInterrupt):
                wait()
            timer.join()
            assert time.monotonic() - start < 5
        # The session still works after the interrupted waits.
        session.send_text("hi")
        event = session.next_event(timeout=10)
        assert event is not None and event.type in ("delivered", "reply")

    with flowai.AidaClient.connect() as aida:
        s = aida.new_session()
        timer = interrupt_after(0.2)
        with pytest.raises(KeyboardInterrupt):
            s.recv(timeout=None)
        timer.join()
