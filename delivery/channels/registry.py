"""Which transport sends a version's messages: by channel and the configured provider.

Transports are made once per worker process and reused (one SMTP connection, one
HTTP session per provider per process). SMS and push use the provider the
channel configuration names (``provider`` in its settings): ``twilio``, ``fcm``,
``webpush``, or ``outbox`` (files; also when no provider is named). Their
credentials come from settings (docs/configuration.md); what varies per message
(SMS sender, push app) travels in each ``Outgoing.channel_settings``.

A provider that cannot be set up (credentials missing or unreadable, or a provider
name this code does not know) gets an ``UnconfiguredTransport``: every message
fails *transiently* with a detail saying what to fix, so it is retried (and, after
the last attempt, failed with that reason) instead of being lost or silently
written to the outbox.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _

from core.channels import Channel
from delivery.channels.base import Outgoing, SendResult, Transport, TransportError
from delivery.channels.email import EmailTransport
from delivery.channels.outbox import OutboxTransport

logger = logging.getLogger(__name__)

PROVIDER_NOT_CONFIGURED = "provider_not_configured"
# The local transport: files in CLARION_OUTBOX_DIR. An empty provider means the same, as
# channel configurations made before providers were required carry none.
OUTBOX_PROVIDERS = frozenset({"", "outbox"})

_transports: dict[tuple[str, str], Transport] = {}


class UnconfiguredTransport:
    """Stands in for a provider that cannot be set up: every message fails transiently."""

    def __init__(self, detail: str) -> None:
        self.detail = detail

    def send_many(self, outgoing: Sequence[Outgoing]) -> list[SendResult]:
        logger.warning("Not sending %d message(s): %s", len(outgoing), self.detail)
        error = TransportError(PROVIDER_NOT_CONFIGURED, self.detail, permanent=False)
        return [SendResult(message.message_id, error=error) for message in outgoing]

    def close(self) -> None:
        return None


def _provider_factory(channel: str, provider: str) -> Callable[[], Transport] | None:
    # Imported on first use: the provider SDKs take about a second to import, which the
    # web process and workers that never send SMS or push should not pay.
    if channel == Channel.SMS and provider == "twilio":
        from delivery.channels.sms import TwilioTransport

        return TwilioTransport.from_settings
    if channel == Channel.PUSH and provider == "fcm":
        from delivery.channels.push import FcmTransport

        return FcmTransport.from_settings
    if channel == Channel.PUSH and provider == "webpush":
        from delivery.channels.push import WebPushTransport

        return WebPushTransport.from_settings
    return None


def _make(channel: str, provider: str) -> Transport:
    if channel == Channel.EMAIL:
        return EmailTransport()
    if provider in OUTBOX_PROVIDERS:
        return OutboxTransport(Path(settings.CLARION_OUTBOX_DIR) / channel)
    factory = _provider_factory(channel, provider)
    if factory is None:
        return UnconfiguredTransport(
            _("The %(channel)s provider %(provider)r is not one Clarion knows.")
            % {"channel": channel, "provider": provider}
        )
    try:
        return factory()
    except ImproperlyConfigured as error:
        return UnconfiguredTransport(str(error))


def transport_for(channel: str, channel_settings: Mapping[str, Any]) -> Transport:
    """The process's transport for ``channel`` with the provider its settings name."""
    provider = "" if channel == Channel.EMAIL else str(channel_settings.get("provider") or "")
    key = (channel, provider)
    transport = _transports.get(key)
    if transport is None:
        transport = _make(channel, provider)
        if isinstance(transport, UnconfiguredTransport):
            # Not kept: the next batch tries again, e.g. once the credentials file exists.
            return transport
        _transports[key] = transport
    return transport


def transports_close() -> None:
    """Close every open connection (a worker process shutting down, tests)."""
    for transport in _transports.values():
        transport.close()
    _transports.clear()
