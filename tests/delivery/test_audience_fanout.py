"""execution_fanout: one queued message per profile, published batch by batch, resumable,
holding one batch in memory whatever the audience size."""

from __future__ import annotations

import gc
import itertools
import tracemalloc
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audiences.models import Audience, IdentityNamespace, Profile, PushRegistration
from audiences.selectors import audience_iter_batches
from delivery.enqueue import send_now
from delivery.models import Execution, Message, ReportCounter
from delivery.services import audience as audience_module
from delivery.services.audience import execution_fanout
from tests.audiences.audience_helpers import make_people
from tests.audiences.test_audience_iteration import NESTED_RULES
from tests.delivery.sending_helpers import (
    CrashAfterFirstBatch,
    accept_audience,
    person,
    static_audience,
)
from tests.factories import PushConfigurationFactory

pytestmark = pytest.mark.django_db


def _rules_audience(name: str, rules: dict[str, Any]) -> Audience:
    return Audience.objects.create(name=name, kind=Audience.Kind.RULES, rules=rules)


def _messages(execution: Execution) -> set[tuple[Any, ...]]:
    return set(
        Message.objects.filter(execution=execution).values_list(
            "profile_id", "user_id", "namespace", "address", "status", "recipient_type", "channel"
        )
    )


def test_a_rule_based_audience_gets_one_message_per_profile(live_campaign, published) -> None:
    # given the people of the audience tests; the rules match ana and cy; the campaign
    # names recipients by crm_id; only ana has an email address
    people = make_people()
    Profile.objects.filter(pk=people["ana"].pk).update(email_address="ana@example.com")
    campaign = live_campaign(
        category="marketing",
        audience=_rules_audience("Paris or Lyon", NESTED_RULES),
        identity_namespace=IdentityNamespace.objects.get(code="crm_id"),
    )
    execution = accept_audience(campaign, context={"sale": "spring"})

    # when it fans out
    assert execution_fanout(execution_id=execution.pk) is True

    # then one queued message per matching profile, identified in the campaign's
    # namespace, addressed from the profile
    ana, cy = people["ana"].pk, people["cy"].pk
    assert _messages(execution) == {
        (ana, "C-1", "crm_id", "ana@example.com", "queued", "aep", "email"),
        (cy, "C-2", "crm_id", "", "queued", "aep", "email"),
    }
    assert set(Message.objects.values_list("version_id", flat=True)) == {campaign.live_version_id}
    # and they were published in one batch, and the execution knows its size
    messages = Message.objects.order_by("profile_id")
    assert published == [[str(m.pk) for m in messages]]
    execution.refresh_from_db()
    assert (execution.targeted_count, execution.fanout_done, execution.status) == (
        2,
        True,
        "in_progress",
    )
    assert execution.context == {"sale": "spring"}


def test_a_static_audience_gets_one_message_per_member(live_campaign, published) -> None:
    people = make_people()
    for name in ("ben", "eve"):
        Profile.objects.filter(pk=people[name].pk).update(email_address=f"{name}@example.com")
    audience = static_audience("Ben and Eve", [people["ben"], people["eve"]])
    campaign = live_campaign(category="marketing", audience=audience)
    execution = accept_audience(campaign)

    execution_fanout(execution_id=execution.pk)

    # eve has no identity in the email namespace: her message has no userId
    assert _messages(execution) == {
        (people["ben"].pk, "ben@example.com", "email", "ben@example.com", "queued", "aep", "email"),
        (people["eve"].pk, "", "email", "eve@example.com", "queued", "aep", "email"),
    }
    execution.refresh_from_db()
    assert execution.targeted_count == 2


