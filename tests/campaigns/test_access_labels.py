"""Access labels: a campaign is visible only to holders of all its labels."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.models import Campaign
from campaigns.selectors import campaign_is_visible, campaign_list_visible
from campaigns.services import lifecycle
from campaigns.services.authoring import campaign_create, campaign_update
from core.actors import Actor
from core.apikeys import api_key_create
from core.errors import InvalidInput
from core.models import AccessLabel
from tests.campaigns.admin_helpers import campaign_form_data
from tests.factories import AccessLabelFactory, CampaignFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def labelled() -> dict[str, object]:
    pii = AccessLabelFactory.create(name="pii")
    vip = AccessLabelFactory.create(name="vip")
    CampaignFactory.create(name="open")
    pii_campaign = CampaignFactory.create(name="pii only")
    pii_campaign.access_labels.set([pii])
    both = CampaignFactory.create(name="pii and vip")
    both.access_labels.set([pii, vip])
    return {"pii": pii, "vip": vip}


def _user_with(*labels: object) -> User:
    user = User.objects.create_user(
        f"u{User.objects.count()}", password="pw-123-abc", is_staff=True
    )
    group = Group.objects.create(name=f"g{Group.objects.count()}")
    for label in labels:
        label.groups.add(group)  # type: ignore[attr-defined]
    user.groups.add(group)
    return user


def _names(actor: Actor) -> list[str]:
    return sorted(campaign_list_visible(actor=actor).values_list("name", flat=True))


def test_user_sees_only_campaigns_whose_labels_they_all_hold(labelled: dict[str, object]) -> None:
    assert _names(Actor(user=_user_with())) == ["open"]
    assert _names(Actor(user=_user_with(labelled["pii"]))) == ["open", "pii only"]
    assert _names(Actor(user=_user_with(labelled["pii"], labelled["vip"]))) == [
        "open",
        "pii and vip",
        "pii only",
    ]


def test_superuser_and_system_see_everything(labelled: dict[str, object]) -> None:
    admin = User.objects.create_superuser("root", "r@example.com", "pw-123-abc")

    assert len(_names(Actor(user=admin))) == 3
    assert len(_names(Actor.system())) == 3


def test_api_keys_hold_labels_directly(labelled: dict[str, object]) -> None:
    plain, _ = api_key_create(name="plain", scopes=["campaigns:read"])
    vip_key, _ = api_key_create(name="vip", scopes=["campaigns:read"], access_labels=["vip"])
    both_key, _ = api_key_create(
        name="both", scopes=["campaigns:read"], access_labels=["vip", "pii"]
    )

    assert _names(Actor(api_key=plain)) == ["open"]
    assert _names(Actor(api_key=vip_key)) == ["open"]
    assert _names(Actor(api_key=both_key)) == ["open", "pii and vip", "pii only"]


def test_is_visible_matches_the_list(labelled: dict[str, object]) -> None:
    user = Actor(user=_user_with(labelled["pii"]))
    for campaign in CampaignFactory._meta.model.objects.all():
        listed = campaign_list_visible(actor=user).filter(pk=campaign.pk).exists()
        assert campaign_is_visible(campaign=campaign, actor=user) is listed


def test_a_label_you_do_not_hold_cannot_be_given(labelled: dict[str, object]) -> None:
    user = Actor(user=_user_with(labelled["pii"]))
    data = {"name": "x", "accessLabels": ["pii", "vip", "nope"]}

    with pytest.raises(InvalidInput) as caught:
        campaign_create(data=data, actor=user)

    assert [(e.pointer, e.detail) for e in caught.value.errors] == [
        ("/accessLabels/1", "You do not hold the access label “vip”, so you cannot give it."),
        ("/accessLabels/2", "Unknown access label “nope”."),
    ]
    assert not CampaignFactory._meta.model.objects.filter(name="x").exists()


def _live_with_draft_labels(name: str, live: list[str], draft: list[str]) -> Campaign:
    """A live campaign frozen with ``live`` labels whose draft version has ``draft`` labels."""
    campaign = CampaignFactory.create(name=name)
    campaign.access_labels.set(AccessLabel.objects.filter(name__in=live))
    campaign = lifecycle.campaign_activate(campaign=campaign, actor=Actor.system())
    lifecycle.campaign_open_draft_version(campaign=campaign, actor=Actor.system())
    return campaign_update(campaign=campaign, data={"accessLabels": draft}, actor=Actor.system())


def test_a_draft_edit_removing_a_label_does_not_expose_the_live_campaign(
    labelled: dict[str, object],
) -> None:
    campaign = _live_with_draft_labels("pii live", live=["pii"], draft=[])
    plain_key, _ = api_key_create(name="plain", scopes=["campaigns:read"])
    outsiders = [Actor(user=_user_with()), Actor(api_key=plain_key)]

    for actor in outsiders:
        assert "pii live" not in _names(actor)
        assert campaign_is_visible(campaign=campaign, actor=actor) is False
    assert list(campaign.access_labels.all()) == []  # the row's draft really has no label

    lifecycle.campaign_publish(campaign=campaign, actor=Actor.system())
    for actor in outsiders:
        assert "pii live" in _names(actor)
        assert campaign_is_visible(campaign=campaign, actor=actor) is True


def test_a_draft_edit_adding_a_label_hides_the_live_campaign_only_when_published(
    labelled: dict[str, object],
) -> None:
    campaign = _live_with_draft_labels("open live", live=[], draft=["vip"])
    pii_holder = Actor(user=_user_with(labelled["pii"]))
    key, _ = api_key_create(name="pii key", scopes=["campaigns:read"], access_labels=["pii"])
    outsiders = [pii_holder, Actor(api_key=key)]

    for actor in outsiders:
        assert "open live" in _names(actor)
        assert campaign_is_visible(campaign=campaign, actor=actor) is True

    lifecycle.campaign_publish(campaign=campaign, actor=Actor.system())
    for actor in outsiders:
        assert "open live" not in _names(actor)
        assert campaign_is_visible(campaign=campaign, actor=actor) is False


def test_visibility_is_one_query_for_users_and_api_keys(labelled: dict[str, object]) -> None:
    _live_with_draft_labels("pii live", live=["pii"], draft=[])
    user = Actor(user=_user_with(labelled["pii"]))
    key, _ = api_key_create(name="pii key", scopes=["campaigns:read"], access_labels=["pii"])
    campaign = Campaign.objects.get(name="pii live")

    for actor in (user, Actor(api_key=key)):
        with CaptureQueriesContext(connection) as listed:
            names = _names(actor)
        with CaptureQueriesContext(connection) as checked:
            visible = campaign_is_visible(campaign=campaign, actor=actor)

        assert names == ["open", "pii live", "pii only"]
        assert visible is True
        assert (len(listed), len(checked)) == (1, 1)


def test_a_label_you_do_not_hold_cannot_be_removed_from_a_draft_version(
    labelled: dict[str, object],
) -> None:
    # given a live campaign without labels whose draft version added "vip", and a key
    # that does not hold "vip" (it still sees the campaign: the live version is open)
    campaign = _live_with_draft_labels("open live", live=[], draft=["vip"])
    key, _ = api_key_create(name="writer", scopes=["campaigns:write"], access_labels=["pii"])

    # when the key sends the labels without "vip"
    with pytest.raises(InvalidInput) as refused:
        campaign_update(campaign=campaign, data={"accessLabels": []}, actor=Actor(api_key=key))

    # then it is refused in words at the field, and "vip" stays
    assert [(e.pointer, e.detail) for e in refused.value.errors] == [
        ("/accessLabels", "You do not hold the access label “vip”, so you cannot remove it.")
    ]
    assert [label.name for label in campaign.access_labels.all()] == ["vip"]


def test_the_admin_keeps_the_labels_it_did_not_offer(
    labelled: dict[str, object], client: Client
) -> None:
    # given a live campaign without labels whose draft version added vip, edited in the
    # admin by someone holding only pii (they see it: the live version is open to all)
    campaign = _live_with_draft_labels("Both", live=[], draft=["vip"])
    user = _user_with(labelled["pii"])
    user.user_permissions.set(
        Permission.objects.filter(codename__in=["view_campaign", "change_campaign"])
    )
    client.force_login(user)
    data = campaign_form_data(
        configuration=campaign.channel_configuration,
        campaign=campaign,
        name="Both, renamed",
        access_labels=[str(labelled["pii"].pk)],  # type: ignore[attr-defined]
        contents=[{"locale": "en", "subject": "Hi", "html": "<p>Hi</p>"}],
    )

    # when they save (the form offers only pii)
    response = client.post(reverse("admin:campaigns_campaign_change", args=[campaign.pk]), data)

    # then the edit is saved and vip, which they could not see in the form, is kept
    assert response.status_code == 302, response.context and response.context["errors"]
    campaign.refresh_from_db()
    assert campaign.name == "Both, renamed"
    assert sorted(label.name for label in campaign.access_labels.all()) == ["pii", "vip"]
