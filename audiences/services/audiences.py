"""Creating and changing audiences, and the members of static ones."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from audiences.identities import IdentityValueError, identity_normalize
from audiences.models import Audience, AudienceMember, Identity, IdentityNamespace
from audiences.rules import rules_clean
from core.errors import ClarionError, FieldError, InvalidInput, invalid_input, pointer

MAX_MEMBERS_PER_CALL = 1000  # one API call; larger lists go through the CSV upload or import
MEMBERS_CHUNK = 500  # identities resolved per query (well under SQLite's 999 parameters)
MAX_NAME_LENGTH = 200


@dataclass
class AudienceKindConflict(ClarionError):
    """Members are added to static audiences only; rule-based ones follow their rules (409)."""

    code: str = "audience_not_static"
    status: int = 409


@dataclass
class MembersChange:
    """What adding (or removing) members did; ``errors`` point at the identities not used."""

    changed: int = 0
    unchanged: int = 0
    unknown: int = 0
    invalid: int = 0
    errors: list[FieldError] = field(default_factory=list)

    def merge(self, other: MembersChange) -> None:
        self.changed += other.changed
        self.unchanged += other.unchanged
        self.unknown += other.unknown
        self.invalid += other.invalid
        self.errors.extend(other.errors)


def _nul_pointer(value: Any, at: tuple[object, ...]) -> str | None:
    """The pointer to the first string (key or value) holding a NUL character, or None.

    PostgreSQL refuses NUL in jsonb and in text parameters, so such rules could
    be neither stored nor queried. Iterative: the JSON parser allows deep nesting.
    """
    stack: list[tuple[Any, tuple[object, ...]]] = [(value, at)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str) and "\x00" in item:
            return pointer(*path)
        if isinstance(item, dict):
            for key, child in item.items():
                if "\x00" in str(key):
                    return pointer(*path, key)
                stack.append((child, (*path, key)))
        elif isinstance(item, list):
            stack.extend((child, (*path, index)) for index, child in enumerate(item))
    return None


def _clean(*, name: str, kind: str, rules: Any, audience: Audience | None) -> dict[str, Any]:
    errors: list[FieldError] = []
    name = name.strip()
    if not name:
        errors.append(FieldError("/name", _("Give the audience a name.")))
    elif len(name) > MAX_NAME_LENGTH:
        errors.append(
            FieldError("/name", _("The name is longer than %d characters.") % MAX_NAME_LENGTH)
        )
    else:
        others = Audience.objects.filter(name=name)
        if audience is not None:
            others = others.exclude(pk=audience.pk)
        if others.exists():
            errors.append(FieldError("/name", _("An audience named “%s” exists.") % name))
    cleaned_rules: dict[str, Any] = {}
    if kind not in Audience.Kind.values:
        errors.append(FieldError("/kind", _("The kind must be “static” or “rules”.")))
    elif kind == Audience.Kind.STATIC:
        if rules:
            errors.append(FieldError("/rules", _("A static audience has no rules.")))
    elif (nul_at := _nul_pointer(rules, ("rules",))) is not None:
        errors.append(FieldError(nul_at, _("Rules may not contain NUL characters.")))
    else:
        try:
            cleaned_rules = rules_clean(rules)
        except InvalidInput as error:
            errors.extend(error.errors)
    if errors:
        raise invalid_input(errors)
    return {"name": name, "rules": cleaned_rules}


def audience_create(*, name: str, kind: str, description: str = "", rules: Any = None) -> Audience:
    """A new audience; rule-based ones need valid rules, static ones start empty."""
    cleaned = _clean(name=name, kind=kind, rules=rules, audience=None)
    try:
        with transaction.atomic():
            return Audience.objects.create(
                name=cleaned["name"], kind=kind, description=description, rules=cleaned["rules"]
            )
    except IntegrityError:  # a concurrent create took the name
        raise InvalidInput(
            _("An audience named “%s” exists.") % cleaned["name"],
            errors=[FieldError("/name", _("An audience named “%s” exists.") % cleaned["name"])],
        ) from None


def audience_update(
    *,
    audience: Audience,
    name: str | None = None,
    description: str | None = None,
    rules: Any = None,
) -> Audience:
    """Change the name, description or rules (the kind is fixed once created)."""
    cleaned = _clean(
        name=audience.name if name is None else name,
        kind=audience.kind,
        rules=audience.rules if rules is None else rules,
        audience=audience,
    )
    audience.name = cleaned["name"]
    audience.rules = cleaned["rules"]
    if description is not None:
        audience.description = description
    audience.save()
    return audience


def _require_static(audience: Audience) -> None:
    if audience.kind != Audience.Kind.STATIC:
        raise AudienceKindConflict(
            _("“%s” is rule-based: its members follow its rules.") % audience.name
        )


def _resolve(
    identities: Iterable[tuple[str, str]], *, first_index: int = 0
) -> tuple[dict[int, Any], MembersChange]:
    """Profile ids by the identity's position, with unknown and invalid ones reported."""
    result = MembersChange()
    namespaces = {ns.code: ns for ns in IdentityNamespace.objects.all()}
    wanted: dict[tuple[int, str], list[int]] = {}  # (namespace id, value) -> positions
    for offset, (code, raw) in enumerate(identities):
        index = first_index + offset
        namespace = namespaces.get(code)
        if namespace is None:
            result.invalid += 1
            result.errors.append(
                FieldError(
                    pointer("identities", index, "namespace"),
                    _("No identity namespace has the code “%s”.") % code,
                )
            )
            continue
        try:
            value = identity_normalize(namespace, raw)
        except IdentityValueError as error:
            result.invalid += 1
            result.errors.append(FieldError(pointer("identities", index, "value"), str(error)))
            continue
        wanted.setdefault((namespace.pk, value), []).append(index)
    codes = {ns.pk: code for code, ns in namespaces.items()}
    found: dict[int, Any] = {}
    keys = list(wanted)
    for start in range(0, len(keys), MEMBERS_CHUNK):
        chunk = keys[start : start + MEMBERS_CHUNK]
        by_namespace: dict[int, list[str]] = {}
        for namespace_id, value in chunk:
            by_namespace.setdefault(namespace_id, []).append(value)
        for namespace_id, values in by_namespace.items():
            rows = Identity.objects.filter(namespace_id=namespace_id, value__in=values)
            for namespace_pk, value, profile_id in rows.values_list(
                "namespace_id", "value", "profile_id"
            ):
                for index in wanted[(namespace_pk, value)]:
                    found[index] = profile_id
    for key, positions in wanted.items():
        for index in positions:
            if index not in found:
                result.unknown += 1
                result.errors.append(
                    FieldError(
                        pointer("identities", index),
                        _("No profile has the identity %(namespace)s “%(value)s”.")
                        % {"namespace": codes[key[0]], "value": key[1]},
                    )
                )
    result.errors.sort(key=lambda e: _index_of(e.pointer))
    return found, result


