"""GET /api/v1/health: database and broker, no authentication."""

from __future__ import annotations

import os
from pathlib import Path
from unittest import mock

import pytest
from django.db.utils import OperationalError
from django.test import override_settings
from rest_framework.test import APIClient

from core.health import health_check

pytestmark = pytest.mark.django_db

URL = "/api/v1/health"


def test_healthy_is_200_without_credentials() -> None:
    response = APIClient().get(URL)

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


def test_a_stale_key_does_not_fail_the_probe() -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer clr_revoked_key")

    assert client.get(URL).status_code == 200


@override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0", CELERY_BROKER_TRANSPORT_OPTIONS={})
def test_an_unreachable_broker_is_503_naming_it() -> None:
    response = APIClient().get(URL)

    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == {
        "type": "urn:clarion:problem:unhealthy",
        "title": "Service unavailable",
        "status": 503,
        "detail": "Not answering: broker.",
        "code": "unhealthy",
        "errors": [{"pointer": "/checks/broker", "detail": "Does not answer."}],
        "checks": {"database": "ok", "broker": "error"},
    }


def test_a_failing_database_is_503_naming_it() -> None:
    with mock.patch("core.health.connection.cursor", side_effect=OperationalError("server closed")):
        response = APIClient().get(URL)

    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "error", "broker": "ok"}
    assert response.json()["detail"] == "Not answering: database."


def test_a_missing_filesystem_broker_folder_is_an_error(tmp_path: Path) -> None:
    missing = str(tmp_path / "gone")
    options = {"data_folder_in": missing, "data_folder_out": missing}
    with override_settings(
        CELERY_BROKER_URL="filesystem://localhost//", CELERY_BROKER_TRANSPORT_OPTIONS=options
    ):
        assert health_check().checks == {"database": "ok", "broker": "error"}


def test_a_live_redis_broker_is_ok() -> None:
    # The machine's Redis (CI starts it when it is down).
    with override_settings(
        CELERY_BROKER_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/1"),
        CELERY_BROKER_TRANSPORT_OPTIONS={"visibility_timeout": 3600},
    ):
        assert health_check().checks == {"database": "ok", "broker": "ok"}
