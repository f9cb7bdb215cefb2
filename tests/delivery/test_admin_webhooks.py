"""Webhook endpoints in the admin: the SSRF check in words, the secret, "Send test event",
re-enabling, and the deliveries' and attempts' pages."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from delivery.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from delivery.webhooks.endpoints import webhook_endpoint_disable, webhook_routes
from tests.delivery.admin_helpers import staff_with
from tests.delivery.webhook_helpers import Receiver, endpoint_for, receiver

__all__ = ["receiver"]

pytestmark = pytest.mark.django_db

ADD = reverse("admin:delivery_webhookendpoint_add")


def _form(url: str, **more: object) -> dict[str, object]:
    return {"name": "CRM", "url": url, "event_types": ["sent", "bounced"], "enabled": "on", **more}


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("https://169.254.169.254/latest/", "169.254.169.254 is a private, loopback, link-local"),
        ("https://localhost/hook", "localhost is a private, loopback, link-local"),
        ("http://93.184.215.14/hook", "Only https URLs are allowed."),
    ],
)
def test_a_non_public_url_is_refused_in_words(client, admin_user_obj, url, words) -> None:
    client.force_login(admin_user_obj)

    response = client.post(ADD, _form(url))

    assert response.status_code == 200
    assert words in response.content.decode()
    assert WebhookEndpoint.objects.count() == 0


def test_an_endpoint_is_created_with_a_secret_and_the_cache_sees_it(client, admin_user_obj) -> None:
    client.force_login(admin_user_obj)
    assert webhook_routes() == []

    response = client.post(ADD, _form("https://93.184.215.14/hook"))

    assert response.status_code == 302
    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.event_types, endpoint.enabled) == (["sent", "bounced"], True)
    assert endpoint.secret.startswith("whsec_") and len(endpoint.secret) == 6 + 44
    assert [r.id for r in webhook_routes()] == [endpoint.pk]
    page = client.get(reverse("admin:delivery_webhookendpoint_change", args=[endpoint.pk]))
    assert endpoint.secret in page.content.decode()
    assert "Send test event" in page.content.decode()


def test_send_test_event_shows_the_outcome(client, admin_user_obj, receiver: Receiver) -> None:
    client.force_login(admin_user_obj)
    endpoint = endpoint_for(receiver.url, name="CRM")

    response = client.post(
        reverse("admin:delivery_webhookendpoint_test", args=[endpoint.pk]), follow=True
    )

    assert response.status_code == 200
    assert "Test event sent to CRM: HTTP 200 in" in response.content.decode()
    assert len(receiver.requests) == 1
    attempt = WebhookAttempt.objects.get()
    page = client.get(reverse("admin:delivery_webhookendpoint_change", args=[endpoint.pk]))
    assert f"<td>{attempt.number}</td>" in page.content.decode()
    delivery = client.get(
        reverse("admin:delivery_webhookdelivery_change", args=[WebhookDelivery.objects.get().pk])
    )
    assert (
        delivery.status_code == 200
        and "&quot;type&quot;: &quot;test&quot;" in delivery.content.decode()
    )
    assert client.get(reverse("admin:delivery_webhookdelivery_changelist")).status_code == 200
    assert client.get(reverse("admin:delivery_webhookattempt_changelist")).status_code == 200


def test_send_test_event_needs_a_post(client, admin_user_obj) -> None:
    client.force_login(admin_user_obj)
    endpoint = endpoint_for("https://93.184.215.14/hook")

    response = client.get(reverse("admin:delivery_webhookendpoint_test", args=[endpoint.pk]))

    assert response.status_code == 405
    assert WebhookDelivery.objects.count() == 0


def test_a_disabled_endpoint_shows_why_and_can_be_enabled_again(client, admin_user_obj) -> None:
    client.force_login(admin_user_obj)
    endpoint = endpoint_for("https://93.184.215.14/hook")
    webhook_endpoint_disable(
        endpoint=endpoint, reason="Event x failed all 8 attempts", at=timezone.now()
    )

    listing = client.get(reverse("admin:delivery_webhookendpoint_changelist"))
    assert "Event x failed all 8 attempts" in listing.content.decode()
    response = client.post(
        reverse("admin:delivery_webhookendpoint_changelist"),
        {"action": "enable_endpoints", "_selected_action": [endpoint.pk]},
        follow=True,
    )

    assert "1 endpoint enabled." in response.content.decode()
    endpoint.refresh_from_db()
    assert (endpoint.enabled, endpoint.disabled_reason, endpoint.disabled_at) == (True, "", None)
    assert [r.id for r in webhook_routes()] == [endpoint.pk]


def test_a_viewer_sees_neither_the_secret_nor_the_actions_that_change(client) -> None:
    # given an endpoint, and staff who may only view endpoints
    endpoint = endpoint_for("https://hooks.example.com/x")
    client.force_login(staff_with("view_webhookendpoint"))

    # when they open its page and the list
    page = client.get(reverse("admin:delivery_webhookendpoint_change", args=[endpoint.pk]))
    listing = client.get(reverse("admin:delivery_webhookendpoint_changelist"))

    # then the secret that signs its events is not shown, and no action can change it
    assert page.status_code == 200
    assert endpoint.secret not in page.content.decode()
    assert b"send_test_events" not in listing.content
    assert b"enable_endpoints" not in listing.content
    # nor can they send a test event by posting
    test = client.post(reverse("admin:delivery_webhookendpoint_test", args=[endpoint.pk]))
    assert test.status_code == 403
