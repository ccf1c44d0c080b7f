"""Every kind of flowai object as a class, and every error code as an exception.

Generated from flowai-ffi's method and error tables by
crates/flowai-ffi/src/codegen/python.rs: do not edit.
`FLOWAI_BLESS=1 cargo test -p flowai-ffi --test generated` rewrites it.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Iterator
from os import fspath as _fspath
from typing import Any

from ._object import Object

__all__ = [
    "EVENT_NAMES",
    "ERRORS",
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
    "MisuseError",
    "MessagingClient",
    "ManagementClient",
    "RestClient",
    "PageCursor",
    "Session",
    "AidaClient",
    "AidaSession",
    "WebhookReceiver",
    "WebhookVerifier",
    "Emulator",
    "EventBench",
    "Pages",
]

#: Every event name; `closed` is always the last event of an object.
EVENT_NAMES = ("connected", "disconnected", "reconnecting", "delivered", "reply", "agent_typing", "interruption", "handover", "aida_message", "progress", "error", "unknown", "closed")


class FlowAIError(Exception):
    """Base of every flowai error.

    ``code`` is the stable code shared by every language (``FLOWAI_...``), ``message``
    the core's message, ``status`` the HTTP status when an HTTP answer caused the error.
    """

    __module__ = "flowai"
    code: str = "FLOWAI_INTERNAL"

    def __init__(self, message: str = "", *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class InvalidArgumentError(FlowAIError, builtins.ValueError):
    """Bad input, refused before anything was sent (``FLOWAI_INVALID_ARGUMENT``)."""

    __module__ = "flowai"
    code = "FLOWAI_INVALID_ARGUMENT"


class AuthenticationError(FlowAIError):
    """The service refused the credentials (``FLOWAI_AUTH``)."""

    __module__ = "flowai"
    code = "FLOWAI_AUTH"


class HTTPError(FlowAIError):
    """The service answered with an HTTP error status (``FLOWAI_HTTP``)."""

    __module__ = "flowai"
    code = "FLOWAI_HTTP"


class RateLimitedError(FlowAIError):
    """The service asked the client to slow down (``FLOWAI_RATE_LIMITED``)."""

    __module__ = "flowai"
    code = "FLOWAI_RATE_LIMITED"


class TimeoutError(FlowAIError, builtins.TimeoutError):
    """A deadline passed (``FLOWAI_TIMEOUT``)."""

    __module__ = "flowai"
    code = "FLOWAI_TIMEOUT"


class ConnectionError(FlowAIError, builtins.ConnectionError):
    """The network connection failed or dropped (``FLOWAI_CONNECTION``)."""

    __module__ = "flowai"
    code = "FLOWAI_CONNECTION"


class ProtocolError(FlowAIError):
    """The peer broke the protocol (``FLOWAI_PROTOCOL``)."""

    __module__ = "flowai"
    code = "FLOWAI_PROTOCOL"


class ClosedError(FlowAIError):
    """The object was closed before or during the call (``FLOWAI_CLOSED``)."""

    __module__ = "flowai"
    code = "FLOWAI_CLOSED"


class VerificationError(FlowAIError):
    """A webhook call failed verification (``FLOWAI_VERIFICATION``)."""

    __module__ = "flowai"
    code = "FLOWAI_VERIFICATION"


class QueueFullError(FlowAIError):
    """A bounded queue is full (``FLOWAI_QUEUE_FULL``)."""

    __module__ = "flowai"
    code = "FLOWAI_QUEUE_FULL"


class InternalError(FlowAIError):
    """A bug inside the SDK (``FLOWAI_INTERNAL``)."""

    __module__ = "flowai"
    code = "FLOWAI_INTERNAL"


class MisuseError(FlowAIError):
    """A blocking call made on an SDK thread, where it would deadlock (``FLOWAI_MISUSE``)."""

    __module__ = "flowai"
    code = "FLOWAI_MISUSE"


#: The exception class of every error code.
ERRORS: dict[str, type[FlowAIError]] = {
    "FLOWAI_INVALID_ARGUMENT": InvalidArgumentError,
    "FLOWAI_AUTH": AuthenticationError,
    "FLOWAI_HTTP": HTTPError,
    "FLOWAI_RATE_LIMITED": RateLimitedError,
    "FLOWAI_TIMEOUT": TimeoutError,
    "FLOWAI_CONNECTION": ConnectionError,
    "FLOWAI_PROTOCOL": ProtocolError,
    "FLOWAI_CLOSED": ClosedError,
    "FLOWAI_VERIFICATION": VerificationError,
    "FLOWAI_QUEUE_FULL": QueueFullError,
    "FLOWAI_INTERNAL": InternalError,
    "FLOWAI_MISUSE": MisuseError,
}


def _error(code: str, message: str, status: int | None) -> FlowAIError:
    """The exception of an error of the native module (which calls this)."""
    cls = ERRORS.get(code)
    if cls is not None:
        return cls(message, status=status)
    error = FlowAIError(message, status=status)
    error.code = code  # a code newer than this file
    return error


def _fspath_or_none(path: Any) -> Any:
    return None if path is None else _fspath(path)


class Pages:
    """The items of a listing, fetched a page at a time when iteration reaches them:
    ``for item in pages`` (waiting with the GIL released) or ``async for item in pages``.
    Each iteration starts again from the first page; an error of a fetch is raised there.
    """

    def __init__(self, owner: Object, method: str, args: dict[str, Any]) -> None:
        self._owner = owner
        self._method = method
        self._args = args

    def __iter__(self) -> Iterator[dict[str, Any]]:
        cursor = self._owner.call(self._method, self._args)
        try:
            while (page := cursor.next()) is not None:
                yield from page["items"]
        finally:
            cursor.close()

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        cursor = await self._owner.call_async(self._method, self._args)
        try:
            while (page := await cursor.next_async()) is not None:
                for item in page["items"]:
                    yield item
        finally:
            await cursor.close_async()


class MessagingClient(Object):
    """The Messaging REST API (text, event, location, media) and webhook subscriptions.

    Settings: api_url, messaging_key, timeout_ms, ca_cert.
    """

    _kind = "messaging"

    def send_text(self, thread_id, text, *, trace_id=None, lang=None, timezone=None, params=None):
        """Send a text message (at most 255 characters); replies come through webhooks."""
        return self._handle.call("send_text", {"thread_id": thread_id, "text": text, "trace_id": trace_id, "lang": lang, "timezone": timezone, "params": params})

    async def send_text_async(self, thread_id, text, *, trace_id=None, lang=None, timezone=None, params=None):
        """Send a text message (at most 255 characters); replies come through webhooks. (asyncio)"""
        return await self._handle.call_async("send_text", {"thread_id": thread_id, "text": text, "trace_id": trace_id, "lang": lang, "timezone": timezone, "params": params})

    def send_event(self, thread_id, event_name, *, trace_id=None, lang=None, timezone=None, params=None):
        """Trigger an event."""
        return self._handle.call("send_event", {"thread_id": thread_id, "event_name": event_name, "trace_id": trace_id, "lang": lang, "timezone": timezone, "params": params})

    async def send_event_async(self, thread_id, event_name, *, trace_id=None, lang=None, timezone=None, params=None):
        """Trigger an event. (asyncio)"""
        return await self._handle.call_async("send_event", {"thread_id": thread_id, "event_name": event_name, "trace_id": trace_id, "lang": lang, "timezone": timezone, "params": params})

    def send_location(self, thread_id, lat, lng, *, trace_id=None, lang=None, timezone=None, params=None):
        """Send a location."""
        return self._handle.call("send_location", {"thread_id": thread_id, "lat": lat, "lng": lng, "trace_id": trace_id, "lang": lang, "timezone": timezone, "params": params})

    async def send_location_async(self, thread_id, lat, lng, *, trace_id=None, lang=None, timezone=None, params=None):
        """Send a location. (asyncio)"""
        return await self._handle.call_async("send_location", {"thread_id": thread_id, "lat": lat, "lng": lng, "trace_id": trace_id, "lang": lang, "timezone": timezone, "params": params})

    def send_media(self, thread_id, path, media_type, *, mime_type=None, trace_id=None, lang=None, timezone=None, params=None):
        """Send a file (image, file, audio or video, at most 250 MB), streamed; progress comes as progress events."""
        return self._handle.call("send_media", {"thread_id": thread_id, "path": _fspath(path), "media_type": media_type, "mime_type": mime_type, "trace_id": trace_id, "lang": lang, "timezone": timezone, "params": params})

    async def send_media_async(self, thread_id, path, media_type, *, mime_type=None, trace_id=None, lang=None, timezone=None, params=None):
        """Send a file (image, file, audio or video, at most 250 MB), streamed; progress comes as progress events. (asyncio)"""
        return await self._handle.call_async("send_media", {"thread_id": thread_id, "path": _fspath(path), "media_type": media_type, "mime_type": mime_type, "trace_id": trace_id, "lang": lang, "timezone": timezone, "params": params})

    def send(self, message):
        """Send a message given as the Messaging API's own JSON: threadId, type (text, event or location) and its fields, traceId, lang, timezone, params."""
        return self._handle.call("send", {"message": message})

    async def send_async(self, message):
        """Send a message given as the Messaging API's own JSON: threadId, type (text, event or location) and its fields, traceId, lang, timezone, params. (asyncio)"""
        return await self._handle.call_async("send", {"message": message})

    def create_webhook(self, url, verify_key, events):
        """Subscribe a URL to events; the service first calls it with a GET."""
        return self._handle.call("create_webhook", {"url": url, "verify_key": verify_key, "events": events})

    async def create_webhook_async(self, url, verify_key, events):
        """Subscribe a URL to events; the service first calls it with a GET. (asyncio)"""
        return await self._handle.call_async("create_webhook", {"url": url, "verify_key": verify_key, "events": events})

    def get_webhook(self, webhook_id):
        """One subscription."""
        return self._handle.call("get_webhook", {"webhook_id": webhook_id})

    async def get_webhook_async(self, webhook_id):
        """One subscription. (asyncio)"""
        return await self._handle.call_async("get_webhook", {"webhook_id": webhook_id})

    def update_webhook(self, webhook_id, *, url=None, verify_key=None, events=None):
        """Change a subscription."""
        return self._handle.call("update_webhook", {"webhook_id": webhook_id, "url": url, "verify_key": verify_key, "events": events})

    async def update_webhook_async(self, webhook_id, *, url=None, verify_key=None, events=None):
        """Change a subscription. (asyncio)"""
        return await self._handle.call_async("update_webhook", {"webhook_id": webhook_id, "url": url, "verify_key": verify_key, "events": events})

    def list_webhooks(self):
        """Every subscription, newest first."""
        return self._handle.call("list_webhooks")

    async def list_webhooks_async(self):
        """Every subscription, newest first. (asyncio)"""
        return await self._handle.call_async("list_webhooks")

    def delete_webhook(self, webhook_id):
        """Remove a subscription."""
        return self._handle.call("delete_webhook", {"webhook_id": webhook_id})

    async def delete_webhook_async(self, webhook_id):
        """Remove a subscription. (asyncio)"""
        return await self._handle.call_async("delete_webhook", {"webhook_id": webhook_id})