def test_send_tasks_are_published_batch_by_batch(live_campaign, published, monkeypatch):
    # given five members written two at a time
    monkeypatch.setattr("delivery.services.audience.FANOUT_BATCH_SIZE", 2)
    people = [person(f"p{n}@example.com") for n in range(5)]
    campaign = live_campaign(category="marketing", audience=static_audience("Five", people))
    execution = accept_audience(campaign)

    execution_fanout(execution_id=execution.pk)

    # then each batch was published with its own messages, in profile order
    by_profile = [str(m.pk) for m in Message.objects.order_by("profile_id")]
    assert published == [by_profile[0:2], by_profile[2:4], by_profile[4:5]]
    execution.refresh_from_db()
    assert (execution.targeted_count, execution.fanout_done) == (5, True)
    assert execution.fanout_cursor == max(p.pk for p in people)


def test_a_fan_out_batch_is_published_in_send_tasks_of_200(live_campaign, published, monkeypatch):
    # given 450 members written in one fan-out batch
    people = [person(f"p{n}@example.com") for n in range(450)]
    campaign = live_campaign(category="marketing", audience=static_audience("Many", people))
    execution = accept_audience(campaign)

    execution_fanout(execution_id=execution.pk)

    # then its messages leave in tasks of 200: fewer claims and recordings than 50 each
    by_profile = [str(m.pk) for m in Message.objects.order_by("profile_id")]
    assert published == [by_profile[0:200], by_profile[200:400], by_profile[400:450]]


def test_a_push_audience_is_addressed_to_each_profiles_device_of_the_app(live_campaign, published):
    # given one member with a device of the campaign's app and one of another app only
    ana, ben = person("ana@example.com"), person("ben@example.com")
    PushRegistration.objects.create(
        profile=ana, app_id="com.example.shop", platform="android", token="tok-ana"
    )
    PushRegistration.objects.create(
        profile=ben, app_id="com.example.other", platform="ios", token="tok-ben"
    )
    campaign = live_campaign(
        category="marketing",
        channel="push",
        channel_configuration=PushConfigurationFactory.create(),
        content={"en": {"title": "Sale", "body": "Now"}},
        audience=static_audience("Devices", [ana, ben]),
    )
    execution = accept_audience(campaign)

    execution_fanout(execution_id=execution.pk)

    found = {
        m.user_id: (m.address, m.push_info) for m in Message.objects.filter(execution=execution)
    }
    assert found == {
        "ana@example.com": (
            "tok-ana",
            {"appID": "com.example.shop", "platform": "android", "token": "tok-ana"},
        ),
        "ben@example.com": ("", None),
    }


def test_an_interrupted_fan_out_resumes_without_duplicates(
    live_campaign, published, monkeypatch
) -> None:
    # given five members, two per batch, and a worker killed after the first batch
    monkeypatch.setattr("delivery.services.audience.FANOUT_BATCH_SIZE", 2)
    people = sorted((person(f"p{n}@example.com") for n in range(5)), key=lambda p: p.pk)
    campaign = live_campaign(category="marketing", audience=static_audience("Five", people))
    execution = accept_audience(campaign)
    crash = CrashAfterFirstBatch(monkeypatch)
    with pytest.raises(RuntimeError, match="worker killed"):
        execution_fanout(execution_id=execution.pk)
    execution.refresh_from_db()
    assert Message.objects.filter(execution=execution).count() == 2
    assert (execution.fanout_cursor, execution.fanout_done) == (people[1].pk, False)
    assert len(published) == 1
    # while its heartbeat is fresh nobody else takes it
    crash.armed = False
    assert execution_fanout(execution_id=execution.pk) is False
    assert Message.objects.filter(execution=execution).count() == 2

    # when its heartbeat is old (the sweeper's case) and it runs again
    Execution.objects.filter(pk=execution.pk).update(heartbeat_at=None)
    assert execution_fanout(execution_id=execution.pk) is True

    # then every member has exactly one message, and it finished
    assert sorted(
        Message.objects.filter(execution=execution).values_list("profile_id", flat=True)
    ) == [p.pk for p in people]
    messages = {m.profile_id: str(m.pk) for m in Message.objects.filter(execution=execution)}
    assert published == [
        [messages[people[0].pk], messages[people[1].pk]],
        [messages[people[2].pk], messages[people[3].pk]],
        [messages[people[4].pk]],
    ]
    execution.refresh_from_db()
    assert (execution.targeted_count, execution.fanout_done) == (5, True)
    # and a finished fan-out never runs again
    Execution.objects.filter(pk=execution.pk).update(heartbeat_at=None)
    assert execution_fanout(execution_id=execution.pk) is False
    assert Message.objects.filter(execution=execution).count() == 5


