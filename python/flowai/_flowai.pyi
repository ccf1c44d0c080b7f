"""The native module: flowai-ffi's objects (``Handle``) and their events (``Events``).

Generated from flowai-ffi's method and error tables by
crates/flowai-ffi/src/codegen/python.rs: do not edit.
`FLOWAI_BLESS=1 cargo test -p flowai-ffi --test generated` rewrites it.
"""

from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar, final

__all__ = ["Handle", "Events", "as_sdk_thread", "report", "ensure_may_block", "set_log_handler", "__version__", "ERRORS", "EVENT_NAMES", "MAX_BATCH", "DEBUG_BUILD"]

_T = TypeVar("_T")
_Opened = Literal["messaging", "management", "rest", "session", "aida", "receiver", "verifier", "emulator", "bench"]
_Kind = Literal["messaging", "management", "rest", "page_cursor", "session", "aida", "aida_session", "receiver", "verifier", "emulator", "bench"]

__version__: str
#: (code, number, meaning) of every error code, FLOWAI_OK first.
ERRORS: tuple[tuple[str, int, str], ...]
EVENT_NAMES: tuple[str, ...]
MAX_BATCH: int
DEBUG_BUILD: bool

@final
class Handle:
    @staticmethod
    def open(kind: _Opened, settings: dict[str, Any] | None = None) -> Handle: ...
    @staticmethod
    def open_async(kind: _Opened, settings: dict[str, Any] | None = None) -> Awaitable[Handle]: ...
    def call(self, method: str, args: dict[str, Any] | None = None) -> Any: ...
    def call_async(self, method: str, args: dict[str, Any] | None = None) -> Awaitable[Any]: ...
    def close(self) -> None: ...
    def close_async(self) -> Awaitable[None]: ...
    @property
    def kind(self) -> _Kind: ...
    @property
    def closed(self) -> bool: ...
    @property
    def events(self) -> Events: ...

@final
class Events:
    def take_events(self, max: int = ..., timeout: float | None = None) -> str | None: ...

def as_sdk_thread(f: Callable[..., _T], *args: Any) -> _T: ...
def report(exc: BaseException, source: object) -> None: ...
def ensure_may_block() -> None: ...
def set_log_handler(handler: Callable[[int, str, str], object] | None) -> None: ...
