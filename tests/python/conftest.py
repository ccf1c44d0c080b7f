"""Shared fixtures: the emulator's FLOWAI_* settings (exported by run.sh) and helpers."""

from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from typing import Any, Callable

import pytest

REQUIRED = ("FLOWAI_API_URL", "FLOWAI_MESSAGING_KEY", "FLOWAI_MANAGEMENT_KEY", "FLOWAI_CLIENT_ID")


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    if all(os.environ.get(name) for name in REQUIRED):
        return
    skip = pytest.mark.skip(reason="start the emulator first (tests/python/run.sh does)")
    for item in items:
        if "needs_emulator" in item.keywords or "emulator" in item.fixturenames:
            item.add_marker(skip)


@pytest.fixture
def emulator() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.startswith("FLOWAI_")}


@pytest.fixture
def thread_id() -> str:
    return f"py-{uuid.uuid4().hex}"


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Poll until predicate() is true; returns its last value (never sleeps once true)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def reply_texts(event: Any) -> list[str]:
    """The texts of a `reply` event's responses."""
    return [
        r["payload"]["text"]
        for m in event.payload["reply"]["messages"]
        for r in m.get("responses", [])
        if r["type"] == "text" and "text" in r["payload"]
    ]


class Unraisable:
    """Collects what reaches sys.unraisablehook while installed."""

    def __init__(self) -> None:
        self.seen: list[Any] = []
        self.lock = threading.Lock()

    def __call__(self, args: Any) -> None:
        with self.lock:
            self.seen.append(args.exc_value)


@pytest.fixture
def unraisable(monkeypatch: pytest.MonkeyPatch) -> Unraisable:
    hook = Unraisable()
    monkeypatch.setattr(sys, "unraisablehook", hook)
    return hook
