"""flowai: the Flow.ai and AIDA SDK for Python.

Every network call has a blocking form (``client.send_text(...)``) that releases the GIL
while it waits and an asyncio form (``await client.send_text_async(...)``) that never
blocks the event loop. Configuration comes from keyword arguments or the ``FLOWAI_*``
environment variables. Errors are :class:`FlowAIError` subclasses with a stable ``.code``.
"""

from __future__ import annotations

from . import models
from ._flowai import (
    AidaClient,
    AidaSession,
    ManagementClient,
    MessagingClient,
    Session,
    WebhookReceiver,
    __version__,
    verify_and_parse,
)
from .errors import (
    AuthenticationError,
    ClosedError,
    ConnectionError,
    FlowAIError,
    HTTPError,
    InternalError,
    InvalidArgumentError,
    ProtocolError,
    QueueFullError,
    RateLimitedError,
    TimeoutError,
    VerificationError,
)
from .models import (
    AidaMessage,
    Button,
    Delivered,
    Event,
    Flow,
    Intent,
    QuickReply,
    Reply,
    ReplyMessage,
    Resource,
    Template,
    Webhook,
)

__all__ = [
    "__version__",
    "models",
    "MessagingClient",
    "ManagementClient",
    "Session",
    "AidaClient",
    "AidaSession",
    "AidaMessage",
    "WebhookReceiver",
    "verify_and_parse",
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
    "Button",
    "Delivered",
    "Event",
    "Flow",
    "Intent",
    "QuickReply",
    "Reply",
    "ReplyMessage",
    "Resource",
    "Template",
    "Webhook",
]
