"""Importing profiles from a CSV or JSON-lines file, streamed row by row.

The file is read one line at a time (never loaded whole) and written in
batches through ``profile_upsert_many``, one transaction per batch, so memory
stays flat however long the file is. Rows that cannot be imported go to a
rejected-rows CSV (``line, reason, row``) with the reason in words.

CSV (a header row): the column named like the namespace (``email``) is the
identity; ``locale``, ``timeZone``, ``consent.email|sms|push`` and
``identities.<namespace>`` have their API meaning; every other column is an
attribute, dotted names nesting (``loyalty.tier`` -> ``{"loyalty": {"tier": ...}}``).
Empty cells are skipped. Consent takes ``opted_in``, ``opted_out`` or
``unknown``, and, as spreadsheets say it, ``yes``/``true``/``1`` (opted in)
and ``no``/``false``/``0`` (opted out), in any case; so does a JSON line's
``consent``. JSON lines: each line is an upsert body as in
``PUT /api/v1/profiles/{namespace}/{value}`` plus the identity under the
namespace code, ``identity`` or ``value``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO

from django.db import connection, transaction
from django.utils.translation import gettext as _

from audiences.consent_values import consent_status_parse, consent_values_text
from audiences.models import Audience, AudienceMember, IdentityNamespace
from audiences.profile_input import ProfileInput, profile_input_parse
from audiences.services.bulk import profile_upsert_many
from core.channels import Channel
from core.errors import FieldError, InvalidInput

DEFAULT_BATCH_SIZE = 1000  # rows per transaction: large enough for bulk statements, small in memory
MAX_LINE_BYTES = 1024 * 1024  # a longer line is rejected, not read into memory
MAX_REJECTED_ROW_CHARS = 2000  # of a rejected line, what the rejected-rows file keeps
FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}
JSONL_IDENTITY_KEYS = ("identity", "value")  # besides the namespace code
JSONL_FIELDS = {"attributes", "locale", "timeZone", "identities", "consent"}
CONSENT_SOURCE = "import"
# Tables an import fills; their planner statistics are refreshed as they grow (see below).
ANALYZED_TABLES = ("audiences_profile", "audiences_identity", "audiences_consent")


def _consent_error(channel: str, value: object) -> str:
    return _("“%(value)s” is not a consent value for %(channel)s: use %(values)s.") % {
        "value": value,
        "channel": channel,
        "values": consent_values_text(),
    }


def import_format_guess(name: str) -> str:
    """``csv`` or ``jsonl`` from a file name's extension; InvalidInput otherwise."""
    file_format = FORMATS.get(Path(name).suffix.lower())
    if file_format is None:
        raise InvalidInput(
            message=_("Cannot tell the format of “%s”: name it .csv or .jsonl.") % name
        )
    return file_format


@dataclass
class ImportProgress:
    """Counts so far; ``processed_bytes`` of ``total_bytes`` read."""

    total_bytes: int = 0
    processed_bytes: int = 0
    created: int = 0
    updated: int = 0
    rejected: int = 0


