"""Which transport sends a version's messages: by channel and the configured provider.

Transports are made once per worker process and reused (one SMTP connection per
process). SMS and push use the provider the channel configuration names; its
credentials come from settings (docs/configuration.md). ``outbox`` writes files.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.conf import settings

from core.channels import Channel
from delivery.channels.base import Transport
from delivery.channels.email import EmailTransport
from delivery.channels.outbox import OutboxTransport

_transports: dict[tuple[str, str], Transport] = {}


def _make(channel: str, provider: str) -> Transport:
    if channel == Channel.EMAIL:
        return EmailTransport()
    if provider == "twilio":
        from delivery.channels.sms import TwilioTransport

        return TwilioTransport.from_settings()
    if provider == "fcm":
        from delivery.channels.push import FcmTransport

        return FcmTransport.from_settings()
    if provider == "webpush":
        from delivery.channels.push import WebPushTransport

        return WebPushTransport.from_settings()
    return OutboxTransport(Path(settings.CLARION_OUTBOX_DIR) / channel)


def transport_for(channel: str, channel_settings: Mapping[str, Any]) -> Transport:
    """The process's transport for ``channel`` with the provider its settings name."""
    provider = "" if channel == Channel.EMAIL else str(channel_settings.get("provider") or "")
    key = (channel, provider)
    transport = _transports.get(key)
    if transport is None:
        transport = _transports[key] = _make(channel, provider)
    return transport


def transports_close() -> None:
    """Close every open connection (a worker process shutting down, tests)."""
    for transport in _transports.values():
        transport.close()
    _transports.clear()
