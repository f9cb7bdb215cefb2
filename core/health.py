"""Health checks: is the database answering, is the Celery broker reachable?

``GET /api/v1/health`` reports them, for load balancers and monitoring.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from kombu import Connection

logger = logging.getLogger(__name__)

# A health probe must answer quickly even when the broker is down.
BROKER_TIMEOUT_SECONDS = 2

OK = "ok"
FAILING = "error"


@dataclass
class HealthReport:
    """The state of each dependency, ``ok`` or ``error``."""

    checks: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(state == OK for state in self.checks.values())

    @property
    def failing(self) -> list[str]:
        return [name for name, state in self.checks.items() if state != OK]


def database_check() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.exception("Health check: the database does not answer")
        return False


def _filesystem_folders_ok(options: dict[str, object]) -> bool:
    # The filesystem transport "connects" without touching the disk, so check its folders.
    folders = [options.get(key) for key in ("data_folder_in", "data_folder_out")]
    return all(
        isinstance(folder, str) and os.path.isdir(folder) and os.access(folder, os.W_OK)
        for folder in folders
    )


def broker_check() -> bool:
    url = settings.CELERY_BROKER_URL
    options = dict(settings.CELERY_BROKER_TRANSPORT_OPTIONS)
    if url.startswith(("redis", "rediss")):
        options.setdefault("socket_connect_timeout", BROKER_TIMEOUT_SECONDS)
        options.setdefault("socket_timeout", BROKER_TIMEOUT_SECONDS)
    try:
        with Connection(
            url, transport_options=options, connect_timeout=BROKER_TIMEOUT_SECONDS
        ) as conn:
            conn.ensure_connection(
                max_retries=1, interval_start=0, interval_step=0, timeout=BROKER_TIMEOUT_SECONDS
            )
    except Exception:
        logger.exception("Health check: the broker does not answer")
        return False
    if url.startswith("filesystem"):
        return _filesystem_folders_ok(options)
    return True


def health_check() -> HealthReport:
    """Check every dependency Clarion needs to accept and deliver messages."""
    return HealthReport(
        checks={
            "database": OK if database_check() else FAILING,
            "broker": OK if broker_check() else FAILING,
        }
    )
