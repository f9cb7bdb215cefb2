"""A campaign's throttle holds across senders: token buckets booked in process or in Redis."""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.test import override_settings
from django.utils import timezone

from audiences.models import Audience, Consent, IdentityNamespace, Profile
from core.buckets import _script, bucket_reserve
from delivery.calls import TriggerRecipient
from delivery.channels.registry import transport_for, transports_close
from delivery.models import Execution, Message
from delivery.services.audience import execution_fanout
from delivery.services.sending import message_send_batch
from delivery.services.sweeping import delivery_sweep
from tests.delivery.sending_helpers import accept_audience, accept_unitary
from tests.factories import SmsConfigurationFactory

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/6")


@pytest.fixture(params=["in_process", "redis"])
def bucket_store(request: pytest.FixtureRequest) -> Iterator[str]:
    """The buckets in this process, or in Redis (checked to be really used)."""
    url = REDIS_URL if request.param == "redis" else ""
    with override_settings(REDIS_URL=url):
        _script.cache_clear()
        yield request.param
    _script.cache_clear()


def _in_redis(key: str) -> bool:
    return bool(redis.Redis.from_url(REDIS_URL).exists(f"clarion:bucket:{key}"))


def _send_at_rate(key: str, rate: float, count: int, times: list[float]) -> None:
    """A sender: books one slot at a time, sleeps until it comes, then "sends"."""
    for _ in range(count):
        time.sleep(bucket_reserve(key, rate=rate, count=1))
        times.append(time.monotonic())


def _assert_never_ahead(times: list[float], start: float, rate: float) -> None:
    """The k-th send (from 1) came at least k / rate seconds after the start: the bucket
    starts empty, so no burst, and no pair of senders ever got ahead of the rate."""
    tolerance = 0.002  # Redis answers in whole milliseconds
    for k, at in enumerate(sorted(times), start=1):
        assert at - start >= k / rate - tolerance, (k, at - start)


def test_reserving_books_consecutive_slots(bucket_store: str) -> None:
    key = f"test:{uuid.uuid4()}"

    start = time.monotonic()
    first = bucket_reserve(key, rate=100, count=10)
    second = bucket_reserve(key, rate=100, count=10)
    elapsed = time.monotonic() - start

    # the bucket starts empty: 10 slots at 100/s end in 0.1 s, the next 10 at 0.2 s
    # (less the time between the two calls)
    _assert_slots(first, second, elapsed)
    assert _in_redis(key) is (bucket_store == "redis")


def _assert_slots(first: float, second: float, elapsed: float) -> None:
    tolerance = 0.002  # Redis answers in whole milliseconds
    assert first == pytest.approx(0.1, abs=tolerance)
    assert 0.2 - elapsed - tolerance <= second <= 0.2 + tolerance


def test_one_sender_is_spaced_at_the_rate(bucket_store: str) -> None:
    key = f"test:{uuid.uuid4()}"
    times: list[float] = []

    start = time.monotonic()
    _send_at_rate(key, 100, 40, times)

    _assert_never_ahead(times, start, 100)
    assert times[-1] - start >= 0.4


def test_two_threads_sharing_a_bucket_hold_the_combined_rate(bucket_store: str) -> None:
    # given two senders of 25 messages each on one bucket of 100 per second
    key = f"test:{uuid.uuid4()}"
    times: list[float] = []
    start = time.monotonic()
    threads = [threading.Thread(target=_send_at_rate, args=(key, 100, 25, times)) for _ in range(2)]

    # when they send at the same time
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then together they went at 100 per second, not 200: 50 messages took 0.5 s
    assert len(times) == 50
    _assert_never_ahead(times, start, 100)
    assert max(times) - start >= 0.5


def test_buckets_of_two_campaigns_do_not_share(bucket_store: str) -> None:
    one, other = f"test:{uuid.uuid4()}", f"test:{uuid.uuid4()}"

    assert bucket_reserve(one, rate=10, count=10) == pytest.approx(1.0, abs=0.002)
    assert bucket_reserve(other, rate=10, count=1) == pytest.approx(0.1, abs=0.002)


def test_a_redis_that_does_not_answer_throttles_in_process() -> None:
    # given a Redis URL nobody listens on
    key = f"test:{uuid.uuid4()}"
    with override_settings(REDIS_URL="redis://127.0.0.1:1/6"):
        _script.cache_clear()
        try:
            # when slots are booked, then the rate still holds (in this process)
            start = time.monotonic()
            first = bucket_reserve(key, rate=100, count=10)
            second = bucket_reserve(key, rate=100, count=10)
            _assert_slots(first, second, time.monotonic() - start)
        finally:
            _script.cache_clear()


# --- The throttle test -------------------------------------------------------


@pytest.fixture
def sms_outbox(tmp_path: Path) -> Iterator[Path]:
    transports_close()  # transports are made once per process: make a new one here
    with override_settings(CLARION_OUTBOX_DIR=tmp_path):
        yield tmp_path / "sms"
    transports_close()


def _outbox_lines(folder: Path) -> list[dict[str, Any]]:
    """The messages the outbox wrote: one JSON object per line of its ``.jsonl`` files."""
    return [json.loads(line) for f in folder.glob("*.jsonl") for line in f.read_text().splitlines()]


