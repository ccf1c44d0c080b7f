"""Every kind of flowai object as a class, and every error code as an exception.

Generated from flowai-ffi's method and error tables by
crates/flowai-ffi/src/codegen/python.rs: do not edit.
`FLOWAI_BLESS=1 cargo test -p flowai-ffi --test generated` rewrites it.
"""

import builtins
import os
from collections.abc import AsyncIterator, Iterator
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
EVENT_NAMES: tuple[str, ...]


class FlowAIError(Exception):
    """Base of every flowai error.

    ``code`` is the stable code shared by every language (``FLOWAI_...``), ``message``
    the core's message, ``status`` the HTTP status when an HTTP answer caused the error.
    """

    code: str
    message: str
    status: int | None

    def __init__(self, message: str = "", *, status: int | None = None) -> None: ...


class InvalidArgumentError(FlowAIError, builtins.ValueError):
    """Bad input, refused before anything was sent (``FLOWAI_INVALID_ARGUMENT``)."""


class AuthenticationError(FlowAIError):
    """The service refused the credentials (``FLOWAI_AUTH``)."""


class HTTPError(FlowAIError):
    """The service answered with an HTTP error status (``FLOWAI_HTTP``)."""


class RateLimitedError(FlowAIError):
    """The service asked the client to slow down (``FLOWAI_RATE_LIMITED``)."""


class TimeoutError(FlowAIError, builtins.TimeoutError):
    """A deadline passed (``FLOWAI_TIMEOUT``)."""


class ConnectionError(FlowAIError, builtins.ConnectionError):
    """The network connection failed or dropped (``FLOWAI_CONNECTION``)."""


class ProtocolError(FlowAIError):
    """The peer broke the protocol (``FLOWAI_PROTOCOL``)."""


class ClosedError(FlowAIError):
    """The object was closed before or during the call (``FLOWAI_CLOSED``)."""


class VerificationError(FlowAIError):
    """A webhook call failed verification (``FLOWAI_VERIFICATION``)."""


class QueueFullError(FlowAIError):
    """A bounded queue is full (``FLOWAI_QUEUE_FULL``)."""


class InternalError(FlowAIError):
    """A bug inside the SDK (``FLOWAI_INTERNAL``)."""


class MisuseError(FlowAIError):
    """A blocking call made on an SDK thread, where it would deadlock (``FLOWAI_MISUSE``)."""


#: The exception class of every error code.
ERRORS: dict[str, type[FlowAIError]]

def _error(code: str, message: str, status: int | None) -> FlowAIError: ...


class Pages:
    """The items of a listing, fetched a page at a time when iteration reaches them:
    ``for item in pages`` (waiting with the GIL released) or ``async for item in pages``.
    Each iteration starts again from the first page; an error of a fetch is raised there.
    """

    def __init__(self, owner: Object, method: str, args: dict[str, Any]) -> None: ...
    def __iter__(self) -> Iterator[dict[str, Any]]: ...
    def __aiter__(self) -> AsyncIterator[dict[str, Any]]: ...


