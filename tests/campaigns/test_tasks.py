"""campaign_dispatch_due_task (run by beat every minute) and its service, campaign_dispatch_due."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from campaigns.models import AuditEvent, Campaign, CampaignVersion, Status
from campaigns.services.authoring import campaign_update
from campaigns.services.lifecycle import (
    campaign_activate,
    campaign_dispatch_due,
    campaign_open_draft_version,
    campaign_stop,
)
from campaigns.tasks import campaign_dispatch_due_task
from campaigns.versions import SnapshotSchemaError
from core.actors import Actor
from core.formats import iso_datetime
from tests.campaigns.version_helpers import frozen_schedule
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()


def _activated(*, start_at: datetime | None = None, end_at: datetime | None = None) -> Campaign:
    campaign = CampaignFactory.create(start_at=start_at, end_at=end_at)
    return campaign_activate(campaign=campaign, actor=SYSTEM)


def _statuses() -> dict[object, str]:
    return dict(Campaign.objects.values_list("pk", "status"))


def test_scheduled_campaign_goes_live_when_its_start_comes() -> None:
    start = timezone.now() + timedelta(hours=1)
    campaign = _activated(start_at=start)
    assert campaign.status == Status.SCHEDULED
    events_before = set(AuditEvent.objects.values_list("pk", flat=True))

    before_start = campaign_dispatch_due(now=start - timedelta(seconds=1))
    at_start = campaign_dispatch_due(now=start)

    assert before_start == {"live": 0, "completed": 0}
    assert at_start == {"live": 1, "completed": 0}
    campaign.refresh_from_db()
    assert campaign.status == Status.LIVE
    assert campaign.live_version is not None
    assert campaign.live_version.number == 1
    event = AuditEvent.objects.exclude(pk__in=events_before).get()
    assert (event.action, event.campaign_id, event.actor, event.api_key) == (
        "go_live",
        campaign.pk,
        None,
        None,
    )


def test_live_campaign_completes_once_its_end_has_passed() -> None:
    end = timezone.now() + timedelta(hours=1)
    campaign = _activated(end_at=end)

    counts = campaign_dispatch_due(now=end + timedelta(seconds=1))

    assert counts == {"live": 0, "completed": 1}
    campaign.refresh_from_db()
    assert campaign.status == Status.COMPLETED
    assert AuditEvent.objects.filter(campaign=campaign, action="complete").count() == 1


def test_campaign_whose_whole_window_passed_goes_live_then_completes_in_one_run() -> None:
    start = timezone.now() + timedelta(hours=1)
    campaign = _activated(start_at=start, end_at=start + timedelta(minutes=5))

    counts = campaign_dispatch_due(now=start + timedelta(hours=1))

    assert counts == {"live": 1, "completed": 1}
    campaign.refresh_from_db()
    assert campaign.status == Status.COMPLETED
    actions = list(
        AuditEvent.objects.filter(campaign=campaign).order_by("id").values_list("action", flat=True)
    )
    assert actions == ["activate", "go_live", "complete"]


def test_nothing_else_is_touched() -> None:
    now = timezone.now()
    past = now - timedelta(days=1)
    draft = CampaignFactory.create(start_at=past)
    in_review = CampaignFactory.create(start_at=past)
    Campaign.objects.filter(pk=in_review.pk).update(status=Status.IN_REVIEW)
    stopped = campaign_stop(campaign=_activated(end_at=now + timedelta(hours=1)), actor=SYSTEM)
    frozen_schedule(stopped, start_at=None, end_at=past)
    live_without_end = _activated()
    not_due = _activated(start_at=now + timedelta(days=1))
    before = _statuses()
    updated_before = dict(Campaign.objects.values_list("pk", "updated_at"))
    events_before = AuditEvent.objects.count()

    counts = campaign_dispatch_due(now=now)

    assert counts == {"live": 0, "completed": 0}
    assert (
        _statuses()
        == before
        == {
            draft.pk: Status.DRAFT,
            in_review.pk: Status.IN_REVIEW,
            stopped.pk: Status.STOPPED,
            live_without_end.pk: Status.LIVE,
            not_due.pk: Status.SCHEDULED,
        }
    )
    assert dict(Campaign.objects.values_list("pk", "updated_at")) == updated_before
    assert AuditEvent.objects.count() == events_before


def test_task_is_idempotent_when_run_twice() -> None:
    now = timezone.now()
    due = _activated(start_at=now + timedelta(hours=1))
    ending = _activated(end_at=now + timedelta(hours=1))
    frozen_schedule(due, start_at=now - timedelta(minutes=1), end_at=None)
    frozen_schedule(ending, start_at=None, end_at=now - timedelta(minutes=1))

    first = campaign_dispatch_due_task.apply().get()
    events_after_first = AuditEvent.objects.count()
    second = campaign_dispatch_due_task.apply().get()

    assert first == {"live": 1, "completed": 1}
    assert second == {"live": 0, "completed": 0}
    assert _statuses() == {due.pk: Status.LIVE, ending.pk: Status.COMPLETED}
    assert AuditEvent.objects.count() == events_after_first


def test_a_draft_edit_moving_the_end_into_the_past_does_not_complete_the_live_campaign() -> None:
    now = timezone.now()
    campaign = _activated(end_at=now + timedelta(days=1))
    campaign_open_draft_version(campaign=campaign, actor=SYSTEM)
    campaign_update(
        campaign=campaign,
        data={"schedule": {"endAt": iso_datetime(now - timedelta(days=1))}},
        actor=SYSTEM,
    )
    events_before = AuditEvent.objects.count()

    counts = campaign_dispatch_due(now=now)

    assert counts == {"live": 0, "completed": 0}
    campaign.refresh_from_db()
    assert (campaign.status, campaign.has_draft_version) == (Status.LIVE, True)
    assert campaign.end_at == now - timedelta(days=1)
    assert AuditEvent.objects.count() == events_before


def test_a_live_campaign_completes_when_its_live_versions_end_passed_despite_a_later_draft_end() -> (
    None
):
    now = timezone.now()
    end = now + timedelta(hours=1)
    campaign = _activated(end_at=end)
    campaign_open_draft_version(campaign=campaign, actor=SYSTEM)
    campaign_update(
        campaign=campaign,
        data={
            "name": "Renamed in draft",
            "schedule": {"endAt": iso_datetime(end + timedelta(days=30))},
        },
        actor=SYSTEM,
    )

    counts = campaign_dispatch_due(now=end + timedelta(seconds=1))

    assert counts == {"live": 0, "completed": 1}
    campaign.refresh_from_db()
    assert campaign.status == Status.COMPLETED
    # Completion closes the draft version: the row is the live version again.
    assert campaign.live_version is not None
    assert (campaign.has_draft_version, campaign.end_at, campaign.name) == (
        False,
        end,
        campaign.live_version.snapshot["name"],
    )


def test_a_scheduled_campaign_starts_from_its_live_versions_start_not_a_draft_edit() -> None:
    now = timezone.now()
    start = now + timedelta(hours=1)
    edited_early = _activated(start_at=start)
    edited_late = _activated(start_at=start)
    for campaign, draft_start in (
        (edited_early, now - timedelta(hours=1)),
        (edited_late, start + timedelta(days=1)),
    ):
        campaign_open_draft_version(campaign=campaign, actor=SYSTEM)
        campaign_update(
            campaign=campaign,
            data={"schedule": {"startAt": iso_datetime(draft_start)}},
            actor=SYSTEM,
        )

    before_start = campaign_dispatch_due(now=now)
    at_start = campaign_dispatch_due(now=start)

    assert before_start == {"live": 0, "completed": 0}
    assert at_start == {"live": 2, "completed": 0}
    assert _statuses() == {edited_early.pk: Status.LIVE, edited_late.pk: Status.LIVE}


def test_a_campaign_whose_version_cannot_be_read_holds_up_no_other_completion() -> None:
    # given two live campaigns past their end, one with an open draft version whose
    # live version was frozen by a newer Clarion (a snapshot this code cannot read)
    end = timezone.now() + timedelta(hours=1)
    unreadable = _activated(end_at=end)
    campaign_open_draft_version(campaign=unreadable, actor=SYSTEM)
    version = unreadable.live_version
    assert version is not None
    CampaignVersion.objects.filter(pk=version.pk).update(
        snapshot={**version.snapshot, "schemaVersion": 99}
    )
    readable = _activated(end_at=end)

    # when the dispatcher runs
    counts = campaign_dispatch_due(now=end + timedelta(seconds=1))

    # then the readable one completes, the other stays live for a person to look at,
    # and stopping it by hand is a clear refusal, not a crash
    assert counts == {"live": 0, "completed": 1}
    assert _statuses() == {readable.pk: Status.COMPLETED, unreadable.pk: Status.LIVE}
    with pytest.raises(SnapshotSchemaError) as refused:
        campaign_stop(campaign=unreadable, actor=SYSTEM)
    assert (refused.value.status, refused.value.code) == (409, "unreadable_version")
