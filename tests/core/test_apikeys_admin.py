"""The API-key admin: the secret shown once, grants limited to what the person holds,
every change recorded in the key's history."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client
from django.urls import reverse

from core.apikeys import api_key_authenticate, api_key_create, api_key_hash
from core.models import AccessLabel, ApiKey, ApiKeyEvent
from tests.factories import AccessLabelFactory, UserFactory

pytestmark = pytest.mark.django_db

# The read-only history inline still posts its (empty) management form.
HISTORY_FORMSET = {"events-TOTAL_FORMS": "0", "events-INITIAL_FORMS": "0"}


def test_adding_an_api_key_shows_the_secret_once_and_stores_only_its_hash(
    admin_client: Client, admin_user: User
) -> None:
    AccessLabelFactory.create(name="eu")
    label_id = AccessLabelFactory.create(name="vip").pk

    form = admin_client.get(reverse("admin:core_apikey_add"))
    response = admin_client.post(
        reverse("admin:core_apikey_add"),
        {
            "name": "Shop backend",
            "scopes": ["executions:trigger", "campaigns:read"],
            "access_labels": [str(label_id)],
        },
    )

    assert form.status_code == 200
    assert 'value="executions:trigger"' in form.content.decode()
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    secret = response.context["secret"]
    assert secret.startswith("clr_")
    assert secret in response.content.decode()
    key = ApiKey.objects.get()
    assert key.scopes == ["campaigns:read", "executions:trigger"]
    assert [label.name for label in key.access_labels.all()] == ["vip"]
    assert key.created_by == admin_user
    assert key.key_hash == api_key_hash(secret)
    assert secret not in str(ApiKey.objects.values().get())
    assert api_key_authenticate(secret) == key

    listing = admin_client.get(reverse("admin:core_apikey_changelist")).content.decode()
    change = admin_client.get(reverse("admin:core_apikey_change", args=[key.pk]))
    assert key.prefix in listing
    assert secret not in listing
    assert secret not in change.content.decode()
    assert "key_hash" not in change.content.decode()


def test_an_api_key_without_a_name_is_refused_at_the_field(admin_client: Client) -> None:
    response = admin_client.post(reverse("admin:core_apikey_add"), {"name": ""})

    assert response.status_code == 200
    assert "name" in response.context["form"].errors
    assert ApiKey.objects.count() == 0


def _key_manager(*extra: str, labels: tuple[str, ...] = ()) -> Client:
    """A staff user who may manage keys, holding only ``extra`` permissions and ``labels``."""
    user = UserFactory.create(username="keys")
    codenames = ["add_apikey", "change_apikey", "view_apikey", *extra]
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    if labels:
        group = Group.objects.create(name="holders")
        user.groups.add(group)
        for name in labels:
            AccessLabel.objects.get(name=name).groups.add(group)
    client = Client()
    client.force_login(user)
    return client


def test_a_user_cannot_create_a_key_with_a_scope_they_do_not_hold() -> None:
    client = _key_manager("view_campaign", "view_channelconfiguration")

    response = client.post(
        reverse("admin:core_apikey_add"),
        {"name": "Shop", "scopes": ["campaigns:read", "profiles:write"]},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["scopes"] == [
        "You do not hold the scope “profiles:write”, so you cannot give it."
    ]
    assert ApiKey.objects.count() == 0
    assert ApiKeyEvent.objects.count() == 0


def test_a_user_can_create_a_key_with_the_scopes_and_labels_they_hold() -> None:
    AccessLabelFactory.create(name="eu")
    client = _key_manager("view_campaign", "view_channelconfiguration", labels=("eu",))

    response = client.post(
        reverse("admin:core_apikey_add"),
        {
            "name": "Shop",
            "scopes": ["campaigns:read"],
            "access_labels": [str(AccessLabel.objects.get(name="eu").pk)],
        },
    )

    assert response.status_code == 200
    key = ApiKey.objects.get()
    assert key.scopes == ["campaigns:read"]
    event = ApiKeyEvent.objects.get()
    assert (event.action, event.actor.username, event.detail) == (  # type: ignore[union-attr]
        "created",
        "keys",
        {"scopes": ["campaigns:read"], "accessLabels": ["eu"]},
    )


def test_a_user_cannot_give_a_key_a_label_they_do_not_hold() -> None:
    AccessLabelFactory.create(name="eu")
    vip = AccessLabelFactory.create(name="vip")
    client = _key_manager(labels=("eu",))

    response = client.post(
        reverse("admin:core_apikey_add"), {"name": "Shop", "access_labels": [str(vip.pk)]}
    )

    assert response.context["form"].errors["access_labels"] == [
        "You do not hold the access label “vip”, so you cannot give it."
    ]
    assert ApiKey.objects.count() == 0


def test_editing_a_key_cannot_add_a_scope_the_user_lacks_but_keeps_existing_ones() -> None:
    key, _secret = api_key_create(name="Shop", scopes=["profiles:write"])
    client = _key_manager("view_campaign", "view_channelconfiguration")
    url = reverse("admin:core_apikey_change", args=[key.pk])

    refused = client.post(
        url, {"name": "Shop", "scopes": ["profiles:write", "executions:trigger"], "is_active": "on"}
    )
    renamed = client.post(
        url, {"name": "Shop backend", "scopes": ["profiles:write"], "is_active": "on"}
    )

    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors["scopes"] == [
        "You do not hold the scope “executions:trigger”, so you cannot give it."
    ]
    assert renamed.status_code == 302
    key.refresh_from_db()
    assert (key.name, key.scopes) == ("Shop backend", ["profiles:write"])
    assert list(key.events.values_list("action", "detail")) == [
        ("changed", {"name": ["Shop", "Shop backend"]}),
        ("created", {"scopes": ["profiles:write"], "accessLabels": []}),
    ]


def test_revoking_a_key_from_the_change_form_and_the_action_is_recorded(
    admin_client: Client, admin_user: User
) -> None:
    first, first_secret = api_key_create(name="First", scopes=["campaigns:read"])
    second, second_secret = api_key_create(name="Second", scopes=["campaigns:read"])

    admin_client.post(
        reverse("admin:core_apikey_change", args=[first.pk]),
        {"name": "First", "scopes": ["campaigns:read"], **HISTORY_FORMSET},  # "active" unticked
    )
    admin_client.post(
        reverse("admin:core_apikey_changelist"),
        {"action": "revoke_selected", "_selected_action": [str(second.pk)]},
    )

    assert api_key_authenticate(first_secret) is None
    assert api_key_authenticate(second_secret) is None
    revoked = ApiKeyEvent.objects.filter(action="revoked").order_by("key_name")
    assert [(e.key_name, e.actor) for e in revoked] == [
        ("First", admin_user),
        ("Second", admin_user),
    ]
    history = admin_client.get(reverse("admin:core_apikey_change", args=[first.pk]))
    assert ">Revoked<" in history.content.decode()


def test_keys_are_revoked_never_deleted(admin_client: Client) -> None:
    key, _secret = api_key_create(name="Shop", scopes=["campaigns:read"])

    page = admin_client.get(reverse("admin:core_apikey_delete", args=[key.pk]))
    listing = admin_client.get(reverse("admin:core_apikey_changelist"))

    assert page.status_code == 403
    assert "delete_selected" not in listing.content.decode()
    assert ApiKey.objects.filter(pk=key.pk).exists()


def test_the_key_form_names_each_scope_by_what_it_allows_and_the_list_one_per_line(
    admin_client: Client, admin_user: User
) -> None:
    key, _secret = api_key_create(name="Shop", scopes=["campaigns:read", "executions:trigger"])

    form = admin_client.get(reverse("admin:core_apikey_change", args=[key.pk])).content.decode()
    listed = admin_client.get(reverse("admin:core_apikey_changelist")).content.decode()

    assert (
        'value="campaigns:read" id="id_scopes_0" checked>\n Read campaigns, versions and '
        'channel configurations <code class="clarion-scope">campaigns:read</code></label>'
    ) in form
    assert "campaigns:read: " not in form
    assert (
        '<ul class="clarion-scope-list"><li><code>campaigns:read</code></li>'
        "<li><code>executions:trigger</code></li></ul>"
    ) in listed


@pytest.mark.parametrize(
    "url",
    [
        reverse("admin:core_accesslabel_add"),
        reverse("admin:campaigns_campaign_add"),
        reverse("admin:delivery_webhookendpoint_add"),
    ],
)
def test_dual_lists_carry_no_hold_down_control_help(admin_client: Client, url: str) -> None:
    page = admin_client.get(url).content.decode()

    assert 'class="selectfilter"' in page  # the dual list is there
    assert "Hold down" not in page
