"""The local transport of SMS and push: each message becomes a JSON file in the outbox.

The default when no provider is configured (``make run``): nothing leaves the
machine, and what would have been sent can be read in ``var/outbox/<channel>/``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from delivery.channels.base import Outgoing, SendResult


class OutboxTransport:
    """Writes ``<folder>/<message id>.json`` per message; the provider id is the file name."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send_many(self, outgoing: Sequence[Outgoing]) -> list[SendResult]:
        self.folder.mkdir(parents=True, exist_ok=True)
        results = []
        for message in outgoing:
            path = self.folder / f"{message.message_id}.json"
            document = {
                "messageId": str(message.message_id),
                "channel": message.channel,
                "to": message.address,
                "pushInfo": dict(message.push_info) if message.push_info else None,
                "content": dict(message.parts),
                "sender": dict(message.channel_settings),
            }
            temporary = path.with_suffix(".tmp")
            temporary.write_text(json.dumps(document, indent=2, ensure_ascii=False))
            temporary.replace(path)  # readers never see half a file
            results.append(SendResult(message.message_id, provider_message_id=path.name))
        return results

    def close(self) -> None:
        return None
