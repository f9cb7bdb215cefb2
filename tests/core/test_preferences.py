"""A person's language and time zone: chosen in the header or on Preferences, stored per
user, applied to every admin page (and never to the API)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from core.errors import InvalidInput
from core.formats import datetime_html
from core.models import ApiKey, UserPreference
from core.preferences import user_preferences, user_preferences_set

pytestmark = pytest.mark.django_db

ZH = "zh-hant"


def test_the_locale_directory_serves_the_zh_hant_language_code() -> None:
    assert (ZH, "Traditional Chinese") in [(c, str(n)) for c, n in settings.LANGUAGES]
    assert translation.to_locale(ZH) == "zh_Hant"
    assert (settings.BASE_DIR / "locale" / "zh_Hant" / "LC_MESSAGES").is_dir()
    assert translation.check_for_language(ZH)


def test_the_login_page_offers_the_language_switch_and_it_sets_the_cookie(
    client: Client,
) -> None:
    page = client.get(reverse("admin:login"))
    response = client.post(
        reverse("clarion-language"), {"language": ZH, "next": reverse("admin:login")}
    )
    again = client.get(reverse("admin:login"))

    html = page.content.decode()
    assert f'action="{reverse("clarion-language")}"' in html
    assert 'value="zh-hant" lang="zh-hant">繁體中文</button>' in html
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:login")
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == ZH
    assert again["Content-Language"] == ZH
    assert UserPreference.objects.count() == 0  # nobody to remember it for


def test_switching_language_when_logged_in_is_remembered_for_the_user(
    client: Client, admin_user: User
) -> None:
    client.force_login(admin_user)

    client.post(reverse("clarion-language"), {"language": ZH, "next": "/admin/"})
    other_browser = Client()
    other_browser.force_login(admin_user)
    page = other_browser.get(reverse("admin:index"), headers={"accept-language": "en"})

    assert UserPreference.objects.get(user=admin_user).language == ZH
    assert page["Content-Language"] == ZH
    assert '<strong lang="zh-hant" aria-current="true">繁體中文</strong>' in page.content.decode()


def test_without_a_chosen_language_accept_language_decides(
    client: Client, admin_user: User
) -> None:
    client.force_login(admin_user)

    page = client.get(reverse("admin:index"), headers={"accept-language": "zh-Hant-TW,zh;q=0.8"})

    assert page["Content-Language"] == ZH


def test_the_api_follows_accept_language_not_the_users_preference(
    client: Client, admin_user: User
) -> None:
    user_preferences_set(user=admin_user, language=ZH, time_zone="Asia/Taipei")
    client.force_login(admin_user)

    response = client.get("/api/v1/campaigns", headers={"accept-language": "en"})

    assert response["Content-Language"] == "en"


def test_the_preferences_page_stores_language_and_time_zone(
    client: Client, admin_user: User
) -> None:
    client.force_login(admin_user)
    url = reverse("clarion-preferences")

    form = client.get(url)
    saved = client.post(url, {"language": ZH, "time_zone": "Asia/Taipei"})
    after = client.get(url)

    assert '<option value="Asia/Taipei">Asia/Taipei</option>' in form.content.decode()
    assert "The site&#x27;s time zone (UTC)" in form.content.decode()
    assert saved.status_code == 302
    assert saved["Location"] == url
    assert saved.cookies[settings.LANGUAGE_COOKIE_NAME].value == ZH
    pref = UserPreference.objects.get(user=admin_user)
    assert (pref.language, pref.time_zone) == (ZH, "Asia/Taipei")
    assert '<option value="Asia/Taipei" selected>' in after.content.decode()
    assert after["Content-Language"] == ZH


def test_the_preferences_page_refuses_an_unknown_time_zone(
    client: Client, admin_user: User
) -> None:
    client.force_login(admin_user)

    response = client.post(reverse("clarion-preferences"), {"time_zone": "Mars/Olympus"})

    assert response.status_code == 200
    assert "Mars/Olympus" in response.context["form"].errors["time_zone"][0]
    assert UserPreference.objects.count() == 0


def test_the_preferences_page_needs_a_staff_login(client: Client) -> None:
    response = client.get(reverse("clarion-preferences"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_the_header_links_to_preferences(admin_client: Client) -> None:
    page = admin_client.get(reverse("admin:index"))

    assert f'<a href="{reverse("clarion-preferences")}">Preferences</a>' in page.content.decode()


def test_user_preferences_set_refuses_a_language_the_admin_does_not_speak(
    admin_user: User,
) -> None:
    with pytest.raises(InvalidInput) as raised:
        user_preferences_set(user=admin_user, language="fr", time_zone="Nowhere/Else")

    assert [e.pointer for e in raised.value.errors] == ["/language", "/timeZone"]
    assert UserPreference.objects.count() == 0


def test_user_preferences_set_changes_only_what_it_is_given(admin_user: User) -> None:
    user_preferences_set(user=admin_user, language=ZH, time_zone="Europe/Paris")

    user_preferences_set(user=admin_user, time_zone="")

    assert user_preferences(User.objects.get(pk=admin_user.pk)).language == ZH
    assert UserPreference.objects.get(user=admin_user).time_zone == ""


def test_the_preference_comes_with_the_session_user_without_a_query(
    client: Client, admin_user: User
) -> None:
    user_preferences_set(user=admin_user, language=ZH)
    client.force_login(admin_user)

    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("clarion-preferences"))

    sqls = [query["sql"] for query in queries]
    assert page["Content-Language"] == ZH
    assert [sql for sql in sqls if 'FROM "core_userpreference"' in sql] == []
    assert len([sql for sql in sqls if 'LEFT OUTER JOIN "core_userpreference"' in sql]) == 1


def test_times_show_in_the_users_zone_with_utc_on_hover(client: Client, admin_user: User) -> None:
    user_preferences_set(user=admin_user, time_zone="Asia/Taipei")
    key = ApiKey.objects.create(name="Shop", prefix="abcd1234", key_hash="x" * 64)
    ApiKey.objects.filter(pk=key.pk).update(created_at=datetime(2026, 11, 29, 8, 0, tzinfo=UTC))
    client.force_login(admin_user)

    changelist = client.get(reverse("admin:core_apikey_changelist")).content.decode()
    change = client.get(reverse("admin:core_apikey_change", args=[key.pk])).content.decode()

    expected = (
        '<time datetime="2026-11-29T08:00:00Z" title="2026-11-29 08:00 UTC">'
        "Nov. 29, 2026, 4 p.m.</time>"
    )
    assert expected in changelist
    assert expected in change


def test_datetime_html_follows_the_active_language_and_zone() -> None:
    value = datetime(2026, 11, 29, 8, 30, 15, 123456, tzinfo=UTC)

    with translation.override(ZH), timezone.override("Asia/Taipei"):
        html = datetime_html(value)

    assert html == (
        '<time datetime="2026-11-29T08:30:15Z" title="2026-11-29 08:30 UTC">'
        "2026年11月29日 16:30</time>"
    )
    assert datetime_html(None) == "—"