class ManagementClient(Object):
    """The Management API: flows, intents, entity types, projects, members.

    Settings: api_url, management_key, timeout_ms, ca_cert.
    """

    _kind = "management"

    def list_flows(self):
        """Every flow."""
        return self._handle.call("list_flows")

    async def list_flows_async(self):
        """Every flow. (asyncio)"""
        return await self._handle.call_async("list_flows")

    def get_flow(self, flow_id):
        """One flow with its steps."""
        return self._handle.call("get_flow", {"flow_id": flow_id})

    async def get_flow_async(self, flow_id):
        """One flow with its steps. (asyncio)"""
        return await self._handle.call_async("get_flow", {"flow_id": flow_id})

    def list_intents(self):
        """Every intent."""
        return self._handle.call("list_intents")

    async def list_intents_async(self):
        """Every intent. (asyncio)"""
        return await self._handle.call_async("list_intents")

    def get_intent(self, intent_id):
        """One intent with its examples."""
        return self._handle.call("get_intent", {"intent_id": intent_id})

    async def get_intent_async(self, intent_id):
        """One intent with its examples. (asyncio)"""
        return await self._handle.call_async("get_intent", {"intent_id": intent_id})

    def list_entity_types(self):
        """Every entity type."""
        return self._handle.call("list_entity_types")

    async def list_entity_types_async(self):
        """Every entity type. (asyncio)"""
        return await self._handle.call_async("list_entity_types")

    def get_entity_type(self, entity_type_id):
        """One entity type."""
        return self._handle.call("get_entity_type", {"entity_type_id": entity_type_id})

    async def get_entity_type_async(self, entity_type_id):
        """One entity type. (asyncio)"""
        return await self._handle.call_async("get_entity_type", {"entity_type_id": entity_type_id})

    def list_projects(self):
        """Every project."""
        return self._handle.call("list_projects")

    async def list_projects_async(self):
        """Every project. (asyncio)"""
        return await self._handle.call_async("list_projects")

    def get_project(self, project_id):
        """One project."""
        return self._handle.call("get_project", {"project_id": project_id})

    async def get_project_async(self, project_id):
        """One project. (asyncio)"""
        return await self._handle.call_async("get_project", {"project_id": project_id})

    def list_members(self):
        """Every member."""
        return self._handle.call("list_members")

    async def list_members_async(self):
        """Every member. (asyncio)"""
        return await self._handle.call_async("list_members")


