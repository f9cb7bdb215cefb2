"""Building trigger calls and checking that a refused one left nothing behind."""

from __future__ import annotations

from typing import Any

from audiences.models import Identity, Profile
from audiences.profile_input import profile_input_parse
from audiences.services.profiles import profile_upsert
from campaigns.models import Campaign
from delivery.models import Execution, ExecutionSchedule, IdempotencyRecord, Message

UNITARY = "/api/v1/executions/unitary"
AUDIENCE = "/api/v1/executions/audience"


def aep(user_id: str = "ana@example.com", **fields: Any) -> dict[str, Any]:
    """A recipient of type aep in the email namespace."""
    return {"type": "aep", "namespace": "email", "userId": user_id, **fields}


def external(user_id: str, **fields: Any) -> dict[str, Any]:
    return {"type": "external", "userId": user_id, **fields}


def unitary(
    campaign: Campaign, *recipients: dict[str, Any], request_id: str = "r-1", **fields: Any
) -> dict[str, Any]:
    """A unitary call body: ``recipients`` default to one aep recipient."""
    return {
        "requestId": request_id,
        "campaignId": str(campaign.pk),
        "recipients": list(recipients) or [aep()],
        **fields,
    }


def stored_profile(
    value: str = "ana@example.com", namespace: str = "email", **data: Any
) -> Profile:
    """A profile in the store, found by ``namespace``/``value``; ``data`` as the upsert body."""
    profile, _created = profile_upsert(
        data=profile_input_parse(namespace=namespace, value=value, data=data)
    )
    return profile


def problem(
    status: int, code: str, detail: str, errors: list[tuple[str, str]] | None = None
) -> dict[str, Any]:
    """The problem+json body of a refused call."""
    from core.api.problems import TITLES

    return {
        "type": f"urn:clarion:problem:{code}",
        "title": str(TITLES[status]),
        "status": status,
        "detail": detail,
        "code": code,
        "errors": [{"pointer": p, "detail": d} for p, d in errors or []],
    }


def assert_nothing_accepted(published: list[list[str]], *, profiles: int = 0) -> None:
    """A refused call wrote no execution, message, schedule or idempotency record, created
    no profile (``profiles``: how many existed before) and published nothing."""
    assert Execution.objects.count() == 0
    assert Message.objects.count() == 0
    assert ExecutionSchedule.objects.count() == 0
    assert IdempotencyRecord.objects.count() == 0
    assert Profile.objects.count() == profiles
    assert Identity.objects.count() == profiles
    assert published == []