def test_a_batch_written_but_not_published_is_published_when_the_fan_out_resumes(
    live_campaign, published, monkeypatch
) -> None:
    # given a worker killed after writing its first batch but before publishing it
    monkeypatch.setattr("delivery.services.audience.FANOUT_BATCH_SIZE", 2)
    people = [person(f"p{n}@example.com") for n in range(3)]
    campaign = live_campaign(category="marketing", audience=static_audience("Three", people))
    execution = accept_audience(campaign)

    def killed(_ids: Any, **_options: Any) -> None:
        raise RuntimeError("worker killed")

    monkeypatch.setattr("delivery.services.audience.send_now", killed)
    with pytest.raises(RuntimeError):
        execution_fanout(execution_id=execution.pk)
    written = sorted(str(pk) for pk in Message.objects.values_list("pk", flat=True))
    assert len(written) == 2
    execution.refresh_from_db()
    assert execution.fanout_cursor is None  # the cursor waits for the publish

    # when it resumes
    monkeypatch.setattr("delivery.services.audience.send_now", send_now)
    Execution.objects.filter(pk=execution.pk).update(heartbeat_at=None)
    execution_fanout(execution_id=execution.pk)

    # then the first batch is published (not left for the sweeper), and no row doubled
    assert sorted(str(i) for i in published[0]) == written
    assert Message.objects.filter(execution=execution).count() == 3
    assert sum(len(batch) for batch in published) == 3


def test_a_throttled_fan_out_dates_each_batch_when_the_throttle_will_reach_it(
    live_campaign, published, monkeypatch
) -> None:
    # given 6 members, 2 per batch, at 10 messages a second
    monkeypatch.setattr("delivery.services.audience.FANOUT_BATCH_SIZE", 2)
    people = [person(f"p{n}@example.com") for n in range(6)]
    campaign = live_campaign(
        category="marketing", audience=static_audience("Six", people), throttle_rate=10
    )
    execution = accept_audience(campaign)

    execution_fanout(execution_id=execution.pk)

    # then the sweeper's grace counts from 0 s, 0.2 s and 0.4 s after each batch's write
    dates = sorted({m.enqueued_at for m in Message.objects.all() if m.enqueued_at is not None})
    assert len(dates) == 3
    gaps = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(dates)]
    assert all(0.2 <= gap < 1.0 for gap in gaps)


# --- Memory: one batch at a time ---------------------------------------------------


def _audience_of(size: int, group: str) -> Audience:
    Profile.objects.bulk_create(
        [
            Profile(attributes={"group": group}, email_address=f"{group}-{n}@example.com")
            for n in range(size)
        ]
    )
    return _rules_audience(
        group,
        {
            "combinator": "and",
            "conditions": [{"field": "attributes.group", "operator": "equals", "value": group}],
        },
    )


def _fanout_queries(live_campaign: Any, size: int) -> int:
    campaign = live_campaign(category="marketing", audience=_audience_of(size, f"q{size}"))
    execution = accept_audience(campaign)
    with CaptureQueriesContext(connection) as queries:
        execution_fanout(execution_id=execution.pk)
    assert Message.objects.filter(execution=execution).count() == size
    return len(queries.captured_queries)


