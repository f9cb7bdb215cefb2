"""Making executions and messages for the delivery admin tests: through the trigger API."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from django.contrib.auth.models import Permission, User
from rest_framework.test import APIClient

from campaigns.models import Campaign
from delivery.models import Execution
from tests.factories import UserFactory

Capture = Callable[..., AbstractContextManager[Any]]


def recipient(email: str, **data: Any) -> dict[str, Any]:
    return {"type": "aep", "namespace": "email", "userId": email, **data}


def trigger(
    client: APIClient,
    capture: Capture,
    campaign: Campaign,
    recipients: Sequence[dict[str, Any]],
    *,
    request_id: str,
    context: dict[str, Any] | None = None,
) -> Execution:
    """POST a unitary call and run what it publishes on commit (send tasks)."""
    body: dict[str, Any] = {
        "requestId": request_id,
        "campaignId": str(campaign.pk),
        "recipients": list(recipients),
    }
    if context is not None:
        body["context"] = context
    with capture(execute=True):
        response = client.post("/api/v1/executions/unitary", body, format="json")
    assert response.status_code == 202, response.content
    return Execution.objects.get(pk=response.json()["executionId"])


def staff_with(*codenames: str, username: str = "viewer") -> User:
    """A staff user holding exactly these permissions (codenames of any app)."""
    user = UserFactory.create(username=username)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user
