"""What accepting a trigger call costs in queries once the caches are warm: a fixed
number, whatever the number of recipients (the key, the campaign's live version and
labels, and the namespace come from caches).

The queries of a unitary call: the idempotency look-up, the aep recipients' identities
with their profiles (one query for all), then the transaction (a savepoint here, as
the test runs in one). On PostgreSQL the transaction writes the idempotency record,
the execution, the messages (one INSERT for all) and their report counter in one
statement (``core.inserts``), with the ``SET LOCAL lock_timeout`` that bounds how
long it waits on a concurrent call with the same key; on SQLite they are four.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from audiences.models import Audience
from audiences.services.audiences import audience_add_members, audience_create
from core.scopes import EXECUTIONS_TRIGGER
from delivery.models import Message
from tests.delivery.trigger_calls import AUDIENCE, UNITARY, aep, external, stored_profile, unitary

pytestmark = pytest.mark.django_db

POSTGRESQL = connection.vendor == "postgresql"
# savepoint, the writes, release: on PostgreSQL the writes are one statement
TRANSACTION = 2
REPLAY_LOOKUP = 1
IDENTITIES = 1
# record, execution, messages, report counter
UNITARY_WRITES = 1 if POSTGRESQL else 4
# the execution (through the ORM), then the record
AUDIENCE_WRITES = 2


def _recipients(kind: str, count: int) -> list[dict[str, Any]]:
    if kind == "aep":
        return [aep(f"u{n}@example.com") for n in range(count)]
    return [
        external(f"order-{n}", channelData={"emailAddress": f"u{n}@example.com"})
        for n in range(count)
    ]


@pytest.mark.parametrize("count", [1, 100])
@pytest.mark.parametrize(
    ("kind", "queries"),
    [
        ("aep", REPLAY_LOOKUP + IDENTITIES + TRANSACTION + UNITARY_WRITES),
        ("external", REPLAY_LOOKUP + TRANSACTION + UNITARY_WRITES),
    ],
)
def test_a_unitary_call_costs_a_fixed_number_of_queries(
    api_client,
    live_campaign,
    published,
    django_capture_on_commit_callbacks,
    django_assert_num_queries,
    kind: str,
    queries: int,
    count: int,
) -> None:
    # given known profiles, and a first call that warmed the caches (and wrote the
    # key's last_used_at, which is written at most once a minute)
    campaign = live_campaign(create_new_profiles=False)
    for n in range(count):
        stored_profile(f"u{n}@example.com")
    client = api_client(EXECUTIONS_TRIGGER)
    with django_capture_on_commit_callbacks(execute=True):
        warm = client.post(
            UNITARY, unitary(campaign, *_recipients(kind, count), request_id="warm"), format="json"
        )
    assert warm.status_code == 202
    published.clear()

    # when
    with django_assert_num_queries(queries), django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            UNITARY,
            unitary(campaign, *_recipients(kind, count), request_id="counted"),
            format="json",
        )

    # then
    assert response.status_code == 202
    assert Message.objects.count() == 2 * count
    assert [len(batch) for batch in published] == ([1] if count == 1 else [50, 50])


def test_a_replayed_call_costs_one_query(
    api_client,
    live_campaign,
    published,
    django_capture_on_commit_callbacks,
    django_assert_num_queries,
) -> None:
    campaign = live_campaign(create_new_profiles=True)
    client = api_client(EXECUTIONS_TRIGGER)
    body = unitary(campaign, *_recipients("aep", 100))
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(UNITARY, body, format="json").status_code == 202

    with django_assert_num_queries(1):
        replay = client.post(UNITARY, body, format="json")

    assert replay["Idempotent-Replayed"] == "true"


def test_an_audience_call_costs_a_fixed_number_of_queries(
    api_client,
    live_campaign,
    django_capture_on_commit_callbacks,
    django_assert_num_queries,
    monkeypatch,
) -> None:
    monkeypatch.setattr(
        "delivery.tasks.execution_fanout_task.apply_async", lambda *args, **kwargs: None
    )
    stored_profile("ana@example.com")
    audience = audience_create(name="Everyone", kind=Audience.Kind.STATIC)
    audience_add_members(audience=audience, identities=[("email", "ana@example.com")])
    campaign = live_campaign(category="marketing", audience=audience)
    client = api_client(EXECUTIONS_TRIGGER)
    warm = {"campaignId": str(campaign.pk), "requestId": "warm"}
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(AUDIENCE, warm, format="json").status_code == 202

    # the idempotency look-up, then the transaction: execution and record
    body: dict[str, Any] = {"campaignId": str(campaign.pk), "requestId": "n", "context": {"a": 1}}
    with (
        django_assert_num_queries(REPLAY_LOOKUP + TRANSACTION + AUDIENCE_WRITES),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(AUDIENCE, body, format="json")

    assert response.status_code == 202