class RejectedRows:
    """The rejected-rows CSV (``line, reason, row``), created on the first rejected row."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._file: IO[str] | None = None
        self._writer: Any = None

    def add(self, line: int, reason: str, row: str) -> None:
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("w", encoding="utf-8", newline="")
            self._writer = csv.writer(self._file)
            self._writer.writerow(["line", "reason", "row"])
        if len(row) > MAX_REJECTED_ROW_CHARS:
            row = row[:MAX_REJECTED_ROW_CHARS] + "…"
        self._writer.writerow([line, reason, row])
        self.count += 1

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class _Lines:
    """The decoded lines of a binary stream, counting bytes and line numbers.

    Keeps the raw text of the lines read since the last ``take()`` (the lines
    of one record) and what was wrong with them (not UTF-8, too long).
    """

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.bytes_read = 0
        self.line_number = 0
        self._pending: list[str] = []
        self.problem: str | None = None

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        raw = self.stream.readline(MAX_LINE_BYTES + 1)
        if not raw:
            raise StopIteration
        self.bytes_read += len(raw)
        self.line_number += 1
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            while chunk := self.stream.readline(MAX_LINE_BYTES):  # skip the rest of the line
                self.bytes_read += len(chunk)
                if chunk.endswith(b"\n"):
                    break
            self.problem = _("The line is longer than %d bytes.") % MAX_LINE_BYTES
            self._pending.append(raw[:MAX_REJECTED_ROW_CHARS].decode("utf-8", "replace"))
            return "\n"
        try:
            text = raw.decode("utf-8-sig" if self.line_number == 1 else "utf-8")
        except UnicodeDecodeError:
            self.problem = _("The line is not valid UTF-8.")
            text = raw.decode("utf-8", "replace")
        self._pending.append(text)
        return text

    def take(self) -> tuple[str, str | None]:
        """The raw text of the record just read (without its line break) and its problem."""
        raw, problem = "".join(self._pending).rstrip("\r\n"), self.problem
        self._pending, self.problem = [], None
        return raw, problem


@dataclass
class _Record:
    line: int
    raw: str
    data: ProfileInput | None = None
    reason: str | None = None


def _reason(error: InvalidInput) -> str:
    return "; ".join(e.detail for e in error.errors) or error.message


def _parse(
    namespace: IdentityNamespace,
    value: Any,
    data: Mapping[str, Any],
    namespaces: Mapping[str, IdentityNamespace],
    line: int,
    raw: str,
) -> _Record:
    try:
        parsed = profile_input_parse(
            namespace=namespace.code, value=value, data=data, namespaces=namespaces
        )
    except InvalidInput as error:
        return _Record(line, raw, reason=_reason(error))
    parsed.consent_source = CONSENT_SOURCE
    return _Record(line, raw, data=parsed)


def _header_error(message: str) -> InvalidInput:
    return InvalidInput(message=message, errors=[FieldError("/header", message)])


def _columns_parse(
    header: list[str], namespace: IdentityNamespace, namespaces: Mapping[str, IdentityNamespace]
) -> list[tuple[str, Any]]:
    """What each CSV column means: (kind, detail); raises InvalidInput for a bad header."""
    names = [name.strip() for name in header]
    if namespace.code not in names:
        raise _header_error(_("The file has no “%s” column (the identity).") % namespace.code)
    columns: list[tuple[str, Any]] = []
    paths: set[tuple[str, ...]] = set()
    for name in names:
        if names.count(name) > 1:
            raise _header_error(_("The column “%s” appears twice.") % name)
        first, _dot, rest = name.partition(".")
        if name == namespace.code:
            columns.append(("identity", None))
        elif name in ("locale", "timeZone"):
            columns.append((name, None))
        elif first == "consent":
            if rest not in Channel.values:
                raise _header_error(
                    _("“%s”: consent columns are consent.email, consent.sms and consent.push.")
                    % name
                )
            columns.append(("consent", rest))
        elif first == "identities":
            if rest not in namespaces:
                raise _header_error(_("“%s”: unknown identity namespace.") % name)
            columns.append(("identities", rest))
        else:
            path = tuple(name.split("."))
            if not all(path):
                raise _header_error(_("“%s” is not a valid attribute name.") % name)
            paths.add(path)
            columns.append(("attribute", path))
    for path in paths:
        for end in range(1, len(path)):
            if path[:end] in paths:
                raise _header_error(
                    _("“%(outer)s” and “%(inner)s” cannot both be columns.")
                    % {"outer": ".".join(path[:end]), "inner": ".".join(path)}
                )
    return columns


def _csv_records(
    lines: _Lines, namespace: IdentityNamespace, namespaces: Mapping[str, IdentityNamespace]
) -> Iterator[_Record]:
    reader = csv.reader(lines, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise _header_error(_("The file is empty.")) from None
    except csv.Error as error:
        raise _header_error(_("The header row is not valid CSV: %s") % error) from None
    columns = _columns_parse(header, namespace, namespaces)
    lines.take()
    while True:
        start = lines.line_number + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raw, _problem = lines.take()
            yield _Record(start, raw, reason=_("Not valid CSV: %s") % error)
            continue
        raw, problem = lines.take()
        if problem:
            yield _Record(start, raw, reason=problem)
            continue
        if not cells:  # a blank line
            continue
        if len(cells) != len(columns):
            yield _Record(
                start,
                raw,
                reason=_("Expected %(expected)d columns, found %(found)d.")
                % {"expected": len(columns), "found": len(cells)},
            )
            continue
        value = ""
        data: dict[str, Any] = {}
        reasons: list[str] = []
        for (kind, detail), cell in zip(columns, cells, strict=True):
            if kind == "identity":
                value = cell
            elif cell == "":
                continue  # an empty cell leaves the stored value alone
            elif kind == "attribute":
                node = data.setdefault("attributes", {})
                for segment in detail[:-1]:
                    node = node.setdefault(segment, {})
                node[detail[-1]] = cell
            elif kind == "consent":
                status = consent_status_parse(cell)
                if status is None:
                    reasons.append(_consent_error(detail, cell))
                else:
                    data.setdefault("consent", {})[detail] = status
            elif kind == "identities":
                data.setdefault("identities", []).append({"namespace": detail, "value": cell})
            else:
                data[kind] = cell.strip()
        if reasons:
            yield _Record(start, raw, reason="; ".join(reasons))
            continue
        yield _parse(namespace, value, data, namespaces, start, raw)


def _jsonl_records(
    lines: _Lines, namespace: IdentityNamespace, namespaces: Mapping[str, IdentityNamespace]
) -> Iterator[_Record]:
    identity_keys = (namespace.code, *JSONL_IDENTITY_KEYS)
    for _text in lines:
        line = lines.line_number
        raw, problem = lines.take()
        if problem:
            yield _Record(line, raw, reason=problem)
            continue
        if not raw.strip():
            continue
        try:
            body = json.loads(raw)
        except ValueError as error:
            yield _Record(line, raw, reason=_("Not valid JSON: %s") % error)
            continue
        if not isinstance(body, dict):
            yield _Record(line, raw, reason=_("Each line must be a JSON object."))
            continue
        key = next((k for k in identity_keys if k in body), None)
        if key is None:
            yield _Record(
                line,
                raw,
                reason=_("The line has no identity: give “%s”, “identity” or “value”.")
                % namespace.code,
            )
            continue
        unknown = sorted(set(body) - JSONL_FIELDS - set(identity_keys))
        if unknown:
            yield _Record(line, raw, reason=_("Unknown field “%s”.") % unknown[0])
            continue
        consent = body.get("consent")
        if isinstance(consent, dict):
            reasons: list[str] = []
            for channel, given in consent.items():
                # JSON's true/false and 1/0 mean what their text does in a CSV.
                word = given if isinstance(given, str) else json.dumps(given)
                status = consent_status_parse(word)
                if status is None:
                    reasons.append(_consent_error(channel, word))
                else:
                    consent[channel] = status
            if reasons:
                yield _Record(line, raw, reason="; ".join(reasons))
                continue
        yield _parse(namespace, body[key], body, namespaces, line, raw)


def _planner_statistics_refresh() -> None:
    """ANALYZE the tables an import fills (PostgreSQL), as its docs advise after a bulk load.

    Without fresh statistics (autovacuum off, or not caught up with a large import) the
    planner reads the batch's identity look-up (``namespace_id = 1 AND value IN (1,000
    values)``) as unselective and scans every identity of the namespace: 135 ms per batch
    at 1,000,000 identities instead of 2 ms, so an import slowed down as the table grew.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(ANALYZED_TABLES))


