"""Every campaign transition, legal and illegal, and the versions it freezes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audiences.models import Audience, Profile
from campaigns.models import AuditEvent, Campaign, CampaignVersion, Status
from campaigns.services import lifecycle
from campaigns.services.authoring import (
    campaign_delete,
    campaign_duplicate,
    campaign_update,
)
from core.actors import Actor
from core.errors import InvalidTransition, ReviewBlocked
from tests.campaigns.version_helpers import frozen_schedule
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()


def _in_status(status: str) -> Campaign:
    """A campaign brought to ``status`` through the services."""
    campaign = CampaignFactory.create()
    if status == Status.DRAFT:
        return campaign
    if status == Status.IN_REVIEW:
        Campaign.objects.filter(pk=campaign.pk).update(status=Status.IN_REVIEW)
        campaign.refresh_from_db()
        return campaign
    if status == Status.SCHEDULED:
        campaign.start_at = timezone.now() + timedelta(days=1)
        campaign.save()
        return lifecycle.campaign_activate(campaign=campaign, actor=SYSTEM)
    campaign = lifecycle.campaign_activate(campaign=campaign, actor=SYSTEM)
    if status == Status.LIVE:
        return campaign
    if status == Status.STOPPED:
        return lifecycle.campaign_stop(campaign=campaign, actor=SYSTEM)
    if status == Status.COMPLETED:
        Campaign.objects.filter(pk=campaign.pk).update(status=Status.COMPLETED)
    if status == Status.ARCHIVED:
        return lifecycle.campaign_archive(campaign=campaign, actor=SYSTEM)
    campaign.refresh_from_db()
    return campaign


def test_activate_without_start_goes_live_with_version_one() -> None:
    campaign = lifecycle.campaign_activate(campaign=CampaignFactory.create(), actor=SYSTEM)

    assert campaign.status == Status.LIVE
    assert campaign.live_version is not None
    assert campaign.live_version.number == 1
    assert campaign.live_version.snapshot["content"]["en"]["subject"] == (
        "Thanks {{ profile.person.name.firstName }}"
    )
    assert campaign.live_version.snapshot["channelSettings"]["fromEmail"] == "shop@example.com"
    assert campaign.activated_at is not None
    assert list(AuditEvent.objects.filter(campaign=campaign).values_list("action", flat=True)) == [
        "activate"
    ]


def test_activate_with_future_start_is_scheduled() -> None:
    campaign = _in_status(Status.SCHEDULED)

    assert campaign.status == Status.SCHEDULED
    assert campaign.live_version is not None


def test_activate_refuses_when_review_has_errors_and_freezes_nothing() -> None:
    campaign = CampaignFactory.create(channel_configuration=None)

    with pytest.raises(ReviewBlocked) as caught:
        lifecycle.campaign_activate(campaign=campaign, actor=SYSTEM)

    assert [e.pointer for e in caught.value.errors] == ["/channelConfiguration"]
    campaign.refresh_from_db()
    assert campaign.status == Status.DRAFT
    assert CampaignVersion.objects.count() == 0


# (transition, statuses it accepts)
TRANSITIONS: dict[str, tuple[Callable[..., Campaign], set[str]]] = {
    "activate": (lifecycle.campaign_activate, {Status.DRAFT}),
    "stop": (lifecycle.campaign_stop, {Status.LIVE, Status.SCHEDULED}),
    "archive": (
        lifecycle.campaign_archive,
        {Status.IN_REVIEW, Status.SCHEDULED, Status.LIVE, Status.STOPPED, Status.COMPLETED},
    ),
    "open_draft_version": (lifecycle.campaign_open_draft_version, {Status.LIVE, Status.SCHEDULED}),
    "reject": (lifecycle.campaign_reject, {Status.IN_REVIEW}),
}
ALL_STATUSES = [s.value for s in Status]


@pytest.mark.parametrize(
    ("name", "status"),
    [
        (name, status)
        for name, (_, ok) in TRANSITIONS.items()
        for status in ALL_STATUSES
        if status not in ok
    ],
)
def test_illegal_transitions_are_refused_and_change_nothing(name: str, status: str) -> None:
    campaign = _in_status(status)
    events_before = AuditEvent.objects.count()
    transition = TRANSITIONS[name][0]

    with pytest.raises(InvalidTransition) as caught:
        transition(campaign=campaign, actor=SYSTEM)

    assert "Cannot" in caught.value.message
    campaign.refresh_from_db()
    assert campaign.status == status
    assert AuditEvent.objects.count() == events_before


@pytest.mark.parametrize(
    ("name", "status", "expected"),
    [
        ("stop", Status.LIVE, Status.STOPPED),
        ("stop", Status.SCHEDULED, Status.STOPPED),
        ("archive", Status.IN_REVIEW, Status.ARCHIVED),
        ("archive", Status.LIVE, Status.ARCHIVED),
        ("archive", Status.SCHEDULED, Status.ARCHIVED),
        ("archive", Status.STOPPED, Status.ARCHIVED),
        ("archive", Status.COMPLETED, Status.ARCHIVED),
        ("reject", Status.IN_REVIEW, Status.DRAFT),
        ("open_draft_version", Status.LIVE, Status.LIVE),
        ("open_draft_version", Status.SCHEDULED, Status.SCHEDULED),
    ],
)
def test_legal_transitions(name: str, status: str, expected: str) -> None:
    campaign = _in_status(status)

    result = TRANSITIONS[name][0](campaign=campaign, actor=SYSTEM)

    assert result.status == expected
    assert AuditEvent.objects.filter(campaign=campaign, action=name).count() == 1


def test_stopped_campaign_cannot_be_reactivated_but_can_be_duplicated() -> None:
    stopped = _in_status(Status.STOPPED)

    with pytest.raises(InvalidTransition):
        lifecycle.campaign_activate(campaign=stopped, actor=SYSTEM)
    copy = campaign_duplicate(campaign=stopped, actor=SYSTEM)

    assert copy.status == Status.DRAFT
    assert copy.pk != stopped.pk
    assert copy.name == f"{stopped.name} (copy)"
    assert copy.live_version is None
    assert list(copy.contents.values_list("locale", "subject")) == list(
        stopped.contents.values_list("locale", "subject")
    )
    assert lifecycle.campaign_activate(campaign=copy, actor=SYSTEM).status == Status.LIVE


@pytest.mark.parametrize("status", [s for s in ALL_STATUSES if s != Status.DRAFT])
def test_only_drafts_can_be_deleted(status: str) -> None:
    campaign = _in_status(status)

    with pytest.raises(InvalidTransition) as caught:
        campaign_delete(campaign=campaign, actor=SYSTEM)

    assert caught.value.code == "not_deletable"
    assert Campaign.objects.filter(pk=campaign.pk).exists()


def test_draft_is_deleted_and_the_deletion_audited() -> None:
    campaign = CampaignFactory.create()

    campaign_delete(campaign=campaign, actor=SYSTEM)

    assert not Campaign.objects.filter(pk=campaign.pk).exists()
    event = AuditEvent.objects.get(action="delete")
    assert event.campaign is None
    assert event.campaign_name == campaign.name


def test_live_campaign_cannot_be_edited_without_a_draft_version() -> None:
    campaign = _in_status(Status.LIVE)

    with pytest.raises(InvalidTransition) as caught:
        campaign_update(campaign=campaign, data={"name": "Renamed"}, actor=SYSTEM)

    assert caught.value.code == "draft_version_required"
    campaign.refresh_from_db()
    assert campaign.name != "Renamed"


def test_publish_freezes_a_new_live_version_and_keeps_the_old_one() -> None:
    campaign = _in_status(Status.LIVE)
    first = campaign.live_version
    assert first is not None
    lifecycle.campaign_open_draft_version(campaign=campaign, actor=SYSTEM)
    campaign_update(
        campaign=campaign,
        data={"content": {"en": {"subject": "Version two", "html": "<p>2</p>", "text": "2"}}},
        actor=SYSTEM,
    )
    campaign.refresh_from_db()
    # Until published, delivery keeps the frozen version 1.
    assert campaign.live_version == first
    assert campaign.live_version.snapshot["content"]["en"]["subject"].startswith("Thanks")

    campaign = lifecycle.campaign_publish(campaign=campaign, actor=SYSTEM)

    assert campaign.live_version is not None
    assert campaign.live_version.number == 2
    assert campaign.live_version.snapshot["content"]["en"]["subject"] == "Version two"
    assert campaign.has_draft_version is False
    assert list(campaign.versions.order_by("number").values_list("number", flat=True)) == [1, 2]
    first.refresh_from_db()
    assert first.snapshot["content"]["en"]["subject"].startswith("Thanks")


def test_publish_without_a_draft_version_is_refused() -> None:
    campaign = _in_status(Status.LIVE)

    with pytest.raises(InvalidTransition) as caught:
        lifecycle.campaign_publish(campaign=campaign, actor=SYSTEM)

    assert caught.value.code == "no_draft_version"
    assert campaign.versions.count() == 1


def test_publish_with_review_errors_keeps_the_live_version() -> None:
    campaign = _in_status(Status.LIVE)
    lifecycle.campaign_open_draft_version(campaign=campaign, actor=SYSTEM)
    campaign_update(campaign=campaign, data={"content": {"en": {"subject": ""}}}, actor=SYSTEM)

    with pytest.raises(ReviewBlocked):
        lifecycle.campaign_publish(campaign=campaign, actor=SYSTEM)

    campaign.refresh_from_db()
    assert campaign.live_version is not None
    assert campaign.live_version.number == 1
    assert campaign.has_draft_version is True


def test_discard_draft_version_restores_the_live_content() -> None:
    campaign = _in_status(Status.LIVE)
    lifecycle.campaign_open_draft_version(campaign=campaign, actor=SYSTEM)
    campaign_update(
        campaign=campaign,
        data={"name": "Edited", "content": {"en": {"subject": "Edited"}, "fr": {"subject": "Non"}}},
        actor=SYSTEM,
    )

    campaign = lifecycle.campaign_discard_draft_version(campaign=campaign, actor=SYSTEM)

    campaign.refresh_from_db()
    assert campaign.has_draft_version is False
    assert campaign.name.startswith("Order confirmation")
    assert list(campaign.contents.values_list("locale", flat=True)) == ["en"]
    assert campaign.contents.get().subject.startswith("Thanks")


def test_versions_cannot_be_modified() -> None:
    campaign = _in_status(Status.LIVE)
    version = campaign.live_version
    assert version is not None
    version.snapshot = {}

    with pytest.raises(RuntimeError):
        version.save()


def test_dispatcher_starts_due_campaigns_and_completes_ended_ones() -> None:
    now = timezone.now()
    due = _in_status(Status.SCHEDULED)
    not_due = _in_status(Status.SCHEDULED)
    ending = _in_status(Status.LIVE)
    running = _in_status(Status.LIVE)
    stopped = _in_status(Status.STOPPED)
    frozen_schedule(due, start_at=now - timedelta(seconds=1), end_at=None)
    frozen_schedule(ending, start_at=None, end_at=now - timedelta(seconds=1))
    frozen_schedule(running, start_at=None, end_at=now + timedelta(hours=1))
    frozen_schedule(stopped, start_at=None, end_at=now - timedelta(seconds=1))

    counts = lifecycle.campaign_dispatch_due(now=now)
    again = lifecycle.campaign_dispatch_due(now=now)

    assert counts == {"live": 1, "completed": 1}
    assert again == {"live": 0, "completed": 0}
    statuses = dict(Campaign.objects.values_list("pk", "status"))
    assert statuses == {
        due.pk: Status.LIVE,
        not_due.pk: Status.SCHEDULED,
        ending.pk: Status.COMPLETED,
        running.pk: Status.LIVE,
        stopped.pk: Status.STOPPED,
    }
    assert AuditEvent.objects.filter(action="go_live", campaign=due).count() == 1
    assert AuditEvent.objects.filter(action="complete", campaign=ending).count() == 1


def test_activation_checks_the_audience_with_exists_never_a_count() -> None:
    # given a marketing campaign whose audience has members
    audience = Audience.objects.create(name="Members", kind=Audience.Kind.STATIC)
    audience.members.add(*(Profile.objects.create() for _ in range(3)))
    campaign = CampaignFactory.create(category="marketing", audience=audience)

    # when it is activated (the review runs under the campaign's row lock)
    with CaptureQueriesContext(connection) as queries:
        activated = lifecycle.campaign_activate(campaign=campaign, actor=SYSTEM)

    # then it is live, and no query counted the audience: one EXISTS (LIMIT 1) asked
    assert activated.status == Status.LIVE
    sql = [query["sql"].upper() for query in queries.captured_queries]
    assert [statement for statement in sql if "COUNT(" in statement] == []
    audience_reads = [s for s in sql if "AUDIENCES_AUDIENCEMEMBER" in s]
    assert len(audience_reads) == 1
    assert audience_reads[0].endswith("LIMIT 1")


def test_activation_of_a_campaign_with_an_empty_audience_warns_but_goes_live() -> None:
    # given a marketing campaign whose audience is empty
    audience = Audience.objects.create(name="Nobody", kind=Audience.Kind.STATIC)
    campaign = CampaignFactory.create(category="marketing", audience=audience)

    # when it is activated
    with CaptureQueriesContext(connection) as queries:
        activated = lifecycle.campaign_activate(campaign=campaign, actor=SYSTEM)

    # then it is live (an empty audience is a warning), and nothing was counted
    assert activated.status == Status.LIVE
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)


@pytest.mark.parametrize("stop", [lifecycle.campaign_stop, lifecycle.campaign_archive])
def test_stopping_or_archiving_closes_the_draft_version_and_restores_the_live_row(
    stop: Callable[..., Campaign],
) -> None:
    campaign = _in_status(Status.LIVE)
    lifecycle.campaign_open_draft_version(campaign=campaign, actor=SYSTEM)
    campaign_update(
        campaign=campaign,
        data={"name": "Draft name", "content": {"en": {"subject": "Draft"}}},
        actor=SYSTEM,
    )

    campaign = stop(campaign=campaign, actor=SYSTEM)

    campaign.refresh_from_db()
    assert campaign.has_draft_version is False
    assert campaign.live_version is not None
    assert campaign.name == campaign.live_version.snapshot["name"]
    assert campaign.contents.get().subject == "Thanks {{ profile.person.name.firstName }}"
    event = AuditEvent.objects.filter(campaign=campaign).latest("id")
    assert (event.action, event.detail) == (
        "stop" if stop is lifecycle.campaign_stop else "archive",
        {"discardedDraftVersion": True},
    )


def test_stopping_without_a_draft_version_records_no_discard() -> None:
    campaign = lifecycle.campaign_stop(campaign=_in_status(Status.LIVE), actor=SYSTEM)

    event = AuditEvent.objects.filter(campaign=campaign).latest("id")
    assert (event.action, event.detail, campaign.has_draft_version) == ("stop", {}, False)


@pytest.mark.parametrize(
    "status", [Status.DRAFT, Status.IN_REVIEW, Status.STOPPED, Status.COMPLETED, Status.ARCHIVED]
)
def test_discarding_is_refused_outside_live_and_scheduled_and_changes_nothing(
    status: str,
) -> None:
    campaign = _in_status(status)
    # A stale flag (data from before stop closed draft versions) and an edited row.
    Campaign.objects.filter(pk=campaign.pk).update(has_draft_version=True, name="Edited row")
    events_before = AuditEvent.objects.count()

    with pytest.raises(InvalidTransition) as caught:
        lifecycle.campaign_discard_draft_version(campaign=campaign, actor=SYSTEM)

    assert caught.value.code == "invalid_transition"
    assert caught.value.message.startswith("Cannot discard the draft version of a campaign")
    campaign.refresh_from_db()
    assert (campaign.status, campaign.name, campaign.has_draft_version) == (
        status,
        "Edited row",
        True,
    )
    assert AuditEvent.objects.count() == events_before
