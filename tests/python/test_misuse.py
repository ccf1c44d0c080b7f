"""Misuse across the native boundary: wrong types, use after close, close inside a callback,
throwing callbacks, `closed` once and last, dropped objects, many sessions opened and
closed, and Ctrl-C during a blocking wait."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import threading
import time
from collections.abc import Iterator
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


def test_wrong_types_are_refused(emulator: dict[str, str], tmp_path: Path) -> None:
    # Values that are not JSON: TypeError before anything reaches the core.
    call: Callable[[], object]
    for call in (
        lambda: flowai.Session.connect(originator=object()),  # type: ignore[arg-type]
        lambda: flowai.ManagementClient(management_key=b"k"),  # type: ignore[arg-type]
    ):
        with pytest.raises(TypeError):
            call()
    # JSON of the wrong type: the core's settings and argument checks.
    for call in (
        lambda: flowai.Session.connect(client_id=5),  # type: ignore[arg-type]
        lambda: flowai.Session.connect(send_timeout_ms="1"),  # type: ignore[arg-type]
        lambda: flowai.Session.connect(originator=["not", "a", "dict"]),  # type: ignore[arg-type]
        lambda: flowai.MessagingClient(api_url=5),  # type: ignore[arg-type]
        lambda: flowai.AidaClient.connect(aida_url=5),  # type: ignore[arg-type]
        lambda: flowai.WebhookReceiver(verify_key=5),  # type: ignore[arg-type]
    ):
        with pytest.raises(flowai.InvalidArgumentError):
            call()

    with flowai.Session.connect() as session:
        for bad in (
            lambda: session.on(5, print),  # type: ignore[arg-type]
            lambda: session.on("reply", 42),  # type: ignore[arg-type]
            lambda: session.send(text="hi", params={"k": object()}),
            lambda: session.next_event(timeout="1"),  # type: ignore[arg-type]
            lambda: session.upload(5),  # type: ignore[arg-type]
        ):
            with pytest.raises(TypeError):
                bad()
        with pytest.raises(ValueError):
            session.on("no_such_event", print)
        for refused in (
            lambda: session.send(text=5),  # type: ignore[arg-type]
            lambda: session.send(text="hi", trace_id="x"),  # type: ignore[arg-type]
            lambda: session.send_text(None),  # type: ignore[arg-type]
            lambda: session.send_event(["INTRO"]),  # type: ignore[arg-type]
            lambda: session.upload(tmp_path / "missing.bin"),
        ):
            with pytest.raises(flowai.InvalidArgumentError):
                refused()
        # The session is unharmed by all of that.
        assert session.send_text("hi")["threadId"] == session.info()["thread_id"]


def test_calls_after_close_raise_closed_error(emulator: dict[str, str]) -> None:
    session = flowai.Session.connect()
    session.close()
    assert session.closed
    for call in (
        lambda: session.send_text("hi"),
        lambda: session.send_event("INTRO"),
        lambda: session.send(text="hi", trace_id=1),
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

    rx = flowai.WebhookReceiver(verify_key="verify-key")
    rx.close()
    rx.close()
    assert rx.closed


def test_close_inside_a_callback(emulator: dict[str, str]) -> None:
    holder: list[flowai.Session] = []
    closed: list[flowai.Event] = []
    after: list[str] = []

    def on_event(event: flowai.Event) -> None:
        if event.name == "delivered":
            holder[0].close()  # on the event thread: the close goes on in the background
            after.append("returned")
        elif event.name == "closed":
            closed.append(event)

    holder.append(flowai.Session.connect())
    holder[0].on("*", on_event)
    with pytest.raises(flowai.ClosedError):
        # The ack's callback closes the session; whichever comes first, the sends end.
        for _ in range(1000):
            holder[0].send_text("hi")
    assert wait_for(lambda: bool(closed) and bool(after))
    assert holder[0].closed
    assert len(closed) == 1 and closed[0].payload == {"error": None}
    assert holder[0].next_event(timeout=0.1) is None


def test_closed_once_and_last_for_every_listener(emulator: dict[str, str]) -> None:
    seen: dict[str, list[str]] = {"a": [], "b": [], "c": []}
    session = flowai.Session.connect()
    session.on("*", lambda e: seen["a"].append(e.name))
    session.on("*", lambda e: seen["b"].append(e.name))
    session.send_text("hi")
    session.on("closed", lambda e: seen["c"].append(e.name))
    session.close()
    assert wait_for(lambda: all(names[-1:] == ["closed"] for names in seen.values()))
    time.sleep(0.1)
    for names in seen.values():
        assert names.count("closed") == 1 and names[-1] == "closed"
    # "b" came after the event thread started: it sees the same events from then on.
    assert seen["b"] and seen["a"][-len(seen["b"]) :] == seen["b"]
    # Listeners added after `closed` are never called, and iteration is over.
    session.on("*", lambda e: seen["c"].append("late"))
    assert session.next_event(timeout=0.1) is None and seen["c"] == ["closed"]


def test_throwing_callbacks_are_reported_and_the_session_goes_on(emulator: dict[str, str], unraisable: Any) -> None:
    acks: list[int] = []

    def raises(event: flowai.Event) -> None:
        raise RuntimeError(f"bad callback for {event.name}")

    def returns_junk(event: flowai.Event) -> object:
        return object()

    with flowai.Session.connect() as session:
        session.on("*", raises)
        session.on("delivered", returns_junk)
        session.on("delivered", lambda e: acks.append(e.payload["trace_id"]))
        session.on("closed", raises)
        for i in range(20):
            assert session.send(text="hi", trace_id=1000 + i)["traceId"] == 1000 + i
        assert wait_for(lambda: len(acks) == 20)
        assert not session.closed
    # Every event raised once in the "*" callback, `closed` twice (both callbacks).
    assert wait_for(lambda: sum("for closed" in str(e) for e in unraisable.seen) == 2)
    assert sum("for delivered" in str(e) for e in unraisable.seen) == 20
    assert all(isinstance(e, RuntimeError) for e in unraisable.seen)


def test_a_dropped_object_closes_and_its_event_thread_ends(emulator: dict[str, str]) -> None:
    seen: list[str] = []
    threads: list[threading.Thread] = []

    def on_event(event: flowai.Event) -> None:
        threads.append(threading.current_thread())
        seen.append(event.name)

    session = flowai.Session.connect()
    session.on("*", on_event)
    assert wait_for(lambda: "connected" in seen)
    assert threads[0].name == "flowai-session-events" and threads[0].is_alive()
    del session
    gc.collect()
    # The native object closed itself: `closed` came, and the event thread ended.
    assert wait_for(lambda: "closed" in seen)
    assert wait_for(lambda: not threads[0].is_alive())


def test_thousands_of_sessions_keep_memory_flat(emulator: dict[str, str]) -> None:
    batches, per_batch, warmup = 40, 50, 8
    threads_before = thread_count()

    async def batch() -> None:
        sessions = await asyncio.gather(*(flowai.Session.connect_async() for _ in range(per_batch)))
        for s in sessions[:10]:
            s.on("*", lambda e: None)
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
def default_sigint() -> Iterator[None]:
    # Ctrl-C must reach Python's own handler, which raises KeyboardInterrupt.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_ctrl_c_interrupts_a_blocking_wait(emulator: dict[str, str], default_sigint: None) -> None:
    waits: list[Callable[[flowai.Session], object]] = [
        lambda s: s.next_event(timeout=None),
        lambda s: next(iter(s)),
    ]
    with flowai.Session.connect() as session:
        assert session.next_event(timeout=10) is not None  # connected
        for wait in waits:
            timer = interrupt_after(0.2)
            start = time.monotonic()
            with pytest.raises(KeyboardInterrupt):
                wait(session)
            timer.join()
            assert time.monotonic() - start < 5
        # The session still works after the interrupted waits.
        session.send_text("hi")
        event = session.next_event(timeout=10)
        assert event is not None and event.name in ("delivered", "reply")

    with flowai.AidaClient.connect() as aida:
        s = aida.new_session()
        timer = interrupt_after(0.2)
        with pytest.raises(KeyboardInterrupt):
            s.next_event(timeout=None)
        timer.join()