def test_fan_out_queries_grow_linearly_with_the_batches(
    live_campaign, published, monkeypatch
) -> None:
    monkeypatch.setattr("delivery.services.audience.FANOUT_BATCH_SIZE", 10)

    two, four, six = (_fanout_queries(live_campaign, size) for size in (20, 40, 60))

    # the same fixed cost per batch (read, identities, in a savepoint the lease renewed, the messages and
    # their report counter, ids, cursor), nothing more
    per_two_batches = four - two
    assert six - four == per_two_batches
    assert per_two_batches == 2 * 9
    assert sum(len(batch) for batch in published) == 120


def test_the_audience_is_read_one_batch_at_a_time(live_campaign, published, monkeypatch):
    # given an audience of 7 read 3 at a time, and a reader noting, each time the
    # fan-out asks for the next batch, how much it has written and published already
    monkeypatch.setattr("delivery.services.audience.FANOUT_BATCH_SIZE", 3)
    people = [person(f"p{n}@example.com") for n in range(7)]
    campaign = live_campaign(category="marketing", audience=static_audience("Seven", people))
    execution = accept_audience(campaign)
    seen: list[tuple[int, int]] = []

    def watched(*args: Any, **kwargs: Any) -> Any:
        for batch in audience_iter_batches(*args, **kwargs):
            seen.append((Message.objects.filter(execution=execution).count(), len(published)))
            yield batch

    monkeypatch.setattr("delivery.services.audience.audience_iter_batches", watched)

    execution_fanout(execution_id=execution.pk)

    # then each batch was read only after the one before was written and published:
    # the audience is streamed, never listed whole
    assert seen == [(0, 0), (3, 1), (6, 2)]


def _fanout_peak(live_campaign: Any, size: int, monkeypatch: pytest.MonkeyPatch) -> int:
    campaign = live_campaign(category="marketing", audience=_audience_of(size, f"m{size}"))
    execution = accept_audience(campaign)
    published = [0]
    monkeypatch.setattr(
        "delivery.services.audience.send_now",
        lambda message_ids, **_: published.__setitem__(0, published[0] + len(message_ids)),
    )
    gc.collect()
    tracemalloc.start()
    try:
        execution_fanout(execution_id=execution.pk)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert published[0] == size
    return peak


def test_fan_out_memory_does_not_grow_with_the_audience(live_campaign, monkeypatch) -> None:
    # given audiences of 200 and 800 profiles (2 and 8 batches of 100)
    monkeypatch.setattr("delivery.services.audience.FANOUT_BATCH_SIZE", 100)
    small = _fanout_peak(live_campaign, 200, monkeypatch)
    large = _fanout_peak(live_campaign, 800, monkeypatch)

    # then four times the audience needs about the same memory: one batch's worth
    assert large < small * 1.3, (small, large)


def test_a_worker_that_lost_its_fan_out_writes_and_counts_nothing_more(
    live_campaign, published, monkeypatch
) -> None:
    # given a fan-out in batches of 10, and another worker taking it over (a fresh
    # heartbeat of its own) right after this one's first batch is published
    monkeypatch.setattr("delivery.services.audience.FANOUT_BATCH_SIZE", 10)
    campaign = live_campaign(category="marketing", audience=_audience_of(30, "lost"))
    execution = accept_audience(campaign)
    real_send_now = audience_module.send_now

    def taken_over(ids: list[Any], **options: Any) -> None:
        real_send_now(ids, **options)
        Execution.objects.filter(pk=execution.pk).update(heartbeat_at=timezone.now())

    monkeypatch.setattr("delivery.services.audience.send_now", taken_over)

    # when this worker goes on
    finished = execution_fanout(execution_id=execution.pk)

    # then it stops after the batch it had written: no more rows, nothing counted twice,
    # and the execution is left to the worker that holds it
    assert finished is False
    assert Message.objects.filter(execution=execution).count() == 10
    targeted = ReportCounter.objects.filter(campaign=campaign, metric="targeted")
    assert sum(targeted.values_list("count", flat=True)) == 10
    execution.refresh_from_db()
    assert (execution.fanout_done, execution.fanout_cursor) == (False, None)
