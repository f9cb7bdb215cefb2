"""Celery tasks for campaigns: thin wrappers around services."""

from __future__ import annotations

from celery import shared_task

from campaigns.services.lifecycle import campaign_dispatch_due


@shared_task(name="campaigns.tasks.campaign_dispatch_due_task", ignore_result=True)
def campaign_dispatch_due_task() -> dict[str, int]:
    """Every minute (beat): start scheduled campaigns and complete ended ones."""
    return campaign_dispatch_due()