class MessagingClient(Object):
    """The Messaging REST API (text, event, location, media) and webhook subscriptions.

    Settings: api_url, messaging_key, timeout_ms, ca_cert.
    """

    def __init__(self, *, api_url: str | None = None, messaging_key: str | None = None, timeout_ms: int | None = None, ca_cert: str | None = None) -> None: ...
    @classmethod
    def connect(cls, *, api_url: str | None = None, messaging_key: str | None = None, timeout_ms: int | None = None, ca_cert: str | None = None) -> MessagingClient: ...  # type: ignore[override]
    @classmethod
    async def connect_async(cls, *, api_url: str | None = None, messaging_key: str | None = None, timeout_ms: int | None = None, ca_cert: str | None = None) -> MessagingClient: ...  # type: ignore[override]

    def send_text(self, thread_id: str, text: str, *, trace_id: int | None = None, lang: str | None = None, timezone: float | None = None, params: dict[str, Any] | None = None) -> None: ...

    async def send_text_async(self, thread_id: str, text: str, *, trace_id: int | None = None, lang: str | None = None, timezone: float | None = None, params: dict[str, Any] | None = None) -> None: ...

    def send_event(self, thread_id: str, event_name: str, *, trace_id: int | None = None, lang: str | None = None, timezone: float | None = None, params: dict[str, Any] | None = None) -> None: ...

    async def send_event_async(self, thread_id: str, event_name: str, *, trace_id: int | None = None, lang: str | None = None, timezone: float | None = None, params: dict[str, Any] | None = None) -> None: ...

    def send_location(self, thread_id: str, lat: float | str, lng: float | str, *, trace_id: int | None = None, lang: str | None = None, timezone: float | None = None, params: dict[str, Any] | None = None) -> None: ...

    async def send_location_async(self, thread_id: str, lat: float | str, lng: float | str, *, trace_id: int | None = None, lang: str | None = None, timezone: float | None = None, params: dict[str, Any] | None = None) -> None: ...

    def send_media(self, thread_id: str, path: str | os.PathLike[str], media_type: str, *, mime_type: str | None = None, trace_id: int | None = None, lang: str | None = None, timezone: float | None = None, params: dict[str, Any] | None = None) -> None: ...

    async def send_media_async(self, thread_id: str, path: str | os.PathLike[str], media_type: str, *, mime_type: str | None = None, trace_id: int | None = None, lang: str | None = None, timezone: float | None = None, params: dict[str, Any] | None = None) -> None: ...

    def send(self, message: dict[str, Any]) -> None: ...

    async def send_async(self, message: dict[str, Any]) -> None: ...

    def create_webhook(self, url: str, verify_key: str, events: list[str]) -> dict[str, Any]: ...

    async def create_webhook_async(self, url: str, verify_key: str, events: list[str]) -> dict[str, Any]: ...

    def get_webhook(self, webhook_id: str) -> dict[str, Any]: ...

    async def get_webhook_async(self, webhook_id: str) -> dict[str, Any]: ...

    def update_webhook(self, webhook_id: str, *, url: str | None = None, verify_key: str | None = None, events: list[str] | None = None) -> dict[str, Any]: ...

    async def update_webhook_async(self, webhook_id: str, *, url: str | None = None, verify_key: str | None = None, events: list[str] | None = None) -> dict[str, Any]: ...

    def list_webhooks(self) -> list[dict[str, Any]]: ...

    async def list_webhooks_async(self) -> list[dict[str, Any]]: ...

    def delete_webhook(self, webhook_id: str) -> None: ...

    async def delete_webhook_async(self, webhook_id: str) -> None: ...


class ManagementClient(Object):
    """The Management API: flows, intents, entity types, projects, members.

    Settings: api_url, management_key, timeout_ms, ca_cert.
    """

    def __init__(self, *, api_url: str | None = None, management_key: str | None = None, timeout_ms: int | None = None, ca_cert: str | None = None) -> None: ...
    @classmethod
    def connect(cls, *, api_url: str | None = None, management_key: str | None = None, timeout_ms: int | None = None, ca_cert: str | None = None) -> ManagementClient: ...  # type: ignore[override]
    @classmethod
    async def connect_async(cls, *, api_url: str | None = None, management_key: str | None = None, timeout_ms: int | None = None, ca_cert: str | None = None) -> ManagementClient: ...  # type: ignore[override]

    def list_flows(self) -> list[dict[str, Any]]: ...

    async def list_flows_async(self) -> list[dict[str, Any]]: ...

    def get_flow(self, flow_id: str) -> dict[str, Any]: ...

    async def get_flow_async(self, flow_id: str) -> dict[str, Any]: ...

    def list_intents(self) -> list[dict[str, Any]]: ...

    async def list_intents_async(self) -> list[dict[str, Any]]: ...

    def get_intent(self, intent_id: str) -> dict[str, Any]: ...

    async def get_intent_async(self, intent_id: str) -> dict[str, Any]: ...

    def list_entity_types(self) -> list[dict[str, Any]]: ...

    async def list_entity_types_async(self) -> list[dict[str, Any]]: ...

    def get_entity_type(self, entity_type_id: str) -> dict[str, Any]: ...

    async def get_entity_type_async(self, entity_type_id: str) -> dict[str, Any]: ...

    def list_projects(self) -> list[dict[str, Any]]: ...

    async def list_projects_async(self) -> list[dict[str, Any]]: ...

    def get_project(self, project_id: str) -> dict[str, Any]: ...

    async def get_project_async(self, project_id: str) -> dict[str, Any]: ...

    def list_members(self) -> list[dict[str, Any]]: ...

    async def list_members_async(self) -> list[dict[str, Any]]: ...


