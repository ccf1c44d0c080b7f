"""The exception hierarchy and argument checking, with and without the emulator."""

from __future__ import annotations

import builtins

import pytest

import flowai


def test_hierarchy_and_codes() -> None:
    codes = {
        flowai.InvalidArgumentError: "FLOWAI_INVALID_ARGUMENT",
        flowai.AuthenticationError: "FLOWAI_AUTH",
        flowai.HTTPError: "FLOWAI_HTTP",
        flowai.RateLimitedError: "FLOWAI_RATE_LIMITED",
        flowai.TimeoutError: "FLOWAI_TIMEOUT",
        flowai.ConnectionError: "FLOWAI_CONNECTION",
        flowai.ProtocolError: "FLOWAI_PROTOCOL",
        flowai.ClosedError: "FLOWAI_CLOSED",
        flowai.VerificationError: "FLOWAI_VERIFICATION",
        flowai.QueueFullError: "FLOWAI_QUEUE_FULL",
        flowai.InternalError: "FLOWAI_INTERNAL",
    }
    for cls, code in codes.items():
        assert issubclass(cls, flowai.FlowAIError)
        assert cls.code == code
    assert issubclass(flowai.TimeoutError, builtins.TimeoutError)
    assert issubclass(flowai.ConnectionError, builtins.ConnectionError)


def test_missing_key_is_invalid_argument(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLOWAI_MESSAGING_KEY", raising=False)
    with pytest.raises(flowai.InvalidArgumentError) as info:
        flowai.MessagingClient(api_url="http://127.0.0.1:9")
    assert info.value.code == "FLOWAI_INVALID_ARGUMENT"
    assert "FLOWAI_MESSAGING_KEY" in str(info.value)


def test_wrong_types_raise_type_error() -> None:
    client = flowai.MessagingClient(api_url="http://127.0.0.1:9", messaging_key="k")
    with pytest.raises(TypeError):
        client.send_text(123, "hi")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        client.send_text("t", "hi", trace_id="x")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        client.send_text("t", "hi", params={"a": object()})
    with pytest.raises(TypeError):
        flowai.WebhookReceiver("key", on_event=42)


def test_invalid_input_rejected_before_sending() -> None:
    # Port 9 has nothing listening: an attempt to send would be a ConnectionError.
    client = flowai.MessagingClient(api_url="http://127.0.0.1:9", messaging_key="k")
    with pytest.raises(flowai.InvalidArgumentError):
        client.send_text("t", "x" * 256)
    with pytest.raises(flowai.InvalidArgumentError):
        client.send_text("", "hi")
    with pytest.raises(flowai.InvalidArgumentError):
        client.send_text("t", "hi", lang="eng")
    with pytest.raises(flowai.InvalidArgumentError):
        client.send_media("t", "/nonexistent/file.png", "gif")


def test_connection_refused_is_connection_error() -> None:
    client = flowai.MessagingClient(api_url="http://127.0.0.1:9", messaging_key="k")
    with pytest.raises(flowai.ConnectionError) as info:
        client.send_text("t", "hi")
    assert isinstance(info.value, builtins.ConnectionError)
    assert "127.0.0.1:9" not in str(info.value) or "k" not in str(info.value)


def test_secrets_not_in_repr() -> None:
    client = flowai.MessagingClient(api_url="http://127.0.0.1:9", messaging_key="super-secret-key")
    assert "super-secret-key" not in repr(client)
    hook = flowai.Webhook._from_raw(
        {"webhookId": "w", "organisationId": "o", "url": "http://x", "verifyKey": "vk-secret", "events": ["message.reply"]}
    )
    assert "vk-secret" not in repr(hook)
    assert hook.verify_key == "vk-secret"


def test_verify_and_parse() -> None:
    body = b'{"type": "message.reply", "payload": {"threadId": "t1", "messages": [{"fallback": "Hello"}]}}'
    event = flowai.verify_and_parse({"X-Flowai-Verify-Key": "vk"}, body, "vk")
    assert event.type == "message.reply"
    assert event.reply is not None and event.reply.thread_id == "t1"
    assert event.reply.texts == ["Hello"]
    assert event.raw["type"] == "message.reply"
    # Header names match in any case; pairs work too; the query form works.
    assert flowai.verify_and_parse([("x-flowai-verify-key", "vk")], body, "vk").type == "message.reply"
    assert flowai.verify_and_parse({}, body.decode(), "vk", query="verifyKey=vk").type == "message.reply"
    with pytest.raises(flowai.VerificationError) as info:
        flowai.verify_and_parse({"X-Flowai-Verify-Key": "wrong"}, body, "vk")
    assert info.value.code == "FLOWAI_VERIFICATION"
    with pytest.raises(flowai.VerificationError):
        flowai.verify_and_parse({}, body, "vk")
    with pytest.raises(flowai.ProtocolError):
        flowai.verify_and_parse({"X-Flowai-Verify-Key": "vk"}, b"not json", "vk")
    unknown = flowai.verify_and_parse({"X-Flowai-Verify-Key": "vk"}, b'{"type": "new.kind", "payload": {"a": 1}}', "vk")
    assert unknown.type == "new.kind" and unknown.reply is None
    with pytest.raises(TypeError):
        flowai.verify_and_parse({"X-Flowai-Verify-Key": "vk"}, 12, "vk")  # type: ignore[arg-type]
