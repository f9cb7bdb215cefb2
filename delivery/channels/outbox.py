"""The local transport of SMS and push: each chunk of messages becomes a JSON Lines file.

The default when no provider is configured (``make run``): nothing leaves the
machine, and what would have been sent can be read in ``var/outbox/<channel>/``:
``<first message id>.jsonl``, one JSON object per line and message, in the order
they were sent. One file per chunk, not per message: at audience sizes, opening,
writing and renaming a file per message cost a quarter of the send
(docs/performance.md). ``grep <message id> var/outbox/sms/*.jsonl`` finds one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from delivery.channels.base import Outgoing, SendResult


def outbox_line(message: Outgoing) -> str:
    """One message as the outbox writes it: a JSON object on one line."""
    document = {
        "messageId": str(message.message_id),
        "channel": message.channel,
        "to": message.address,
        "pushInfo": dict(message.push_info) if message.push_info else None,
        "content": dict(message.parts),
        "sender": dict(message.channel_settings),
    }
    return json.dumps(document, ensure_ascii=False)


class OutboxTransport:
    """Writes ``<folder>/<first message id>.jsonl`` per chunk; the provider id of a message
    is that file's name and its line number (``<name>.jsonl#3``)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send_many(self, outgoing: Sequence[Outgoing]) -> list[SendResult]:
        if not outgoing:
            return []
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{outgoing[0].message_id}.jsonl"
        temporary = path.with_suffix(".tmp")
        temporary.write_text(
            "".join(outbox_line(message) + "\n" for message in outgoing), encoding="utf-8"
        )
        temporary.replace(path)  # readers never see half a file
        return [
            SendResult(message.message_id, provider_message_id=f"{path.name}#{line}")
            for line, message in enumerate(outgoing, start=1)
        ]

    def close(self) -> None:
        return None
