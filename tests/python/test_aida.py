"""AIDA sessions over the Phoenix channel, blocking and asyncio."""

from __future__ import annotations

import asyncio

import pytest

import flowai

PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)


def test_aida_conversation_blocking(emulator: dict[str, str]) -> None:
    with flowai.AidaClient.connect() as client:
        assert client.bot == emulator["FLOWAI_AIDA_BOT"]
        session = client.new_session({"name": "Py"})
        assert session.id
        other = client.new_session()
        session.send_text("hi")
        reply = session.recv(timeout=10)
        assert isinstance(reply, flowai.AidaMessage)
        assert reply.session == session.id
        assert reply.text and "customer service demo bot" in reply.text
        # Replies of one session never reach another session's handle.
        assert other.recv(timeout=0.2) is None
        session.put_data({"city": "Amsterdam"})
        image_id = session.send_image(PNG, filename="p.png", content_type="image/png")
        assert client.fetch_image(image_id) == PNG
        assert session.recv(timeout=10) is not None  # the bot answers the image too
        session.delete()
        with pytest.raises(flowai.ClosedError):
            session.send_text("after delete")
        assert list(session) == []


def test_aida_conversation_async(emulator: dict[str, str]) -> None:
    async def main() -> str | None:
        async with await flowai.AidaClient.connect_async() as client:
            session = await client.new_session_async()
            await session.send_text_async("hi")
            async for message in session:
                await session.delete_async()
                return message.text
        return None

    text = asyncio.run(main())
    assert text and "customer service demo bot" in text


def test_aida_wrong_token(emulator: dict[str, str]) -> None:
    with pytest.raises(flowai.AuthenticationError) as info:
        flowai.AidaClient.connect(bot="00000000-0000-0000-0000-000000000000")
    assert info.value.code == "FLOWAI_AUTH"
