"""The conformance scenario of tests/conformance/SCENARIO.md in Python: one JSON line per step.

    target/pyvenv/py/bin/python tests/conformance/python/conformance.py

Starts its own emulator in this process (the ``Emulator`` class), runs the steps in order
and prints each step's line on stdout, nothing else. Exits 1 when a step that must
succeed failed or an awaited event did not come (its line is printed all the same).
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any, Callable

import flowai

BODY = (
    '{"type":"message.reply","payload":{"threadId":"conformance-thread","messages":[{"fallback":"hello",'
    '"silent":false,"responses":[{"type":"text","payload":{"text":"hello"},"delay":0}]}]}}'
)
WAIT_S = 10.0
failures: list[str] = []


def emit(line: dict[str, Any]) -> None:
    print(json.dumps(line, separators=(",", ":")), flush=True)


def result(step: str, call: Callable[[], Any]) -> Any:
    """Print the result of a call that must succeed (or its error, counted as a failure)."""
    try:
        value = call()
    except flowai.FlowAIError as e:
        emit({"step": step, "error": {"code": e.code, "message": e.message}})
        failures.append(step)
        return None
    emit({"step": step, "result": value})
    return value


def error(step: str, call: Callable[[], Any]) -> None:
    """Print the error of a call that must fail (or its result, counted as a failure)."""
    try:
        value = call()
    except flowai.FlowAIError as e:
        emit({"step": step, "error": {"code": e.code, "message": e.message}})
        return
    emit({"step": step, "result": value})
    failures.append(step)


def events(step: str, obj: flowai.Object, until: str) -> None:
    """Print the object's events since its previous events line, up to the first `until`."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + WAIT_S
    while True:
        event = obj.next_event(timeout=max(0.0, deadline - time.monotonic()))
        if event is None:
            failures.append(f"{step}: no {until} within {WAIT_S:.0f} s")
            break
        seen.append({"event": event.name, "payload": event.payload})
        if event.name == until:
            break
    emit({"step": step, "events": seen})


def rest_steps(settings: dict[str, Any], emulator: flowai.Emulator) -> None:
    """Steps 33 to 50: the Flow REST API v1."""
    client = flowai.RestClient(**settings)
    sent = result("rest.send_sync", lambda: client.send_text("hi", sync=True))
    thread = sent["threadId"] if sent else ""
    for _ in range(24):  # not a step: more threads than two pages hold
        client.send_text("hello")
    result("rest.threads", lambda: {"count": sum(1 for _ in client.threads())})

    def page_two() -> dict[str, Any]:
        page = client.threads_page(page=2)
        return {"page": page["page"], "has_more": page["has_more"], "items": len(page["items"])}

    result("rest.threads_page", page_two)
    result("rest.messages", lambda: {"count": sum(1 for _ in client.messages(thread))})
    result("rest.pause", lambda: client.pause(thread))
    result("rest.paused_send", lambda: client.send_text("hi", thread_id=thread, sync=True))
    result("rest.pause_status", lambda: client.pause_status(thread))
    result("rest.resume", lambda: client.resume(thread))
    result("rest.resumed_send", lambda: client.send_text("hi", thread_id=thread, sync=True))
    result("rest.handover", lambda: client.handover(thread, seconds=60))
    result("rest.handover_status", lambda: client.pause_status(thread))
    result("rest.trigger_events", client.trigger_events)
    result("rest.trigger_event", lambda: client.trigger_event(thread, "INTRO"))
    result("rest.business_hours", client.business_hours)
    result("rest.segments", client.segments)
    error("rest.too_long", lambda: client.send_text("x" * 256, sync=True))
    # A send is never retried: the one failure is the answer. A read is.
    emulator.set_faults({"restV1Failures": 1, "restV1Status": 500})
    error("rest.send_5xx", lambda: client.send_text("hi", thread_id=thread, sync=True))
    emulator.set_faults({"restV1Failures": 1, "restV1Status": 503})
    result("rest.read_retried", lambda: client.pause_status(thread))
    client.close()  # not a step: every object is closed before the program ends


def main() -> int:
    emulator = flowai.Emulator()
    settings: dict[str, Any] = result("emulator.info", emulator.info)

    session = flowai.Session.connect(**settings)
    events("session.connected", session, "connected")
    result("session.send_text", lambda: session.send_text(text="hi"))
    events("session.send_text.events", session, "reply")
    result("session.send_event", lambda: session.send_event(event_name="INTRO"))
    events("session.send_event.events", session, "reply")
    result("session.typing", session.typing)
    result("session.history", session.history)
    result("session.close", session.close)
    events("session.closed", session, "closed")

    aida = flowai.AidaClient.connect(**settings)
    events("aida.connected", aida, "connected")
    s1 = aida.new_session()
    result("aida.s1", s1.info)
    s2 = aida.new_session()
    result("aida.s2", s2.info)
    result("aida.s1.send_text", lambda: s1.send_text(text="hi"))
    events("aida.s1.events", s1, "aida_message")
    result("aida.s2.send_text", lambda: s2.send_text(text="hello"))
    events("aida.s2.events", s2, "aida_message")
    result("aida.close", aida.close)
    events("aida.events", aida, "closed")
    events("aida.s1.closed", s1, "closed")

    receiver = flowai.WebhookReceiver(verify_key="conformance-key")
    url = result("receiver.open", receiver.info)["url"]
    post = emulator.post_webhook
    result("receiver.signed", lambda: post(url, BODY, verify_key="conformance-key", delivery_id="d-1"))
    result("receiver.bad_key", lambda: post(url, BODY, verify_key="wrong-key", delivery_id="d-2"))
    result("receiver.duplicate", lambda: post(url, BODY, verify_key="conformance-key", delivery_id="d-1"))
    result("receiver.close", receiver.close)
    events("receiver.events", receiver, "closed")

    verifier = flowai.WebhookVerifier(verify_key="conformance-key")
    result("verifier.signed", lambda: verifier.verify({"X-Flowai-Verify-Key": "conformance-key"}, BODY))
    error("verifier.bad_key", lambda: verifier.verify({"X-Flowai-Verify-Key": "wrong-key"}, BODY))

    api_url = settings["api_url"]
    error("settings.zero_timeout", lambda: flowai.MessagingClient(api_url=api_url, messaging_key="k", timeout_ms=0))
    error("settings.bad_url", lambda: flowai.MessagingClient(api_url="not a url", messaging_key="k"))
    client = flowai.MessagingClient(**settings)
    error("call.too_long", lambda: client.send_text(thread_id="t-1", text="x" * 256))
    error("call.unknown_argument", lambda: client.call("send_text", {"thread_id": "t-1", "text": "hi", "colour": "red"}))

    rest_steps(settings, emulator)

    result("emulator.close", emulator.close)
    if failures:
        print("conformance: failed: " + "; ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
