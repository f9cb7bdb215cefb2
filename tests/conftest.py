"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

import pytest
from django.contrib.auth.models import Permission, User
from rest_framework.test import APIClient

from core.actors import Actor
from core.apikeys import api_key_create
from tests.factories import CampaignFactory, UserFactory


class ApiClientFactory(Protocol):
    def __call__(
        self, *scopes: str, labels: Sequence[str] = (), name: str = "test key"
    ) -> APIClient: ...


@pytest.fixture
def api_client(db: None) -> ApiClientFactory:
    """``api_client("campaigns:read", labels=["vip"])``: an API client sending a new key
    with those scopes and access labels (``name`` names the key, e.g. to revoke it)."""

    def make(*scopes: str, labels: Sequence[str] = (), name: str = "test key") -> APIClient:
        _key, secret = api_key_create(name=name, scopes=scopes, access_labels=labels)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        return client

    return make


@pytest.fixture
def marketer(db: None) -> User:
    """A staff user who can author campaigns (no approve permission)."""
    user = UserFactory.create(username="marketer")
    codenames = [
        f"{action}_{model}"
        for action in ("add", "change", "delete", "view")
        for model in ("campaign", "campaigncontent")
    ] + ["view_channelconfiguration", "view_campaignversion", "view_auditevent"]
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


@pytest.fixture
def approver(db: None) -> User:
    user = UserFactory.create(username="approver")
    user.user_permissions.set(
        Permission.objects.filter(
            codename__in=["approve_campaign", "view_campaign", "change_campaign"]
        )
    )
    return user


@pytest.fixture
def admin_user_obj(db: None) -> User:
    return User.objects.create_superuser("admin", "admin@example.com", "admin-pass-123")


@pytest.fixture
def as_marketer(marketer: User) -> Actor:
    return Actor(user=marketer)


@pytest.fixture
def campaign(db: None) -> object:
    return CampaignFactory.create()


@pytest.fixture(autouse=True)
def _no_cached_webhook_routes() -> Iterator[None]:
    """Webhook endpoints are cached across transactions; a test's endpoints are rolled
    back with it, so no test may see another's (delivery.webhooks.endpoints). Each test
    starts with the cache warm and empty (no endpoint), as a running installation's is
    nearly always: query counts do not depend on which test ran first."""
    from django.core.cache import cache

    from delivery.webhooks.endpoints import (
        WEBHOOK_ROUTES_CACHE_KEY,
        WEBHOOK_ROUTES_GENERATION_KEY,
    )

    cache.set(WEBHOOK_ROUTES_GENERATION_KEY, 0, timeout=None)
    cache.set(WEBHOOK_ROUTES_CACHE_KEY, (0, []))
    yield
    cache.delete_many([WEBHOOK_ROUTES_CACHE_KEY, WEBHOOK_ROUTES_GENERATION_KEY])


@pytest.fixture(autouse=True)
def _no_remembered_namespaces() -> Iterator[None]:
    """The profiles API keeps identity namespaces a few seconds per process; a test's own
    namespaces are rolled back with it, so each test reads them afresh."""
    from audiences.selectors import identity_namespaces_forget

    identity_namespaces_forget()
    yield
    identity_namespaces_forget()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last: Playwright leaves an event loop in the main thread for the
    rest of the session, and Django refuses synchronous database calls under it."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
