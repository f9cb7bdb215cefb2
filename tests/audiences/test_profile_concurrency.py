"""Concurrent upserts of one identity end with one profile (issue 3).

Each thread has its own database connection, and all start together behind a
barrier. On PostgreSQL the losers' identity insert waits for the winner's
commit, fails on the unique constraint and is retried, finding the winner's
profile; on SQLite writers are serialised (``transaction_mode=IMMEDIATE``), so
only the outcome is checked there.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

from audiences.models import Identity, Profile
from audiences.profile_input import profile_input_parse
from audiences.services import profiles
from audiences.services.profiles import profile_upsert_shown

THREADS = 4
RUNS = 5  # more runs make the race (and so the retry) likely on every run


def _upsert_together(value: str) -> tuple[list[uuid.UUID], list[BaseException]]:
    barrier = threading.Barrier(THREADS)
    ids: list[uuid.UUID] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def work(index: int) -> None:
        try:
            data = profile_input_parse(
                namespace="email", value=value, data={"attributes": {f"t{index}": index}}
            )
            barrier.wait(timeout=10)
            upserted = profile_upsert_shown(data=data)  # what PUT /profiles/... runs
            with lock:
                ids.append(upserted.profile.pk)
        except BaseException as error:  # reported by the test, not lost in the thread
            with lock:
                failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return ids, failures


def test_concurrent_upserts_of_one_identity_make_one_profile(
    transactional_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts = 0
    count_lock = threading.Lock()
    real_upsert_once: Callable[..., Any] = profiles._upsert_once

    def counting_upsert_once(data: Any, **options: Any) -> Any:
        nonlocal attempts
        with count_lock:
            attempts += 1
        return real_upsert_once(data, **options)

    monkeypatch.setattr(profiles, "_upsert_once", counting_upsert_once)

    for run in range(RUNS):
        value = f"race{run}@example.com"

        ids, failures = _upsert_together(value)

        assert failures == []
        assert len(ids) == THREADS
        assert len(set(ids)) == 1, f"run {run}: threads got different profiles {set(ids)}"
        assert Identity.objects.filter(value=value).count() == 1
        profile = Profile.objects.get(identities__value=value)
        assert profile.pk == ids[0]
        # Every thread's attributes were merged into the one profile.
        assert profile.attributes == {f"t{i}": i for i in range(THREADS)}

    assert Profile.objects.count() == RUNS
    assert Identity.objects.count() == RUNS
    if connection.vendor == "postgresql":
        # Some insert lost the race and was retried: the retry path really ran.
        assert attempts > RUNS * THREADS
    else:
        assert attempts >= RUNS * THREADS
