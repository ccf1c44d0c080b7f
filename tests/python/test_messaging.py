"""Messaging REST API, webhook subscriptions and the embedded receiver, blocking and asyncio."""

from __future__ import annotations

import asyncio
import queue
from pathlib import Path
from typing import Any

import pytest

import flowai
from conftest import reply_texts, wait_for


def progress_of(obj: flowai.Object) -> list[tuple[int, int]]:
    seen = []
    while (event := obj.next_event(timeout=0.2)) is not None:
        assert event.name == "progress"
        seen.append((event.payload["sent"], event.payload["total"]))
    return seen


def test_send_every_kind_blocking(emulator: dict[str, str], thread_id: str, tmp_path: Path) -> None:
    with flowai.MessagingClient() as client:
        client.send_text(thread_id, "hi", trace_id=7, lang="en", timezone=2)
        client.send_event(thread_id, "INTRO")
        client.send_location(thread_id, "52.37", 4.89)
        client.send({"threadId": thread_id, "type": "text", "text": "raw"})
        image = tmp_path / "pixel.png"
        image.write_bytes(b"\x89PNG" + bytes(200_000))
        client.send_media(thread_id, image, "image", mime_type="image/png")
        progress = progress_of(client)
        assert progress and progress[-1] == (200_004, 200_004)
        assert all(a[0] <= b[0] for a, b in zip(progress, progress[1:]))
    assert [e.name for e in client] == ["closed"]


def test_send_every_kind_async(emulator: dict[str, str], thread_id: str, tmp_path: Path) -> None:
    async def main() -> list[tuple[int, int]]:
        client = await flowai.MessagingClient.connect_async()
        seen: list[tuple[int, int]] = []
        client.on("progress", lambda e: seen.append((e.payload["sent"], e.payload["total"])))
        await client.send_text_async(thread_id, "hi", params={"city": [{"value": "Amsterdam"}]})
        await client.send_event_async(thread_id, "INTRO")
        await client.send_location_async(thread_id, 52.37, "4.89")
        f = tmp_path / "a.txt"
        f.write_text("hello")
        await client.send_media_async(thread_id, f, "file")
        # Concurrent sends share the loop; nothing blocks it.
        await asyncio.gather(*(client.send_text_async(thread_id, f"m{i}") for i in range(10)))
        await client.close_async()
        await asyncio.sleep(0.2)  # progress callbacks registered on this loop run on it
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
    with flowai.WebhookReceiver(verify_key="vk-1") as receiver:
        url = receiver.info()["url"]
        hook = client.create_webhook(url, "vk-1", ["message.reply"])
        assert hook["url"] == url and hook["events"] == ["message.reply"] and hook["webhookId"]
        assert client.get_webhook(hook["webhookId"]) == hook
        updated = client.update_webhook(hook["webhookId"], events=["message.reply", "message.delivered"])
        assert updated["events"] == ["message.reply", "message.delivered"]
        assert hook["webhookId"] in [h["webhookId"] for h in client.list_webhooks()]
        client.delete_webhook(hook["webhookId"])
        assert hook["webhookId"] not in [h["webhookId"] for h in client.list_webhooks()]
        with pytest.raises(flowai.HTTPError) as info:
            client.get_webhook(hook["webhookId"])
        assert info.value.status == 404
    assert receiver.closed
    with pytest.raises(flowai.InvalidArgumentError):
        client.create_webhook("http://127.0.0.1:1/x", "vk", [])


def test_webhooks_crud_async(emulator: dict[str, str]) -> None:
    async def main() -> None:
        client = flowai.MessagingClient()
        async with await flowai.WebhookReceiver.connect_async(verify_key="vk-2") as receiver:
            url = (await receiver.info_async())["url"]
            hook = await client.create_webhook_async(url, "vk-2", ["message.reply"])
            assert (await client.get_webhook_async(hook["webhookId"]))["url"] == url
            updated = await client.update_webhook_async(hook["webhookId"], verify_key="vk-3")
            assert updated["verifyKey"] == "vk-3"
            assert hook["webhookId"] in [h["webhookId"] for h in await client.list_webhooks_async()]
            await client.delete_webhook_async(hook["webhookId"])

    asyncio.run(main())


def test_receiver_gets_reply(emulator: dict[str, str], thread_id: str) -> None:
    events: queue.Queue[flowai.Event] = queue.Queue()
    client = flowai.MessagingClient()
    with flowai.WebhookReceiver(verify_key="vk-reply") as receiver:
        receiver.on("*", events.put)
        hook = client.create_webhook(receiver.info()["url"], "vk-reply", ["message.reply"])
        try:
            client.send_text(thread_id, "hi")
            while True:
                event = events.get(timeout=10)
                if event.name == "reply" and event.payload["thread_id"] == thread_id:
                    break
            assert event.payload["reply"]["threadId"] == thread_id
            assert any("customer service demo bot" in t for t in reply_texts(event))
        finally:
            client.delete_webhook(hook["webhookId"])
    # After close, `closed` came last and once.
    assert wait_for(lambda: not events.empty())
    rest = [events.get(timeout=10) for _ in range(events.qsize())]
    assert [e.name for e in rest][-1:] == ["closed"]


def test_receiver_callback_exception_reported(emulator: dict[str, str], thread_id: str, unraisable: Any) -> None:
    calls: list[flowai.Event] = []

    def on_reply(event: flowai.Event) -> None:
        calls.append(event)
        if len(calls) == 1:
            raise RuntimeError("boom in on_reply")

    client = flowai.MessagingClient()
    with flowai.WebhookReceiver(verify_key="vk-exc") as receiver:
        receiver.on("reply", on_reply)
        hook = client.create_webhook(receiver.info()["url"], "vk-exc", ["message.reply"])
        try:
            client.send_text(thread_id, "hi")
            client.send_event(thread_id, "INTRO")
            # The first callback raised: reported, and the receiver's events go on.
            assert wait_for(lambda: len(calls) >= 2, 15)
            assert any(isinstance(e, RuntimeError) and "boom" in str(e) for e in unraisable.seen)
        finally:
            client.delete_webhook(hook["webhookId"])


def test_receiver_on_asyncio_loop(emulator: dict[str, str], thread_id: str) -> None:
    async def main() -> flowai.Event:
        loop = asyncio.get_running_loop()
        got: asyncio.Future[flowai.Event] = loop.create_future()

        def on_reply(event: flowai.Event) -> None:
            # Called on this loop: touching loop objects directly is safe.
            assert asyncio.get_running_loop() is loop
            if event.payload["thread_id"] == thread_id and not got.done():
                got.set_result(event)

        client = flowai.MessagingClient()
        async with await flowai.WebhookReceiver.connect_async(verify_key="vk-loop") as receiver:
            receiver.on("reply", on_reply)
            hook = await client.create_webhook_async((await receiver.info_async())["url"], "vk-loop", ["message.reply"])
            try:
                await client.send_event_async(thread_id, "INTRO")
                return await asyncio.wait_for(got, 10)
            finally:
                await client.delete_webhook_async(hook["webhookId"])

    event = asyncio.run(main())
    assert "Hi, how can we help?" in reply_texts(event)
    quick = event.payload["reply"]["messages"][0]["responses"][0]["payload"]["quickReplies"]
    assert len(quick) == 3
