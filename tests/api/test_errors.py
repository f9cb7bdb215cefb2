"""Every error the management API answers with is problem+json, never a 500."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import RequestDataTooBig
from rest_framework.test import APIClient

from campaigns.models import AuditEvent, Campaign
from core.api.parsers import MAX_BODY_BYTES
from core.api.problems import problem_exception_handler
from core.models import ApiKey
from tests.api.conftest import READ, problem
from tests.conftest import ApiClientFactory
from tests.factories import AccessLabelFactory, CampaignFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/campaigns"
PROBLEM = "application/problem+json"


# --- bodies ------------------------------------------------------------------------


def test_malformed_json_is_400_malformed_json(writer: APIClient) -> None:
    response = writer.post(URL, '{"name": "x",', content_type="application/json")

    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["code"] == "malformed_json"
    assert body["detail"].startswith("JSON parse error: ")
    assert body["errors"] == []
    assert Campaign.objects.count() == 0


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 100_000 + b"]" * 100_000,  # deeper than Python's recursion limit
        b'{"name": NaN}',  # not JSON (RFC 8259), though Python accepts it
        b'{"name": "\xff\xfe"}',  # not UTF-8
    ],
    ids=["deep", "nan", "bad-utf8"],
)
def test_hostile_json_is_400_not_500(writer: APIClient, raw: bytes) -> None:
    response = writer.post(URL, raw, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"
    assert Campaign.objects.count() == 0


def test_a_body_over_1_mb_is_413(writer: APIClient) -> None:
    document = {"name": "Big", "description": "x" * MAX_BODY_BYTES}

    response = writer.post(URL, json.dumps(document), content_type="application/json")

    assert response.status_code == 413
    assert response["Content-Type"] == PROBLEM
    assert response.json() == problem(
        413, "payload_too_large", "The request body is larger than 1 MB."
    )
    assert Campaign.objects.count() == 0


def test_a_body_just_under_1_mb_is_accepted(writer: APIClient) -> None:
    padding = MAX_BODY_BYTES - len(json.dumps({"name": "Big", "description": ""})) - 10
    document = {"name": "Big", "description": "x" * padding}

    response = writer.post(URL, json.dumps(document), content_type="application/json")

    assert response.status_code == 201


def test_djangos_request_data_too_big_is_413() -> None:
    response = problem_exception_handler(RequestDataTooBig("too big"), {})

    assert response is not None
    assert response.status_code == 413
    assert response.data == problem(413, "payload_too_large", "The request body is too large.")


def test_a_form_body_is_415(writer: APIClient) -> None:
    response = writer.post(URL, {"name": "x"})  # multipart

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    assert Campaign.objects.count() == 0


def test_an_unsupported_method_is_405(reader: APIClient) -> None:
    response = reader.put(URL, {}, format="json")

    assert response.status_code == 405
    assert response.json() == problem(405, "method_not_allowed", 'Method "PUT" not allowed.')


def test_an_unknown_api_path_is_a_404_problem(reader: APIClient) -> None:
    response = reader.get("/api/v1/nothing-here")

    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM
    assert response.json()["code"] == "not_found"


# --- authentication ----------------------------------------------------------------------


def test_no_credentials_is_401_with_www_authenticate(db: None) -> None:
    response = APIClient().get(URL)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json() == problem(
        401, "not_authenticated", "Authentication credentials were not provided."
    )


@pytest.mark.parametrize("header", ["Bearer clr_nope_nope", "Bearer", "Bearer a b"])
def test_a_wrong_key_is_401_invalid_api_key(db: None, header: str) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.post(URL, {"name": "x"}, format="json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json()["code"] == "invalid_api_key"
    assert Campaign.objects.count() == 0


def test_a_revoked_key_is_401(api_client: ApiClientFactory) -> None:
    client = api_client(READ, name="old")
    ApiKey.objects.filter(name="old").update(is_active=False)

    response = client.get(URL)

    assert response.status_code == 401
    assert response.json() == problem(
        401, "invalid_api_key", "The API key is not valid or was revoked."
    )


# --- scopes -------------------------------------------------------------------------------


def test_a_read_only_key_cannot_write(reader: APIClient) -> None:
    campaign = CampaignFactory.create()

    create = reader.post(URL, {"name": "x"}, format="json")
    activate = reader.post(f"{URL}/{campaign.pk}/activate")
    delete = reader.delete(f"{URL}/{campaign.pk}")

    for response in (create, activate, delete):
        assert response.status_code == 403
        assert response.json() == problem(
            403, "missing_scope", "This API key lacks the scope “campaigns:write”."
        )
    assert list(Campaign.objects.values_list("status", flat=True)) == ["draft"]
    assert AuditEvent.objects.count() == 0


def test_a_trigger_only_key_cannot_read_campaigns(api_client: ApiClientFactory) -> None:
    client = api_client("executions:trigger")
    campaign = CampaignFactory.create()

    for path in (URL, f"{URL}/{campaign.pk}", "/api/v1/channel-configurations"):
        response = client.get(path)
        assert response.status_code == 403
        assert response.json()["detail"] == "This API key lacks the scope “campaigns:read”."


def test_review_and_previews_need_only_the_read_scope(reader: APIClient) -> None:
    campaign = CampaignFactory.create()

    review = reader.post(f"{URL}/{campaign.pk}/review")
    preview = reader.post(f"{URL}/{campaign.pk}/previews", {}, format="json")

    assert review.status_code == 200
    assert preview.status_code == 200


# --- session users (the admin's staff) -------------------------------------------------------


def _session(user: User) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def test_a_staff_user_with_campaign_permissions_can_list_and_create(marketer: User) -> None:
    client = _session(marketer)

    listed = client.get(URL)
    created = client.post(URL, {"name": "By session"}, format="json")

    assert listed.status_code == 200
    assert created.status_code == 201
    campaign = Campaign.objects.get()
    assert campaign.created_by == marketer
    assert AuditEvent.objects.get().actor == marketer


def test_a_staff_user_without_the_permission_is_403(approver: User) -> None:
    campaign = CampaignFactory.create()

    response = _session(approver).delete(f"{URL}/{campaign.pk}")

    assert response.status_code == 403
    assert response.json() == problem(
        403, "missing_permission", "You lack the permission “campaigns.delete_campaign”."
    )
    assert Campaign.objects.count() == 1


def test_a_user_who_is_not_staff_is_403(db: None) -> None:
    user = UserFactory.create(is_staff=False)

    response = _session(user).get(URL)

    assert response.status_code == 403
    assert response.json()["code"] == "missing_permission"


def test_a_staff_user_sees_only_campaigns_whose_labels_their_groups_hold(marketer: User) -> None:
    vip = AccessLabelFactory.create(name="vip")
    secret = CampaignFactory.create(name="Secret")
    secret.access_labels.set([vip])
    CampaignFactory.create(name="Open")
    client = _session(marketer)

    before = client.get(URL)
    hidden = client.get(f"{URL}/{secret.pk}")
    group = Group.objects.create(name="VIP team")
    vip.groups.add(group)
    marketer.groups.add(group)
    after = client.get(URL)

    assert [c["name"] for c in before.json()["results"]] == ["Open"]
    assert hidden.status_code == 404
    assert [c["name"] for c in after.json()["results"]] == ["Open", "Secret"]


def test_nul_characters_are_400_not_a_database_error(writer: APIClient) -> None:
    # PostgreSQL refuses NUL in text; it must be caught as bad input first.
    create = writer.post(URL, {"name": "a\u0000b"}, format="json")
    search = writer.get(URL, {"search": "a\u0000b"})

    assert create.status_code == 400
    assert create.json()["errors"] == [
        {"pointer": "/name", "detail": "Null characters are not allowed."}
    ]
    assert search.status_code == 400
    assert search.json()["errors"][0]["pointer"] == "/query/search"
    assert Campaign.objects.count() == 0
