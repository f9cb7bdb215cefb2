"""``POST /api/v1/executions/audience``: now (an execution) or later (a schedule that can
be read and cancelled), and the audience's messages rendered with the call's context."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from django.core import mail
from django.utils import timezone

from audiences.models import Audience
from audiences.services.audiences import audience_add_members, audience_create
from campaigns.models import Campaign
from core.scopes import EXECUTIONS_READ, EXECUTIONS_TRIGGER
from delivery.models import Execution, ExecutionSchedule, IdempotencyRecord, Message
from tests.delivery.trigger_calls import AUDIENCE, problem, stored_profile

pytestmark = pytest.mark.django_db

CONTENT = {
    "en": {
        "subject": "{{ context.sale.name }} for {{ profile.firstName }}",
        "html": "<p>{{ context.sale.name }}</p>",
        "text": "{{ context.sale.name }} -{{ context.sale.discount }}%",
    }
}


@pytest.fixture
def fanout_inline(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Fan-out tasks run at once in the test's process (their send tasks too, with
    ``send_inline``); returns the execution ids they ran for."""
    from delivery.services.audience import execution_fanout

    ran: list[str] = []

    def run(args: tuple[str], kwargs: Any = None, **options: Any) -> None:
        ran.append(args[0])
        execution_fanout(execution_id=UUID(args[0]))

    # apply_async: what ``delay`` calls too
    monkeypatch.setattr("delivery.tasks.execution_fanout_task.apply_async", run)
    return ran


@pytest.fixture
def newsletter(db: None) -> Audience:
    """A static audience of two opted-in profiles."""
    for value, name in (("ana@example.com", "Ana"), ("bo@example.com", "Bo")):
        stored_profile(value, attributes={"firstName": name}, consent={"email": "opted_in"})
    audience = audience_create(name="Newsletter", kind=Audience.Kind.STATIC)
    audience_add_members(
        audience=audience, identities=[("email", "ana@example.com"), ("email", "bo@example.com")]
    )
    return audience


@pytest.fixture
def promotion(live_campaign: Any, newsletter: Audience) -> Campaign:
    campaign: Campaign = live_campaign(category="marketing", audience=newsletter, content=CONTENT)
    return campaign


def test_an_audience_call_with_context_sends_to_every_member(
    api_client, promotion, fanout_inline, send_inline, django_capture_on_commit_callbacks
) -> None:
    client = api_client(EXECUTIONS_TRIGGER)
    body = {
        "campaignId": str(promotion.pk),
        "requestId": "sale-1",
        "context": {"sale": {"name": "Winter sale", "discount": 30}},
    }

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(AUDIENCE, body, format="json")

    assert response.status_code == 202, response.content
    execution = Execution.objects.get()
    assert response.json() == {
        "executionId": str(execution.pk),
        "requestId": "sale-1",
        "campaignId": str(promotion.pk),
        "status": "queued",
        "createdAt": response.json()["createdAt"],
    }
    assert response["Location"] == f"/api/v1/executions/{execution.pk}"
    assert fanout_inline == [str(execution.pk)]
    assert execution.context == body["context"]
    assert sorted((e.to[0], e.subject) for e in mail.outbox) == [
        ("ana@example.com", "Winter sale for Ana"),
        ("bo@example.com", "Winter sale for Bo"),
    ]
    assert {e.body.splitlines()[0] for e in mail.outbox} == {"Winter sale -30%"}
    assert sorted(Message.objects.values_list("user_id", "status")) == [
        ("ana@example.com", "sent"),
        ("bo@example.com", "sent"),
    ]


def test_an_audience_execution_is_readable_with_its_counts(
    api_client, promotion, fanout_inline, send_inline, django_capture_on_commit_callbacks
) -> None:
    client = api_client(EXECUTIONS_TRIGGER, EXECUTIONS_READ)
    with django_capture_on_commit_callbacks(execute=True):
        accepted = client.post(AUDIENCE, {"campaignId": str(promotion.pk)}, format="json")

    response = client.get(accepted["Location"])

    assert response.status_code == 200
    data = response.json()
    execution = Execution.objects.get()
    assert data == {
        "executionId": str(execution.pk),
        "kind": "audience",
        "campaignId": str(promotion.pk),
        "versionId": str(promotion.live_version_id),
        "requestId": "",
        "status": "succeeded",
        "targetedProfileCount": 2,
        "counts": {
            "queued": 0,
            "sending": 0,
            "sent": 2,
            "failed": 0,
            "excluded": 0,
            "delivered": 0,
            "bounced": 0,
            "complained": 0,
        },
        "scheduleId": None,
        "error": "",
        "createdAt": data["createdAt"],
        "startedAt": data["startedAt"],
        "finishedAt": data["finishedAt"],
    }
    assert IdempotencyRecord.objects.count() == 0  # no requestId, no Idempotency-Key


