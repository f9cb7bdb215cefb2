"""Scheduled audience executions: written at acceptance, started once when due,
failed with the reason when the campaign stopped meanwhile, cancellable until then."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from campaigns.services.lifecycle import campaign_stop
from core.actors import Actor
from core.apikeys import api_key_create, api_key_revoke
from delivery.calls import AudienceCall
from delivery.models import Execution, ExecutionSchedule
from delivery.services.audience import (
    ScheduleNotCancellable,
    execution_accept_audience,
    execution_schedule_cancel,
    execution_schedules_start,
)
from tests.delivery.sending_helpers import person, static_audience

pytestmark = pytest.mark.django_db


@pytest.fixture
def fanouts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Fan-out tasks are recorded instead of published."""
    started: list[str] = []

    def publish(args: tuple[str], kwargs: object = None, **options: object) -> None:
        started.append(args[0])

    # apply_async: what delivery.enqueue.fanout_on_commit calls (and ``delay`` too)
    monkeypatch.setattr("delivery.tasks.execution_fanout_task.apply_async", publish)
    return started


@pytest.fixture
def marketing(live_campaign: Any) -> Any:
    audience = static_audience("Ana", [person("ana@example.com", consent={"email": "opted_in"})])
    return live_campaign(category="marketing", audience=audience)


def _schedule(campaign: Any, execute_at: Any, actor: Actor | None = None, **call: Any) -> Any:
    return execution_accept_audience(
        actor=actor or Actor(),
        call=AudienceCall(campaign_id=campaign.pk, execute_at=execute_at, **call),
        fingerprint="",
        idempotency_key="",
    )


def test_an_execute_at_in_the_future_writes_a_schedule_and_no_execution(marketing) -> None:
    at = timezone.now() + timedelta(hours=1)

    response = _schedule(marketing, at, request_id="r-1", context={"sale": "spring"})

    schedule = ExecutionSchedule.objects.get()
    assert response.status == 202
    assert response.body["scheduleId"] == str(schedule.pk)
    assert response.body["status"] == "scheduled"
    assert "executionId" not in response.body
    assert (schedule.status, schedule.execute_at, schedule.context, schedule.request_id) == (
        "scheduled",
        at,
        {"sale": "spring"},
        "r-1",
    )
    assert schedule.audience_id == marketing.audience_id
    assert Execution.objects.count() == 0


def test_an_execute_at_in_the_past_runs_now(marketing, fanouts, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = _schedule(marketing, timezone.now() - timedelta(minutes=1))

    execution = Execution.objects.get()
    assert response.body["executionId"] == str(execution.pk)
    assert ExecutionSchedule.objects.count() == 0
    assert fanouts == [str(execution.pk)]


def test_a_due_schedule_starts_exactly_once(
    marketing, fanouts, django_capture_on_commit_callbacks
) -> None:
    # given a schedule for 10:00
    at = timezone.now() + timedelta(hours=1)
    _schedule(marketing, at, context={"sale": "spring"})
    schedule = ExecutionSchedule.objects.get()

    # when the dispatcher runs before its time, then twice after it
    with django_capture_on_commit_callbacks(execute=True):
        early = execution_schedules_start(now=at - timedelta(seconds=1))
        first = execution_schedules_start(now=at)
        second = execution_schedules_start(now=at + timedelta(seconds=15))

    # then it started once: one execution, with the schedule's data, and one fan-out
    assert (early, first, second) == (0, 1, 0)
    execution = Execution.objects.get()
    assert (execution.kind, execution.schedule_id, execution.context) == (
        "audience",
        schedule.pk,
        {"sale": "spring"},
    )
    assert (execution.audience_id, execution.version_id) == (
        marketing.audience_id,
        marketing.live_version_id,
    )
    assert (execution.status, execution.fanout_done) == ("queued", False)
    assert fanouts == [str(execution.pk)]
    schedule.refresh_from_db()
    assert schedule.status == "started"


def test_a_schedule_of_a_stopped_campaign_fails_with_the_reason(marketing, fanouts) -> None:
    at = timezone.now() + timedelta(hours=1)
    _schedule(marketing, at)
    campaign_stop(campaign=marketing, actor=Actor())

    started = execution_schedules_start(now=at)

    assert started == 0
    schedule = ExecutionSchedule.objects.get()
    assert (schedule.status, schedule.error) == (
        "failed",
        "The campaign is Stopped, not live; only live campaigns can be triggered.",
    )
    assert Execution.objects.count() == 0
    assert fanouts == []


def test_a_schedule_whose_api_key_was_revoked_fails(marketing, fanouts) -> None:
    key, _secret = api_key_create(name="scheduler", scopes=["executions:trigger"])
    at = timezone.now() + timedelta(hours=1)
    _schedule(marketing, at, actor=Actor(api_key=key))
    api_key_revoke(key=key, actor=Actor())

    assert execution_schedules_start(now=at) == 0

    schedule = ExecutionSchedule.objects.get()
    assert (schedule.status, schedule.error) == (
        "failed",
        "The API key that scheduled this execution was revoked.",
    )
    assert Execution.objects.count() == 0
    assert fanouts == []


def test_a_cancelled_schedule_never_starts(marketing, fanouts) -> None:
    at = timezone.now() + timedelta(hours=1)
    _schedule(marketing, at)
    schedule = ExecutionSchedule.objects.get()

    cancelled = execution_schedule_cancel(schedule=schedule)
    started = execution_schedules_start(now=at + timedelta(days=1))

    assert cancelled.status == "cancelled"
    assert started == 0
    assert ExecutionSchedule.objects.get().status == "cancelled"
    assert Execution.objects.count() == 0
    assert fanouts == []


@pytest.mark.parametrize("status", ["started", "failed", "cancelled"])
def test_only_a_scheduled_execution_can_be_cancelled(marketing, status: str) -> None:
    at = timezone.now() + timedelta(hours=1)
    _schedule(marketing, at)
    schedule = ExecutionSchedule.objects.get()
    ExecutionSchedule.objects.filter(pk=schedule.pk).update(status=status)

    with pytest.raises(ScheduleNotCancellable) as raised:
        execution_schedule_cancel(schedule=schedule)

    assert (raised.value.status, raised.value.code) == (409, "schedule_not_cancellable")
    label = {"started": "Started", "failed": "Failed", "cancelled": "Cancelled"}[status]
    assert raised.value.message == (
        f"The schedule is {label}; only a scheduled execution can be cancelled."
    )
    assert ExecutionSchedule.objects.get().status == status