def _sms_audience(size: int) -> Audience:
    profiles = Profile.objects.bulk_create(
        [Profile(mobile_number=f"+1416555{n:04d}", attributes={"n": n}) for n in range(size)]
    )
    now = timezone.now()
    Consent.objects.bulk_create(
        [Consent(profile=p, channel="sms", status="opted_in", updated_at=now) for p in profiles]
    )
    audience = Audience.objects.create(name="Throttled", kind=Audience.Kind.STATIC)
    audience.members.add(*profiles)
    return audience


@pytest.mark.django_db
def test_an_audience_of_2000_at_500_per_second_takes_at_least_4_s_and_sends_all(
    live_campaign, published, sms_outbox: Path, monkeypatch
) -> None:
    # given a marketing SMS campaign throttled at 500 messages a second, to 2,000 people
    campaign = live_campaign(
        category="marketing",
        channel="sms",
        channel_configuration=SmsConfigurationFactory.create(),
        content={"en": {"body": "Sale for you, number {{ profile.n }}"}},
        audience=_sms_audience(2000),
        throttle_rate=500,
    )
    slept: list[float] = []
    real_sleep = time.sleep

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr("delivery.services.sending.time.sleep", sleep)

    # when it is fanned out and every published batch is sent
    execution = accept_audience(campaign)
    execution_fanout(execution_id=execution.pk)
    assert len(published) == 10  # batches of 200
    start = timezone.now()
    for batch in published:
        message_send_batch(message_ids=batch)

    # then all 2,000 went, and the last one no sooner than 4 s after the first batch began
    sent = sorted(m.sent_at for m in Message.objects.filter(status="sent") if m.sent_at)
    assert len(sent) == 2000
    assert (sent[-1] - start).total_seconds() >= 4.0
    # at no moment ahead of the rate: message k left at least k / 500 s after the start
    for k, at in enumerate(sent, start=1):
        assert (at - start).total_seconds() >= k / 500, k
    # and no burst at the start: the bucket starts empty, the first 50 waited 0.1 s
    assert slept[0] == pytest.approx(0.1, abs=0.005)
    assert len(_outbox_lines(sms_outbox)) == 2000
    execution.refresh_from_db()
    assert (execution.status, execution.counts["sent"], execution.targeted_count) == (
        "succeeded",
        2000,
        2000,
    )


# --- A long throttled batch keeps its claim ------------------------------------------


@pytest.mark.django_db
@override_settings(CLARION_CLAIM_LEASE_SECONDS=1.2)
def test_a_throttled_batch_longer_than_the_lease_keeps_its_claim(
    live_campaign, published, sms_outbox: Path, monkeypatch
) -> None:
    # given 30 SMS at 10 per second (3 s for the batch, 2.5 times the 1.2 s lease), and a
    # sweeper running each time a message leaves
    campaign = live_campaign(
        channel="sms",
        channel_configuration=SmsConfigurationFactory.create(),
        content={"en": {"body": "Your code"}},
        throttle_rate=10,
        create_new_profiles=True,
        identity_namespace=IdentityNamespace.objects.get(code="phone"),
    )
    outbox = transport_for("sms", {"provider": "outbox"})
    send_many = outbox.send_many
    sweeps: list[dict[str, int]] = []

    def sweeping_send_many(outgoing: Any) -> Any:
        sweeps.append(delivery_sweep())
        return send_many(outgoing)

    monkeypatch.setattr(outbox, "send_many", sweeping_send_many)
    phones = [f"+1416555{n:04d}" for n in range(30)]
    messages = accept_unitary(
        campaign, *(TriggerRecipient(type="aep", namespace="phone", user_id=p) for p in phones)
    )

    # when the batch is sent
    outcome = message_send_batch(message_ids=[str(m.pk) for m in messages])

    # then every message went once: the sweeper never took one back
    assert outcome.sent == 30
    assert len(sweeps) == 30
    assert [sweep["reclaimed"] for sweep in sweeps] == [0] * 30
    assert published == []
    assert sorted(line["to"] for line in _outbox_lines(sms_outbox)) == phones
    assert Message.objects.filter(status="sent", attempts=1).count() == 30
    assert Execution.objects.get().status == "succeeded"


def _reserve_in_child(key: str, start: Any, results: Any) -> None:
    start.wait(timeout=10)
    time.sleep(bucket_reserve(key, rate=100, count=50))
    results.put(time.time())


def test_without_redis_the_throttle_is_shared_by_the_processes_of_one_machine(settings) -> None:
    """make run's worker has several processes: each books its slots in one file bucket."""
    settings.REDIS_URL = ""
    key = "throttle:shared-by-processes"
    context = multiprocessing.get_context("fork")
    results, start = context.Queue(), context.Event()
    children = [
        context.Process(target=_reserve_in_child, args=(key, start, results)) for _ in range(3)
    ]

    for child in children:
        child.start()
    start.set()
    for child in children:
        child.join(timeout=10)
    ready_at = sorted(results.get(timeout=5) for _ in children)

    # Three processes booking 50 slots each at 100/s queue behind each other: each may go
    # 0.5 s after the one before (per process buckets would let all three go at once).
    gaps = [later - earlier for earlier, later in itertools.pairwise(ready_at)]
    assert gaps == pytest.approx([0.5, 0.5], abs=0.05)
    assert all(child.exitcode == 0 for child in children)
