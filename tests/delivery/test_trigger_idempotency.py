"""Idempotency of trigger calls, one call at a time: replay, a reused key, scopes, pruning.

Concurrent calls are in test_trigger_idempotency_concurrent.py.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from campaigns.services.lifecycle import campaign_stop
from core.actors import Actor
from core.scopes import EXECUTIONS_TRIGGER
from delivery.models import Execution, IdempotencyRecord, Message
from delivery.services.idempotency import idempotency_prune
from tests.delivery.trigger_calls import UNITARY, aep, problem, unitary

pytestmark = pytest.mark.django_db


def _post(client: Any, body: Any, capture: Any, **headers: str) -> Any:
    with capture(execute=True):
        if isinstance(body, str):
            return client.generic(
                "POST", UNITARY, body, content_type="application/json", headers=headers
            )
        return client.post(UNITARY, body, format="json", headers=headers)


def test_the_same_call_again_replays_the_first_response_and_sends_nothing(
    api_client, live_campaign, send_inline, django_capture_on_commit_callbacks
) -> None:
    # given an accepted and sent call
    campaign = live_campaign(create_new_profiles=True)
    client = api_client(EXECUTIONS_TRIGGER)
    body = unitary(campaign, aep(), context={"a": 1, "b": [1, 2]})
    first = _post(client, body, django_capture_on_commit_callbacks)
    assert first.status_code == 202
    assert len(mail.outbox) == 1

    # when the same body comes again, with its keys in another order and other spacing
    same = json.dumps(dict(reversed(list(body.items()))), indent=3)
    second = _post(client, same, django_capture_on_commit_callbacks)

    # then the first response is replayed, and nothing is written or sent again
    assert second.status_code == 202
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert second["Location"] == first["Location"]
    assert "Idempotent-Replayed" not in first
    assert Execution.objects.count() == 1
    assert Message.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1
    assert len(mail.outbox) == 1


def test_a_replay_publishes_nothing(
    api_client, live_campaign, published, django_capture_on_commit_callbacks
) -> None:
    campaign = live_campaign(create_new_profiles=True)
    client = api_client(EXECUTIONS_TRIGGER)
    _post(client, unitary(campaign), django_capture_on_commit_callbacks)
    assert len(published) == 1

    replay = _post(client, unitary(campaign), django_capture_on_commit_callbacks)

    assert replay["Idempotent-Replayed"] == "true"
    assert len(published) == 1


def test_a_replay_answers_even_after_the_campaign_stopped(
    api_client, live_campaign, published, django_capture_on_commit_callbacks
) -> None:
    # the call was accepted: its answer does not change with the campaign's state
    campaign = live_campaign(create_new_profiles=True)
    client = api_client(EXECUTIONS_TRIGGER)
    first = _post(client, unitary(campaign), django_capture_on_commit_callbacks)
    campaign_stop(campaign=campaign, actor=Actor())

    replay = _post(client, unitary(campaign), django_capture_on_commit_callbacks)

    assert (replay.status_code, replay.json()) == (202, first.json())
    assert replay["Idempotent-Replayed"] == "true"


def test_the_same_key_with_another_body_is_a_422(
    api_client, live_campaign, published, django_capture_on_commit_callbacks
) -> None:
    campaign = live_campaign(create_new_profiles=True)
    client = api_client(EXECUTIONS_TRIGGER)
    _post(client, unitary(campaign, aep("ana@example.com")), django_capture_on_commit_callbacks)

    response = _post(
        client, unitary(campaign, aep("bo@example.com")), django_capture_on_commit_callbacks
    )

    detail = (
        "This idempotency key was used with a different request body; use a new key for a "
        "new request."
    )
    assert response.status_code == 422
    assert response.json() == problem(
        422, "idempotency_key_reused", detail, [("/requestId", detail)]
    )
    assert Execution.objects.count() == 1
    assert Message.objects.get().user_id == "ana@example.com"
    assert len(published) == 1


def test_the_idempotency_key_header_wins_over_the_request_id(
    api_client, live_campaign, published, django_capture_on_commit_callbacks
) -> None:
    campaign = live_campaign(create_new_profiles=True)
    client = api_client(EXECUTIONS_TRIGGER)
    body = unitary(campaign, request_id="same-request-id")

    first = _post(client, body, django_capture_on_commit_callbacks, **{"Idempotency-Key": "k-1"})
    other = _post(client, body, django_capture_on_commit_callbacks, **{"Idempotency-Key": "k-2"})
    again = _post(client, body, django_capture_on_commit_callbacks, **{"Idempotency-Key": "k-1"})

    # two keys, two executions, although the requestId is the same; k-1 again replays
    assert (first.status_code, other.status_code, again.status_code) == (202, 202, 202)
    assert first.json()["executionId"] != other.json()["executionId"]
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in other
    assert sorted(IdempotencyRecord.objects.values_list("key", flat=True)) == ["k-1", "k-2"]
    assert Execution.objects.count() == 2
    assert len(published) == 2


def test_keys_are_scoped_to_the_api_key(
    api_client, live_campaign, published, django_capture_on_commit_callbacks
) -> None:
    campaign = live_campaign(create_new_profiles=True)
    shop, warehouse = api_client(EXECUTIONS_TRIGGER), api_client(EXECUTIONS_TRIGGER)

    first = _post(shop, unitary(campaign), django_capture_on_commit_callbacks)
    second = _post(warehouse, unitary(campaign), django_capture_on_commit_callbacks)

    assert (first.status_code, second.status_code) == (202, 202)
    assert "Idempotent-Replayed" not in second
    assert first.json()["executionId"] != second.json()["executionId"]
    assert Execution.objects.count() == 2
    assert len(published) == 2


def test_a_refused_call_leaves_no_record_so_its_retry_is_accepted(
    api_client, live_campaign, published, django_capture_on_commit_callbacks
) -> None:
    campaign = live_campaign(create_new_profiles=False)
    client = api_client(EXECUTIONS_TRIGGER)
    refused = _post(client, unitary(campaign), django_capture_on_commit_callbacks)
    assert refused.status_code == 422
    assert IdempotencyRecord.objects.count() == 0

    accepted = _post(
        client,
        unitary(campaign, aep(channelData={"emailAddress": "ana@example.com"}, type="external")),
        django_capture_on_commit_callbacks,
    )

    assert accepted.status_code == 202
    assert "Idempotent-Replayed" not in accepted


def test_records_older_than_24_hours_are_pruned(
    api_client, live_campaign, published, django_capture_on_commit_callbacks
) -> None:
    # given two accepted calls, one 25 hours ago and one 23 hours ago
    campaign = live_campaign(create_new_profiles=True)
    client = api_client(EXECUTIONS_TRIGGER)
    for request_id in ("old", "recent"):
        _post(client, unitary(campaign, request_id=request_id), django_capture_on_commit_callbacks)
    now = timezone.now()
    IdempotencyRecord.objects.filter(key="old").update(created_at=now - timedelta(hours=25))
    IdempotencyRecord.objects.filter(key="recent").update(created_at=now - timedelta(hours=23))

    # when
    pruned = idempotency_prune(now=now)

    # then the old one is gone: its key makes a new execution; the recent one replays
    assert pruned == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["recent"]
    old = _post(client, unitary(campaign, request_id="old"), django_capture_on_commit_callbacks)
    recent = _post(
        client, unitary(campaign, request_id="recent"), django_capture_on_commit_callbacks
    )
    assert "Idempotent-Replayed" not in old
    assert recent["Idempotent-Replayed"] == "true"
    assert Execution.objects.count() == 3


def test_long_idempotency_keys_differing_only_at_the_end_are_two_keys(
    api_client, live_campaign, published, django_capture_on_commit_callbacks
) -> None:
    campaign = live_campaign(create_new_profiles=True)
    client = api_client(EXECUTIONS_TRIGGER)
    stem = "k" * 300

    first = _post(
        client,
        unitary(campaign),
        django_capture_on_commit_callbacks,
        **{"Idempotency-Key": stem + "1"},
    )
    second = _post(
        client,
        unitary(campaign, aep("bo@example.com")),
        django_capture_on_commit_callbacks,
        **{"Idempotency-Key": stem + "2"},
    )
    again = _post(
        client,
        unitary(campaign),
        django_capture_on_commit_callbacks,
        **{"Idempotency-Key": stem + "1"},
    )

    assert (first.status_code, second.status_code, again.status_code) == (202, 202, 202)
    assert again["Idempotent-Replayed"] == "true"
    assert Execution.objects.count() == 2
    assert all(len(key) <= 255 for key in IdempotencyRecord.objects.values_list("key", flat=True))
