"""The trigger API's rate limit per API key: a token bucket in the process, or in Redis.

Calls within the limit carry ``RateLimit-*`` headers; the call after the burst is
a 429 with ``Retry-After``, and writes nothing. Another key has its own bucket.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.test import override_settings

from core import buckets
from core.models import ApiKey
from core.scopes import EXECUTIONS_TRIGGER
from delivery.models import Execution
from tests.delivery.trigger_calls import UNITARY, problem, unitary

pytestmark = pytest.mark.django_db

# The machine's Redis, as CI configures it (tests/api/test_health.py does the same).
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/1")
SMALL = {"CLARION_TRIGGER_RATE_LIMIT": 1, "CLARION_TRIGGER_RATE_BURST": 3}


@pytest.fixture(params=["in-process", "redis"])
def bucket_store(request: pytest.FixtureRequest) -> Iterator[str]:
    """The small limit, kept in the process's memory or in Redis."""
    url = "" if request.param == "in-process" else REDIS_URL
    buckets._script.cache_clear()  # the Redis client is made once per URL
    with override_settings(REDIS_URL=url, **SMALL):
        yield request.param
    buckets._script.cache_clear()


def _call(client: Any, campaign: Any, request_id: str, capture: Any) -> Any:
    with capture(execute=True):
        return client.post(UNITARY, unitary(campaign, request_id=request_id), format="json")


def _rate_headers(response: Any) -> tuple[str, str, str]:
    return (
        response["RateLimit-Limit"],
        response["RateLimit-Remaining"],
        response["RateLimit-Reset"],
    )


def test_the_call_after_the_burst_is_a_429_with_retry_after(
    bucket_store, api_client, live_campaign, published, django_capture_on_commit_callbacks
) -> None:
    # given a key that may make 3 calls at once, then 1 a second
    campaign = live_campaign(create_new_profiles=True)
    client = api_client(EXECUTIONS_TRIGGER)

    # when it makes 4 calls at once
    responses = [
        _call(client, campaign, f"r-{n}", django_capture_on_commit_callbacks) for n in range(4)
    ]

    # then the first three are accepted, each saying what is left
    assert [r.status_code for r in responses] == [202, 202, 202, 429]
    assert [_rate_headers(r) for r in responses[:3]] == [
        ("1", "2", "1"),
        ("1", "1", "2"),
        ("1", "0", "3"),
    ]
    # and the fourth waits a second, having written nothing
    refused = responses[3]
    assert refused["Retry-After"] == "1"
    assert _rate_headers(refused) == ("1", "0", "3")
    assert refused.json() == problem(
        429, "rate_limited", "Request was throttled. Expected available in 1 second."
    )
    assert Execution.objects.count() == 3
    assert len(published) == 3


def test_another_key_has_its_own_bucket(
    bucket_store, api_client, live_campaign, published, django_capture_on_commit_callbacks
) -> None:
    campaign = live_campaign(create_new_profiles=True)
    busy = api_client(EXECUTIONS_TRIGGER, name="busy")
    for n in range(4):
        _call(busy, campaign, f"busy-{n}", django_capture_on_commit_callbacks)

    response = _call(
        api_client(EXECUTIONS_TRIGGER, name="quiet"),
        campaign,
        "quiet-1",
        django_capture_on_commit_callbacks,
    )

    assert response.status_code == 202
    assert _rate_headers(response) == ("1", "2", "1")


def test_calls_refused_before_the_key_is_known_take_no_token(
    bucket_store, api_client, live_campaign, published, django_capture_on_commit_callbacks
) -> None:
    # a body that breaks the schema is refused before the key is even read
    campaign = live_campaign(create_new_profiles=True)
    client = api_client(EXECUTIONS_TRIGGER)
    for _ in range(5):
        assert client.post(UNITARY, {"campaignId": "x"}, format="json").status_code == 400

    response = _call(client, campaign, "r-1", django_capture_on_commit_callbacks)

    assert response.status_code == 202
    assert _rate_headers(response) == ("1", "2", "1")


def test_the_redis_bucket_is_shared_and_expires(
    api_client, live_campaign, published, django_capture_on_commit_callbacks
) -> None:
    # given the Redis store, and a bucket another process already emptied
    campaign = live_campaign(create_new_profiles=True)
    client = api_client(EXECUTIONS_TRIGGER)
    key = ApiKey.objects.get()
    bucket = f"clarion:bucket:trigger:{key.prefix}"
    server = redis.Redis.from_url(REDIS_URL)
    buckets._script.cache_clear()
    try:
        with override_settings(REDIS_URL=REDIS_URL, **SMALL):
            for _ in range(3):
                assert buckets.bucket_take(f"trigger:{key.prefix}", rate=1, capacity=3).granted

            # when this process calls
            response = _call(client, campaign, "r-1", django_capture_on_commit_callbacks)

        # then it is refused, and the bucket expires once it would be full again
        assert response.status_code == 429
        assert response["Retry-After"] == "1"
        assert 60_000 < server.pttl(bucket) <= 63_000
    finally:
        server.delete(bucket)
        buckets._script.cache_clear()
    assert Execution.objects.count() == 0


def test_a_redis_that_does_not_answer_leaves_the_limit_to_the_process(settings) -> None:
    from core.buckets import _script, bucket_take

    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    _script.cache_clear()
    try:
        answer = bucket_take("trigger:no-redis", rate=10, capacity=2)
    finally:
        _script.cache_clear()

    assert answer.granted
    assert answer.tokens_left == 1
