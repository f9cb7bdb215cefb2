"""Profile imports uploaded in the admin: queued, then run by a Celery worker."""

from __future__ import annotations

import logging
import tempfile
import uuid
from pathlib import Path

from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

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


def profile_import_queue(*, profile_import: ProfileImport) -> ProfileImport:
    """Save a new import (file, namespace, audience set) and run it in the background."""
    from audiences.tasks import profile_import_run_task  # tasks import this module

    import_format_guess(profile_import.file.name or "")
    profile_import.status = ProfileImport.Status.QUEUED
    profile_import.total_bytes = profile_import.file.size or 0
    profile_import.save()
    import_id = str(profile_import.pk)
    transaction.on_commit(lambda: profile_import_run_task.delay(import_id))
    return profile_import


def _progress_save(import_id: uuid.UUID, progress: ImportProgress) -> None:
    ProfileImport.objects.filter(pk=import_id).update(
        processed_bytes=progress.processed_bytes,
        created_count=progress.created,
        updated_count=progress.updated,
        rejected_count=progress.rejected,
    )


def profile_import_run(*, import_id: uuid.UUID | str, batch_size: int = DEFAULT_BATCH_SIZE) -> bool:
    """Run a queued import to the end; False when it was not queued (already claimed).

    Safe to call twice: the run starts only for the caller whose conditional
    UPDATE moved the import from queued to running.
    """
    claimed = ProfileImport.objects.filter(pk=import_id, status=ProfileImport.Status.QUEUED).update(
        status=ProfileImport.Status.RUNNING
    )
    if not claimed:
        return False
    profile_import = ProfileImport.objects.select_related("namespace", "audience").get(pk=import_id)
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
            rejected.close()
            if rejected.count:
                with rejected.path.open("rb") as handle:
                    profile_import.rejected_file.save(
                        f"{profile_import.pk}-rejected.csv", File(handle), save=False
                    )
        except ClarionError as error:
            rejected.close()
            profile_import.status = ProfileImport.Status.FAILED
            profile_import.error = error.message
        except Exception:
            rejected.close()
            logger.exception("profile import %s failed", import_id)
            profile_import.status = ProfileImport.Status.FAILED
            profile_import.error = _("The import stopped on an unexpected error; see the logs.")
        else:
            profile_import.status = ProfileImport.Status.SUCCEEDED
            profile_import.processed_bytes = progress.processed_bytes
            profile_import.created_count = progress.created
            profile_import.updated_count = progress.updated
            profile_import.rejected_count = progress.rejected
    if profile_import.status == ProfileImport.Status.FAILED:
        # Counts of the batches committed before the failure stay as saved.
        profile_import.refresh_from_db(
            fields=["processed_bytes", "created_count", "updated_count", "rejected_count"]
        )
    profile_import.finished_at = timezone.now()
    profile_import.save()
    return True
