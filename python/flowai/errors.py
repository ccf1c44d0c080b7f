"""The exception hierarchy: every SDK error is a FlowAIError with the shared ``.code``."""

from __future__ import annotations

import builtins

__all__ = [
    "FlowAIError",
    "InvalidArgumentError",
    "AuthenticationError",
    "HTTPError",
    "RateLimitedError",
    "TimeoutError",
    "ConnectionError",
    "ProtocolError",
    "ClosedError",
    "VerificationError",
    "QueueFullError",
    "InternalError",
]


class FlowAIError(Exception):
    """Base of every flowai error.

    ``code`` is the stable string code shared by every language (``FLOWAI_...``),
    ``status`` the HTTP status when an HTTP answer caused the error, else ``None``.
    """

    code: str = "FLOWAI_INTERNAL"

    def __init__(self, message: str = "", *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class InvalidArgumentError(FlowAIError, ValueError):
    """Input refused before anything was sent."""

    code = "FLOWAI_INVALID_ARGUMENT"


class AuthenticationError(FlowAIError):
    """The service refused the credentials."""

    code = "FLOWAI_AUTH"


class HTTPError(FlowAIError):
    """The service answered with an HTTP error status (see ``status``)."""

    code = "FLOWAI_HTTP"


class RateLimitedError(FlowAIError):
    """The service asked the client to slow down."""

    code = "FLOWAI_RATE_LIMITED"


class TimeoutError(FlowAIError, builtins.TimeoutError):
    """A deadline passed before the answer came."""

    code = "FLOWAI_TIMEOUT"


class ConnectionError(FlowAIError, builtins.ConnectionError):
    """The network connection failed or dropped."""

    code = "FLOWAI_CONNECTION"


class ProtocolError(FlowAIError):
    """The peer sent something that breaks the protocol."""

    code = "FLOWAI_PROTOCOL"


class ClosedError(FlowAIError):
    """The object was closed before or during the call."""

    code = "FLOWAI_CLOSED"


class VerificationError(FlowAIError):
    """A webhook call failed verification."""

    code = "FLOWAI_VERIFICATION"


class QueueFullError(FlowAIError):
    """A bounded queue is full."""

    code = "FLOWAI_QUEUE_FULL"


class InternalError(FlowAIError):
    """A bug or an unexpected state inside the SDK."""

    code = "FLOWAI_INTERNAL"


_BY_CODE: dict[str, type[FlowAIError]] = {
    cls.code: cls
    for cls in (
        InvalidArgumentError,
        AuthenticationError,
        HTTPError,
        RateLimitedError,
        TimeoutError,
        ConnectionError,
        ProtocolError,
        ClosedError,
        VerificationError,
        QueueFullError,
        InternalError,
    )
}


def _from_native(code: str, message: str, status: int | None) -> FlowAIError:
    """Build the exception for an error of the native core (called by ``flowai._flowai``)."""
    cls = _BY_CODE.get(code, InternalError)
    return cls(message, status=status)
