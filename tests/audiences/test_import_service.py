"""Profile import runs (audiences/services/imports.py): how they end, heartbeats, the sweep
that fails imports whose worker died, and deleting imports with their files."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audiences import tasks
from audiences.models import IdentityNamespace, Profile, ProfileImport
from audiences.services.imports import (
    IMPORT_HEARTBEAT_GRACE,
    profile_import_delete,
    profile_import_fail_stalled,
    profile_import_run,
    profile_imports_delete,
)
from config.celery import app

pytestmark = pytest.mark.django_db

STALLED_REASON = (
    "The import stopped reporting progress for over 10 minutes: the worker running it "
    "stopped. Rows of the batches it finished are imported; upload the file again to import "
    "the rest (rows already imported are updated, not doubled)."
)


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


def queued_import(content: bytes, name: str = "people.csv") -> ProfileImport:
    profile_import = ProfileImport(
        namespace=IdentityNamespace.objects.get(code="email"),
        total_bytes=len(content),
        original_name=name,
    )
    profile_import.file.save(name, ContentFile(content), save=False)
    profile_import.save()
    return profile_import


def running_import(heartbeat_minutes_ago: float | None) -> ProfileImport:
    profile_import = queued_import(b"email\na@example.com\n")
    heartbeat = (
        None
        if heartbeat_minutes_ago is None
        else timezone.now() - timedelta(minutes=heartbeat_minutes_ago)
    )
    ProfileImport.objects.filter(pk=profile_import.pk).update(
        status=ProfileImport.Status.RUNNING, heartbeat_at=heartbeat
    )
    profile_import.refresh_from_db()
    return profile_import


# --- how an import ends ---------------------------------------------------------------------


def test_an_import_whose_every_row_was_rejected_failed() -> None:
    # given a file whose two rows are both invalid
    profile_import = queued_import(b"email\nnot-an-email\nalso bad\n")

    # when it runs
    assert profile_import_run(import_id=profile_import.pk) is True

    # then it failed, says why in words, and keeps the rejected rows to download
    profile_import.refresh_from_db()
    assert profile_import.status == ProfileImport.Status.FAILED
    assert profile_import.get_status_display() == "Failed"
    assert profile_import.error == (
        "All 2 rows were rejected; download the rejected rows to see why."
    )
    assert (
        profile_import.created_count,
        profile_import.updated_count,
        profile_import.rejected_count,
    ) == (0, 0, 2)
    assert profile_import.rejected_file.name == f"imports/{profile_import.pk}-rejected.csv"
    assert profile_import.finished_at is not None
    assert Profile.objects.count() == 0


def test_an_import_with_some_rejected_rows_succeeded_with_rejected_rows() -> None:
    profile_import = queued_import(b"email\na@example.com\nnot-an-email\n")

    profile_import_run(import_id=profile_import.pk)

    profile_import.refresh_from_db()
    assert profile_import.status == ProfileImport.Status.PARTIALLY_SUCCEEDED
    assert profile_import.get_status_display() == "Succeeded with rejected rows"
    assert profile_import.error == ""
    assert (profile_import.created_count, profile_import.rejected_count) == (1, 1)
    assert profile_import.progress_percent == 100


def test_an_import_without_rejected_rows_succeeded() -> None:
    profile_import = queued_import(b"email\na@example.com\nb@example.com\n")

    profile_import_run(import_id=profile_import.pk)

    profile_import.refresh_from_db()
    assert profile_import.status == ProfileImport.Status.SUCCEEDED
    assert (profile_import.created_count, profile_import.rejected_count) == (2, 0)
    assert not profile_import.rejected_file


def test_the_name_shown_is_the_uploaded_files_not_the_storage_path() -> None:
    # given two uploads of the same name: storage renames the second copy
    first = queued_import(b"email\n", name="people.csv")
    second = queued_import(b"email\n", name="people.csv")

    # then both are shown by the name the marketer uploaded
    assert second.file.name != first.file.name
    assert (str(first), str(second)) == ("people.csv (Queued)", "people.csv (Queued)")
    assert second.display_name == "people.csv"


# --- heartbeat and the sweep -----------------------------------------------------------------


def test_each_batch_moves_the_heartbeat() -> None:
    # given a file of three rows, run one row per batch
    profile_import = queued_import(b"email\na@example.com\nb@example.com\nc@example.com\n")
    started = timezone.now()

    # when it runs
    with CaptureQueriesContext(connection) as queries:
        profile_import_run(import_id=profile_import.pk, batch_size=1)

    # then the claim, each of the 3 batches, the end of the file and the result wrote it
    heartbeats = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith('UPDATE "audiences_profileimport"') and "heartbeat_at" in q["sql"]
    ]
    assert len(heartbeats) == 6
    profile_import.refresh_from_db()
    assert profile_import.heartbeat_at is not None
    assert profile_import.heartbeat_at >= started
    assert profile_import.heartbeat_at == profile_import.finished_at


def test_the_sweep_fails_running_imports_whose_heartbeat_stopped() -> None:
    # given running imports silent for longer than the grace period, one within it,
    # one from before heartbeats existed, and a queued one
    minutes = IMPORT_HEARTBEAT_GRACE.total_seconds() / 60
    dead = running_import(heartbeat_minutes_ago=minutes + 1)
    alive = running_import(heartbeat_minutes_ago=minutes - 1)
    legacy = running_import(heartbeat_minutes_ago=None)
    ProfileImport.objects.filter(pk=legacy.pk).update(
        created_at=timezone.now() - timedelta(hours=1)
    )
    queued = queued_import(b"email\n")
    ProfileImport.objects.filter(pk=queued.pk).update(
        created_at=timezone.now() - timedelta(hours=1)
    )

    # when the sweep runs (twice: beat may run it again)
    now = timezone.now()
    assert profile_import_fail_stalled(now=now) == 2
    assert profile_import_fail_stalled(now=now) == 0

    # then the dead ones failed with the reason in words; the others are untouched
    statuses = dict(ProfileImport.objects.values_list("pk", "status"))
    assert statuses == {
        dead.pk: "failed",
        legacy.pk: "failed",
        alive.pk: "running",
        queued.pk: "queued",
    }
    dead.refresh_from_db()
    assert dead.error == STALLED_REASON
    assert dead.finished_at == now
    alive.refresh_from_db()
    assert (alive.error, alive.finished_at) == ("", None)


def test_a_worker_that_comes_back_after_the_sweep_stops_and_keeps_the_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given an import whose worker is so slow that the sweep fails it after its first batch
    profile_import = queued_import(b"email\na@example.com\nb@example.com\nc@example.com\n")
    from audiences.services import imports

    real_save = imports._progress_save
    calls: list[int] = []

    def save_then_sweep(import_id: Any, progress: Any) -> None:
        calls.append(progress.created)
        if len(calls) == 2:
            profile_import_fail_stalled(now=timezone.now() + IMPORT_HEARTBEAT_GRACE * 2)
        real_save(import_id, progress)

    monkeypatch.setattr(imports, "_progress_save", save_then_sweep)

    # when it runs
    assert profile_import_run(import_id=profile_import.pk, batch_size=1) is True

    # then it stopped at the batch after the sweep, and still says failed, with the reason
    profile_import.refresh_from_db()
    assert calls == [1, 2]
    assert profile_import.status == ProfileImport.Status.FAILED
    assert profile_import.error == STALLED_REASON
    assert profile_import.created_count == 1  # the last count saved while it was running
    assert Profile.objects.count() == 2  # the second batch had committed when it noticed


def test_the_sweep_is_a_beat_task_every_minute() -> None:
    entry = django_settings.CELERY_BEAT_SCHEDULE["profile-import-fail-stalled"]

    assert entry["task"] == "audiences.tasks.profile_import_fail_stalled_task"
    assert str(entry["schedule"]) == "<crontab: * * * * * (m/h/dM/MY/d)>"
    assert "audiences.tasks.profile_import_fail_stalled_task" in app.tasks
    assert tasks.profile_import_fail_stalled_task() == 0


# --- deleting imports deletes their files --------------------------------------------------


def finished_import_with_files() -> tuple[ProfileImport, list[str]]:
    profile_import = queued_import(b"email\na@example.com\nnot-an-email\n")
    profile_import_run(import_id=profile_import.pk)
    profile_import.refresh_from_db()
    names = [str(profile_import.file.name), str(profile_import.rejected_file.name)]
    assert all(default_storage.exists(name) for name in names)
    return profile_import, names


def test_deleting_an_import_deletes_its_files_after_the_commit(
    django_capture_on_commit_callbacks: Any,
) -> None:
    profile_import, names = finished_import_with_files()

    with django_capture_on_commit_callbacks(execute=True):
        profile_import_delete(profile_import=profile_import)

    assert ProfileImport.objects.count() == 0
    assert [default_storage.exists(name) for name in names] == [False, False]


def test_model_delete_deletes_the_files_too(django_capture_on_commit_callbacks: Any) -> None:
    profile_import, names = finished_import_with_files()

    with django_capture_on_commit_callbacks(execute=True):
        profile_import.delete()

    assert [default_storage.exists(name) for name in names] == [False, False]


def test_a_rolled_back_delete_keeps_the_files(django_capture_on_commit_callbacks: Any) -> None:
    profile_import, names = finished_import_with_files()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        profile_import_delete(profile_import=profile_import)

    # the commit never came: the callbacks were not run, and the files are still there
    assert len(callbacks) == 1
    assert [default_storage.exists(name) for name in names] == [True, True]


def test_deleting_many_imports_deletes_every_file(django_capture_on_commit_callbacks: Any) -> None:
    first, first_names = finished_import_with_files()
    second, second_names = finished_import_with_files()
    kept = queued_import(b"email\n", name="kept.csv")

    with django_capture_on_commit_callbacks(execute=True):
        deleted = profile_imports_delete(
            imports=ProfileImport.objects.filter(pk__in=[first.pk, second.pk])
        )

    assert deleted == 2
    assert list(ProfileImport.objects.values_list("pk", flat=True)) == [kept.pk]
    assert [default_storage.exists(n) for n in first_names + second_names] == [False] * 4
    assert default_storage.exists(str(kept.file.name))