class RestClient(Object):
    """The Flow REST API v1: messages with the bot's replies in the answer (sync), threads, handover, bot pause, events, business hours, broadcasts. Only safe calls are retried.

    Settings: api_url, rest_url, messaging_key, timeout_ms, max_retries, retry_base_ms, retry_max_ms, proxy, ca_cert.
    """

    _kind = "rest"

    def send(self, message, *, thread_id=None, sync=None, write_concern=None, timeout_ms=None):
        """Send a message given as the API's JSON (`payload` with `type` and its fields, `originator`, `metadata`) to a thread, or to a new one when `thread_id` is not given; with `sync`, the answer carries the bot's replies. Never retried."""
        return self._handle.call("send", {"message": message, "thread_id": thread_id, "sync": sync, "write_concern": write_concern, "timeout_ms": timeout_ms})

    async def send_async(self, message, *, thread_id=None, sync=None, write_concern=None, timeout_ms=None):
        """Send a message given as the API's JSON (`payload` with `type` and its fields, `originator`, `metadata`) to a thread, or to a new one when `thread_id` is not given; with `sync`, the answer carries the bot's replies. Never retried. (asyncio)"""
        return await self._handle.call_async("send", {"message": message, "thread_id": thread_id, "sync": sync, "write_concern": write_concern, "timeout_ms": timeout_ms})

    def send_text(self, text, *, thread_id=None, sync=None, write_concern=None, timeout_ms=None):
        """Send a text (at most 255 characters) as the external user; with `sync`, the answer carries the bot's replies. Never retried."""
        return self._handle.call("send_text", {"text": text, "thread_id": thread_id, "sync": sync, "write_concern": write_concern, "timeout_ms": timeout_ms})

    async def send_text_async(self, text, *, thread_id=None, sync=None, write_concern=None, timeout_ms=None):
        """Send a text (at most 255 characters) as the external user; with `sync`, the answer carries the bot's replies. Never retried. (asyncio)"""
        return await self._handle.call_async("send_text", {"text": text, "thread_id": thread_id, "sync": sync, "write_concern": write_concern, "timeout_ms": timeout_ms})

    def messages_page(self, thread_id, *, page=None, timeout_ms=None):
        """One page (20 messages) of a thread's messages; pages count from 1."""
        return self._handle.call("messages_page", {"thread_id": thread_id, "page": page, "timeout_ms": timeout_ms})

    async def messages_page_async(self, thread_id, *, page=None, timeout_ms=None):
        """One page (20 messages) of a thread's messages; pages count from 1. (asyncio)"""
        return await self._handle.call_async("messages_page", {"thread_id": thread_id, "page": page, "timeout_ms": timeout_ms})

    def messages(self, thread_id):
        """Every message of a thread, a page fetched when iteration reaches it. Iterate with ``for`` or ``async for``."""
        return Pages(self, "messages", {"thread_id": thread_id})

    def threads_page(self, *, page=None, timeout_ms=None):
        """One page (20 threads) of the threads; pages count from 1."""
        return self._handle.call("threads_page", {"page": page, "timeout_ms": timeout_ms})

    async def threads_page_async(self, *, page=None, timeout_ms=None):
        """One page (20 threads) of the threads; pages count from 1. (asyncio)"""
        return await self._handle.call_async("threads_page", {"page": page, "timeout_ms": timeout_ms})

    def threads(self):
        """Every thread, a page fetched when iteration reaches it. Iterate with ``for`` or ``async for``."""
        return Pages(self, "threads", {})

    def handover(self, thread_id, *, seconds=None, timeout_ms=None):
        """Hand the thread over to a human agent, pausing the bot (for `seconds`, else the service's default). Never retried."""
        return self._handle.call("handover", {"thread_id": thread_id, "seconds": seconds, "timeout_ms": timeout_ms})

    async def handover_async(self, thread_id, *, seconds=None, timeout_ms=None):
        """Hand the thread over to a human agent, pausing the bot (for `seconds`, else the service's default). Never retried. (asyncio)"""
        return await self._handle.call_async("handover", {"thread_id": thread_id, "seconds": seconds, "timeout_ms": timeout_ms})

    def takeover(self, thread_id, *, timeout_ms=None):
        """Deprecated by the service: use handover."""
        return self._handle.call("takeover", {"thread_id": thread_id, "timeout_ms": timeout_ms})

    async def takeover_async(self, thread_id, *, timeout_ms=None):
        """Deprecated by the service: use handover. (asyncio)"""
        return await self._handle.call_async("takeover", {"thread_id": thread_id, "timeout_ms": timeout_ms})

    def resolve(self, thread_id, *, timeout_ms=None):
        """Mark the thread resolved."""
        return self._handle.call("resolve", {"thread_id": thread_id, "timeout_ms": timeout_ms})

    async def resolve_async(self, thread_id, *, timeout_ms=None):
        """Mark the thread resolved. (asyncio)"""
        return await self._handle.call_async("resolve", {"thread_id": thread_id, "timeout_ms": timeout_ms})

    def trigger_events(self, *, timeout_ms=None):
        """The events the project's flows can be triggered with."""
        return self._handle.call("trigger_events", {"timeout_ms": timeout_ms})

    async def trigger_events_async(self, *, timeout_ms=None):
        """The events the project's flows can be triggered with. (asyncio)"""
        return await self._handle.call_async("trigger_events", {"timeout_ms": timeout_ms})

    def trigger_event(self, thread_id, event_name, *, timeout_ms=None):
        """Trigger an event in a thread. Never retried."""
        return self._handle.call("trigger_event", {"thread_id": thread_id, "event_name": event_name, "timeout_ms": timeout_ms})

    async def trigger_event_async(self, thread_id, event_name, *, timeout_ms=None):
        """Trigger an event in a thread. Never retried. (asyncio)"""
        return await self._handle.call_async("trigger_event", {"thread_id": thread_id, "event_name": event_name, "timeout_ms": timeout_ms})

    def business_hours(self, *, timeout_ms=None):
        """The project's business hours."""
        return self._handle.call("business_hours", {"timeout_ms": timeout_ms})

    async def business_hours_async(self, *, timeout_ms=None):
        """The project's business hours. (asyncio)"""
        return await self._handle.call_async("business_hours", {"timeout_ms": timeout_ms})

    def pause(self, thread_id, *, seconds=None, timeout_ms=None):
        """Pause the bot for a thread (for `seconds`, else until resumed)."""
        return self._handle.call("pause", {"thread_id": thread_id, "seconds": seconds, "timeout_ms": timeout_ms})

    async def pause_async(self, thread_id, *, seconds=None, timeout_ms=None):
        """Pause the bot for a thread (for `seconds`, else until resumed). (asyncio)"""
        return await self._handle.call_async("pause", {"thread_id": thread_id, "seconds": seconds, "timeout_ms": timeout_ms})

    def resume(self, thread_id, *, timeout_ms=None):
        """Let the bot answer a paused thread again."""
        return self._handle.call("resume", {"thread_id": thread_id, "timeout_ms": timeout_ms})

    async def resume_async(self, thread_id, *, timeout_ms=None):
        """Let the bot answer a paused thread again. (asyncio)"""
        return await self._handle.call_async("resume", {"thread_id": thread_id, "timeout_ms": timeout_ms})

    def pause_status(self, thread_id, *, timeout_ms=None):
        """Whether the bot is paused for a thread."""
        return self._handle.call("pause_status", {"thread_id": thread_id, "timeout_ms": timeout_ms})

    async def pause_status_async(self, thread_id, *, timeout_ms=None):
        """Whether the bot is paused for a thread. (asyncio)"""
        return await self._handle.call_async("pause_status", {"thread_id": thread_id, "timeout_ms": timeout_ms})

    def broadcast(self, request, *, timeout_ms=None):
        """Send one message to many threads at once (the API's broadcast JSON). Never retried."""
        return self._handle.call("broadcast", {"request": request, "timeout_ms": timeout_ms})

    async def broadcast_async(self, request, *, timeout_ms=None):
        """Send one message to many threads at once (the API's broadcast JSON). Never retried. (asyncio)"""
        return await self._handle.call_async("broadcast", {"request": request, "timeout_ms": timeout_ms})

    def broadcast_segment(self, request, *, timeout_ms=None):
        """Send one message to every thread of a segment (the API's JSON with `segmentId`). Never retried."""
        return self._handle.call("broadcast_segment", {"request": request, "timeout_ms": timeout_ms})

    async def broadcast_segment_async(self, request, *, timeout_ms=None):
        """Send one message to every thread of a segment (the API's JSON with `segmentId`). Never retried. (asyncio)"""
        return await self._handle.call_async("broadcast_segment", {"request": request, "timeout_ms": timeout_ms})

    def segments(self, *, timeout_ms=None):
        """The project's segments."""
        return self._handle.call("segments", {"timeout_ms": timeout_ms})

    async def segments_async(self, *, timeout_ms=None):
        """The project's segments. (asyncio)"""
        return await self._handle.call_async("segments", {"timeout_ms": timeout_ms})