class RestClient(Object):
    """The Flow REST API v1: messages with the bot's replies in the answer (sync), threads, handover, bot pause, events, business hours, broadcasts. Only safe calls are retried.

    Settings: api_url, rest_url, messaging_key, timeout_ms, max_retries, retry_base_ms, retry_max_ms, proxy, ca_cert.
    """

    def __init__(self, *, api_url: str | None = None, rest_url: str | None = None, messaging_key: str | None = None, timeout_ms: int | None = None, max_retries: int | None = None, retry_base_ms: int | None = None, retry_max_ms: int | None = None, proxy: str | None = None, ca_cert: str | None = None) -> None: ...
    @classmethod
    def connect(cls, *, api_url: str | None = None, rest_url: str | None = None, messaging_key: str | None = None, timeout_ms: int | None = None, max_retries: int | None = None, retry_base_ms: int | None = None, retry_max_ms: int | None = None, proxy: str | None = None, ca_cert: str | None = None) -> RestClient: ...  # type: ignore[override]
    @classmethod
    async def connect_async(cls, *, api_url: str | None = None, rest_url: str | None = None, messaging_key: str | None = None, timeout_ms: int | None = None, max_retries: int | None = None, retry_base_ms: int | None = None, retry_max_ms: int | None = None, proxy: str | None = None, ca_cert: str | None = None) -> RestClient: ...  # type: ignore[override]

    def send(self, message: dict[str, Any], *, thread_id: str | None = None, sync: bool | None = None, write_concern: bool | None = None, timeout_ms: int | None = None) -> dict[str, Any]: ...

    async def send_async(self, message: dict[str, Any], *, thread_id: str | None = None, sync: bool | None = None, write_concern: bool | None = None, timeout_ms: int | None = None) -> dict[str, Any]: ...

    def send_text(self, text: str, *, thread_id: str | None = None, sync: bool | None = None, write_concern: bool | None = None, timeout_ms: int | None = None) -> dict[str, Any]: ...

    async def send_text_async(self, text: str, *, thread_id: str | None = None, sync: bool | None = None, write_concern: bool | None = None, timeout_ms: int | None = None) -> dict[str, Any]: ...

    def messages_page(self, thread_id: str, *, page: int | None = None, timeout_ms: int | None = None) -> dict[str, Any]: ...

    async def messages_page_async(self, thread_id: str, *, page: int | None = None, timeout_ms: int | None = None) -> dict[str, Any]: ...

    def messages(self, thread_id: str) -> Pages: ...

    def threads_page(self, *, page: int | None = None, timeout_ms: int | None = None) -> dict[str, Any]: ...

    async def threads_page_async(self, *, page: int | None = None, timeout_ms: int | None = None) -> dict[str, Any]: ...

    def threads(self) -> Pages: ...

    def handover(self, thread_id: str, *, seconds: int | None = None, timeout_ms: int | None = None) -> Any: ...

    async def handover_async(self, thread_id: str, *, seconds: int | None = None, timeout_ms: int | None = None) -> Any: ...

    def takeover(self, thread_id: str, *, timeout_ms: int | None = None) -> Any: ...

    async def takeover_async(self, thread_id: str, *, timeout_ms: int | None = None) -> Any: ...

    def resolve(self, thread_id: str, *, timeout_ms: int | None = None) -> Any: ...

    async def resolve_async(self, thread_id: str, *, timeout_ms: int | None = None) -> Any: ...

    def trigger_events(self, *, timeout_ms: int | None = None) -> list[dict[str, Any]]: ...

    async def trigger_events_async(self, *, timeout_ms: int | None = None) -> list[dict[str, Any]]: ...

    def trigger_event(self, thread_id: str, event_name: str, *, timeout_ms: int | None = None) -> Any: ...

    async def trigger_event_async(self, thread_id: str, event_name: str, *, timeout_ms: int | None = None) -> Any: ...

    def business_hours(self, *, timeout_ms: int | None = None) -> dict[str, Any]: ...

    async def business_hours_async(self, *, timeout_ms: int | None = None) -> dict[str, Any]: ...

    def pause(self, thread_id: str, *, seconds: int | None = None, timeout_ms: int | None = None) -> dict[str, Any]: ...

    async def pause_async(self, thread_id: str, *, seconds: int | None = None, timeout_ms: int | None = None) -> dict[str, Any]: ...

    def resume(self, thread_id: str, *, timeout_ms: int | None = None) -> dict[str, Any]: ...

    async def resume_async(self, thread_id: str, *, timeout_ms: int | None = None) -> dict[str, Any]: ...

    def pause_status(self, thread_id: str, *, timeout_ms: int | None = None) -> dict[str, Any]: ...

    async def pause_status_async(self, thread_id: str, *, timeout_ms: int | None = None) -> dict[str, Any]: ...

    def broadcast(self, request: dict[str, Any], *, timeout_ms: int | None = None) -> Any: ...

    async def broadcast_async(self, request: dict[str, Any], *, timeout_ms: int | None = None) -> Any: ...

    def broadcast_segment(self, request: dict[str, Any], *, timeout_ms: int | None = None) -> Any: ...

    async def broadcast_segment_async(self, request: dict[str, Any], *, timeout_ms: int | None = None) -> Any: ...

    def segments(self, *, timeout_ms: int | None = None) -> list[dict[str, Any]]: ...

    async def segments_async(self, *, timeout_ms: int | None = None) -> list[dict[str, Any]]: ...


