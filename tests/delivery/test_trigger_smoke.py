"""First end-to-end check in process: accept a unitary call, send it, read it back."""

from __future__ import annotations

from django.core import mail

from core.scopes import EXECUTIONS_READ, EXECUTIONS_TRIGGER
from delivery.models import Execution, Message


def test_a_unitary_call_is_accepted_sent_and_readable(
    api_client, live_campaign, send_inline, django_capture_on_commit_callbacks
) -> None:
    campaign = live_campaign(create_new_profiles=True)
    client = api_client(EXECUTIONS_TRIGGER, EXECUTIONS_READ)
    body = {
        "requestId": "r-1",
        "campaignId": str(campaign.pk),
        "recipients": [
            {
                "type": "aep",
                "namespace": "email",
                "userId": "ana@example.com",
                "profile": {"person": {"name": {"firstName": "Ana"}}},
                "context": {"product": {"name": "Jackets"}},
            }
        ],
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/executions/unitary", body, format="json")

    assert response.status_code == 202, response.content
    data = response.json()
    message = Message.objects.get()
    assert data["recipients"] == [
        {"userId": "ana@example.com", "messageId": str(message.pk), "status": "queued"}
    ]
    assert message.status == "sent"
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.subject == "Thanks Ana"
    assert email.to == ["ana@example.com"]
    assert "Jackets" in email.body
    assert email.extra_headers["X-Clarion-Message-Id"] == str(message.pk)
    execution = Execution.objects.get()
    assert execution.status == "succeeded"

    read = client.get(f"/api/v1/executions/{execution.pk}")
    assert read.status_code == 200
    assert read.json()["counts"]["sent"] == 1
    assert read.json()["recipients"][0]["status"] == "sent"