def test_an_audience_call_for_later_is_a_schedule_that_can_be_read_and_cancelled(
    api_client, promotion, fanout_inline, django_capture_on_commit_callbacks
) -> None:
    client = api_client(EXECUTIONS_TRIGGER)
    execute_at = (timezone.now() + timedelta(days=1)).replace(microsecond=0)
    body = {
        "campaignId": str(promotion.pk),
        "requestId": "later-1",
        "context": {"sale": {"name": "Spring"}},
        "schedule": {"executeAt": execute_at.isoformat()},
    }

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(AUDIENCE, body, format="json")

    assert response.status_code == 202, response.content
    schedule = ExecutionSchedule.objects.get()
    expected_at = execute_at.isoformat().replace("+00:00", "Z")
    assert response.json() == {
        "scheduleId": str(schedule.pk),
        "status": "scheduled",
        "executeAt": expected_at,
        "requestId": "later-1",
        "campaignId": str(promotion.pk),
        "createdAt": response.json()["createdAt"],
    }
    location = f"/api/v1/executions/schedules/{schedule.pk}"
    assert response["Location"] == location
    assert Execution.objects.count() == 0
    assert fanout_inline == []
    assert schedule.context == {"sale": {"name": "Spring"}}

    read = client.get(location)
    assert read.status_code == 200
    expected = {
        "scheduleId": str(schedule.pk),
        "campaignId": str(promotion.pk),
        "requestId": "later-1",
        "audienceId": str(promotion.audience_id),
        "status": "scheduled",
        "executeAt": expected_at,
        "executionId": None,
        "error": "",
        "createdAt": read.json()["createdAt"],
    }
    assert read.json() == expected

    cancelled = client.delete(location)
    assert cancelled.status_code == 200
    assert cancelled.json() == expected | {"status": "cancelled"}
    assert ExecutionSchedule.objects.get().status == "cancelled"

    again = client.delete(location)
    assert again.status_code == 409
    assert again.json() == problem(
        409,
        "schedule_not_cancellable",
        "The schedule is Cancelled; only a scheduled execution can be cancelled.",
    )


def test_reading_schedules_and_executions_needs_a_scope_and_an_id_that_exists(
    api_client, promotion
) -> None:
    schedule = ExecutionSchedule.objects.create(
        campaign=promotion, execute_at=timezone.now() + timedelta(hours=1)
    )
    reader = api_client(EXECUTIONS_READ)
    nobody = api_client("campaigns:read")

    assert reader.get(f"/api/v1/executions/schedules/{schedule.pk}").status_code == 200
    refused = reader.delete(f"/api/v1/executions/schedules/{schedule.pk}")
    assert (refused.status_code, refused.json()["code"]) == (403, "missing_scope")
    assert nobody.get(f"/api/v1/executions/schedules/{schedule.pk}").status_code == 403
    for path in (
        "/api/v1/executions/schedules/not-a-uuid",
        f"/api/v1/executions/schedules/{promotion.pk}",
        "/api/v1/executions/not-a-uuid",
        f"/api/v1/executions/{promotion.pk}",
    ):
        response = reader.get(path)
        assert (response.status_code, response.json()["code"]) == (404, "not_found"), path
    assert ExecutionSchedule.objects.get().status == "scheduled"


def test_an_audience_named_in_the_call_must_exist(
    api_client, promotion, published, django_capture_on_commit_callbacks
) -> None:
    body = {"campaignId": str(promotion.pk), "audience": {"id": str(promotion.pk)}}

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(EXECUTIONS_TRIGGER).post(AUDIENCE, body, format="json")

    detail = f"No audience has the id {promotion.pk}."
    assert response.status_code == 422
    assert response.json() == problem(422, "unknown_audience", detail, [("/audience/id", detail)])
    assert Execution.objects.count() == 0
    assert ExecutionSchedule.objects.count() == 0


def test_an_audience_call_is_replayed_for_the_same_request_id(
    api_client, promotion, fanout_inline, django_capture_on_commit_callbacks
) -> None:
    client = api_client(EXECUTIONS_TRIGGER)
    body = {"campaignId": str(promotion.pk), "requestId": "once"}
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(AUDIENCE, body, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        second = client.post(AUDIENCE, body, format="json")

    assert (first.status_code, second.status_code) == (202, 202)
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Execution.objects.count() == 1
    assert len(fanout_inline) == 1
