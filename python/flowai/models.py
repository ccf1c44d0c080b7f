"""Typed results: small read-only objects with attributes plus ``.raw``, the JSON as received."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

__all__ = [
    "AidaMessage",
    "Webhook",
    "Flow",
    "Intent",
    "Resource",
    "QuickReply",
    "Button",
    "Template",
    "ReplyMessage",
    "Reply",
    "Delivered",
    "Event",
]

JSON = dict[str, Any]


def _obj(raw: Any) -> JSON:
    return raw if isinstance(raw, dict) else {}


def _list(raw: Any) -> list[Any]:
    return raw if isinstance(raw, list) else []


@dataclass(frozen=True)
class Webhook:
    """A webhook subscription. The verify key is kept out of ``repr``."""

    webhook_id: str
    organisation_id: str
    url: str
    events: list[str]
    verify_key: str = field(repr=False)
    raw: JSON = field(repr=False, compare=False)

    @classmethod
    def _from_raw(cls, raw: JSON) -> Webhook:
        return cls(
            webhook_id=str(raw.get("webhookId", "")),
            organisation_id=str(raw.get("organisationId", "")),
            url=str(raw.get("url", "")),
            events=[str(e) for e in _list(raw.get("events"))],
            verify_key=str(raw.get("verifyKey", "")),
            raw=raw,
        )


@dataclass(frozen=True)
class Flow:
    """A flow of the Management API; ``steps`` are the raw step objects."""

    flow_id: str
    title: str
    project_id: str
    group: str
    disabled: bool
    steps: list[JSON]
    raw: JSON = field(repr=False, compare=False)

    @classmethod
    def _from_raw(cls, raw: JSON) -> Flow:
        return cls(
            flow_id=str(raw.get("flowId", "")),
            title=str(raw.get("title", "")),
            project_id=str(raw.get("projectId", "")),
            group=str(raw.get("group", "")),
            disabled=bool(raw.get("disabled", False)),
            steps=[_obj(s) for s in _list(raw.get("steps"))],
            raw=raw,
        )


@dataclass(frozen=True)
class Intent:
    """An intent with its example sentences."""

    intent_id: str
    title: str
    examples: list[str]
    raw: JSON = field(repr=False, compare=False)

    @classmethod
    def _from_raw(cls, raw: JSON) -> Intent:
        return cls(
            intent_id=str(raw.get("intentId", "")),
            title=str(raw.get("title", "")),
            examples=[str(_obj(e).get("query", "")) for e in _list(raw.get("examples"))],
            raw=raw,
        )


@dataclass(frozen=True)
class Resource:
    """An entity type, project or member: the service's fields, by name (``res["name"]``)."""

    raw: JSON

    @classmethod
    def _from_raw(cls, raw: JSON) -> Resource:
        return cls(raw=_obj(raw))

    def __getitem__(self, key: str) -> Any:
        return self.raw[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.raw.get(key, default)


@dataclass(frozen=True)
class QuickReply:
    """A quick reply offered with a text."""

    label: str
    value: str
    type: str
    raw: JSON = field(repr=False, compare=False)

    @classmethod
    def _from_raw(cls, raw: JSON) -> QuickReply:
        return cls(
            label=str(raw.get("label", "")),
            value=str(raw.get("value", raw.get("label", ""))),
            type=str(raw.get("type", "text")),
            raw=raw,
        )


@dataclass(frozen=True)
class Button:
    """A button of a card, buttons or list template."""

    type: str
    label: str
    value: str
    raw: JSON = field(repr=False, compare=False)

    @classmethod
    def _from_raw(cls, raw: JSON) -> Button:
        return cls(
            type=str(raw.get("type", "")),
            label=str(raw.get("label", "")),
            value=str(raw.get("value", "")),
            raw=raw,
        )


@dataclass(frozen=True)
class Template:
    """One response of a reply: ``type`` (text, image, card, ..., or any unknown type),
    its ``payload`` as received, and the optional ``delay`` in seconds."""

    type: str
    payload: JSON
    delay: float | None
    raw: JSON = field(repr=False, compare=False)

    @classmethod
    def _from_raw(cls, raw: JSON) -> Template:
        delay = raw.get("delay")
        return cls(
            type=str(raw.get("type", "")),
            payload=_obj(raw.get("payload")),
            delay=float(delay) if isinstance(delay, (int, float)) else None,
            raw=raw,
        )

    @property
    def text(self) -> str | None:
        """The text of a text template, else ``None``."""
        text = self.payload.get("text")
        return text if self.type == "text" and isinstance(text, str) else None

    @property
    def title(self) -> str | None:
        title = self.payload.get("title")
        return title if isinstance(title, str) else None

    @property
    def url(self) -> str | None:
        url = self.payload.get("url")
        return url if isinstance(url, str) else None

    @property
    def quick_replies(self) -> list[QuickReply]:
        return [QuickReply._from_raw(_obj(q)) for q in _list(self.payload.get("quickReplies"))]

    @property
    def buttons(self) -> list[Button]:
        return [Button._from_raw(_obj(b)) for b in _list(self.payload.get("buttons"))]


@dataclass(frozen=True)
class ReplyMessage:
    """One message of a reply, with its response templates in order."""

    fallback: str
    silent: bool
    reply_to: str | None
    responses: list[Template]
    flow: JSON | None
    step: JSON | None
    params: JSON | None
    originator: JSON | None
    raw: JSON = field(repr=False, compare=False)

    @classmethod
    def _from_raw(cls, raw: JSON) -> ReplyMessage:
        reply_to = raw.get("replyTo")
        return cls(
            fallback=str(raw.get("fallback", "")),
            silent=bool(raw.get("silent", False)),
            reply_to=reply_to if isinstance(reply_to, str) else None,
            responses=[Template._from_raw(_obj(r)) for r in _list(raw.get("responses"))],
            flow=raw.get("flow") if isinstance(raw.get("flow"), dict) else None,
            step=raw.get("step") if isinstance(raw.get("step"), dict) else None,
            params=raw.get("params") if isinstance(raw.get("params"), dict) else None,
            originator=raw.get("originator") if isinstance(raw.get("originator"), dict) else None,
            raw=raw,
        )

    @property
    def texts(self) -> list[str]:
        """Every text the message shows (the fallback when it has no text template)."""
        texts = [t.text for t in self.responses if t.text is not None]
        return texts or ([self.fallback] if self.fallback else [])

    @property
    def quick_replies(self) -> list[QuickReply]:
        return [q for t in self.responses for q in t.quick_replies]


@dataclass(frozen=True)
class Reply:
    """A reply of the bot (``message.received`` / ``message.reply``)."""

    thread_id: str
    messages: list[ReplyMessage]
    originator: JSON | None
    raw: JSON = field(repr=False, compare=False)

    @classmethod
    def _from_raw(cls, raw: JSON) -> Reply:
        raw = _obj(raw)
        return cls(
            thread_id=str(raw.get("threadId", "")),
            messages=[ReplyMessage._from_raw(_obj(m)) for m in _list(raw.get("messages"))],
            originator=raw.get("originator") if isinstance(raw.get("originator"), dict) else None,
            raw=raw,
        )

    @property
    def texts(self) -> list[str]:
        """Every text of every message, in order."""
        return [t for m in self.messages for t in m.texts]

    @property
    def quick_replies(self) -> list[QuickReply]:
        return [q for m in self.messages for q in m.quick_replies]


@dataclass(frozen=True)
class Delivered:
    """The echo of a message the service accepted."""

    thread_id: str
    trace_id: int | None
    speech: str | None
    raw: JSON = field(repr=False, compare=False)

    @classmethod
    def _from_raw(cls, raw: JSON) -> Delivered:
        raw = _obj(raw)
        trace = raw.get("traceId")
        speech = raw.get("speech")
        return cls(
            thread_id=str(raw.get("threadId", "")),
            trace_id=trace if isinstance(trace, int) else None,
            speech=speech if isinstance(speech, str) else None,
            raw=raw,
        )


_REPLY_TYPES = frozenset({"message.received", "message.reply", "reply", "activities.created"})
_DELIVERED_TYPES = frozenset({"message.delivered", "delivered", "activities.delivered"})


@dataclass(frozen=True)
class Event:
    """An event of a session or a webhook call: ``type`` plus its ``payload``.

    Unknown types come through unchanged. ``reply`` and ``delivered`` give the typed
    payload for the matching types, else ``None``.
    """

    type: str
    payload: Any
    raw: JSON = field(repr=False, compare=False)

    @classmethod
    def _from_raw(cls, raw: JSON) -> Event:
        raw = _obj(raw)
        return cls(type=str(raw.get("type", "")), payload=raw.get("payload"), raw=raw)

    @property
    def reply(self) -> Reply | None:
        if self.type in _REPLY_TYPES and isinstance(self.payload, Mapping):
            return Reply._from_raw(dict(self.payload))
        return None

    @property
    def delivered(self) -> Delivered | None:
        if self.type in _DELIVERED_TYPES and isinstance(self.payload, Mapping):
            return Delivered._from_raw(dict(self.payload))
        return None


@dataclass(frozen=True)
class AidaMessage:
    """A reply of an AIDA bot (``btu_msg``) for one session."""

    session: str
    text: str | None
    payload: JSON
    raw: JSON = field(repr=False, compare=False)

    @classmethod
    def _from_raw(cls, raw: JSON) -> AidaMessage:
        raw = _obj(raw)
        text = raw.get("text")
        return cls(
            session=str(raw.get("session", "")),
            text=text if isinstance(text, str) else None,
            payload=_obj(raw.get("payload")),
            raw=raw,
        )
