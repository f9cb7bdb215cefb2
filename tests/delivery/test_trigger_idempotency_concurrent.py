"""Idempotency under concurrent calls, each on its own database connection.

CI runs these on PostgreSQL, where the calls really overlap: the second insert of
a key waits on the unique index until the first transaction ends. On SQLite the
write transactions take turns (``BEGIN IMMEDIATE``); the same invariants hold.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from core.apikeys import api_key_create
from core.models import ApiKey
from core.scopes import EXECUTIONS_TRIGGER
from delivery.calls import body_hash
from delivery.limits import IDEMPOTENCY_WAIT_MS
from delivery.models import Execution, IdempotencyRecord, Message
from tests.delivery.trigger_calls import UNITARY, aep, problem, unitary

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 8


def _keyed_client() -> tuple[ApiKey, APIClient]:
    key, secret = api_key_create(name="concurrent", scopes=[EXECUTIONS_TRIGGER])
    # Recently used: no call below writes last_used_at (one writer less to wait for).
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return key, client


def _in_thread(target: Callable[[], Any], results: list[Any]) -> threading.Thread:
    """Run ``target`` on a thread with its own database connection, closed at the end."""

    def run() -> None:
        try:
            results.append(target())
        except BaseException as error:  # reported by the test, not lost in the thread
            results.append(error)
        finally:
            connection.close()

    return threading.Thread(target=run)


def test_identical_concurrent_calls_make_one_execution_and_one_email(
    live_campaign, send_inline
) -> None:
    # given one call, about to be posted by 8 clients at the same moment
    campaign = live_campaign(create_new_profiles=True)
    _key, client = _keyed_client()
    body = unitary(
        campaign, aep(profile={"person": {"name": {"firstName": "Ana"}}}), request_id="once"
    )
    start = threading.Barrier(THREADS)

    def post() -> Any:
        start.wait(timeout=30)
        return client.post(UNITARY, body, format="json")

    # when
    responses: list[Any] = []
    threads = [_in_thread(post, responses) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then every call is answered 202 with the same body, all but one as a replay, and
    # one execution sent one email
    assert len(responses) == THREADS
    assert [r.status_code for r in responses] == [202] * THREADS, [
        getattr(r, "content", r) for r in responses
    ]
    assert len({r.content for r in responses}) == 1
    replayed = [r.headers.get("Idempotent-Replayed") for r in responses]
    assert sorted(replayed, key=str) == [None] + ["true"] * (THREADS - 1)
    execution = Execution.objects.get()
    assert str(execution.pk) == responses[0].json()["executionId"]
    assert Message.objects.get().status == "sent"
    assert IdempotencyRecord.objects.count() == 1
    assert [(email.to, email.subject) for email in mail.outbox] == [
        (["ana@example.com"], "Thanks Ana")
    ]


def test_a_call_whose_first_is_still_in_flight_is_a_409(live_campaign, published) -> None:
    # given a first call with this key whose transaction is still open
    campaign = live_campaign(create_new_profiles=True)
    key, client = _keyed_client()
    body = unitary(campaign, request_id="in-flight")
    inserted, release = threading.Event(), threading.Event()

    def first_call() -> str:
        with transaction.atomic():
            IdempotencyRecord.objects.create(
                owner=f"key:{key.pk}",
                key="in-flight",
                endpoint="unitary",
                body_hash=body_hash("unitary", body),
                response_status=202,
                response_body={},
            )
            inserted.set()
            release.wait(timeout=60)
            transaction.set_rollback(True)  # the first call fails after all
        return "rolled back"

    results: list[Any] = []
    holder = _in_thread(first_call, results)
    holder.start()
    try:
        assert inserted.wait(timeout=30)

        # when the same call comes
        began = time.monotonic()
        response = client.post(UNITARY, body, format="json")
        waited = time.monotonic() - began
    finally:
        release.set()
        holder.join(timeout=60)

    # then it waited about IDEMPOTENCY_WAIT_MS, and was told to come back
    detail = "A request with this idempotency key is still being processed; retry in a moment."
    assert response.status_code == 409, response.content
    assert response.json() == problem(
        409, "idempotency_in_flight", detail, [("/requestId", detail)]
    )
    assert IDEMPOTENCY_WAIT_MS / 1000 * 0.9 <= waited < IDEMPOTENCY_WAIT_MS / 1000 + 8
    assert results == ["rolled back"]
    assert Execution.objects.count() == 0
    assert published == []

    # and once the first is gone, the same call is accepted
    retry = client.post(UNITARY, body, format="json")
    assert retry.status_code == 202, retry.content
    assert "Idempotent-Replayed" not in retry
    assert Execution.objects.count() == 1
