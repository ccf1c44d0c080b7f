"""Offline tests of a bot integration: a Flow.ai + AIDA emulator in this process.

``Emulator()`` starts one on a free 127.0.0.1 port (as a context manager, or with
``start()``/``stop()``); ``settings`` are the keyword settings that point every client at
it and ``env`` the same as ``FLOWAI_*`` variables, for code that reads its environment or
runs in a subprocess. With the package installed, pytest also has the ``flowai_emulator``
fixture (``flowai.pytest_plugin``), which exports ``env`` for the test's duration.
"""

from __future__ import annotations

from typing import Any, Self

from ._api import Emulator as _EmulatorObject


class Emulator:
    """A local Flow.ai + AIDA emulator; ``Emulator(time_scale=0.01, project="flows.json")``."""

    def __init__(self, **settings: Any) -> None:
        self._options = settings
        self._object: _EmulatorObject | None = None
        # Any: they are passed on as keyword settings, whose types differ per setting.
        self.settings: dict[str, Any] = {}
        #: ``settings`` as the ``FLOWAI_*`` variables every client reads.
        self.env: dict[str, str] = {}

    def start(self) -> Self:
        """Start it (once; starting a running emulator does nothing) and fill ``settings``."""
        if self._object is None:
            emulator = _EmulatorObject(**self._options)
            self.settings = dict(emulator.info())
            self.env = dict(emulator.env())
            self._object = emulator
        return self

    def stop(self) -> None:
        """Stop it and free its port; stopping twice is fine."""
        emulator, self._object = self._object, None
        if emulator is not None:
            emulator.close()

    @property
    def running(self) -> bool:
        """Whether it was started and not stopped."""
        return self._object is not None

    @property
    def emulator(self) -> _EmulatorObject:
        """The running ``flowai.Emulator`` object (``post_webhook`` and the rest)."""
        if self._object is None:
            raise RuntimeError("the emulator is not running: call start() first")
        return self._object

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        url = self.settings.get("api_url") if self.running else None
        return f"flowai.testing.Emulator({url or 'stopped'})"
