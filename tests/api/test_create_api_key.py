"""manage.py create_api_key: the secret alone on the last line, and it works."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from core.apikeys import api_key_hash
from core.models import ApiKey
from tests.factories import AccessLabelFactory, CampaignFactory

pytestmark = pytest.mark.django_db


def _run(*args: str) -> list[str]:
    out = StringIO()
    call_command("create_api_key", *args, stdout=out)
    return out.getvalue().splitlines()


def test_prints_a_summary_then_the_secret_alone_on_the_last_line() -> None:
    AccessLabelFactory.create(name="vip")

    lines = _run(
        "--name", "CRM", "--scopes", "campaigns:read, executions:trigger", "--labels", "vip"
    )

    key = ApiKey.objects.get()
    secret = lines[-1]
    assert lines[:-1] == [
        f"Created API key “CRM” (prefix {key.prefix}).",
        "Scopes: campaigns:read, executions:trigger",
        "Access labels: vip",
        "The secret below is shown only this once:",
    ]
    assert secret.startswith(f"clr_{key.prefix}_")
    assert " " not in secret
    assert key.key_hash == api_key_hash(secret)
    assert secret not in key.key_hash
    assert [label.name for label in key.access_labels.all()] == ["vip"]


def test_the_printed_secret_authenticates_with_its_scopes() -> None:
    campaign = CampaignFactory.create()
    secret = _run("--name", "Reader", "--scopes", "campaigns:read")[-1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")

    read = client.get(f"/api/v1/campaigns/{campaign.pk}")
    write = client.post(f"/api/v1/campaigns/{campaign.pk}/activate")

    assert read.status_code == 200
    assert write.status_code == 403
    assert write.json()["code"] == "missing_scope"


def test_an_unknown_scope_is_a_command_error_naming_it() -> None:
    with pytest.raises(CommandError, match="Unknown scope “campaigns:delete”"):
        _run("--name", "Bad", "--scopes", "campaigns:read,campaigns:delete")

    assert ApiKey.objects.count() == 0


def test_an_unknown_label_is_a_command_error_naming_it() -> None:
    with pytest.raises(CommandError, match="Unknown access label “ghost”"):
        _run("--name", "Bad", "--scopes", "campaigns:read", "--labels", "ghost")

    assert ApiKey.objects.count() == 0


def test_no_scopes_is_a_command_error() -> None:
    with pytest.raises(CommandError, match="at least one scope"):
        _run("--name", "Bad", "--scopes", " , ")

    assert ApiKey.objects.count() == 0
