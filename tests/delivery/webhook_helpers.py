"""Helpers for the webhook and feedback tests: a real local HTTP receiver, sent messages."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from campaigns.models import Campaign
from delivery.models import Message, WebhookEndpoint
from delivery.services.sending import message_send_batch
from delivery.webhooks.endpoints import webhook_endpoints_changed
from tests.delivery.sending_helpers import accept_unitary, ids, recipient, use_fake_transport

ALL_TYPES = [
    "sent",
    "delivered",
    "bounced",
    "failed",
    "excluded",
    "opened",
    "clicked",
    "unsubscribed",
    "complained",
]


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """An HTTP server on 127.0.0.1 that records each POST and answers from a script
    (``answer(500, 500, 200)``: the next three requests get those statuses; then 200)."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self._answers: deque[int] = deque()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                receiver.requests.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                status = receiver._answers.popleft() if receiver._answers else 200
                answer = b'{"ok": true}' if status < 300 else b"receiver is down"
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hooks/clarion?source=test"

    def answer(self, *statuses: int) -> None:
        self._answers.extend(statuses)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings: Any) -> Iterator[Receiver]:
    """A local receiver, reachable because private addresses are allowed."""
    settings.CLARION_WEBHOOKS_ALLOW_PRIVATE = True
    server = Receiver()
    yield server
    server.close()


def endpoint_for(url: str, *, types: list[str] | None = None, **fields: Any) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.create(
        name=fields.pop("name", "receiver"),
        url=url,
        event_types=list(types if types is not None else ALL_TYPES),
        **fields,
    )
    webhook_endpoints_changed()
    return endpoint


def send_messages(
    campaign: Campaign, monkeypatch: pytest.MonkeyPatch, *addresses: str
) -> list[Message]:
    """Accept a unitary call to ``addresses`` and send it through the fake transport."""
    use_fake_transport(monkeypatch)
    messages = accept_unitary(campaign, *(recipient(address) for address in addresses))
    message_send_batch(message_ids=ids(messages))
    found = {
        m.pk: m for m in Message.objects.select_related("execution").filter(pk__in=ids(messages))
    }
    return [found[m.pk] for m in messages]