class PageCursor(Object):
    """A listing read a page at a time: `next` fetches the following page.

    Made by ``RestClient.messages`` or ``RestClient.threads``.
    """

    def next(self) -> dict[str, Any] | None: ...

    async def next_async(self) -> dict[str, Any] | None: ...


class Session(Object):
    """A real-time Flow Socket session of one thread; opening it connects.

    Settings: api_url, client_id, thread_id, session_id, originator, ping_interval_ms, pong_timeout_ms, send_timeout_ms, connect_timeout_ms, queue_capacity, event_capacity, backoff_base_ms, backoff_cap_ms, ca_cert.
    """

    def __init__(self, *, api_url: str | None = None, client_id: str | None = None, thread_id: str | None = None, session_id: str | None = None, originator: dict[str, Any] | None = None, ping_interval_ms: int | None = None, pong_timeout_ms: int | None = None, send_timeout_ms: int | None = None, connect_timeout_ms: int | None = None, queue_capacity: int | None = None, event_capacity: int | None = None, backoff_base_ms: int | None = None, backoff_cap_ms: int | None = None, ca_cert: str | None = None) -> None: ...
    @classmethod
    def connect(cls, *, api_url: str | None = None, client_id: str | None = None, thread_id: str | None = None, session_id: str | None = None, originator: dict[str, Any] | None = None, ping_interval_ms: int | None = None, pong_timeout_ms: int | None = None, send_timeout_ms: int | None = None, connect_timeout_ms: int | None = None, queue_capacity: int | None = None, event_capacity: int | None = None, backoff_base_ms: int | None = None, backoff_cap_ms: int | None = None, ca_cert: str | None = None) -> Session: ...  # type: ignore[override]
    @classmethod
    async def connect_async(cls, *, api_url: str | None = None, client_id: str | None = None, thread_id: str | None = None, session_id: str | None = None, originator: dict[str, Any] | None = None, ping_interval_ms: int | None = None, pong_timeout_ms: int | None = None, send_timeout_ms: int | None = None, connect_timeout_ms: int | None = None, queue_capacity: int | None = None, event_capacity: int | None = None, backoff_base_ms: int | None = None, backoff_cap_ms: int | None = None, ca_cert: str | None = None) -> Session: ...  # type: ignore[override]

    def info(self) -> dict[str, Any]: ...

    async def info_async(self) -> dict[str, Any]: ...

    def send(self, *, text: str | None = None, event: str | None = None, trace_id: int | None = None, lang: str | None = None, timezone: float | None = None, params: dict[str, Any] | None = None, originator: dict[str, Any] | None = None, attachment: dict[str, Any] | None = None) -> dict[str, Any]: ...

    async def send_async(self, *, text: str | None = None, event: str | None = None, trace_id: int | None = None, lang: str | None = None, timezone: float | None = None, params: dict[str, Any] | None = None, originator: dict[str, Any] | None = None, attachment: dict[str, Any] | None = None) -> dict[str, Any]: ...

    def send_text(self, text: str) -> dict[str, Any]: ...

    async def send_text_async(self, text: str) -> dict[str, Any]: ...

    def send_event(self, event_name: str) -> dict[str, Any]: ...

    async def send_event_async(self, event_name: str) -> dict[str, Any]: ...

    def typing(self) -> None: ...

    async def typing_async(self) -> None: ...

    def noticed(self) -> None: ...

    async def noticed_async(self) -> None: ...

    def history(self) -> Any: ...

    async def history_async(self) -> Any: ...

    def unnoticed(self) -> Any: ...

    async def unnoticed_async(self) -> Any: ...

    def upload(self, path: str | os.PathLike[str]) -> Any: ...

    async def upload_async(self, path: str | os.PathLike[str]) -> Any: ...


