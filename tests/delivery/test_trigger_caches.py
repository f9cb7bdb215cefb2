"""What a trigger call reads from caches is forgotten when it changes, not after a TTL:
a stopped campaign, a newly published version, a revoked or narrowed key."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from campaigns.models import CampaignVersion
from campaigns.services.authoring import campaign_update
from campaigns.services.lifecycle import (
    campaign_activate,
    campaign_open_draft_version,
    campaign_publish,
    campaign_stop,
)
from core.actors import Actor
from core.apikeys import api_key_revoke, api_key_update
from core.models import ApiKey
from core.scopes import EXECUTIONS_TRIGGER
from delivery.models import Execution, Message
from tests.delivery.trigger_calls import UNITARY, aep, unitary
from tests.factories import AccessLabelFactory, CampaignFactory

pytestmark = pytest.mark.django_db


def _call(client: Any, campaign: Any, request_id: str, capture: Any) -> Any:
    with capture(execute=True):
        return client.post(UNITARY, unitary(campaign, request_id=request_id), format="json")


def test_a_stopped_campaign_is_refused_at_once(
    api_client, live_campaign, published, django_capture_on_commit_callbacks
) -> None:
    campaign = live_campaign(create_new_profiles=True)
    client = api_client(EXECUTIONS_TRIGGER)
    assert _call(client, campaign, "r-1", django_capture_on_commit_callbacks).status_code == 202

    campaign_stop(campaign=campaign, actor=Actor())
    response = _call(client, campaign, "r-2", django_capture_on_commit_callbacks)

    assert (response.status_code, response.json()["code"]) == (409, "campaign_not_live")
    assert Execution.objects.count() == 1


def test_the_call_after_a_publish_sends_the_new_version(
    api_client, live_campaign, send_inline, django_capture_on_commit_callbacks
) -> None:
    # given a live campaign, triggered once (its version and templates now cached)
    campaign = live_campaign(create_new_profiles=True)
    client = api_client(EXECUTIONS_TRIGGER)
    _call(client, campaign, "r-1", django_capture_on_commit_callbacks)

    # when a new version with another subject is published
    campaign_open_draft_version(campaign=campaign, actor=Actor())
    content = {"en": {"subject": "Version two", "html": "<p>2</p>", "text": "2"}}
    campaign_update(campaign=campaign, data={"content": content}, actor=Actor())
    campaign_publish(campaign=campaign, actor=Actor())
    response = _call(client, campaign, "r-2", django_capture_on_commit_callbacks)

    # then the next call sends it
    assert response.status_code == 202
    versions = list(CampaignVersion.objects.filter(campaign=campaign).order_by("number"))
    assert [m.version_id for m in Message.objects.order_by("accepted_at")] == [
        versions[0].pk,
        versions[1].pk,
    ]
    assert [email.subject for email in mail.outbox] == ["Thanks ", "Version two"]


def test_a_revoked_key_is_refused_at_once(
    api_client, live_campaign, published, django_capture_on_commit_callbacks
) -> None:
    campaign = live_campaign(create_new_profiles=True)
    client = api_client(EXECUTIONS_TRIGGER)
    assert _call(client, campaign, "r-1", django_capture_on_commit_callbacks).status_code == 202

    api_key_revoke(key=ApiKey.objects.get(), actor=Actor())
    response = _call(client, campaign, "r-2", django_capture_on_commit_callbacks)

    assert (response.status_code, response.json()["code"]) == (401, "invalid_api_key")
    assert Execution.objects.count() == 1


def test_a_key_that_loses_a_label_is_refused_at_once(
    api_client, published, django_capture_on_commit_callbacks
) -> None:
    campaign = CampaignFactory.create(create_new_profiles=True)
    campaign.access_labels.add(AccessLabelFactory.create(name="vip"))
    campaign = campaign_activate(campaign=campaign, actor=Actor())
    client = api_client(EXECUTIONS_TRIGGER, labels=["vip"])
    assert _call(client, campaign, "r-1", django_capture_on_commit_callbacks).status_code == 202

    api_key_update(
        key=ApiKey.objects.get(),
        name="test key",
        scopes=[EXECUTIONS_TRIGGER],
        access_labels=[],
        is_active=True,
        actor=Actor(),
    )
    response = _call(client, campaign, "r-2", django_capture_on_commit_callbacks)

    assert (response.status_code, response.json()["code"]) == (403, "missing_access_label")
    assert Execution.objects.count() == 1


def test_a_key_that_loses_the_trigger_scope_is_refused_at_once(
    api_client, live_campaign, published, django_capture_on_commit_callbacks
) -> None:
    campaign = live_campaign(create_new_profiles=True)
    client = api_client(EXECUTIONS_TRIGGER)
    assert _call(client, campaign, "r-1", django_capture_on_commit_callbacks).status_code == 202

    api_key_update(
        key=ApiKey.objects.get(),
        name="test key",
        scopes=["executions:read"],
        access_labels=[],
        is_active=True,
        actor=Actor(),
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(UNITARY, unitary(campaign, aep(), request_id="r-2"), format="json")

    assert (response.status_code, response.json()["code"]) == (403, "missing_scope")
    assert Execution.objects.count() == 1
