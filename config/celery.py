"""The Celery application; configuration comes from Django settings (``CELERY_*``)."""

from __future__ import annotations

import gc
import os
from typing import Any

from celery import Celery
from celery.signals import task_prerun, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = Celery("clarion")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Celery's Django fixup closes the database connection before and after every task
# unless this is set, so each send batch would open a new PostgreSQL connection. It
# is set high and connections are instead recycled the way Django's request cycle
# does it (below): after CONN_MAX_AGE, or at once when the last one failed.
app.conf.CELERY_DB_REUSE_MAX = 1_000_000
app.autodiscover_tasks()


@task_prerun.connect
def _close_old_connections(task: Any = None, **_kwargs: Any) -> None:
    if getattr(getattr(task, "request", None), "is_eager", False):
        return  # run in the caller's process and transaction (tests): leave its connection
    from django.db import close_old_connections

    close_old_connections()


@worker_process_init.connect
def _freeze_startup_objects(**_kwargs: Any) -> None:
    """Keep what the process loaded at start (Django, the models, the URL conf: hundreds of
    thousands of objects) out of the garbage collector's full passes, which otherwise
    walk them all every few thousand allocations of a send batch."""
    gc.freeze()
