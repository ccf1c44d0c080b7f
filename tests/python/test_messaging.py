"""Messaging REST API, webhook subscriptions and the embedded receiver, blocking and asyncio."""

from __future__ import annotations

import asyncio
import queue
from pathlib import Path
from typing import Any

import pytest

import flowai
from conftest import wait_for


def test_send_every_kind_blocking(emulator: dict[str, str], thread_id: str, tmp_path: Path) -> None:
    with flowai.MessagingClient() as client:
        assert client.send_text(thread_id, "hi", trace_id=7, lang="en", timezone=2) is None
        client.send_event(thread_id, "INTRO")
        client.send_location(thread_id, "52.37", 4.89)
        image = tmp_path / "pixel.png"
        image.write_bytes(b"\x89PNG" + bytes(200_000))
        progress: list[tuple[int, int]] = []
        client.send_media(thread_id, str(image), "image", mime_type="image/png", progress=lambda s, t: progress.append((s, t)))
        assert progress and progress[-1] == (200_004, 200_004)
        assert all(a[0] <= b[0] for a, b in zip(progress, progress[1:]))


def test_send_every_kind_async(emulator: dict[str, str], thread_id: str, tmp_path: Path) -> None:
    async def main() -> list[tuple[int, int]]:
        client = flowai.MessagingClient()
        await client.send_text_async(thread_id, "hi", params={"city": [{"value": "Amsterdam"}]})
        await client.send_event_async(thread_id, "INTRO")
        await client.send_location_async(thread_id, 52.37, "4.89")
        f = tmp_path / "a.txt"
        f.write_text("hello")
        seen: list[tuple[int, int]] = []
        await client.send_media_async(thread_id, f, "file", progress=lambda s, t: seen.append((s, t)))
        # Concurrent sends share the loop; nothing blocks it.
        await asyncio.gather(*(client.send_text_async(thread_id, f"m{i}") for i in range(10)))
        await asyncio.sleep(0)  # progress calls scheduled on this loop run now
        return seen

    seen = asyncio.run(main())
    assert seen and seen[-1] == (5, 5)


def test_text_limit_and_auth(emulator: dict[str, str], thread_id: str) -> None:
    client = flowai.MessagingClient()
    client.send_text(thread_id, "é" * 255)
    with pytest.raises(flowai.InvalidArgumentError):
        client.send_text(thread_id, "é" * 256)
    bad = flowai.MessagingClient(messaging_key="wrong-key")
    with pytest.raises(flowai.AuthenticationError) as info:
        bad.send_text(thread_id, "hi")
    assert info.value.code == "FLOWAI_AUTH"
    assert info.value.status == 401
    assert "wrong-key" not in str(info.value)

    async def bad_async() -> None:
        await bad.send_text_async(thread_id, "hi")

    with pytest.raises(flowai.AuthenticationError):
        asyncio.run(bad_async())


def test_webhooks_crud_blocking(emulator: dict[str, str]) -> None:
    client = flowai.MessagingClient()
    with flowai.WebhookReceiver("vk-1", on_event=lambda e: None) as receiver:
        hook = client.create_webhook(receiver.url, "vk-1", ["message.reply"])
        assert isinstance(hook, flowai.Webhook)
        assert hook.url == receiver.url and hook.events == ["message.reply"]
        assert hook.webhook_id and hook.raw["webhookId"] == hook.webhook_id
        assert client.get_webhook(hook.webhook_id) == hook
        updated = client.update_webhook(hook.webhook_id, events=["message.reply", "message.delivered"])
        assert updated.events == ["message.reply", "message.delivered"]
        assert hook.webhook_id in [h.webhook_id for h in client.list_webhooks()]
        client.delete_webhook(hook.webhook_id)
        assert hook.webhook_id not in [h.webhook_id for h in client.list_webhooks()]
        with pytest.raises(flowai.HTTPError) as info:
            client.get_webhook(hook.webhook_id)
        assert info.value.status == 404
    assert receiver.closed
    with pytest.raises(flowai.InvalidArgumentError):
        client.create_webhook("http://127.0.0.1:1/x", "vk", [])


def test_webhooks_crud_async(emulator: dict[str, str]) -> None:
    async def main() -> None:
        client = flowai.MessagingClient()
        async with flowai.WebhookReceiver("vk-2", on_event=lambda e: None) as receiver:
            hook = await client.create_webhook_async(receiver.url, "vk-2", ["message.reply"])
            assert (await client.get_webhook_async(hook.webhook_id)).url == receiver.url
            updated = await client.update_webhook_async(hook.webhook_id, verify_key="vk-3")
            assert updated.verify_key == "vk-3"
            assert hook.webhook_id in [h.webhook_id for h in await client.list_webhooks_async()]
            await client.delete_webhook_async(hook.webhook_id)

    asyncio.run(main())


def test_receiver_gets_reply(emulator: dict[str, str], thread_id: str) -> None:
    events: queue.Queue[flowai.Event] = queue.Queue()
    client = flowai.MessagingClient()
    with flowai.WebhookReceiver("vk-reply", on_event=events.put) as receiver:
        hook = client.create_webhook(receiver.url, "vk-reply", ["message.reply"])
        try:
            client.send_text(thread_id, "hi")
            while True:
                event = events.get(timeout=10)
                if event.type == "message.reply" and event.reply and event.reply.thread_id == thread_id:
                    break
            reply = event.reply
            assert reply is not None
            assert any("customer service demo bot" in t for t in reply.texts)
            message = reply.messages[0]
            assert isinstance(message, flowai.ReplyMessage)
            assert message.responses and message.responses[0].type == "text"
        finally:
            client.delete_webhook(hook.webhook_id)


def test_receiver_callback_exception_reported(emulator: dict[str, str], thread_id: str, unraisable: Any) -> None:
    calls: list[flowai.Event] = []

    def on_event(event: flowai.Event) -> None:
        calls.append(event)
        if len(calls) == 1:
            raise RuntimeError("boom in on_event")

    client = flowai.MessagingClient()
    with flowai.WebhookReceiver("vk-exc", on_event=on_event) as receiver:
        hook = client.create_webhook(receiver.url, "vk-exc", ["message.reply"])
        try:
            client.send_text(thread_id, "hi")
            # The first call raised: reported, answered 500, so the emulator retries and the
            # receiver keeps working.
            assert wait_for(lambda: len(calls) >= 2, 15)
            assert any(isinstance(e, RuntimeError) and "boom" in str(e) for e in unraisable.seen)
        finally:
            client.delete_webhook(hook.webhook_id)


def test_receiver_on_asyncio_loop(emulator: dict[str, str], thread_id: str) -> None:
    async def main() -> flowai.Event:
        loop = asyncio.get_running_loop()
        got: asyncio.Future[flowai.Event] = loop.create_future()

        def on_event(event: flowai.Event) -> None:
            # Scheduled on this loop: touching loop objects directly is safe.
            assert asyncio.get_running_loop() is loop
            if event.reply and event.reply.thread_id == thread_id and not got.done():
                got.set_result(event)

        client = flowai.MessagingClient()
        async with flowai.WebhookReceiver("vk-loop", on_event=on_event) as receiver:
            hook = await client.create_webhook_async(receiver.url, "vk-loop", ["message.reply"])
            try:
                await client.send_event_async(thread_id, "INTRO")
                return await asyncio.wait_for(got, 10)
            finally:
                await client.delete_webhook_async(hook.webhook_id)

    event = asyncio.run(main())
    assert event.reply is not None
    assert "Hi, how can we help?" in event.reply.texts
    assert len(event.reply.quick_replies) == 3