class PageCursor(Object):
    """A listing read a page at a time: `next` fetches the following page.

    Made by ``RestClient.messages`` or ``RestClient.threads``.
    """

    _kind = "page_cursor"

    def next(self):
        """The following page as `{items, has_more}` (fetched now), or null after the last."""
        return self._handle.call("next")

    async def next_async(self):
        """The following page as `{items, has_more}` (fetched now), or null after the last. (asyncio)"""
        return await self._handle.call_async("next")


class Session(Object):
    """A real-time Flow Socket session of one thread; opening it connects.

    Settings: api_url, client_id, thread_id, session_id, originator, ping_interval_ms, pong_timeout_ms, send_timeout_ms, connect_timeout_ms, queue_capacity, event_capacity, backoff_base_ms, backoff_cap_ms, ca_cert.
    """

    _kind = "session"

    def info(self):
        """The thread id, the session id and whether the session is closed."""
        return self._handle.call("info")

    async def info_async(self):
        """The thread id, the session id and whether the session is closed. (asyncio)"""
        return await self._handle.call_async("info")

    def send(self, *, text=None, event=None, trace_id=None, lang=None, timezone=None, params=None, originator=None, attachment=None):
        """Send a message (text, or an event to trigger) and wait for its delivery; queued while offline."""
        return self._handle.call("send", {"text": text, "event": event, "trace_id": trace_id, "lang": lang, "timezone": timezone, "params": params, "originator": originator, "attachment": attachment})

    async def send_async(self, *, text=None, event=None, trace_id=None, lang=None, timezone=None, params=None, originator=None, attachment=None):
        """Send a message (text, or an event to trigger) and wait for its delivery; queued while offline. (asyncio)"""
        return await self._handle.call_async("send", {"text": text, "event": event, "trace_id": trace_id, "lang": lang, "timezone": timezone, "params": params, "originator": originator, "attachment": attachment})

    def send_text(self, text):
        """Send a text and wait for its delivery."""
        return self._handle.call("send_text", {"text": text})

    async def send_text_async(self, text):
        """Send a text and wait for its delivery. (asyncio)"""
        return await self._handle.call_async("send_text", {"text": text})

    def send_event(self, event_name):
        """Trigger an event and wait for its delivery."""
        return self._handle.call("send_event", {"event_name": event_name})

    async def send_event_async(self, event_name):
        """Trigger an event and wait for its delivery. (asyncio)"""
        return await self._handle.call_async("send_event", {"event_name": event_name})

    def typing(self):
        """Tell the agents that the user is typing."""
        return self._handle.call("typing")

    async def typing_async(self):
        """Tell the agents that the user is typing. (asyncio)"""
        return await self._handle.call_async("typing")

    def noticed(self):
        """Mark the thread's messages as seen."""
        return self._handle.call("noticed")

    async def noticed_async(self):
        """Mark the thread's messages as seen. (asyncio)"""
        return await self._handle.call_async("noticed")

    def history(self):
        """The thread's earlier messages."""
        return self._handle.call("history")

    async def history_async(self):
        """The thread's earlier messages. (asyncio)"""
        return await self._handle.call_async("history")

    def unnoticed(self):
        """Messages the user has not seen yet."""
        return self._handle.call("unnoticed")

    async def unnoticed_async(self):
        """Messages the user has not seen yet. (asyncio)"""
        return await self._handle.call_async("unnoticed")

    def upload(self, path):
        """Upload a file to the thread, streamed; progress comes as progress events."""
        return self._handle.call("upload", {"path": _fspath(path)})

    async def upload_async(self, path):
        """Upload a file to the thread, streamed; progress comes as progress events. (asyncio)"""
        return await self._handle.call_async("upload", {"path": _fspath(path)})


