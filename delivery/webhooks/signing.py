"""Standard Webhooks signatures (https://www.standardwebhooks.com, docs/webhooks.md).

The secret is ``whsec_`` and a base64 key. A request carries ``webhook-id`` (the
event id, the same on every try), ``webhook-timestamp`` (unix seconds of this try)
and ``webhook-signature``: ``v1,`` and the base64 HMAC-SHA256, keyed with the
decoded secret, of ``{webhook-id}.{webhook-timestamp}.{body}``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from delivery.models.webhooks import WEBHOOK_SECRET_PREFIX


def webhook_secret_key(secret: str) -> bytes:
    """The HMAC key a secret stands for: the base64 after ``whsec_``."""
    return base64.b64decode(secret.removeprefix(WEBHOOK_SECRET_PREFIX))


def webhook_signature(*, secret: str, event_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value for one request."""
    signed = f"{event_id}.{timestamp}.".encode() + body
    digest = hmac.new(webhook_secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def webhook_headers(*, secret: str, event_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers of one request."""
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": webhook_signature(
            secret=secret, event_id=event_id, timestamp=timestamp, body=body
        ),
    }
