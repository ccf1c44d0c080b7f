"""The exception hierarchy, settings validation and argument checking, with and without the emulator."""

from __future__ import annotations

import builtins
from collections.abc import Callable

import pytest

import flowai
from flowai import _flowai


def test_hierarchy_follows_the_native_error_table() -> None:
    codes = [code for code, _number, _meaning in _flowai.ERRORS]
    assert codes[0] == "FLOWAI_OK"
    assert list(flowai.ERRORS) == codes[1:]
    for code, cls in flowai.ERRORS.items():
        assert issubclass(cls, flowai.FlowAIError)
        assert cls.code == code
        assert getattr(flowai, cls.__name__) is cls
    assert flowai.ERRORS["FLOWAI_AUTH"] is flowai.AuthenticationError
    assert flowai.ERRORS["FLOWAI_MISUSE"] is flowai.MisuseError
    assert issubclass(flowai.InvalidArgumentError, ValueError)
    assert issubclass(flowai.TimeoutError, builtins.TimeoutError)
    assert issubclass(flowai.ConnectionError, builtins.ConnectionError)
    assert flowai.EVENT_NAMES == _flowai.EVENT_NAMES and flowai.EVENT_NAMES[-1] == "closed"


def test_invalid_settings_carry_the_core_message() -> None:
    with pytest.raises(flowai.InvalidArgumentError) as info:
        flowai.MessagingClient(api_url="http://127.0.0.1:9", messaging_key="k", timeout_ms=0)
    assert info.value.code == "FLOWAI_INVALID_ARGUMENT"
    assert info.value.message == "timeout_ms must be greater than 0"
    assert info.value.status is None
    assert str(info.value) == "FLOWAI_INVALID_ARGUMENT: timeout_ms must be greater than 0"
    with pytest.raises(flowai.InvalidArgumentError) as info:
        flowai.MessagingClient(api_url="not a url", messaging_key="k")
    assert info.value.code == "FLOWAI_INVALID_ARGUMENT"
    assert info.value.message == "api_url is not a valid URL: relative URL without a base"
    with pytest.raises(flowai.InvalidArgumentError) as info:
        flowai.MessagingClient(api_url="http://127.0.0.1:9", messaging_key="k", colour="red")  # type: ignore[call-arg]
    assert info.value.message == "invalid settings: unknown field `colour`"


