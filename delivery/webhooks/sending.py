"""Trying webhook deliveries: signed POSTs, logged, retried on a schedule, endpoints disabled.

A delivery is tried by whoever holds its claim (``claim_token``, set with
``next_attempt_at`` moved a lease ahead by one conditional UPDATE): the send task
published after the commit that queued it, or, for retries and lost publishes,
the periodic task ``webhook_deliveries_due``. No retry waits in the broker (a
long countdown would be delivered again by Redis after its visibility timeout):
the row's ``next_attempt_at`` says when, and the periodic task claims it then.

Each try is a ``WebhookAttempt``: status code, time taken, error, the start of
the answer. A 2xx succeeds; anything else (3xx included: redirects are not
followed) is tried again after ``WEBHOOK_RETRY_DELAYS``, up to
``WEBHOOK_MAX_ATTEMPTS`` tries. When the last fails and the endpoint has answered
nothing with a 2xx for ``WEBHOOK_DISABLE_AFTER``, it is disabled, with the reason.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from core.ids import uuid7
from delivery.limits import (
    WEBHOOK_CLAIM_LEASE,
    WEBHOOK_DISABLE_AFTER,
    WEBHOOK_DUE_PER_RUN,
    WEBHOOK_MAX_ATTEMPTS,
    WEBHOOK_RETRY_DELAYS,
)
from delivery.models import WEBHOOK_TEST_EVENT, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from delivery.webhooks.endpoints import webhook_endpoint_disable
from delivery.webhooks.queue import webhook_publish
from delivery.webhooks.signing import webhook_headers
from delivery.webhooks.targets import PostResult, webhook_post

Status = WebhookDelivery.Status


def webhook_body(payload: dict[str, Any]) -> bytes:
    """The request body: the payload as compact UTF-8 JSON (what the signature covers)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass(frozen=True)
class AttemptOutcome:
    attempt: WebhookAttempt
    status: str  # the delivery's status after it
    disabled: bool = False


def _outcome_words(result: PostResult) -> str:
    if result.status is not None:
        return _("HTTP %(status)s") % {"status": result.status}
    return result.error


def _disable_if_failing(endpoint: WebhookEndpoint, delivery: WebhookDelivery, at: datetime) -> bool:
    """The rule (docs/webhooks.md): a delivery failed all its tries and nothing succeeded
    for ``WEBHOOK_DISABLE_AFTER``."""
    last_success, created = WebhookEndpoint.objects.filter(pk=endpoint.pk).values_list(
        "last_success_at", "created_at"
    )[0]
    since = last_success or created
    if since > at - WEBHOOK_DISABLE_AFTER:
        return False
    reason = _(
        "Event %(event)s failed all %(attempts)d attempts, and no request to this endpoint "
        "has succeeded since %(since)s."
    ) % {
        "event": delivery.event_id,
        "attempts": WEBHOOK_MAX_ATTEMPTS,
        "since": formats.date_format(since, "DATETIME_FORMAT") + " UTC",
    }
    return webhook_endpoint_disable(endpoint=endpoint, reason=reason, at=at)


def _attempt(
    delivery: WebhookDelivery, token: uuid.UUID, *, max_attempts: int = WEBHOOK_MAX_ATTEMPTS
) -> AttemptOutcome:
    endpoint = delivery.endpoint
    number = delivery.attempts + 1
    body = webhook_body(delivery.payload)
    headers = webhook_headers(
        secret=endpoint.secret,
        event_id=str(delivery.event_id),
        timestamp=int(time.time()),
        body=body,
    )
    result = webhook_post(
        endpoint.url,
        body=body,
        headers=headers,
        allow_private=settings.CLARION_WEBHOOKS_ALLOW_PRIVATE,
    )
    at = timezone.now()
    disabled = False
    with transaction.atomic():
        attempt = WebhookAttempt.objects.create(
            delivery=delivery,
            endpoint=endpoint,
            number=number,
            at=at,
            succeeded=result.succeeded,
            status_code=result.status,
            duration_ms=result.duration_ms,
            error=result.error,
            response_excerpt=result.excerpt,
        )
        next_at: datetime | None = None
        if result.succeeded:
            status = Status.SUCCEEDED
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(last_success_at=at)
        elif number >= max_attempts:
            status = Status.FAILED
        else:
            status = Status.PENDING
            next_at = at + WEBHOOK_RETRY_DELAYS[number]
        WebhookDelivery.objects.filter(pk=delivery.pk, claim_token=token).update(
            status=status,
            attempts=number,
            next_attempt_at=next_at,
            last_attempt_at=at,
            claim_token=None,
        )
        if status == Status.FAILED and delivery.event_type != WEBHOOK_TEST_EVENT:
            disabled = _disable_if_failing(endpoint, delivery, at)
    delivery.status, delivery.attempts, delivery.next_attempt_at = status, number, next_at
    return AttemptOutcome(attempt, status, disabled)


def webhook_deliveries_send(*, delivery_ids: Sequence[str], token: uuid.UUID) -> dict[str, int]:
    """Try the deliveries among ``delivery_ids`` still claimed with ``token``.

    A delivery whose endpoint was disabled meanwhile is given back untried: it waits,
    due, for the endpoint to be enabled again.
    """
    counts = {"succeeded": 0, "pending": 0, "failed": 0, "held": 0}
    deliveries = WebhookDelivery.objects.filter(
        pk__in=list(delivery_ids), claim_token=token, status=Status.PENDING
    ).select_related("endpoint")
    for delivery in deliveries:
        if not delivery.endpoint.enabled:
            WebhookDelivery.objects.filter(pk=delivery.pk, claim_token=token).update(
                claim_token=None, next_attempt_at=timezone.now()
            )
            counts["held"] += 1
            continue
        outcome = _attempt(delivery, token)
        counts[outcome.status] += 1
    return counts


def webhook_deliveries_due(*, now: datetime | None = None) -> int:
    """Claim the deliveries due (retries, lost publishes) and publish their send tasks."""
    now = now or timezone.now()
    due = WebhookDelivery.objects.filter(
        status=Status.PENDING, next_attempt_at__lte=now, endpoint__enabled=True
    )
    ids = list(due.order_by("next_attempt_at").values_list("pk", flat=True)[:WEBHOOK_DUE_PER_RUN])
    if not ids:
        return 0
    token = uuid.uuid4()
    # Conditional: a row another claim took meanwhile (its next_attempt_at moved) stays
    # with that claim.
    WebhookDelivery.objects.filter(
        pk__in=ids, status=Status.PENDING, next_attempt_at__lte=now
    ).update(claim_token=token, next_attempt_at=now + WEBHOOK_CLAIM_LEASE)
    claimed = [
        str(pk)
        for pk in WebhookDelivery.objects.filter(pk__in=ids, claim_token=token).values_list(
            "pk", flat=True
        )
    ]
    webhook_publish(claimed, token)
    return len(claimed)


def webhook_endpoint_test(*, endpoint: WebhookEndpoint) -> AttemptOutcome:
    """Send a signed ``test`` event to ``endpoint`` now, once (also when it is disabled,
    to check it before enabling it again); logged like any delivery, never retried."""
    event_id = uuid7()
    at = timezone.now()
    token = uuid.uuid4()
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_id=event_id,
        event_type=WEBHOOK_TEST_EVENT,
        payload={
            "id": str(event_id),
            "type": WEBHOOK_TEST_EVENT,
            "timestamp": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "data": {"endpoint": endpoint.name},
        },
        claim_token=token,
        next_attempt_at=at + WEBHOOK_CLAIM_LEASE,
    )
    return _attempt(delivery, token, max_attempts=1)
