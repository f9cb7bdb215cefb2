"""Queueing webhook events in the sending transaction: exactly the matching deliveries,
at no query when no endpoint wants them."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from delivery.models import Message, WebhookDelivery
from delivery.services.happenings import Happening
from delivery.services.sending import message_send_batch
from delivery.webhooks.endpoints import (
    WEBHOOK_ROUTES_CACHE_KEY,
    webhook_routes,
    webhook_routes_kept,
)
from delivery.webhooks.queue import webhook_events_add
from tests.delivery.sending_helpers import (
    PERMANENT,
    accept_unitary,
    ids,
    recipient,
    use_fake_transport,
)
from tests.delivery.webhook_helpers import endpoint_for

pytestmark = pytest.mark.django_db

URL = "https://hooks.example.com/clarion"


def test_a_sending_batch_queues_exactly_the_matching_deliveries(live_campaign, monkeypatch) -> None:
    # given three endpoints: sent events of every campaign, failed events of every
    # campaign, sent events of another campaign only; and one disabled
    campaign = live_campaign(create_new_profiles=True)
    other = live_campaign(create_new_profiles=True, name="Other")
    all_sent = endpoint_for(URL, types=["sent"], name="all sent")
    failures = endpoint_for(URL, types=["failed", "excluded"], name="failures")
    other_only = endpoint_for(URL, types=["sent"], name="other only")
    other_only.campaigns.add(other)
    endpoint_for(URL, types=["sent", "failed"], name="off", enabled=False)
    transport = use_fake_transport(monkeypatch)
    transport.fail("ben@example.com", PERMANENT)
    messages = accept_unitary(
        campaign,
        recipient("ana@example.com"),
        recipient("ben@example.com"),
        recipient("cy@example.com"),
    )

    # when the batch is sent
    outcome = message_send_batch(message_ids=ids(messages))

    # then two sent events went to "all sent", one failure to "failures", nothing else
    assert (outcome.sent, outcome.failed) == (2, 1)
    rows = sorted(
        WebhookDelivery.objects.values_list("endpoint__name", "event_type", "payload__data__userId")
    )
    assert rows == [
        ("all sent", "sent", "ana@example.com"),
        ("all sent", "sent", "cy@example.com"),
        ("failures", "failed", "ben@example.com"),
    ]
    failed = WebhookDelivery.objects.get(event_type="failed")
    assert failed.payload["data"]["reason"] == "smtp_550"
    # all claimed by one token for the publish after the commit, due after the lease
    assert WebhookDelivery.objects.values("claim_token").distinct().count() == 1
    assert failures.deliveries.count() == 1 and all_sent.deliveries.count() == 2


def _happenings(messages: list[Message], kind: str = "sent") -> list[Happening]:
    now = timezone.now()
    return [Happening(type=kind, message=m, at=now) for m in messages]


def test_no_query_when_no_endpoint_matches(live_campaign, monkeypatch) -> None:
    # given an endpoint for other events, its routes cached
    campaign = live_campaign(create_new_profiles=True)
    endpoint_for(URL, types=["clicked"])
    messages = list(
        Message.objects.filter(pk__in=ids(accept_unitary(campaign, recipient("a@example.com"))))
    )
    webhook_routes()

    with CaptureQueriesContext(connection) as queries:
        queued = webhook_events_add(happenings=_happenings(messages))

    assert (queued, len(queries)) == (0, 0)


def test_acceptance_asks_nothing_of_the_endpoint_cache(live_campaign, monkeypatch) -> None:
    # given endpoints for every event, and their routes' lookup watched
    campaign = live_campaign(create_new_profiles=True)
    endpoint_for(URL)
    messages = list(
        Message.objects.filter(pk__in=ids(accept_unitary(campaign, recipient("a@example.com"))))
    )
    looked_up: list[int] = []

    def routes() -> list[object]:
        looked_up.append(1)
        return []

    monkeypatch.setattr("delivery.webhooks.queue.webhook_routes", routes)

    # when what acceptance and retries record is queued
    queued = webhook_events_add(happenings=_happenings(messages, "targeted"))
    queued += webhook_events_add(happenings=_happenings(messages, "retried"))

    # then no endpoint can want it, and the cache of endpoints was not even read
    assert (queued, looked_up) == (0, [])


def test_no_query_without_endpoints(live_campaign) -> None:
    campaign = live_campaign(create_new_profiles=True)
    messages = list(
        Message.objects.filter(pk__in=ids(accept_unitary(campaign, recipient("a@example.com"))))
    )
    webhook_routes()

    with CaptureQueriesContext(connection) as queries:
        queued = webhook_events_add(happenings=_happenings(messages))

    assert (queued, len(queries)) == (0, 0)


def test_a_batch_of_fifty_costs_two_queries(live_campaign) -> None:
    # given 50 messages and two endpoints that want their events, routes and the
    # version number already known to the process
    campaign = live_campaign(create_new_profiles=True)
    accepted = accept_unitary(campaign, *(recipient(f"p{i}@example.com") for i in range(50)))
    messages = list(Message.objects.filter(pk__in=ids(accepted)))
    endpoint_for(URL, types=["sent"], name="one")
    endpoint_for(URL, types=["sent"], name="two")
    webhook_events_add(happenings=_happenings(messages[:1]))
    WebhookDelivery.objects.all().delete()

    with CaptureQueriesContext(connection) as queries:
        queued = webhook_events_add(happenings=_happenings(messages))

    # then: the executions' request ids, one insert
    assert queued == 100
    assert len(queries) == 2, [q["sql"] for q in queries]
    assert WebhookDelivery.objects.values("event_id").distinct().count() == 50


def test_the_cache_is_cleared_when_an_endpoint_changes(live_campaign) -> None:
    endpoint = endpoint_for(URL, types=["sent"])
    assert [r.id for r in webhook_routes()] == [endpoint.pk]

    from delivery.webhooks.endpoints import webhook_endpoint_disable

    webhook_endpoint_disable(endpoint=endpoint, reason="test", at=timezone.now())

    assert webhook_routes() == []


def test_a_stale_answer_put_back_after_a_change_is_not_used(live_campaign) -> None:
    # given a reader that read the routes (no endpoint) just before a change committed
    from delivery.webhooks.endpoints import WEBHOOK_ROUTES_GENERATION_KEY

    before = cache.get(WEBHOOK_ROUTES_GENERATION_KEY, 0)
    endpoint = endpoint_for(URL, types=["sent"])

    # when it puts its stale answer in the cache after the change cleared it
    cache.set(WEBHOOK_ROUTES_CACHE_KEY, (before, []))

    # then the next read does not use it: it reads the new endpoint
    assert [r.id for r in webhook_routes()] == [endpoint.pk]


def test_a_send_batch_reads_the_routes_once_and_forgets_them_after(
    live_campaign, monkeypatch
) -> None:
    # given an endpoint, and a count of the cache reads
    endpoint = endpoint_for(URL, types=["sent"])
    reads: list[str] = []
    original = cache.get_many

    def counted(keys: list[str], *args: Any, **kwargs: Any) -> Any:
        reads.extend(keys)
        return original(keys, *args, **kwargs)

    monkeypatch.setattr(cache, "get_many", counted)

    # when the routes are asked three times within a batch, then once after it
    with webhook_routes_kept():
        inside = [webhook_routes() for _ in range(3)]
    endpoint_for(URL, types=["sent"], name="added after the batch")
    after = webhook_routes()

    # then the batch asked the cache once, and the next read sees the new endpoint
    assert inside[0] == inside[1] == inside[2]
    assert [r.id for r in inside[0]] == [endpoint.pk]
    assert reads.count(WEBHOOK_ROUTES_CACHE_KEY) == 2
    assert len(after) == 2


def test_the_first_try_is_published_after_the_commit(
    live_campaign, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    # given an endpoint, and the send task's publish recorded
    from delivery.tasks import webhook_deliveries_send_task

    published: list[tuple[Any, ...]] = []
    monkeypatch.setattr(
        webhook_deliveries_send_task,
        "apply_async",
        lambda args, **kwargs: published.append(tuple(args)),
    )
    endpoint_for(URL, types=["sent"])
    use_fake_transport(monkeypatch)
    messages = accept_unitary(live_campaign(create_new_profiles=True), recipient("a@example.com"))

    # when the batch is sent and its transaction commits
    with django_capture_on_commit_callbacks(execute=True):
        message_send_batch(message_ids=ids(messages))

    # then one send task carries the delivery and its claim
    delivery = WebhookDelivery.objects.get()
    assert published == [([str(delivery.pk)], str(delivery.claim_token))]
