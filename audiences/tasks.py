"""Celery tasks for audiences: thin wrappers around services."""

from __future__ import annotations

from celery import shared_task

from audiences.services.imports import profile_import_fail_stalled, profile_import_run


@shared_task(name="audiences.tasks.profile_import_run_task", ignore_result=True)
def profile_import_run_task(import_id: str) -> bool:
    """Run one queued profile import; a second delivery finds it claimed and does nothing."""
    return profile_import_run(import_id=import_id)


@shared_task(name="audiences.tasks.profile_import_fail_stalled_task", ignore_result=True)
def profile_import_fail_stalled_task() -> int:
    """Every minute (beat): fail running imports whose worker stopped sending heartbeats."""
    return profile_import_fail_stalled()
