"""The dispatcher task travels through the real broker to a real Celery worker process.

The worker runs with the test settings and a DATABASE_URL naming the test
database (``connection.settings_dict`` holds its name once pytest-django has
created it), so it sees the rows this test commits. It listens on a queue of
its own, so messages other tests left in the broker never reach it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from campaigns.models import AuditEvent, Campaign, Status
from campaigns.services.lifecycle import campaign_activate
from campaigns.tasks import campaign_dispatch_due_task
from core.actors import Actor
from tests.campaigns.version_helpers import frozen_schedule
from tests.factories import CampaignFactory

pytestmark = pytest.mark.worker

WAIT_SECONDS = 30
BASE_DIR = Path(settings.BASE_DIR)


def _test_database_url() -> str:
    """The URL of the database this test runs on (the test database, not the real one)."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "localhost"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{credentials}@{host}{port}/{quote(db['NAME'], safe='')}"


def _worker_env() -> dict[str, str]:
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    env["DATABASE_URL"] = _test_database_url()
    # Same broker as this process: Redis when CELERY_BROKER_URL says so, else the
    # filesystem folders under settings.DATA_DIR (CLARION_DATA_DIR).
    env["CLARION_DATA_DIR"] = str(settings.DATA_DIR)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _scheduled_campaign_now_due() -> Campaign:
    """Activated with a future start (scheduled, version 1), then the version's start moved back."""
    campaign = CampaignFactory.create(start_at=timezone.now() + timedelta(days=1))
    campaign = campaign_activate(campaign=campaign, actor=Actor.system())
    assert campaign.status == Status.SCHEDULED
    frozen_schedule(campaign, start_at=timezone.now() - timedelta(minutes=1), end_at=None)
    return campaign


@pytest.mark.django_db(transaction=True)
def test_worker_process_runs_the_dispatcher_sent_through_the_broker() -> None:
    campaign = _scheduled_campaign_now_due()
    queue = f"test-worker-{uuid.uuid4().hex[:8]}"
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed in finally)
        mode="w+", prefix="clarion-worker-", suffix=".log", delete=False
    )
    worker = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "config", "worker",
            "--pool", "solo", "-c", "1", "-Q", queue, "-l", "info",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
            "-n", f"{queue}@%h",
        ],
        cwd=BASE_DIR,
        env=_worker_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        campaign_dispatch_due_task.apply_async(queue=queue)

        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline and worker.poll() is None:
            campaign.refresh_from_db()
            if campaign.status != Status.SCHEDULED:
                break
            time.sleep(0.25)

        log.seek(0)
        output = log.read()
        assert campaign.status == Status.LIVE, f"worker output:\n{output}"
        assert "campaign_dispatch_due_task" in output
        assert "succeeded" in output
        events = AuditEvent.objects.filter(campaign=campaign, action="go_live")
        assert events.count() == 1
        assert events.get().actor is None  # the system acted, not a person
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        log.close()
        os.unlink(log.name)