class AidaClient(Object):
    """A connection to one AIDA bot over Phoenix channels; its events carry every session's replies.

    Settings: aida_url, aida_bot, aida_token, timeout_ms, push_timeout_ms, heartbeat_interval_ms, connect_timeout_ms, ca_cert.
    """

    _kind = "aida"

    def info(self):
        """The bot id and whether the socket is connected."""
        return self._handle.call("info")

    async def info_async(self):
        """The bot id and whether the socket is connected. (asyncio)"""
        return await self._handle.call_async("info")

    def new_session(self, *, data=None):
        """Start a conversation with the bot."""
        return AidaSession._wrap(self._handle.call("new_session", {"data": data}))

    async def new_session_async(self, *, data=None):
        """Start a conversation with the bot. (asyncio)"""
        return AidaSession._wrap(await self._handle.call_async("new_session", {"data": data}))

    def session(self, session_id):
        """Resume a conversation by its id."""
        return AidaSession._wrap(self._handle.call("session", {"session_id": session_id}))

    async def session_async(self, session_id):
        """Resume a conversation by its id. (asyncio)"""
        return AidaSession._wrap(await self._handle.call_async("session", {"session_id": session_id}))

    def fetch_image(self, image_id):
        """An image from the bot's store, base64 in `data`."""
        return self._handle.call("fetch_image", {"image_id": image_id})

    async def fetch_image_async(self, image_id):
        """An image from the bot's store, base64 in `data`. (asyncio)"""
        return await self._handle.call_async("fetch_image", {"image_id": image_id})