def test_missing_key_is_invalid_argument(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLOWAI_MESSAGING_KEY", raising=False)
    with pytest.raises(flowai.InvalidArgumentError) as info:
        flowai.MessagingClient(api_url="http://127.0.0.1:9")
    assert "FLOWAI_MESSAGING_KEY" in info.value.message


def test_values_that_are_not_json_raise_type_error() -> None:
    client = flowai.MessagingClient(api_url="http://127.0.0.1:9", messaging_key="k")
    with pytest.raises(TypeError):
        client.send_text("t", "hi", params={"a": object()})
    with pytest.raises(TypeError):
        client.send_text("t", "hi", params={1: "v"})  # type: ignore[dict-item]
    with pytest.raises(TypeError):
        flowai.MessagingClient(api_url=b"http://127.0.0.1:9", messaging_key="k")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        client.call("send_text", ["t", "hi"])  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        client.send_text("t", "hi", timezone=float("nan"))


def test_mistyped_and_unknown_arguments_are_refused_by_the_table() -> None:
    client = flowai.MessagingClient(api_url="http://127.0.0.1:9", messaging_key="k")
    with pytest.raises(flowai.InvalidArgumentError) as info:
        client.send_text(123, "hi")  # type: ignore[arg-type]
    assert info.value.message == "send_text: `thread_id` must be a string"
    with pytest.raises(flowai.InvalidArgumentError) as info:
        client.send_text("t", "hi", trace_id="x")  # type: ignore[arg-type]
    assert info.value.message == "send_text: `trace_id` must be a whole number"
    with pytest.raises(flowai.InvalidArgumentError) as info:
        client.call("send_text", {"thread_id": "t", "text": "hi", "colour": "red"})
    assert info.value.message == "send_text: unknown argument `colour`"
    with pytest.raises(flowai.InvalidArgumentError) as info:
        client.call("send_txt")
    assert info.value.message.startswith("messaging has no method `send_txt`")


def test_invalid_input_rejected_before_sending() -> None:
    # Port 9 has nothing listening: an attempt to send would be a ConnectionError.
    client = flowai.MessagingClient(api_url="http://127.0.0.1:9", messaging_key="k")
    calls: list[Callable[[], object]] = [
        lambda: client.send_text("t", "x" * 256),
        lambda: client.send_text("", "hi"),
        lambda: client.send_text("t", "hi", lang="eng"),
        lambda: client.send_media("t", "/nonexistent/file.png", "gif"),
    ]
    for call in calls:
        with pytest.raises(flowai.InvalidArgumentError):
            call()


def test_connection_refused_is_connection_error() -> None:
    client = flowai.MessagingClient(api_url="http://127.0.0.1:9", messaging_key="secret-key-123")
    with pytest.raises(flowai.ConnectionError) as info:
        client.send_text("t", "hi")
    assert isinstance(info.value, builtins.ConnectionError)
    assert "secret-key-123" not in str(info.value)


def test_secrets_not_in_repr_or_messages() -> None:
    client = flowai.MessagingClient(api_url="http://127.0.0.1:9", messaging_key="super-secret-key")
    for text in (repr(client), str(client), repr(client._handle)):
        assert "super-secret-key" not in text
    verifier = flowai.WebhookVerifier(verify_key="vk-secret")
    assert "vk-secret" not in repr(verifier)
    with pytest.raises(flowai.VerificationError) as info:
        verifier.verify({"X-Flowai-Verify-Key": "wrong"}, "{}")
    assert "vk-secret" not in str(info.value) and "wrong" not in str(info.value)
    with pytest.raises(flowai.InvalidArgumentError) as bad:
        flowai.MessagingClient(api_url="http://127.0.0.1:9", messaging_key=["key-in-a-list"])  # type: ignore[arg-type]
    assert "key-in-a-list" not in str(bad.value)


def test_verifier() -> None:
    body = '{"type": "message.reply", "payload": {"threadId": "t1", "messages": [{"fallback": "Hello"}]}}'
    verifier = flowai.WebhookVerifier(verify_key="vk")
    event = verifier.verify({"X-Flowai-Verify-Key": "vk"}, body)
    assert event["event"] == "reply"
    assert event["payload"]["thread_id"] == "t1"
    assert event["payload"]["reply"]["messages"][0]["fallback"] == "Hello"
    # Header names match in any case; pairs work too; the query form works.
    assert verifier.verify([("x-flowai-verify-key", "vk")], body)["event"] == "reply"
    assert verifier.verify({}, body, query="verifyKey=vk")["event"] == "reply"
    with pytest.raises(flowai.VerificationError) as info:
        verifier.verify({"X-Flowai-Verify-Key": "wrong"}, body)
    assert info.value.code == "FLOWAI_VERIFICATION"
    with pytest.raises(flowai.VerificationError):
        verifier.verify({}, body)
    with pytest.raises(flowai.ProtocolError):
        verifier.verify({"X-Flowai-Verify-Key": "vk"}, "not json")
    unknown = verifier.verify({"X-Flowai-Verify-Key": "vk"}, '{"type": "new.kind", "payload": {"a": 1}}')
    assert unknown == {"event": "unknown", "payload": {"type": "new.kind", "raw": {"type": "new.kind", "payload": {"a": 1}}}}
    with pytest.raises(flowai.InvalidArgumentError):
        verifier.verify({"X-Flowai-Verify-Key": "vk"}, 12)  # type: ignore[arg-type]
