"""The default DRF permission fails closed: no declared access rule, no access."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from core.api.permissions import Access
from core.apikeys import api_key_create
from core.scopes import CAMPAIGNS_READ, SCOPES

pytestmark = pytest.mark.django_db


class ForgotItsRuleApi(APIView):
    """A view that names no ``access`` and keeps the project's default permission."""

    def get(self, request: Request) -> Response:
        return Response({"secret": "leaked"})


class DeclaresItsRuleApi(APIView):
    access = {"GET": Access(CAMPAIGNS_READ, "campaigns.view_campaign")}

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


def _get(view: type[APIView], *, user: User | None = None, secret: str | None = None) -> Response:
    request = APIRequestFactory().get("/api/v1/anything")
    if secret:
        request.META["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    if user is not None:
        force_authenticate(request, user=user)
    response: Response = view.as_view()(request)
    response.render()
    return response


def test_a_view_without_an_access_rule_refuses_even_a_superuser_and_a_full_key(
    admin_user: User,
) -> None:
    _key, secret = api_key_create(name="everything", scopes=list(SCOPES))

    as_superuser = _get(ForgotItsRuleApi, user=admin_user)
    as_key = _get(ForgotItsRuleApi, secret=secret)
    anonymous = _get(ForgotItsRuleApi)

    for response in (as_superuser, as_key, anonymous):
        assert response.status_code == 403
        assert response["Content-Type"] == "application/problem+json"
        assert response.data["code"] == "no_access_rule"
        assert b"leaked" not in response.content


def test_a_view_with_an_access_rule_lets_the_holder_in() -> None:
    _key, secret = api_key_create(name="reader", scopes=[CAMPAIGNS_READ])
    _other, no_scope = api_key_create(name="profiles", scopes=["profiles:read"])

    assert _get(DeclaresItsRuleApi, secret=secret).status_code == 200
    refused = _get(DeclaresItsRuleApi, secret=no_scope)
    assert (refused.status_code, refused.data["code"]) == (403, "missing_scope")