class AidaSession(Object):
    """One conversation with an AIDA bot; its events carry this session's replies only.

    Made by ``AidaClient.new_session`` or ``AidaClient.session``.
    """

    _kind = "aida_session"

    def info(self):
        """The session id."""
        return self._handle.call("info")

    async def info_async(self):
        """The session id. (asyncio)"""
        return await self._handle.call_async("info")

    def send_text(self, text):
        """Send the user's text; resolves when the server acknowledged it."""
        return self._handle.call("send_text", {"text": text})

    async def send_text_async(self, text):
        """Send the user's text; resolves when the server acknowledged it. (asyncio)"""
        return await self._handle.call_async("send_text", {"text": text})

    def put_data(self, data):
        """Merge data into the session."""
        return self._handle.call("put_data", {"data": data})

    async def put_data_async(self, data):
        """Merge data into the session. (asyncio)"""
        return await self._handle.call_async("put_data", {"data": data})

    def send_image(self, path, *, filename=None, content_type=None):
        """Upload an image and send it."""
        return self._handle.call("send_image", {"path": _fspath(path), "filename": filename, "content_type": content_type})

    async def send_image_async(self, path, *, filename=None, content_type=None):
        """Upload an image and send it. (asyncio)"""
        return await self._handle.call_async("send_image", {"path": _fspath(path), "filename": filename, "content_type": content_type})

    def delete(self):
        """Delete the session on the server; its events end with closed."""
        return self._handle.call("delete")

    async def delete_async(self):
        """Delete the session on the server; its events end with closed. (asyncio)"""
        return await self._handle.call_async("delete")