def profiles_import(
    *,
    stream: BinaryIO,
    file_format: str,
    namespace: IdentityNamespace,
    rejected: RejectedRows,
    batch_size: int = DEFAULT_BATCH_SIZE,
    audience: Audience | None = None,
    total_bytes: int = 0,
    on_progress: Callable[[ImportProgress], None] | None = None,
) -> ImportProgress:
    """Import every row of ``stream``; returns the counts. A bad header raises InvalidInput.

    Each batch of ``batch_size`` rows is one transaction; ``on_progress`` is
    called after each. With ``audience`` (static), every imported profile
    joins it.
    """
    if file_format not in ("csv", "jsonl"):
        raise InvalidInput(message=_("The format is csv or jsonl, not “%s”.") % file_format)
    if audience is not None and audience.kind != Audience.Kind.STATIC:
        raise InvalidInput(message=_("Profiles can only be added to a static audience."))
    namespaces = {ns.code: ns for ns in IdentityNamespace.objects.all()}
    lines = _Lines(stream)
    read = _csv_records if file_format == "csv" else _jsonl_records
    progress = ImportProgress(total_bytes=total_bytes)
    batch: list[_Record] = []
    refused: list[_Record] = []
    batches = 0

    def flush() -> None:
        nonlocal batches
        if batch:
            with transaction.atomic():
                outcomes = profile_upsert_many(inputs=[r.data for r in batch if r.data])
                if audience is not None:
                    AudienceMember.objects.bulk_create(
                        [
                            AudienceMember(audience=audience, profile_id=profile_id)
                            for profile_id in dict.fromkeys(
                                o.profile_id for o in outcomes if o.profile_id
                            )
                        ],
                        ignore_conflicts=True,
                    )
            for record, outcome in zip(batch, outcomes, strict=True):
                if outcome.error is not None:
                    record.reason = outcome.error.message
                    refused.append(record)
                elif outcome.created:
                    progress.created += 1
                else:
                    progress.updated += 1
            batches += 1
            if batches & (batches - 1) == 0:  # batches 1, 2, 4, 8, ...: log2(n) refreshes
                _planner_statistics_refresh()
        # The rejected file lists rows in file order.
        for record in sorted(refused, key=lambda r: r.line):
            rejected.add(record.line, record.reason or "", record.raw)
        progress.rejected += len(refused)
        batch.clear()
        refused.clear()
        progress.processed_bytes = lines.bytes_read
        if on_progress is not None:
            on_progress(progress)

    for record in read(lines, namespace, namespaces):
        (batch if record.data is not None else refused).append(record)
        if len(batch) + len(refused) >= batch_size:
            flush()
    flush()
    return progress