def _index_of(error_pointer: str) -> int:
    return int(error_pointer.split("/")[2])


def audience_add_members(
    *, audience: Audience, identities: Iterable[tuple[str, str]], first_index: int = 0
) -> MembersChange:
    """Add the profiles named by ``(namespace, value)`` pairs to a static audience.

    Values are normalised as on upsert; identities no profile has, and values
    not valid in their namespace, are counted and reported (with a pointer to
    their position) rather than failing the whole list.
    """
    _require_static(audience)
    found, result = _resolve(identities, first_index=first_index)
    profile_ids = set(found.values())
    existing = set(
        AudienceMember.objects.filter(audience=audience, profile_id__in=profile_ids).values_list(
            "profile_id", flat=True
        )
    )
    new = profile_ids - existing
    AudienceMember.objects.bulk_create(
        [AudienceMember(audience=audience, profile_id=pk) for pk in new],
        ignore_conflicts=True,  # a concurrent call adding the same profile is not an error
    )
    result.changed = len(new)
    result.unchanged = len(found) - len(new)
    return result


def audience_remove_members(
    *, audience: Audience, identities: Iterable[tuple[str, str]], first_index: int = 0
) -> MembersChange:
    """Remove the profiles named by ``(namespace, value)`` pairs from a static audience."""
    _require_static(audience)
    found, result = _resolve(identities, first_index=first_index)
    removed, _detail = AudienceMember.objects.filter(
        audience=audience, profile_id__in=set(found.values())
    ).delete()
    result.changed = removed
    result.unchanged = len(found) - removed
    return result


def _csv_values(file: Iterable[str]) -> Iterator[str]:
    for row in csv.reader(file):
        if row and row[0].strip():
            yield row[0]


HEADER_WORDS = {"value", "values", "identity", "identities", "id"}


def audience_members_from_csv(
    *, audience: Audience, file: Iterable[str], namespace: str, remove: bool = False
) -> MembersChange:
    """Add (or remove) the identities in the first column of a CSV file, in chunks.

    ``file`` is text (the admin wraps the upload in ``io.TextIOWrapper``). A
    first row naming the column (the namespace's code, or ``value``) is a
    header and skipped. The file is streamed, so its size does not matter;
    positions in ``errors`` count data rows from 0.
    """
    _require_static(audience)
    change = audience_remove_members if remove else audience_add_members
    total = MembersChange()
    chunk: list[tuple[str, str]] = []
    position = 0
    for line, value in enumerate(_csv_values(file)):
        if line == 0 and value.strip().lower() in HEADER_WORDS | {namespace}:
            continue
        chunk.append((namespace, value))
        if len(chunk) == MEMBERS_CHUNK:
            total.merge(change(audience=audience, identities=chunk, first_index=position))
            position += len(chunk)
            chunk = []
    if chunk:
        total.merge(change(audience=audience, identities=chunk, first_index=position))
    return total
