"""Profile imports uploaded in the admin: queued, then run by a Celery worker.

An import ends succeeded, succeeded with rejected rows, or failed (a bad file,
an error, every row rejected, or a worker that died). While it runs, each batch
moves ``heartbeat_at``; ``profile_import_fail_stalled`` (beat, every minute)
fails the imports whose heartbeat stopped for ``IMPORT_HEARTBEAT_GRACE``, so
none stays "running" for ever.
"""

from __future__ import annotations

import logging
import tempfile
import uuid
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any

from django.core.files import File
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from audiences.importing import (
    DEFAULT_BATCH_SIZE,
    ImportProgress,
    RejectedRows,
    import_format_guess,
    profiles_import,
)
from audiences.models import ProfileImport
from core.errors import ClarionError

logger = logging.getLogger(__name__)

# A batch (1,000 rows by default) commits in well under a second, and an ANALYZE of a
# large table (importing._planner_statistics_refresh) in seconds; ten minutes without
# a heartbeat means the worker is gone (killed, out of memory, machine lost), not slow.
IMPORT_HEARTBEAT_GRACE = timedelta(minutes=10)


class ImportAbandoned(Exception):
    """The import is no longer running (failed by the sweep, or deleted): stop quietly."""


def profile_import_queue(*, profile_import: ProfileImport) -> ProfileImport:
    """Save a new import (file, namespace, audience set) and run it in the background."""
    from audiences.tasks import profile_import_run_task  # tasks import this module

    import_format_guess(profile_import.file.name or "")
    # Before the save, the name is the uploaded file's; storage may then rename the copy.
    profile_import.original_name = PurePosixPath(profile_import.file.name or "").name
    profile_import.status = ProfileImport.Status.QUEUED
    profile_import.total_bytes = profile_import.file.size or 0
    profile_import.save()
    import_id = str(profile_import.pk)
    transaction.on_commit(lambda: profile_import_run_task.delay(import_id))
    return profile_import


def _progress_save(import_id: uuid.UUID, progress: ImportProgress) -> None:
    saved = ProfileImport.objects.filter(pk=import_id, status=ProfileImport.Status.RUNNING).update(
        processed_bytes=progress.processed_bytes,
        created_count=progress.created,
        updated_count=progress.updated,
        rejected_count=progress.rejected,
        heartbeat_at=timezone.now(),
    )
    if not saved:
        raise ImportAbandoned


def _outcome(progress: ImportProgress) -> tuple[str, str]:
    """How a run that read the whole file ended: (status, error)."""
    imported = progress.created + progress.updated
    if progress.rejected and not imported:
        return ProfileImport.Status.FAILED, ngettext(
            "The only row was rejected; download the rejected rows to see why.",
            "All %(count)d rows were rejected; download the rejected rows to see why.",
            progress.rejected,
        ) % {"count": progress.rejected}
    if progress.rejected:
        return ProfileImport.Status.PARTIALLY_SUCCEEDED, ""
    return ProfileImport.Status.SUCCEEDED, ""


def profile_import_run(*, import_id: uuid.UUID | str, batch_size: int = DEFAULT_BATCH_SIZE) -> bool:
    """Run a queued import to the end; False when it was not queued (already claimed).

    Safe to call twice: the run starts only for the caller whose conditional
    UPDATE moved the import from queued to running. Every later write is
    conditional on ``running`` too, so an import the sweep failed (or someone
    deleted) meanwhile stays as it is and the run stops at its next batch.
    """
    claimed = ProfileImport.objects.filter(pk=import_id, status=ProfileImport.Status.QUEUED).update(
        status=ProfileImport.Status.RUNNING, heartbeat_at=timezone.now()
    )
    if not claimed:
        return False
    profile_import = ProfileImport.objects.select_related("namespace", "audience").get(pk=import_id)
    result: dict[str, Any]
    with tempfile.TemporaryDirectory(prefix="clarion-import-") as folder:
        rejected = RejectedRows(Path(folder) / "rejected.csv")
        try:
            with profile_import.file.open("rb") as stream:
                progress = profiles_import(
                    stream=stream,  # type: ignore[arg-type]
                    file_format=import_format_guess(profile_import.file.name or ""),
                    namespace=profile_import.namespace,
                    rejected=rejected,
                    batch_size=batch_size,
                    audience=profile_import.audience,
                    total_bytes=profile_import.total_bytes,
                    on_progress=lambda p: _progress_save(profile_import.pk, p),
                )
        except ImportAbandoned:
            logger.warning("profile import %s is no longer running; stopped", import_id)
            return True
        except ClarionError as error:
            # Counts of the batches committed before the failure stay as saved.
            result = {"status": ProfileImport.Status.FAILED, "error": error.message}
        except Exception:
            logger.exception("profile import %s failed", import_id)
            result = {
                "status": ProfileImport.Status.FAILED,
                "error": _("The import stopped on an unexpected error; see the logs."),
            }
        else:
            status, reason = _outcome(progress)
            result = {
                "status": status,
                "error": reason,
                "processed_bytes": progress.processed_bytes,
                "created_count": progress.created,
                "updated_count": progress.updated,
                "rejected_count": progress.rejected,
            }
            rejected.close()
            if rejected.count:
                with rejected.path.open("rb") as handle:
                    profile_import.rejected_file.save(
                        f"{profile_import.pk}-rejected.csv", File(handle), save=False
                    )
                result["rejected_file"] = profile_import.rejected_file.name
        finally:
            rejected.close()
    now = timezone.now()
    finished = ProfileImport.objects.filter(
        pk=import_id, status=ProfileImport.Status.RUNNING
    ).update(**result, heartbeat_at=now, finished_at=now)
    if not finished:
        logger.warning(
            "profile import %s ended after it stopped running; result dropped", import_id
        )
        if profile_import.rejected_file:
            profile_import.rejected_file.delete(save=False)
    return True


def profile_import_fail_stalled(*, now: datetime | None = None) -> int:
    """Fail running imports without a heartbeat for ``IMPORT_HEARTBEAT_GRACE``; how many.

    Run every minute by beat. Their worker died (a killed or lost process sends
    nothing); the batches it committed stay imported. Safe to run twice or in
    parallel: one conditional UPDATE.
    """
    now = now or timezone.now()
    cutoff = now - IMPORT_HEARTBEAT_GRACE
    minutes = int(IMPORT_HEARTBEAT_GRACE.total_seconds() // 60)
    return ProfileImport.objects.filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff),
        status=ProfileImport.Status.RUNNING,
    ).update(
        status=ProfileImport.Status.FAILED,
        error=ngettext(
            "The import stopped reporting progress for over %(minutes)d minute: the worker "
            "running it stopped. Rows of the batches it finished are imported; upload the "
            "file again to import the rest (rows already imported are updated, not doubled).",
            "The import stopped reporting progress for over %(minutes)d minutes: the worker "
            "running it stopped. Rows of the batches it finished are imported; upload the "
            "file again to import the rest (rows already imported are updated, not doubled).",
            minutes,
        )
        % {"minutes": minutes},
        finished_at=now,
    )


def profile_import_delete(*, profile_import: ProfileImport) -> None:
    """Delete one import with its uploaded and rejected-rows files (after the commit)."""
    profile_import.delete()


@transaction.atomic
def profile_imports_delete(*, imports: QuerySet[ProfileImport]) -> int:
    """Delete imports with their files, one by one: a queryset delete would skip the files."""
    count = 0
    for profile_import in imports:
        profile_import_delete(profile_import=profile_import)
        count += 1
    return count
