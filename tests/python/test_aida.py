"""AIDA sessions over the Phoenix channel, blocking and asyncio."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

import pytest

import flowai

PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)


def next_message(session: flowai.AidaSession, timeout: float = 10) -> flowai.Event | None:
    while (event := session.next_event(timeout)) is not None:
        if event.name == "aida_message":
            return event
    return None


def test_aida_conversation_blocking(emulator: dict[str, str], tmp_path: Path) -> None:
    with flowai.AidaClient.connect() as client:
        assert client.info() == {"bot": emulator["FLOWAI_AIDA_BOT"], "connected": True}
        session = client.new_session(data={"name": "Py"})
        session_id = session.info()["session_id"]
        assert session_id
        other = client.new_session()
        session.send_text("hi")
        reply = next_message(session)
        assert reply is not None and reply.payload["session_id"] == session_id
        assert "customer service demo bot" in reply.payload["text"]
        # Replies of one session never reach another session's object.
        assert other.next_event(timeout=0.2) is None
        session.put_data({"city": "Amsterdam"})
        image = tmp_path / "p.png"
        image.write_bytes(PNG)
        image_id = session.send_image(image, filename="p.png", content_type="image/png")["image_id"]
        fetched = client.fetch_image(image_id)
        assert fetched["content_type"] == "image/png" and base64.b64decode(fetched["data"]) == PNG
        assert next_message(session) is not None  # the bot answers the image too
        # The same conversation, resumed by its id, by the typed method or by name.
        assert client.session(session_id).info()["session_id"] == session_id
        resumed = client.call("session", {"session_id": session_id})
        assert isinstance(resumed, flowai.AidaSession) and resumed.info()["session_id"] == session_id
        session.delete()
        assert [e.name for e in session][-1] == "closed"
        with pytest.raises(flowai.FlowAIError):
            session.send_text("after delete")
    # Closing the client ends every session's events.
    assert [e.name for e in other] == ["closed"]


def test_aida_conversation_async(emulator: dict[str, str]) -> None:
    async def main() -> str:
        async with await flowai.AidaClient.connect_async() as client:
            session = await client.new_session_async()
            await session.send_text_async("hi")
            async for event in session:
                if event.name == "aida_message":
                    await session.delete_async()
                    return str(event.payload["text"])
        raise AssertionError("no aida_message")

    assert "customer service demo bot" in asyncio.run(main())


def test_aida_wrong_bot(emulator: dict[str, str]) -> None:
    with pytest.raises(flowai.AuthenticationError) as info:
        flowai.AidaClient.connect(aida_bot="00000000-0000-0000-0000-000000000000")
    assert info.value.code == "FLOWAI_AUTH"
