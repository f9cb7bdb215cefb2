"""What the delivery tests send: live email campaigns, an API key, audiences, HTTP calls.

The rows are committed by the test process (the tests are transactional), so the
web and worker processes read them from the same database. Calls go over HTTP to
the web process; reads of the outcome use the database or the API.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
from django.utils import timezone

from audiences.models import Audience, AudienceMember, Consent, Profile
from campaigns.models import Campaign
from campaigns.services.lifecycle import campaign_activate
from core.actors import Actor
from core.apikeys import api_key_create
from core.scopes import EXECUTIONS_READ, EXECUTIONS_TRIGGER
from delivery.models import Execution, Message
from tests.factories import CampaignFactory

HTTP_TIMEOUT = 10.0
# Personalised from the call's profile and context (the brief's sample payload).
CONTENT = {
    "en": {
        "subject": "Thanks {{ profile.person.name.firstName }}",
        "preheader": "",
        "html": "<p>Hello {{ profile.person.name.firstName }}, your {{ context.product.name }}"
        " ship today. Code: {{ context.offerCode }}</p>",
        "text": "Hello {{ profile.person.name.firstName }}, your {{ context.product.name }}"
        " ship today. Code: {{ context.offerCode }}",
    }
}


def trigger_secret() -> str:
    """A new API key that may trigger and read executions; returns its secret."""
    _key, secret = api_key_create(
        name=f"fault tests {uuid.uuid4().hex[:6]}", scopes=[EXECUTIONS_TRIGGER, EXECUTIONS_READ]
    )
    return secret


def live_campaign(**fields: Any) -> Campaign:
    """A live email campaign (transactional unless ``category`` says otherwise), no tracking:
    what arrives is exactly what the content renders to."""
    fields = {"content": CONTENT, "track_opens": False, "track_clicks": False, **fields}
    return campaign_activate(campaign=CampaignFactory.create(**fields), actor=Actor())


def opted_in_audience(size: int) -> Audience:
    """A static audience of ``size`` profiles with an email address and email consent."""
    profiles = Profile.objects.bulk_create(
        Profile(
            email_address=f"member{n}@example.com",
            attributes={"person": {"name": {"firstName": f"Member{n}"}}},
        )
        for n in range(size)
    )
    now = timezone.now()
    Consent.objects.bulk_create(
        Consent(profile=p, channel="email", status=Consent.Status.OPTED_IN, updated_at=now)
        for p in profiles
    )
    audience = Audience.objects.create(name=f"Members {uuid.uuid4().hex[:6]}", kind="static")
    AudienceMember.objects.bulk_create(
        AudienceMember(audience=audience, profile=p) for p in profiles
    )
    return audience


def recipient(n: int, **extra: Any) -> dict[str, Any]:
    """The brief's sample recipient, numbered."""
    return {
        "type": "aep",
        "namespace": "email",
        "userId": f"person{n}@example.com",
        "profile": {"person": {"name": {"firstName": f"Person{n}"}}},
        "context": {"product": {"name": "Jackets"}},
        **extra,
    }


class Api:
    """The trigger API of a running web process, with one key."""

    def __init__(self, base_url: str, secret: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {secret}"

    def unitary(self, campaign: Campaign, recipients: list[dict[str, Any]], **body: Any) -> Any:
        payload = {
            "requestId": uuid.uuid4().hex,
            "campaignId": str(campaign.pk),
            "recipients": recipients,
            **body,
        }
        return self.session.post(
            f"{self.base_url}/api/v1/executions/unitary", json=payload, timeout=HTTP_TIMEOUT
        )

    def audience(self, campaign: Campaign, **body: Any) -> Any:
        payload = {"requestId": uuid.uuid4().hex, "campaignId": str(campaign.pk), **body}
        return self.session.post(
            f"{self.base_url}/api/v1/executions/audience", json=payload, timeout=HTTP_TIMEOUT
        )

    def burst(self, campaign: Campaign, numbers: range, *, clients: int = 4) -> list[Any]:
        """One unitary call per number, ``clients`` at a time (in order of ``numbers``).

        Concurrent calls also make every gunicorn worker serve (and warm up) some."""
        with ThreadPoolExecutor(clients) as pool:
            return list(pool.map(lambda n: self.unitary(campaign, [recipient(n)]), numbers))

    def execution(self, execution_id: str) -> Any:
        return self.session.get(
            f"{self.base_url}/api/v1/executions/{execution_id}", timeout=HTTP_TIMEOUT
        )


def statuses(**filters: Any) -> Counter[str]:
    """Messages by status."""
    return Counter(Message.objects.filter(**filters).values_list("status", flat=True))


def wait_until_final(execution_ids: list[str], seconds: float) -> bool:
    """True once every execution has ended (all its messages final)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        unfinished = Execution.objects.filter(pk__in=execution_ids).exclude(
            status__in=["succeeded", "partially_failed", "failed"]
        )
        if not unfinished.exists():
            return True
        time.sleep(0.25)
    return False