class AidaClient(Object):
    """A connection to one AIDA bot over Phoenix channels; its events carry every session's replies.

    Settings: aida_url, aida_bot, aida_token, timeout_ms, push_timeout_ms, heartbeat_interval_ms, connect_timeout_ms, ca_cert.
    """

    def __init__(self, *, aida_url: str | None = None, aida_bot: str | None = None, aida_token: str | None = None, timeout_ms: int | None = None, push_timeout_ms: int | None = None, heartbeat_interval_ms: int | None = None, connect_timeout_ms: int | None = None, ca_cert: str | None = None) -> None: ...
    @classmethod
    def connect(cls, *, aida_url: str | None = None, aida_bot: str | None = None, aida_token: str | None = None, timeout_ms: int | None = None, push_timeout_ms: int | None = None, heartbeat_interval_ms: int | None = None, connect_timeout_ms: int | None = None, ca_cert: str | None = None) -> AidaClient: ...  # type: ignore[override]
    @classmethod
    async def connect_async(cls, *, aida_url: str | None = None, aida_bot: str | None = None, aida_token: str | None = None, timeout_ms: int | None = None, push_timeout_ms: int | None = None, heartbeat_interval_ms: int | None = None, connect_timeout_ms: int | None = None, ca_cert: str | None = None) -> AidaClient: ...  # type: ignore[override]

    def info(self) -> dict[str, Any]: ...

    async def info_async(self) -> dict[str, Any]: ...

    def new_session(self, *, data: dict[str, Any] | None = None) -> AidaSession: ...

    async def new_session_async(self, *, data: dict[str, Any] | None = None) -> AidaSession: ...

    def session(self, session_id: str) -> AidaSession: ...

    async def session_async(self, session_id: str) -> AidaSession: ...

    def fetch_image(self, image_id: str) -> dict[str, Any]: ...

    async def fetch_image_async(self, image_id: str) -> dict[str, Any]: ...


class AidaSession(Object):
    """One conversation with an AIDA bot; its events carry this session's replies only.

    Made by ``AidaClient.new_session`` or ``AidaClient.session``.
    """

    def info(self) -> dict[str, Any]: ...

    async def info_async(self) -> dict[str, Any]: ...

    def send_text(self, text: str) -> Any: ...

    async def send_text_async(self, text: str) -> Any: ...

    def put_data(self, data: dict[str, Any]) -> Any: ...

    async def put_data_async(self, data: dict[str, Any]) -> Any: ...

    def send_image(self, path: str | os.PathLike[str], *, filename: str | None = None, content_type: str | None = None) -> dict[str, Any]: ...

    async def send_image_async(self, path: str | os.PathLike[str], *, filename: str | None = None, content_type: str | None = None) -> dict[str, Any]: ...

    def delete(self) -> None: ...

    async def delete_async(self) -> None: ...


