"""accepted_body gives what the 202's output serializer gives, without building it."""

from __future__ import annotations

from typing import Any

import pytest

from delivery.api.executions import accepted_body
from delivery.api.serializers import AudienceAcceptedSerializer, UnitaryAcceptedSerializer

RECIPIENT = {"status": "queued", "messageId": "0190b5c4-0000-7000-8000-000000000002", "userId": "a"}


@pytest.mark.parametrize(
    ("serializer", "body"),
    [
        (
            UnitaryAcceptedSerializer,
            # keys in jsonb's order, as a replay reads them back
            {
                "status": "queued",
                "createdAt": "2026-12-01T09:00:00.123456Z",
                "requestId": "r",
                "campaignId": "0190b5c4-0000-7000-8000-000000000000",
                "recipients": [RECIPIENT, {**RECIPIENT, "userId": "b"}],
                "executionId": "0190b5c4-0000-7000-8000-000000000001",
            },
        ),
        (
            AudienceAcceptedSerializer,
            {
                "status": "scheduled",
                "createdAt": "2026-12-01T09:00:00Z",
                "executeAt": "2026-12-02T09:00:00Z",
                "requestId": "",
                "campaignId": "0190b5c4-0000-7000-8000-000000000000",
                "scheduleId": "0190b5c4-0000-7000-8000-000000000003",
            },
        ),
    ],
)
def test_the_body_is_the_serializers_key_for_key_in_its_order(
    serializer: Any, body: dict[str, Any]
) -> None:
    expected = serializer(body).data

    given = accepted_body(serializer, body)

    assert given == expected
    assert list(given) == list(expected)
    assert [list(r) for r in given.get("recipients", [])] == [
        list(r) for r in expected.get("recipients", [])
    ]
