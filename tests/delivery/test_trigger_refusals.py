"""Steps 4 to 8 of a trigger call's checks, each with its status, code and pointer:
the campaign exists (404) and the key holds its labels (403), its category suits the
endpoint (422), it is live (409) and inside its schedule (409), the namespace matches
(422), the recipients are known (422) and have a valid address (422).

A call is refused whole: nothing is written, no profile created, nothing published.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from audiences.models import Audience, IdentityNamespace, PushRegistration
from audiences.services.audiences import audience_add_members, audience_create
from campaigns.models import Campaign
from campaigns.services.lifecycle import campaign_activate, campaign_archive, campaign_stop
from core.actors import Actor
from core.scopes import EXECUTIONS_TRIGGER
from delivery.models import Message
from tests.campaigns.version_helpers import frozen_schedule
from tests.delivery.trigger_calls import (
    AUDIENCE,
    UNITARY,
    aep,
    assert_nothing_accepted,
    external,
    problem,
    stored_profile,
    unitary,
)
from tests.factories import (
    AccessLabelFactory,
    CampaignFactory,
    PushConfigurationFactory,
    SmsConfigurationFactory,
)

pytestmark = pytest.mark.django_db


def _post(client: Any, body: dict[str, Any], capture: Any, path: str = UNITARY) -> Any:
    with capture(execute=True):
        return client.post(path, body, format="json")


def _refused(
    response: Any, status: int, code: str, detail: str, errors: list[tuple[str, str]]
) -> None:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == problem(status, code, detail, errors)


# --- Step 4: the campaign exists and the key holds its labels --------------------------


def test_an_unknown_campaign_is_a_404(
    api_client, published, django_capture_on_commit_callbacks
) -> None:
    body = unitary(CampaignFactory.build())  # never saved

    response = _post(api_client(EXECUTIONS_TRIGGER), body, django_capture_on_commit_callbacks)

    detail = f"No campaign has the id {body['campaignId']}."
    _refused(response, 404, "campaign_not_found", detail, [("/campaignId", detail)])
    assert_nothing_accepted(published)


def _labelled_live_campaign(label: str, **fields: Any) -> Campaign:
    campaign = CampaignFactory.create(**fields)
    campaign.access_labels.add(AccessLabelFactory.create(name=label))
    return campaign_activate(campaign=campaign, actor=Actor())


def test_a_key_without_the_campaigns_label_is_a_403(
    api_client, published, django_capture_on_commit_callbacks
) -> None:
    campaign = _labelled_live_campaign("vip")
    AccessLabelFactory.create(name="eu")

    response = _post(
        api_client(EXECUTIONS_TRIGGER, labels=["eu"]),
        unitary(campaign),
        django_capture_on_commit_callbacks,
    )

    detail = "This API key does not hold every access label of the campaign."
    _refused(response, 403, "missing_access_label", detail, [("/campaignId", detail)])
    assert_nothing_accepted(published)


def test_a_key_with_the_campaigns_label_may_trigger_it(
    api_client, published, django_capture_on_commit_callbacks
) -> None:
    campaign = _labelled_live_campaign("vip", create_new_profiles=True)

    response = _post(
        api_client(EXECUTIONS_TRIGGER, labels=["vip"]),
        unitary(campaign),
        django_capture_on_commit_callbacks,
    )

    assert response.status_code == 202, response.content


def test_labels_are_checked_before_the_category_and_the_status(
    api_client, published, django_capture_on_commit_callbacks
) -> None:
    draft = CampaignFactory.create(category="marketing")
    draft.access_labels.add(AccessLabelFactory.create(name="vip"))

    response = _post(
        api_client(EXECUTIONS_TRIGGER), unitary(draft), django_capture_on_commit_callbacks
    )

    assert (response.status_code, response.json()["code"]) == (403, "missing_access_label")
    assert_nothing_accepted(published)


# --- Step 5: the category suits the endpoint ------------------------------------------


def test_a_marketing_campaign_cannot_be_triggered_for_recipients(
    api_client, live_campaign, published, django_capture_on_commit_callbacks
) -> None:
    stored_profile("ana@example.com")
    audience = audience_create(name="Everyone", kind=Audience.Kind.STATIC)
    audience_add_members(audience=audience, identities=[("email", "ana@example.com")])
    campaign = live_campaign(category="marketing", audience=audience)

    response = _post(
        api_client(EXECUTIONS_TRIGGER), unitary(campaign), django_capture_on_commit_callbacks
    )

    detail = "The campaign is marketing; trigger it with POST /api/v1/executions/audience."
    _refused(response, 422, "category_mismatch", detail, [("/campaignId", detail)])
    assert_nothing_accepted(published, profiles=1)


def test_a_transactional_campaign_cannot_be_triggered_for_an_audience(
    api_client, live_campaign, published, django_capture_on_commit_callbacks
) -> None:
    campaign = live_campaign()

    response = _post(
        api_client(EXECUTIONS_TRIGGER),
        {"campaignId": str(campaign.pk), "requestId": "a-1"},
        django_capture_on_commit_callbacks,
        AUDIENCE,
    )

    detail = "The campaign is transactional; trigger it with POST /api/v1/executions/unitary."
    _refused(response, 422, "category_mismatch", detail, [("/campaignId", detail)])
    assert_nothing_accepted(published)


def test_a_draft_of_the_wrong_category_is_a_category_mismatch_first(
    api_client, published, django_capture_on_commit_callbacks
) -> None:
    draft = CampaignFactory.create(category="marketing")

    response = _post(
        api_client(EXECUTIONS_TRIGGER), unitary(draft), django_capture_on_commit_callbacks
    )

    assert (response.status_code, response.json()["code"]) == (422, "category_mismatch")
    assert_nothing_accepted(published)


# --- Step 6: live, and inside the schedule --------------------------------------------


def test_a_draft_campaign_is_a_409(
    api_client, published, django_capture_on_commit_callbacks
) -> None:
    draft = CampaignFactory.create()

    response = _post(
        api_client(EXECUTIONS_TRIGGER), unitary(draft), django_capture_on_commit_callbacks
    )

    detail = "The campaign has never been activated; activate it before triggering it."
    _refused(response, 409, "campaign_not_live", detail, [("/campaignId", detail)])
    assert_nothing_accepted(published)


@pytest.mark.parametrize(
    ("end", "label"), [(campaign_stop, "Stopped"), (campaign_archive, "Archived")]
)
def test_a_stopped_or_archived_campaign_is_a_409(
    api_client, live_campaign, published, django_capture_on_commit_callbacks, end, label
) -> None:
    campaign = end(campaign=live_campaign(), actor=Actor())

    response = _post(
        api_client(EXECUTIONS_TRIGGER), unitary(campaign), django_capture_on_commit_callbacks
    )

    detail = f"The campaign is {label}, not live; only live campaigns can be triggered."
    _refused(response, 409, "campaign_not_live", detail, [("/campaignId", detail)])
    assert_nothing_accepted(published)


def test_a_call_before_the_campaign_starts_is_a_409(
    api_client, live_campaign, published, django_capture_on_commit_callbacks
) -> None:
    start = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    campaign = live_campaign(start_at=start)
    assert campaign.status == "scheduled"

    response = _post(
        api_client(EXECUTIONS_TRIGGER), unitary(campaign), django_capture_on_commit_callbacks
    )

    detail = f"The campaign starts at {start.isoformat()}; calls before then are refused."
    _refused(response, 409, "outside_schedule", detail, [("/campaignId", detail)])
    assert_nothing_accepted(published)


def test_a_call_after_the_campaign_ended_is_a_409(
    api_client, live_campaign, published, django_capture_on_commit_callbacks
) -> None:
    # given a live campaign whose end passed a moment ago (the dispatcher has not yet
    # completed it)
    end = (timezone.now() - timedelta(minutes=1)).replace(microsecond=0)
    campaign = live_campaign()
    frozen_schedule(campaign, start_at=None, end_at=end)

    response = _post(
        api_client(EXECUTIONS_TRIGGER), unitary(campaign), django_capture_on_commit_callbacks
    )

    detail = f"The campaign ended at {end.isoformat()}; calls after then are refused."
    _refused(response, 409, "outside_schedule", detail, [("/campaignId", detail)])
    assert_nothing_accepted(published)


# --- Step 7: the namespace matches; the recipients are known --------------------------


def test_a_recipient_in_another_namespace_is_a_422(
    api_client, live_campaign, published, django_capture_on_commit_callbacks
) -> None:
    campaign = live_campaign(create_new_profiles=True)
    body = unitary(
        campaign,
        aep("ana@example.com"),
        {"type": "aep", "namespace": "phone", "userId": "+14165550100"},
        external("x@example.com", namespace="crm_id"),  # externals are not looked up
    )

    response = _post(api_client(EXECUTIONS_TRIGGER), body, django_capture_on_commit_callbacks)

    detail = "The campaign names recipients by “email”, not “phone”."
    _refused(response, 422, "namespace_mismatch", detail, [("/recipients/1/namespace", detail)])
    assert_nothing_accepted(published)


def test_unknown_recipients_are_each_named_when_the_campaign_creates_no_profiles(
    api_client, live_campaign, published, django_capture_on_commit_callbacks
) -> None:
    campaign = live_campaign(create_new_profiles=False)
    stored_profile("known@example.com")
    body = unitary(
        campaign,
        aep("first.unknown@example.com"),
        aep("known@example.com"),
        external("elsewhere@example.com", namespace="email"),
        aep("second.unknown@example.com"),
    )

    response = _post(api_client(EXECUTIONS_TRIGGER), body, django_capture_on_commit_callbacks)

    detail = "No profile is known for this recipient, and the campaign does not create profiles."
    _refused(
        response,
        422,
        "unknown_recipient",
        detail,
        [("/recipients/0/userId", detail), ("/recipients/3/userId", detail)],
    )
    assert_nothing_accepted(published, profiles=1)


# --- Step 8: every recipient has a valid address for the channel ----------------------


@pytest.mark.parametrize(
    ("recipient", "at", "detail"),
    [
        (
            aep("ana@example.com", channelData={"emailAddress": "ana at example"}),
            "/recipients/1/channelData/emailAddress",
            "“ana at example” is not a valid email address: An email address must have an @-sign.",
        ),
        (
            external("order-1", namespace="email"),
            "/recipients/1/userId",
            "“order-1” is not a valid email address: An email address must have an @-sign.",
        ),
        (
            aep("ana@"),
            "/recipients/1/userId",
            "“ana@” is not a valid email address: There must be something after the @-sign.",
        ),
        (
            external("order-2", namespace="crm_id"),
            "/recipients/1/channelData/emailAddress",
            "No email address is known for this recipient; send channelData.emailAddress.",
        ),
        (  # an external recipient without a namespace is named like the campaign's
            external("order-9"),
            "/recipients/1/userId",
            "“order-9” is not a valid email address: An email address must have an @-sign.",
        ),
    ],
    ids=["channel-data", "external-user-id", "aep-user-id", "no-address", "no-namespace"],
)
def test_an_invalid_email_address_is_a_422_naming_the_field_used(
    api_client, live_campaign, published, django_capture_on_commit_callbacks, recipient, at, detail
) -> None:
    # given a campaign that would create profiles, and a valid first recipient
    campaign = live_campaign(create_new_profiles=True)
    body = unitary(campaign, aep("first@example.com"), recipient)

    response = _post(api_client(EXECUTIONS_TRIGGER), body, django_capture_on_commit_callbacks)

    _refused(response, 422, "invalid_address", detail, [(at, detail)])
    assert_nothing_accepted(published)  # refused whole: not even the first profile


def test_a_blank_user_id_in_a_namespace_of_ids_is_an_invalid_identity(
    api_client, live_campaign, published, django_capture_on_commit_callbacks
) -> None:
    campaign = live_campaign(
        identity_namespace=IdentityNamespace.objects.get(code="crm_id"), create_new_profiles=True
    )
    body = unitary(
        campaign,
        {"type": "aep", "namespace": "crm_id", "userId": "C-1"},
        {"type": "aep", "namespace": "crm_id", "userId": "   "},
    )

    response = _post(api_client(EXECUTIONS_TRIGGER), body, django_capture_on_commit_callbacks)

    detail = "The value is empty."
    _refused(response, 422, "invalid_identity", detail, [("/recipients/1/userId", detail)])
    assert_nothing_accepted(published)


def _sms_campaign(live_campaign: Any) -> Campaign:
    campaign: Campaign = live_campaign(
        channel="sms",
        channel_configuration=SmsConfigurationFactory.create(),
        identity_namespace=IdentityNamespace.objects.get(code="phone"),
        create_new_profiles=True,
        content={"en": {"body": "Hi"}},
    )
    return campaign


@pytest.mark.parametrize(
    ("recipient", "at", "detail"),
    [
        (
            external("order-1", channelData={"mobilePhoneNumber": "12"}),
            "/recipients/0/channelData/mobilePhoneNumber",
            "“12” is not a valid phone number (read with default region US).",
        ),
        (
            {"type": "aep", "namespace": "phone", "userId": "call me"},
            "/recipients/0/userId",
            "“call me” is not a phone number.",
        ),
        (
            external("order-3", namespace="crm_id", channelData={"emailAddress": "a@example.com"}),
            "/recipients/0/channelData/mobilePhoneNumber",
            "No sms address is known for this recipient; send channelData.mobilePhoneNumber.",
        ),
    ],
    ids=["channel-data", "aep-user-id", "no-number"],
)
def test_an_sms_campaign_refuses_a_bad_number(
    api_client, live_campaign, published, django_capture_on_commit_callbacks, recipient, at, detail
) -> None:
    campaign = _sms_campaign(live_campaign)

    response = _post(
        api_client(EXECUTIONS_TRIGGER),
        unitary(campaign, recipient),
        django_capture_on_commit_callbacks,
    )

    _refused(response, 422, "invalid_address", detail, [(at, detail)])
    assert_nothing_accepted(published)


def _push_campaign(live_campaign: Any, **fields: Any) -> Campaign:
    campaign: Campaign = live_campaign(
        channel="push",
        channel_configuration=PushConfigurationFactory.create(),
        content={"en": {"title": "Hi", "body": "There"}},
        **fields,
    )
    return campaign


def test_a_push_recipient_without_push_info_or_a_registration_is_a_422(
    api_client, live_campaign, published, django_capture_on_commit_callbacks
) -> None:
    campaign = _push_campaign(live_campaign, create_new_profiles=False)
    stored_profile("ana@example.com")  # known, but no device registered
    body = unitary(campaign, aep("ana@example.com"), external("device-2"))

    response = _post(api_client(EXECUTIONS_TRIGGER), body, django_capture_on_commit_callbacks)

    detail = "No push registration is known for this recipient; send channelData.pushInfo."
    _refused(
        response,
        422,
        "invalid_address",
        "Some fields are not valid.",
        [
            ("/recipients/0/channelData/pushInfo", detail),
            ("/recipients/1/channelData/pushInfo", detail),
        ],
    )
    assert_nothing_accepted(published, profiles=1)


def test_a_push_recipient_with_a_registration_of_the_campaigns_app_is_accepted(
    api_client, live_campaign, published, django_capture_on_commit_callbacks
) -> None:
    campaign = _push_campaign(live_campaign)
    profile = stored_profile("ana@example.com")
    for app_id, token in (("com.other.app", "other"), ("com.example.shop", "mine")):
        PushRegistration.objects.create(
            profile=profile, app_id=app_id, platform="android", token=token
        )

    response = _post(
        api_client(EXECUTIONS_TRIGGER), unitary(campaign), django_capture_on_commit_callbacks
    )

    assert response.status_code == 202, response.content
    message = Message.objects.get()
    assert (message.address, message.push_info) == (
        "mine",
        {"appID": "com.example.shop", "platform": "android", "token": "mine"},
    )