class WebhookReceiver(Object):
    """An embedded webhook receiver: verified calls arrive as events.

    Settings: verify_key, host, port, path, verify_header, max_body_bytes, queue_capacity, dedupe_capacity, dedup_url, dedup_claim_ttl_ms, dedup_done_ttl_ms, dedup_fail_open.
    """

    def __init__(self, *, verify_key: str | None = None, host: str | None = None, port: int | None = None, path: str | None = None, verify_header: str | None = None, max_body_bytes: int | None = None, queue_capacity: int | None = None, dedupe_capacity: int | None = None, dedup_url: str | None = None, dedup_claim_ttl_ms: int | None = None, dedup_done_ttl_ms: int | None = None, dedup_fail_open: bool | None = None) -> None: ...
    @classmethod
    def connect(cls, *, verify_key: str | None = None, host: str | None = None, port: int | None = None, path: str | None = None, verify_header: str | None = None, max_body_bytes: int | None = None, queue_capacity: int | None = None, dedupe_capacity: int | None = None, dedup_url: str | None = None, dedup_claim_ttl_ms: int | None = None, dedup_done_ttl_ms: int | None = None, dedup_fail_open: bool | None = None) -> WebhookReceiver: ...  # type: ignore[override]
    @classmethod
    async def connect_async(cls, *, verify_key: str | None = None, host: str | None = None, port: int | None = None, path: str | None = None, verify_header: str | None = None, max_body_bytes: int | None = None, queue_capacity: int | None = None, dedupe_capacity: int | None = None, dedup_url: str | None = None, dedup_claim_ttl_ms: int | None = None, dedup_done_ttl_ms: int | None = None, dedup_fail_open: bool | None = None) -> WebhookReceiver: ...  # type: ignore[override]

    def info(self) -> dict[str, Any]: ...

    async def info_async(self) -> dict[str, Any]: ...


class WebhookVerifier(Object):
    """Verifies and parses webhook calls received by the app's own server.

    Settings: verify_key, verify_header.
    """

    def __init__(self, *, verify_key: str | None = None, verify_header: str | None = None) -> None: ...
    @classmethod
    def connect(cls, *, verify_key: str | None = None, verify_header: str | None = None) -> WebhookVerifier: ...  # type: ignore[override]
    @classmethod
    async def connect_async(cls, *, verify_key: str | None = None, verify_header: str | None = None) -> WebhookVerifier: ...  # type: ignore[override]

    def verify(self, headers: Any, body: str, *, query: str | None = None) -> dict[str, Any]: ...

    async def verify_async(self, headers: Any, body: str, *, query: str | None = None) -> dict[str, Any]: ...


class Emulator(Object):
    """A local Flow.ai + AIDA server in this process, for offline tests; with `record` and `upstream`, a recorder in front of a real service instead; with `replay`, a recording served again. `info()` gives the settings that point clients at it.

    Settings: project, time_scale, record, upstream, replay.
    """

    def __init__(self, *, project: str | None = None, time_scale: float | None = None, record: str | None = None, upstream: str | None = None, replay: str | None = None) -> None: ...
    @classmethod
    def connect(cls, *, project: str | None = None, time_scale: float | None = None, record: str | None = None, upstream: str | None = None, replay: str | None = None) -> Emulator: ...  # type: ignore[override]
    @classmethod
    async def connect_async(cls, *, project: str | None = None, time_scale: float | None = None, record: str | None = None, upstream: str | None = None, replay: str | None = None) -> Emulator: ...  # type: ignore[override]

    def info(self) -> dict[str, Any]: ...

    async def info_async(self) -> dict[str, Any]: ...

    def env(self) -> dict[str, Any]: ...

    async def env_async(self) -> dict[str, Any]: ...

    def post_webhook(self, url: str, body: str, *, verify_key: str | None = None, delivery_id: str | None = None) -> dict[str, Any]: ...

    async def post_webhook_async(self, url: str, body: str, *, verify_key: str | None = None, delivery_id: str | None = None) -> dict[str, Any]: ...

    def set_faults(self, faults: dict[str, Any]) -> Any: ...

    async def set_faults_async(self, faults: dict[str, Any]) -> Any: ...


class EventBench(Object):
    """A source of synthetic events for the binding benchmarks.

    Settings: none.
    """

    def __init__(self) -> None: ...
    @classmethod
    def connect(cls) -> EventBench: ...  # type: ignore[override]
    @classmethod
    async def connect_async(cls) -> EventBench: ...  # type: ignore[override]

    def run(self, count: int, *, interval_us: int | None = None) -> None: ...

    async def run_async(self, count: int, *, interval_us: int | None = None) -> None: ...
