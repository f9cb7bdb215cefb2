"""Queueing webhook events: one delivery row per event and endpoint that wants it.

``happenings_record`` calls ``webhook_events_add`` in the transaction that records
what happened, so a delivery exists exactly when its event does. With no endpoint
wanting any of the events this costs no query (the routes are cached); otherwise
two (the executions' request ids, one insert) and one more the first time a
process meets a campaign version. The first try is published after the commit;
the periodic task (``webhook_deliveries_due``) makes good a lost publish.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.utils import timezone

from campaigns.models import CampaignVersion
from core.ids import uuid7
from delivery.enqueue import PUBLISH_RETRY_POLICY, delivery_task, publish_on_commit
from delivery.limits import WEBHOOK_BATCH_SIZE, WEBHOOK_CLAIM_LEASE
from delivery.models import Execution, Message, WebhookDelivery
from delivery.webhooks.endpoints import webhook_routes

if TYPE_CHECKING:
    from delivery.services.happenings import Happening

logger = logging.getLogger(__name__)

# What each happening is called in a webhook; those not named here send none
# (targeted, retried, resubscribed, deferred). An ESP's "rejected" is a failure to
# the receiver (docs/webhooks.md).
WEBHOOK_TYPE_OF: dict[str, str] = {
    "sent": "sent",
    "failed": "failed",
    "excluded": "excluded",
    "delivered": "delivered",
    "bounced": "bounced",
    "complained": "complained",
    "rejected": "failed",
    "opened": "opened",
    "clicked": "clicked",
    "unsubscribed": "unsubscribed",
}

# Campaign version numbers by version id: versions never change, so a process keeps
# them (bounded: cleared when it grows past this).
_VERSION_NUMBERS: dict[Any, int] = {}
_VERSION_NUMBERS_MAX = 10_000


def _timestamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _version_numbers(version_ids: Iterable[Any]) -> dict[Any, int]:
    missing = {v for v in version_ids if v not in _VERSION_NUMBERS}
    if missing:
        if len(_VERSION_NUMBERS) > _VERSION_NUMBERS_MAX:
            _VERSION_NUMBERS.clear()
        _VERSION_NUMBERS.update(
            CampaignVersion.objects.filter(pk__in=missing).values_list("pk", "number")
        )
    return _VERSION_NUMBERS


def webhook_payload(
    *,
    event_id: UUID,
    event_type: str,
    happening: Happening,
    request_id: str,
    version_number: int | None,
) -> dict[str, Any]:
    """The JSON body of one event (docs/webhooks.md lists every field)."""
    message: Message = happening.message
    data: dict[str, Any] = {
        "messageId": str(message.pk),
        "executionId": str(message.execution_id),
        "requestId": request_id,
        "campaignId": str(message.campaign_id),
        "campaignVersion": version_number,
        "userId": message.user_id,
        "namespace": message.namespace,
        "channel": message.channel,
        "reason": happening.reason,
        "attempts": message.attempts,
    }
    if event_type in ("opened", "clicked"):
        data["machine"] = happening.machine
    if event_type == "clicked":
        data["link"] = happening.link
        data["url"] = happening.url
    return {
        "id": str(event_id),
        "type": event_type,
        "timestamp": _timestamp(happening.at),
        "data": data,
    }


def _wanted(happenings: Sequence[Happening]) -> list[tuple[Happening, str, list[int]]]:
    """Each happening some enabled endpoint wants, with its event type and those endpoints."""
    if not any(happening.type in WEBHOOK_TYPE_OF for happening in happenings):
        return []  # acceptance's "targeted", retries: no endpoint can want them, no lookup
    routes = webhook_routes()
    if not routes:
        return []
    wanted: list[tuple[Happening, str, list[int]]] = []
    for happening in happenings:
        event_type = WEBHOOK_TYPE_OF.get(happening.type)
        if event_type is None:
            continue
        campaign_id = happening.message.campaign_id
        endpoint_ids = [r.id for r in routes if r.wants(event_type, campaign_id)]
        if endpoint_ids:
            wanted.append((happening, event_type, endpoint_ids))
    return wanted


def webhook_events_wanted(*, happenings: Sequence[Happening]) -> bool:
    """Whether an enabled endpoint wants an event of ``happenings`` (from the cached
    routes: no query)."""
    return bool(_wanted(happenings))


def webhook_events_add(*, happenings: Sequence[Happening]) -> int:
    """Queue a delivery of each happening to each enabled endpoint that wants it.

    Call it in the transaction that records the happenings. Returns how many
    deliveries it queued.
    """
    wanted = _wanted(happenings)
    if not wanted:
        return 0
    messages = [happening.message for happening, _type, _ids in wanted]
    request_ids = dict(
        Execution.objects.filter(pk__in={m.execution_id for m in messages}).values_list(
            "pk", "request_id"
        )
    )
    numbers = _version_numbers({m.version_id for m in messages})
    now = timezone.now()
    token = uuid.uuid4()
    rows: list[WebhookDelivery] = []
    for happening, event_type, endpoint_ids in wanted:
        message = happening.message
        event_id = uuid7()
        payload = webhook_payload(
            event_id=event_id,
            event_type=event_type,
            happening=happening,
            request_id=request_ids.get(message.execution_id, ""),
            version_number=numbers.get(message.version_id),
        )
        rows += [
            # Claimed from the start by the publish below; if that is lost, the
            # periodic task takes them when the lease ends.
            WebhookDelivery(
                endpoint_id=endpoint_id,
                event_id=event_id,
                event_type=event_type,
                message_id=message.pk,
                payload=payload,
                claim_token=token,
                next_attempt_at=now + WEBHOOK_CLAIM_LEASE,
            )
            for endpoint_id in endpoint_ids
        ]
    WebhookDelivery.objects.bulk_create(rows)
    webhook_send_on_commit([str(row.pk) for row in rows], token)
    return len(rows)


def webhook_publish(delivery_ids: Sequence[str], token: uuid.UUID) -> None:
    """Publish send tasks for claimed deliveries, a few per task (never raises)."""
    for start in range(0, len(delivery_ids), WEBHOOK_BATCH_SIZE):
        batch = list(delivery_ids[start : start + WEBHOOK_BATCH_SIZE])
        try:
            delivery_task("webhook_deliveries_send_task").apply_async(
                (batch, str(token)), retry_policy=PUBLISH_RETRY_POLICY
            )
        except Exception:
            logger.warning(
                "Could not publish %d webhook deliveries; the periodic task will send them",
                len(batch),
                exc_info=True,
            )


def webhook_send_on_commit(delivery_ids: Sequence[str], token: uuid.UUID) -> None:
    """Once the current transaction commits, publish the first try of these deliveries
    (from a web request, in the background publisher: a click never waits on the broker)."""
    publish_on_commit(lambda: webhook_publish(delivery_ids, token))
