"""The project-wide templates (templates/): Clarion's admin header and icon, the error pages."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template import loader
from django.test import Client, RequestFactory
from django.utils import translation
from django.views import defaults

from core.api.problems import PROBLEM_CONTENT_TYPE, api_not_found, api_server_error

FAVICON_URL = "/static/clarion/favicon.svg"
FAVICON_LINK = f'<link rel="icon" type="image/svg+xml" href="{FAVICON_URL}">'
DJANGO_NAMES = ("Django administration", "Django site admin")


def _text(response: object) -> str:
    return response.content.decode()  # type: ignore[attr-defined]


@pytest.mark.django_db
def test_the_login_page_is_clarions(client: Client) -> None:
    # When someone opens the admin's login page
    response = client.get("/admin/login/")

    # Then header, browser title and icon are Clarion's, and Django's name is nowhere
    assert response.status_code == 200
    html = _text(response)
    assert "<title>Log in | Clarion</title>" in html
    assert (
        '<div id="site-name"><a href="/admin/"><img class="clarion-mark" '
        f'src="{FAVICON_URL}" alt="">Clarion</a></div>'
    ) in html
    assert FAVICON_LINK in html
    assert '<link rel="stylesheet" href="/static/clarion/admin.css">' in html
    assert not any(name in html for name in DJANGO_NAMES)


@pytest.mark.django_db
def test_admin_pages_and_clarions_own_admin_views_are_clarions(
    client: Client, admin_user_obj: User
) -> None:
    # Given a signed-in administrator
    client.force_login(admin_user_obj)

    # When they open the index, a change list and one of Clarion's own admin views
    pages = {
        "/admin/": "<title>Dashboard | Clarion</title>",
        "/admin/campaigns/campaign/": "<title>Select campaign to change | Clarion</title>",
        "/admin/core/apikey/add/": "| Clarion</title>",
    }
    for url, title in pages.items():
        response = client.get(url)

        # Then each has Clarion's header, title and icon
        assert response.status_code == 200, url
        html = _text(response)
        assert title in html, url
        assert 'alt="">Clarion</a></div>' in html, url
        assert FAVICON_LINK in html, url
        assert not any(name in html for name in DJANGO_NAMES), url


@pytest.mark.django_db
def test_no_page_of_the_shell_says_django(client: Client, admin_user_obj: User) -> None:
    # Given the login page, then a signed-in administrator's pages, then the logout page
    pages = {"/admin/login/": client.get("/admin/login/")}
    client.force_login(admin_user_obj)
    for url in (
        "/admin/",
        "/admin/campaigns/campaign/",
        "/admin/password_change/",
        "/admin/password_change/done/",
        "/admin/reports/",
    ):
        pages[url] = client.get(url)
    pages["/admin/logout/"] = client.post("/admin/logout/")

    # Then each is Clarion's and none names Django
    for url, response in pages.items():
        assert response.status_code == 200, url
        html = _text(response)
        assert "| Clarion</title>" in html, url
        assert "Django" not in html, url
        assert "Site administration" not in html, url


def test_the_favicon_is_served_and_favicon_ico_leads_to_it(client: Client) -> None:
    # When a browser asks for /favicon.ico
    response = client.get("/favicon.ico")

    # Then it is sent to the SVG icon, which is served
    assert response.status_code == 302
    assert response["Location"] == FAVICON_URL
    icon = client.get(FAVICON_URL)
    assert icon.status_code == 200
    assert icon["Content-Type"] == "image/svg+xml"
    assert b'aria-label="Clarion"' in b"".join(icon.streaming_content)  # type: ignore[attr-defined]


@pytest.mark.django_db
def test_a_missing_page_shows_clarions_404(client: Client) -> None:
    # When someone opens a page that does not exist (DEBUG is off in tests)
    response = client.get("/no-such-page/")

    # Then Clarion's page says so, as HTML
    assert response.status_code == 404
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert [t.name for t in response.templates][:2] == ["404.html", "errors/base.html"]
    html = _text(response)
    assert "<title>Page not found | Clarion</title>" in html
    assert "<h1>Page not found</h1>" in html
    assert "There is no page at <code>/no-such-page/</code>." in html
    assert '<a href="/">Go to Clarion</a>' in html


@pytest.mark.django_db
def test_a_missing_api_resource_is_still_problem_json(client: Client) -> None:
    # When a client asks for an API path that does not exist
    response = client.get("/api/v1/no-such-resource")

    # Then the answer is problem+json, not the HTML page
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE
    assert response.json()["code"] == "not_found"
    assert response.templates == []


def test_the_404_handler_renders_the_page_for_non_api_paths() -> None:
    request = RequestFactory().get("/admin/nowhere")

    response = api_not_found(request, Http404())

    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in _text(response)


def test_the_500_page_renders_with_no_context_at_all() -> None:
    # Given nothing: no request, no context processors (what Django's server_error does)
    html = loader.get_template("500.html").render()

    # Then the page is complete and self-contained: no static files, no links to load
    assert "<title>Something went wrong | Clarion</title>" in html
    assert "<h1>Something went wrong</h1>" in html
    assert "it was logged" in html
    assert "/static/" not in html
    assert "<link" not in html


def test_the_500_handler_renders_the_page_for_non_api_paths() -> None:
    response = api_server_error(RequestFactory().get("/admin/"))

    assert response.status_code == 500
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert "<h1>Something went wrong</h1>" in _text(response)


def test_the_400_and_403_pages_are_clarions() -> None:
    request = RequestFactory().get("/admin/")

    bad = defaults.bad_request(request, Exception("bad"))
    denied = defaults.permission_denied(request, PermissionDenied())

    assert bad.status_code == 400
    assert "<title>Bad request | Clarion</title>" in _text(bad)
    assert denied.status_code == 403
    assert "<title>Access denied | Clarion</title>" in _text(denied)
    assert "An administrator can give you access." in _text(denied)


def test_the_error_pages_name_the_active_language() -> None:
    # Given the Traditional Chinese the seed's readers use
    with translation.override("zh-hant"):
        # When an error page renders
        html = loader.get_template("404.html").render({"request_path": "/x"})

    # Then the document says which language it is in
    assert html.count('<html lang="zh-hant">') == 1
