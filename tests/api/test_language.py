"""API clients choose the language of problem+json with ``Accept-Language`` (issue 10).

The title and the detail come back in that language, with ``Content-Language``; without
the header, or with a language Clarion lacks, in English. The admin's language cookie
does not reach the API.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from rest_framework.test import APIClient

from campaigns.models import Campaign
from core.api.language import accept_language
from core.management.commands.compile_translations import po_compile
from tests.api.conftest import READ, WRITE
from tests.conftest import ApiClientFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/campaigns"


@pytest.fixture(autouse=True)
def catalogue(tmp_path: Path) -> Iterator[None]:
    """The project's zh_Hant catalogue, compiled as `make install` does."""
    source = Path(settings.BASE_DIR) / "locale" / "zh_Hant" / "LC_MESSAGES" / "django.po"
    target = tmp_path / "zh_Hant" / "LC_MESSAGES"
    target.mkdir(parents=True)
    po_compile(source, target / "django.mo")
    with override_settings(LOCALE_PATHS=[tmp_path]):
        yield


@pytest.fixture
def writer(api_client: ApiClientFactory) -> APIClient:
    return api_client(READ, WRITE)


def test_a_404_in_traditional_chinese_for_accept_language_zh_hant(writer: APIClient) -> None:
    response = writer.get("/api/v1/no-such-thing", HTTP_ACCEPT_LANGUAGE="zh-Hant")

    assert response.status_code == 404
    assert response["Content-Language"] == "zh-hant"
    assert "Accept-Language" in response["Vary"]
    body = response.json()
    assert (body["title"], body["detail"], body["code"]) == (
        "找不到",
        "找不到這項資源。",
        "not_found",
    )


def test_a_404_in_english_without_accept_language(writer: APIClient) -> None:
    response = writer.get("/api/v1/no-such-thing")

    assert response["Content-Language"] == "en"
    body = response.json()
    assert (body["title"], body["detail"]) == ("Not found", "No such resource.")


def test_a_400_of_malformed_json_in_traditional_chinese(writer: APIClient) -> None:
    response = writer.post(
        URL, '{"name": "x",', content_type="application/json", HTTP_ACCEPT_LANGUAGE="zh-Hant"
    )

    assert response.status_code == 400
    assert response["Content-Language"] == "zh-hant"
    body = response.json()
    assert body["title"] == "請求有誤"
    assert body["detail"].startswith("JSON 解析錯誤：")
    assert body["code"] == "malformed_json"
    assert Campaign.objects.count() == 0


def test_drfs_own_validation_messages_follow_accept_language(writer: APIClient) -> None:
    response = writer.post(URL, {}, format="json", HTTP_ACCEPT_LANGUAGE="zh-TW")

    assert response.status_code == 400
    assert response["Content-Language"] == "zh-hant"
    body = response.json()
    assert body["title"] == "請求有誤"
    assert body["errors"] == [{"pointer": "/name", "detail": "此為必需欄位。"}]
    assert body["detail"] == "此為必需欄位。"


def test_a_422_from_a_service_in_traditional_chinese(writer: APIClient) -> None:
    document = {"name": "X", "channelConfiguration": str(uuid.uuid4())}

    response = writer.post(URL, document, format="json", HTTP_ACCEPT_LANGUAGE="zh-Hant, en;q=0.5")

    assert response.status_code == 422
    assert response["Content-Language"] == "zh-hant"
    body = response.json()
    assert body["title"] == "無法處理的內容"
    expected = f"沒有 ID 為「{document['channelConfiguration']}」的管道設定。"
    assert body["detail"] == expected
    assert body["errors"] == [{"pointer": "/channelConfiguration", "detail": expected}]
    assert body["code"] == "validation_error"
    assert Campaign.objects.count() == 0


def test_a_language_clarion_lacks_gives_english(writer: APIClient) -> None:
    response = writer.get("/api/v1/no-such-thing", HTTP_ACCEPT_LANGUAGE="fr-CA, de;q=0.8")

    assert response["Content-Language"] == "en"
    assert response.json()["title"] == "Not found"


def test_the_admins_language_cookie_does_not_reach_the_api(writer: APIClient) -> None:
    # given the cookie the admin's language switch sets, for Traditional Chinese
    writer.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hant"

    # when the API is called with English asked, then without a language
    asked = writer.get("/api/v1/no-such-thing", HTTP_ACCEPT_LANGUAGE="en")
    unasked = writer.get("/api/v1/no-such-thing")

    # then both answers are English, as for any client
    assert (asked["Content-Language"], asked.json()["title"]) == ("en", "Not found")
    assert (unasked["Content-Language"], unasked.json()["title"]) == ("en", "Not found")


def test_the_admin_still_follows_the_cookie(admin_client: object) -> None:
    admin_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hant"  # type: ignore[attr-defined]

    response = admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en")  # type: ignore[attr-defined]

    assert response["Content-Language"] == "zh-hant"


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("zh-Hant", "zh-hant"),
        ("zh-TW", "zh-hant"),
        ("zh-Hant-TW;q=0.9, en;q=0.8", "zh-hant"),
        ("en-US", "en"),
        ("fr, zh-HK;q=0.5", "zh-hant"),
        ("*", "en"),
        ("", "en"),
        ("not a header", "en"),
    ],
)
def test_accept_language_picks_the_first_language_clarion_has(header: str, language: str) -> None:
    assert accept_language(header) == language


def test_drf_messages_its_own_catalogue_lacks_come_from_clarions(writer: APIClient) -> None:
    # DRF's zh_Hant catalogue has no "Not a valid string." (config/package_strings.py)
    response = writer.post(URL, {"name": 5}, format="json", HTTP_ACCEPT_LANGUAGE="zh-Hant")

    assert response.status_code == 400
    assert {"pointer": "/name", "detail": "不是有效的字串。"} in response.json()["errors"]
