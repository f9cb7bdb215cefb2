"""Who must not get a message, and the reason recorded on it.

Marketing sends skip profiles without ``opted_in`` consent for the channel,
addresses on the suppression list (whatever the reason), and profiles with no
address for the channel. Transactional sends skip only addresses that hard
bounced or complained: an unsubscribe is from marketing, not from receipts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from django.db.models import Q

from audiences.models import Consent, Suppression
from campaigns.models import Category
from campaigns.versions import VersionSnapshot
from delivery.models import Message


class Reason:
    """Stable reason codes recorded on messages (docs/api.md lists them)."""

    NO_CONSENT = "no_consent"
    SUPPRESSED = "suppressed"
    NO_ADDRESS = "no_address"
    RENDER_FAILED = "render_failed"
    VERSION_UNREADABLE = "version_unreadable"
    TRANSPORT_EXCEPTION = "transport_exception"


def _marketing(message: Message, snapshots: Mapping[UUID, VersionSnapshot]) -> bool:
    """Whether marketing rules (consent, every suppression) apply to ``message``.

    A test send (``Execution.is_test``) goes to the address its user typed, so it
    follows the transactional rules: only hard bounces and complaints block it.
    """
    is_test = message.execution.is_test  # read with the claimed messages
    return snapshots[message.version_id].category == Category.MARKETING and not is_test


def _suppressions(messages: Sequence[Message]) -> dict[tuple[str, str], str]:
    by_channel: dict[str, set[str]] = defaultdict(set)
    for message in messages:
        if message.address:
            by_channel[message.channel].add(message.address)
    if not by_channel:
        return {}
    query = Q()
    for channel, addresses in by_channel.items():
        query |= Q(channel=channel, address__in=addresses)
    return {
        (channel, address): reason
        for channel, address, reason in Suppression.objects.filter(query).values_list(
            "channel", "address", "reason"
        )
    }


def messages_excluded(
    messages: Sequence[Message], snapshots: Mapping[UUID, VersionSnapshot]
) -> dict[UUID, tuple[str, str]]:
    """The messages among ``messages`` that must not be sent: (reason, detail) by id.

    The detail of ``suppressed`` is the suppression's own reason (``unsubscribed``,
    ``hard_bounce``...). At most two queries for the whole batch (suppressions,
    then consents). ``snapshots`` holds the version of every message.
    """
    marketing = {m.pk for m in messages if _marketing(m, snapshots)}
    suppressed = _suppressions(messages)
    profiles = {m.profile_id for m in messages if m.pk in marketing and m.profile_id is not None}
    opted_in: set[tuple[Any, str]] = set()
    if profiles:
        opted_in = set(
            Consent.objects.filter(
                profile_id__in=profiles, status=Consent.Status.OPTED_IN
            ).values_list("profile_id", "channel")
        )
    excluded: dict[UUID, tuple[str, str]] = {}
    for message in messages:
        is_marketing = message.pk in marketing
        suppression = suppressed.get((message.channel, message.address))
        if not message.address:
            excluded[message.pk] = (Reason.NO_ADDRESS, "")
        elif suppression is not None and (
            is_marketing or suppression in Suppression.BLOCKS_TRANSACTIONAL
        ):
            excluded[message.pk] = (Reason.SUPPRESSED, suppression)
        elif is_marketing and (message.profile_id, message.channel) not in opted_in:
            excluded[message.pk] = (Reason.NO_CONSENT, "")
    return excluded
