"""Celery tasks of delivery: thin, idempotent, each calling one service.

Send and fan-out tasks are ``acks_late``: a task whose worker dies is delivered
again (Redis, after the visibility timeout) and, being idempotent (claims,
resumable fan-out), does its work once. The sweeper covers what the broker loses.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from celery import shared_task
from celery.signals import worker_process_shutdown

from delivery.channels.registry import transports_close
from delivery.retention.maintenance import message_partitions_ensure
from delivery.retention.purge import messages_purge_due
from delivery.services.audience import execution_fanout
from delivery.services.idempotency import idempotency_prune
from delivery.services.sending import message_send_batch
from delivery.services.sweeping import delivery_sweep
from delivery.webhooks.sending import webhook_deliveries_due, webhook_deliveries_send


@shared_task(acks_late=True, ignore_result=True)
def message_send_task(message_ids: list[str]) -> dict[str, int]:
    outcome = message_send_batch(message_ids=message_ids)
    return {"sent": outcome.sent, "failed": outcome.failed, "excluded": outcome.excluded}


@shared_task(acks_late=True, ignore_result=True)
def execution_fanout_task(execution_id: str) -> bool:
    return execution_fanout(execution_id=UUID(execution_id))


@shared_task(ignore_result=True)
def delivery_sweep_task() -> dict[str, int]:
    return delivery_sweep()


@shared_task(ignore_result=True)
def idempotency_prune_task() -> int:
    return idempotency_prune()


@shared_task(acks_late=True, ignore_result=True)
def webhook_deliveries_send_task(delivery_ids: list[str], token: str) -> dict[str, int]:
    return webhook_deliveries_send(delivery_ids=delivery_ids, token=UUID(token))


@shared_task(ignore_result=True)
def webhook_deliveries_due_task() -> int:
    return webhook_deliveries_due()


@shared_task(ignore_result=True)
def messages_purge_task() -> int:
    return messages_purge_due().messages_purged


@shared_task(ignore_result=True)
def message_partitions_ensure_task() -> list[str]:
    return message_partitions_ensure()


@worker_process_shutdown.connect
def _close_transports(**_kwargs: Any) -> None:
    """A worker process that stops closes its SMTP connection politely (QUIT)."""
    transports_close()
