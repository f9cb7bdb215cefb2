"""Idempotency of trigger calls: one (caller, key) is one execution, whatever is retried.

The record is inserted in the transaction that accepts the call, first of its
rows (with them, in one statement on PostgreSQL), so it is visible exactly when
the execution is. A second call with the same key:

- finds the record: same body, the first response is replayed
  (``Idempotent-Replayed: true``); a different body is ``422``;
- races the first: on PostgreSQL its insert waits on the unique index until the
  first commits (then it replays) or rolls back (then it goes on); if the first
  is still open after ``IDEMPOTENCY_WAIT_MS`` the answer is ``409``, try again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.actors import Actor
from core.errors import ClarionError, FieldError
from core.inserts import Statement, insert_statement, statements_run
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


def _replay(found: tuple[str, int, dict[str, Any]], fingerprint: str, at: str) -> Response:
    stored_hash, status, body = found
    if stored_hash != fingerprint:
        message = _(
            "This idempotency key was used with a different request body; use a new key "
            "for a new request."
        )
        raise IdempotencyKeyReused(message=message, errors=[FieldError(at, message)])
    return Response(status, body, replayed=True)


def _stored(owner: str, key: str) -> tuple[str, int, dict[str, Any]] | None:
    """The record's body hash, status and body: one plain query, no model instance
    (every trigger call asks, and nearly every answer is "none")."""
    meta = IdempotencyRecord._meta
    quote = connection.ops.quote_name
    sql = (
        f"SELECT {quote('body_hash')}, {quote('response_status')}, {quote('response_body')} "  # noqa: S608
        f"FROM {quote(meta.db_table)} WHERE {quote('owner')} = %s AND {quote('key')} = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [owner, key])
        row = cursor.fetchone()
    if row is None:
        return None
    # Django reads json and jsonb as text on both databases (JSONField parses it).
    body = json.loads(row[2]) if isinstance(row[2], str | bytes) else row[2]
    return row[0], row[1], body


def idempotency_replay(*, owner: str, key: str, fingerprint: str, at: str) -> Response | None:
    """The stored response for ``key`` when there is one (one query); None otherwise."""
    if not key:
        return None
    found = _stored(owner, key)
    return _replay(found, fingerprint, at) if found is not None else None


@contextmanager
def _bounded_wait() -> Iterator[None]:
    """A transaction that waits at most ``IDEMPOTENCY_WAIT_MS`` on a concurrent call's.

    PostgreSQL: the record's insert waits on the unique index while another
    transaction holds the same key; ``lock_timeout`` (``LOCK_TIMEOUT``, set with the
    insert) bounds it. SQLite: the transaction starts with ``BEGIN IMMEDIATE``
    (settings), which waits for the one write lock as long as the busy timeout says;
    it is shortened for that ``BEGIN``. Either way an expired wait is an
    OperationalError about a lock.
    """
    wait_ms = int(IDEMPOTENCY_WAIT_MS)
    shorten = connection.vendor == "sqlite" and not connection.in_atomic_block
    if shorten:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA busy_timeout = {wait_ms}")
    try:
        with transaction.atomic():
            yield
    finally:
        if shorten:
            timeout = float(connection.settings_dict.get("OPTIONS", {}).get("timeout", 5))
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")


LOCK_TIMEOUT = f"SET LOCAL lock_timeout = {int(IDEMPOTENCY_WAIT_MS)}"


def accept_once(
    *,
    owner: str,
    key: str,
    endpoint: str,
    fingerprint: str,
    at: str,
    response: Response,
    write: Callable[[], Sequence[Statement]],
) -> Response:
    """Write the record of ``response`` with the rows ``write`` returns, in one transaction.

    ``write`` does what must come first (creating profiles) and returns the inserts
    of the call's rows; the record's insert runs first among them, in one round trip
    on PostgreSQL (``core.inserts.statements_run``). A concurrent call with the same
    key waits on the record: it replays once this one commits, or answers 409 if
    this one is still open after ``IDEMPOTENCY_WAIT_MS``. Without a key, only the
    rows are written.
    """
    try:
        with _bounded_wait() if key else transaction.atomic():
            statements = list(write())
            if key:
                record = IdempotencyRecord(
                    owner=owner,
                    key=key,
                    endpoint=endpoint,
                    body_hash=fingerprint,
                    response_status=response.status,
                    response_body=response.body,
                )
                statements.insert(0, insert_statement([record]))
            if statements:
                statements_run(statements, prelude=LOCK_TIMEOUT if key else "")
    except OperationalError as error:
        if not key or "lock" not in str(error).lower():
            raise
        message = _(
            "A request with this idempotency key is still being processed; retry in a moment."
        )
        raise IdempotencyInFlight(message=message, errors=[FieldError(at, message)]) from None
    except IntegrityError:
        found = _stored(owner, key) if key else None
        if found is None:
            raise
        return _replay(found, fingerprint, at)  # a concurrent call with this key came first
    return response


def idempotency_prune(*, now: datetime | None = None) -> int:
    """Delete records older than ``IDEMPOTENCY_TTL``; returns how many went."""
    cutoff = (now or timezone.now()) - IDEMPOTENCY_TTL
    deleted, _per_model = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
