"""Test sends ("send test" in the campaign admin): a campaign's live version to one address.

A test send goes through the real pipeline: an ``Execution`` marked ``is_test``
with one ``external`` message, sent by ``message_send_batch`` like any other, so
what arrives is what a trigger call would send (renderer, channel settings,
transport) and the attempt is recorded. Unlike a trigger call it ignores the
campaign's category and schedule (a marketer tests before the window opens) and
skips the marketing consent check (the address was typed by a user who may
trigger the campaign); hard bounces and complaints still block it. Each test is
in the campaign's audit log, with who sent it and to which address.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audiences.identities import IdentityValueError
from campaigns.audit import audit_record
from campaigns.models import Campaign
from campaigns.triggering import version_label_ids
from campaigns.versions import version_snapshot_by_id
from core.actors import Actor
from core.channels import Channel
from core.errors import ClarionError, FieldError, invalid_input
from core.selectors import access_labels_held
from delivery.addresses import normalize_address
from delivery.models import Execution, ExecutionKind, Message, RecipientType
from delivery.services.sending import message_send_batch
from delivery.services.triggers import TRIGGERABLE, CampaignNotLive, MissingAccessLabel

ADDRESS_POINTER = "/address"


@dataclass
class TestSendRefused(ClarionError):
    code: str = "test_send_refused"
    status: int = 403


def _address(channel: str, address: str) -> str:
    try:
        return normalize_address(channel, address)
    except IdentityValueError as error:
        raise invalid_input(
            [FieldError(ADDRESS_POINTER, str(error))], code="invalid_address"
        ) from None


def campaign_send_test(
    *,
    campaign: Campaign,
    address: str,
    actor: Actor,
    profile: Mapping[str, Any] | None = None,
    context: Mapping[str, Any] | None = None,
) -> Message:
    """Send ``campaign``'s live version to ``address`` now; the message, in its final state.

    ``address`` is an email address, a phone number or a push token, by the
    campaign's channel. ``profile`` and ``context`` fill ``{{ profile.* }}`` and
    ``{{ context.* }}``. Raises ``CampaignNotLive`` (no live version),
    ``MissingAccessLabel``, ``TestSendRefused`` (no trigger permission) or
    ``InvalidInput`` at ``/address``. The message comes back ``sent``, ``failed``
    or ``excluded`` with its reason, or ``queued`` when a transient error will be
    retried.
    """
    if actor.db_user is not None and not actor.has_perm("campaigns.trigger_campaign"):
        raise TestSendRefused(message=_("You may not trigger campaigns, so you cannot test one."))
    if campaign.live_version_id is None or campaign.status not in TRIGGERABLE:
        raise CampaignNotLive(
            message=_("Only a live campaign can be tested: activate it first."),
            errors=[FieldError("/campaignId", _("The campaign is not live."))],
        )
    held = access_labels_held(actor)
    if held is not None and not version_label_ids(campaign.live_version_id) <= held:
        raise MissingAccessLabel(
            message=_("You do not hold every access label of the campaign."),
            errors=[FieldError("/campaignId", _("Missing access label."))],
        )
    snapshot = version_snapshot_by_id(campaign.live_version_id)
    normalized = _address(snapshot.channel, address)
    push_info = None
    if snapshot.channel == Channel.PUSH:
        push_info = {
            "appID": str(snapshot.channel_settings.get("appId") or ""),
            "platform": str(snapshot.channel_settings.get("platform") or ""),
            "token": normalized,
        }
    now = timezone.now()
    with transaction.atomic():
        execution = Execution.objects.create(
            kind=ExecutionKind.UNITARY,
            campaign_id=snapshot.campaign_id,
            version_id=snapshot.version_id,
            request_id=f"test-{uuid.uuid4()}",
            context=dict(context or {}),
            targeted_count=1,
            is_test=True,
        )
        message = Message.objects.create(
            execution=execution,
            campaign_id=snapshot.campaign_id,
            version_id=snapshot.version_id,
            channel=snapshot.channel,
            recipient_type=RecipientType.EXTERNAL,
            user_id=normalized,
            address=normalized,
            push_info=push_info,
            recipient_profile=dict(profile or {}),
            enqueued_at=now,
        )
        # Who sent what where: a test can go to any address, so it is on the record.
        audit_record(
            campaign=campaign,
            action="send_test",
            actor=actor,
            detail={"messageId": str(message.pk), "channel": message.channel, "to": normalized},
        )
    # Inline, not through the broker: the user waits for one message and sees its outcome.
    message_send_batch(message_ids=[str(message.pk)])
    message.refresh_from_db()
    return message
