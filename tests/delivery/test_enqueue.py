"""The web process's background publisher: ids waiting together leave as one task."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from delivery import enqueue
from delivery.limits import SEND_BATCH_SIZE


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    tasks: list[list[str]] = []
    monkeypatch.setattr(enqueue, "_publish", tasks.append)
    while not enqueue._pending.empty():  # nothing left over from another test
        enqueue._pending.get_nowait()
    return tasks


def test_calls_accepted_while_a_publish_was_under_way_leave_as_one_task(published) -> None:
    for call in range(3):
        enqueue._pending.put([f"m{call}"])

    enqueue._publisher_step()

    assert published == [["m0", "m1", "m2"]]
    assert enqueue._pending.empty()


def test_a_task_never_holds_more_than_one_batch(published) -> None:
    first = [f"a{i}" for i in range(SEND_BATCH_SIZE - 1)]
    enqueue._pending.put(first)
    enqueue._pending.put(["b0", "b1"])

    enqueue._publisher_step()

    assert published == [first, ["b0", "b1"]]


def test_a_fanout_waiting_among_sends_is_published_too(published) -> None:
    fanouts: list[str] = []
    enqueue._pending.put(["m0"])
    enqueue._pending.put(lambda: fanouts.append("e1"))
    enqueue._pending.put(["m1"])

    enqueue._publisher_step()

    assert published == [["m0", "m1"]]
    assert fanouts == ["e1"]


def test_a_web_process_finds_the_tasks_it_publishes_by_name() -> None:
    """Celery's autodiscovery runs in workers only: a bare Django process (gunicorn's)
    must still find the send task, or every publish would wait for the sweeper."""
    script = (
        "import django; django.setup()\n"
        "from delivery.enqueue import delivery_task\n"
        "print(delivery_task('message_send_task').name, delivery_task('execution_fanout_task').name)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}

    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [
        "delivery.tasks.message_send_task",
        "delivery.tasks.execution_fanout_task",
    ]
