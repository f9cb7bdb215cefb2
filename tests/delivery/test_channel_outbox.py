"""The outbox transport of SMS and push (``make run``): one JSON Lines file per chunk."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from delivery.channels.base import Outgoing, SendResult
from delivery.channels.outbox import OutboxTransport


def _sms(body: str, to: str) -> Outgoing:
    return Outgoing(
        message_id=uuid.uuid4(),
        channel="sms",
        address=to,
        parts={"body": body},
        channel_settings={"provider": "outbox", "from": "+15005550006"},
    )


def test_a_chunk_is_one_file_with_a_line_per_message_in_order(tmp_path: Path) -> None:
    # given three SMS, one with text outside ASCII
    chunk = [_sms("Hi Ana", "+14165550100"), _sms("Olá Bo", "+14165550101"), _sms("3", "+1")]

    # when the outbox sends them
    results = OutboxTransport(tmp_path / "sms").send_many(chunk)

    # then one file, named after the first message, holds one JSON object per line
    [written] = (tmp_path / "sms").iterdir()
    assert written.name == f"{chunk[0].message_id}.jsonl"
    lines = written.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [
        {
            "messageId": str(message.message_id),
            "channel": "sms",
            "to": message.address,
            "pushInfo": None,
            "content": dict(message.parts),
            "sender": {"provider": "outbox", "from": "+15005550006"},
        }
        for message in chunk
    ]
    assert "Olá Bo" in lines[1]  # readable as written, not \\u-escaped
    # and each message's provider id is the file and its line
    assert results == [
        SendResult(message.message_id, provider_message_id=f"{written.name}#{line}")
        for line, message in enumerate(chunk, start=1)
    ]


def test_an_empty_chunk_writes_nothing(tmp_path: Path) -> None:
    assert OutboxTransport(tmp_path / "push").send_many([]) == []
    assert not (tmp_path / "push").exists()
