"""Idempotency of trigger calls: one (caller, key) is one execution, whatever is retried.

The record is inserted first in the transaction that accepts the call, so it is
visible exactly when the execution is. A second call with the same key:

- finds the record: same body, the first response is replayed
  (``Idempotent-Replayed: true``); a different body is ``422``;
- races the first: on PostgreSQL its insert waits on the unique index until the
  first commits (then it replays) or rolls back (then it goes on); if the first
  is still open after ``IDEMPOTENCY_WAIT_MS`` the answer is ``409``, try again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.actors import Actor
from core.errors import ClarionError, FieldError
from delivery.limits import IDEMPOTENCY_TTL, IDEMPOTENCY_WAIT_MS
from delivery.models import IdempotencyRecord


@dataclass
class IdempotencyKeyReused(ClarionError):
    code: str = "idempotency_key_reused"
    status: int = 422


@dataclass
class IdempotencyInFlight(ClarionError):
    code: str = "idempotency_in_flight"
    status: int = 409


@dataclass(frozen=True)
class Response:
    """What a trigger call answers: the status, the body, and whether it is a replay."""

    status: int
    body: dict[str, Any]
    replayed: bool = False


def idempotency_owner(actor: Actor) -> str:
    if actor.api_key is not None:
        return f"key:{actor.api_key.pk}"
    user = actor.db_user
    return f"user:{user.pk}" if user is not None else "system"


def _replay(record: IdempotencyRecord, fingerprint: str, at: str) -> Response:
    if record.body_hash != fingerprint:
        message = _(
            "This idempotency key was used with a different request body; use a new key "
            "for a new request."
        )
        raise IdempotencyKeyReused(message=message, errors=[FieldError(at, message)])
    return Response(record.response_status, record.response_body, replayed=True)


def idempotency_replay(*, owner: str, key: str, fingerprint: str, at: str) -> Response | None:
    """The stored response for ``key`` when there is one (one query); None otherwise."""
    if not key:
        return None
    record = IdempotencyRecord.objects.filter(owner=owner, key=key).first()
    return _replay(record, fingerprint, at) if record is not None else None


@contextmanager
def _bounded_wait() -> Iterator[None]:
    """A transaction that waits at most ``IDEMPOTENCY_WAIT_MS`` on a concurrent call's.

    PostgreSQL: the record's insert waits on the unique index while another
    transaction holds the same key; ``lock_timeout`` bounds it. SQLite: the
    transaction starts with ``BEGIN IMMEDIATE`` (settings), which waits for the one
    write lock as long as the busy timeout says; it is shortened for that ``BEGIN``.
    Either way an expired wait is an OperationalError about a lock.
    """
    wait_ms = int(IDEMPOTENCY_WAIT_MS)
    shorten = connection.vendor == "sqlite" and not connection.in_atomic_block
    if shorten:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA busy_timeout = {wait_ms}")
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(f"SET LOCAL lock_timeout = {wait_ms}")
            yield
    finally:
        if shorten:
            timeout = float(connection.settings_dict.get("OPTIONS", {}).get("timeout", 5))
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")


def accept_once(
    *,
    owner: str,
    key: str,
    endpoint: str,
    fingerprint: str,
    at: str,
    response: Response,
    write: Callable[[], None],
) -> Response:
    """Write the record of ``response``, then run ``write``, in one transaction.

    The record goes first, so a concurrent call with the same key waits on it
    before doing any work: it replays once this one commits, or answers 409 if
    this one is still open after ``IDEMPOTENCY_WAIT_MS``. Without a key, only
    ``write`` runs.
    """
    try:
        with _bounded_wait() if key else transaction.atomic():
            if key:
                IdempotencyRecord.objects.create(
                    owner=owner,
                    key=key,
                    endpoint=endpoint,
                    body_hash=fingerprint,
                    response_status=response.status,
                    response_body=response.body,
                )
            write()
    except OperationalError as error:
        if not key or "lock" not in str(error).lower():
            raise
        message = _(
            "A request with this idempotency key is still being processed; retry in a moment."
        )
        raise IdempotencyInFlight(message=message, errors=[FieldError(at, message)]) from None
    except IntegrityError:
        record = IdempotencyRecord.objects.filter(owner=owner, key=key).first() if key else None
        if record is None:
            raise
        return _replay(record, fingerprint, at)  # a concurrent call with this key came first
    return response


def idempotency_prune(*, now: datetime | None = None) -> int:
    """Delete records older than ``IDEMPOTENCY_TTL``; returns how many went."""
    cutoff = (now or timezone.now()) - IDEMPOTENCY_TTL
    deleted, _per_model = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