class WebhookReceiver(Object):
    """An embedded webhook receiver: verified calls arrive as events.

    Settings: verify_key, host, port, path, verify_header, max_body_bytes, queue_capacity, dedupe_capacity, dedup_url, dedup_claim_ttl_ms, dedup_done_ttl_ms, dedup_fail_open.
    """

    _kind = "receiver"

    def info(self):
        """The URL to register and the port."""
        return self._handle.call("info")

    async def info_async(self):
        """The URL to register and the port. (asyncio)"""
        return await self._handle.call_async("info")


class WebhookVerifier(Object):
    """Verifies and parses webhook calls received by the app's own server.

    Settings: verify_key, verify_header.
    """

    _kind = "verifier"

    def verify(self, headers, body, *, query=None):
        """Verify a call the app received (headers as an object or a list of pairs) and parse it into an event."""
        return self._handle.call("verify", {"headers": headers, "body": body, "query": query})

    async def verify_async(self, headers, body, *, query=None):
        """Verify a call the app received (headers as an object or a list of pairs) and parse it into an event. (asyncio)"""
        return await self._handle.call_async("verify", {"headers": headers, "body": body, "query": query})


class Emulator(Object):
    """A local Flow.ai + AIDA server in this process, for offline tests; with `record` and `upstream`, a recorder in front of a real service instead; with `replay`, a recording served again. `info()` gives the settings that point clients at it.

    Settings: project, time_scale, record, upstream, replay.
    """

    _kind = "emulator"

    def info(self):
        """The settings that point every client kind at this object: api_url, aida_url and credentials it accepts (a replay adds aida_bot only when the recording has one); a recorder gives api_url and aida_url only, to lay over the real service's settings, as keys pass through to it."""
        return self._handle.call("info")

    async def info_async(self):
        """The settings that point every client kind at this object: api_url, aida_url and credentials it accepts (a replay adds aida_bot only when the recording has one); a recorder gives api_url and aida_url only, to lay over the real service's settings, as keys pass through to it. (asyncio)"""
        return await self._handle.call_async("info")

    def env(self):
        """The settings of `info()` as the `FLOWAI_*` environment variables every client reads, e.g. `FLOWAI_API_URL`, for code that reads its environment or runs in a subprocess."""
        return self._handle.call("env")

    async def env_async(self):
        """The settings of `info()` as the `FLOWAI_*` environment variables every client reads, e.g. `FLOWAI_API_URL`, for code that reads its environment or runs in a subprocess. (asyncio)"""
        return await self._handle.call_async("env")

    def post_webhook(self, url, body, *, verify_key=None, delivery_id=None):
        """Make a webhook call to a receiver as the service would, and give the HTTP status it answered."""
        return self._handle.call("post_webhook", {"url": url, "body": body, "verify_key": verify_key, "delivery_id": delivery_id})

    async def post_webhook_async(self, url, body, *, verify_key=None, delivery_id=None):
        """Make a webhook call to a receiver as the service would, and give the HTTP status it answered. (asyncio)"""
        return await self._handle.call_async("post_webhook", {"url": url, "body": body, "verify_key": verify_key, "delivery_id": delivery_id})

    def set_faults(self, faults):
        """Change some of the emulator's fault knobs, by their camelCase names (`{"restV1Failures": 1, "restV1Status": 500}` answers the next Flow REST API v1 call with 500), and give them all."""
        return self._handle.call("set_faults", {"faults": faults})

    async def set_faults_async(self, faults):
        """Change some of the emulator's fault knobs, by their camelCase names (`{"restV1Failures": 1, "restV1Status": 500}` answers the next Flow REST API v1 call with 500), and give them all. (asyncio)"""
        return await self._handle.call_async("set_faults", {"faults": faults})


class EventBench(Object):
    """A source of synthetic events for the binding benchmarks.

    Settings: none.
    """

    _kind = "bench"

    def run(self, count, *, interval_us=None):
        """Emit `count` progress events stamped with `at_ns` (monotonic ns), then closed."""
        return self._handle.call("run", {"count": count, "interval_us": interval_us})

    async def run_async(self, count, *, interval_us=None):
        """Emit `count` progress events stamped with `at_ns` (monotonic ns), then closed. (asyncio)"""
        return await self._handle.call_async("run", {"count": count, "interval_us": interval_us})
