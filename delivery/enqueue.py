"""Asking workers to send (or to fan out an audience execution): after the commit, and
never making the caller wait on the broker.

Accepted messages and executions are already durable rows; a publish that is lost
(broker down, process killed between commit and publish) is made good by the
sweeper (``delivery.services.sweeping``). So publishing is best effort: with
``CLARION_ENQUEUE_IN_BACKGROUND`` (the default) a thread of the web process
publishes, and the trigger response never waits on the broker.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from uuid import UUID

from celery import Task, current_app
from django.conf import settings
from django.db import transaction

from delivery.limits import SEND_BATCH_SIZE

logger = logging.getLogger(__name__)

# A broker that does not answer is not retried for long: the sweeper re-enqueues.
PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5}

# Work for the background thread: message ids to send (merged into batches), or a
# publish to run as is (a fan-out). Neither raises.
_pending: queue.SimpleQueue[list[str] | Callable[[], None]] = queue.SimpleQueue()
_publisher: threading.Thread | None = None
_publisher_lock = threading.Lock()


def delivery_task(name: str) -> Task:
    """A task of ``delivery.tasks``, from Celery's registry.

    Importing ``delivery.tasks`` here (or in the services that publish) would close an
    import cycle: the tasks import the services, which publish through this module.
    """
    task: Task = current_app.tasks[f"delivery.tasks.{name}"]
    return task


def _publish(message_ids: list[str]) -> None:
    try:
        delivery_task("message_send_task").apply_async(
            (message_ids,), retry_policy=PUBLISH_RETRY_POLICY
        )
    except Exception:
        logger.warning(
            "Could not publish a send task for %d messages; the sweeper will re-enqueue them",
            len(message_ids),
            exc_info=True,
        )


def _publish_fanout(execution_id: str) -> None:
    try:
        delivery_task("execution_fanout_task").apply_async(
            (execution_id,), retry_policy=PUBLISH_RETRY_POLICY
        )
    except Exception:
        logger.warning(
            "Could not publish the fan-out of execution %s; the sweeper will start it",
            execution_id,
            exc_info=True,
        )


def _publisher_step() -> None:
    """Publish what is waiting: ids accepted by several calls while the last publish was
    under way leave as one task of up to ``SEND_BATCH_SIZE`` (under load, one task per
    call would cost the broker, and each worker, a round trip per message)."""
    item = _pending.get()
    if callable(item):
        item()
        return
    ids = list(item)
    later: list[Callable[[], None]] = []
    while len(ids) < SEND_BATCH_SIZE:
        try:
            more = _pending.get_nowait()
        except queue.Empty:
            break
        if callable(more):
            later.append(more)
        elif len(ids) + len(more) > SEND_BATCH_SIZE:
            _publish(ids)
            ids = list(more)
        else:
            ids += more
    _publish(ids)
    for publish in later:
        publish()


def _publisher_loop() -> None:
    while True:
        _publisher_step()


def _start_publisher() -> None:
    global _publisher
    with _publisher_lock:
        if _publisher is None or not _publisher.is_alive():
            _publisher = threading.Thread(
                target=_publisher_loop, name="send-publisher", daemon=True
            )
            _publisher.start()


def _on_commit(publish: Callable[[], None]) -> None:
    """Run ``publish`` once the current transaction commits: in the background thread
    with ``CLARION_ENQUEUE_IN_BACKGROUND``, else at once."""

    def run() -> None:
        if settings.CLARION_ENQUEUE_IN_BACKGROUND:
            _start_publisher()
            _pending.put(publish)
        else:
            publish()

    transaction.on_commit(run, robust=True)


def publish_on_commit(publish: Callable[[], None]) -> None:
    """Run ``publish`` (a best-effort publish that never raises) after the commit, the way
    send tasks are published (outbound webhooks use it)."""
    _on_commit(publish)


def send_now(message_ids: Sequence[UUID | str], *, batch_size: int = SEND_BATCH_SIZE) -> None:
    """Publish send tasks for ``message_ids`` in batches of ``batch_size`` (from a worker:
    inline)."""
    ids = [str(message_id) for message_id in message_ids]
    for start in range(0, len(ids), batch_size):
        _publish(ids[start : start + batch_size])


def send_on_commit(message_ids: Sequence[UUID | str]) -> None:
    """Once the current transaction commits, ask workers to send ``message_ids``."""
    ids = [str(message_id) for message_id in message_ids]
    batches = [
        ids[start : start + SEND_BATCH_SIZE] for start in range(0, len(ids), SEND_BATCH_SIZE)
    ]

    def run() -> None:
        for batch in batches:
            if settings.CLARION_ENQUEUE_IN_BACKGROUND:
                _start_publisher()
                _pending.put(batch)
            else:
                _publish(batch)

    transaction.on_commit(run, robust=True)


def fanout_on_commit(execution_id: UUID) -> None:
    """Once the current transaction commits, ask a worker to fan out an audience execution
    (a lost publish is restarted by the sweeper, as for sends)."""
    _on_commit(lambda: _publish_fanout(str(execution_id)))
