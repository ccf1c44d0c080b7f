"""The pytest fixture ``flowai_emulator``, registered through the ``pytest11`` entry point.

A test that asks for it gets a running :class:`flowai.testing.Emulator`, with its
``FLOWAI_*`` variables set in ``os.environ`` until the test ends, so clients made without
settings (``flowai.MessagingClient()``) talk to it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .testing import Emulator


@pytest.fixture
def flowai_emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    """A Flow.ai + AIDA emulator on 127.0.0.1 for one test, its settings in the environment."""
    with Emulator() as emulator:
        for name, value in emulator.env.items():
            monkeypatch.setenv(name, value)
        yield emulator
