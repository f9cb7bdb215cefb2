"""The rule language of rule-based audiences: data in ``Audience.rules``, one SQL query.

A rule set is a group ``{"combinator": "and" | "or", "conditions": [...]}``
whose conditions are either nested groups or ``{"field", "operator",
"value"}``. ``rules_validate`` checks one (raising ``InvalidInput`` with a JSON
pointer per problem, e.g. ``/rules/conditions/2/operator``); ``rules_clean``
also checks identity namespaces and normalises identity values the way they
are stored; ``rules_to_q`` translates a rule set to one ``Q`` on ``Profile``
(Exists subqueries for consent and identities; no Python-side filtering).

Fields and the operators each takes:

- ``attributes.<path>`` (dotted keys, each ``[A-Za-z_][A-Za-z0-9_-]*``; list
  elements are not addressed by index): every operator.
- ``locale``, ``timeZone``: equals, not_equals, contains, in, exists,
  not_exists (an empty value does not exist).
- ``createdAt``, ``updatedAt``: before, after.
- ``consent.email|sms|push``: equals, not_equals, in, with ``opted_in``,
  ``opted_out`` or ``unknown``; a profile without a consent row is ``unknown``.
- ``identity.<namespace code>``: equals, not_equals, contains, in, exists,
  not_exists (on the identity values the profile has in that namespace).

Semantics, the same on SQLite and PostgreSQL:

- ``equals`` is type-strict on attributes: ``"30"`` does not equal ``30``,
  ``true`` does not equal ``1``; numbers compare by value (``30`` equals ``30.0``).
- ``not_equals`` matches exactly the profiles ``equals`` does not match,
  including those without the attribute (or with ``null``, or another type).
  "Country is not FR" includes people with no country.
- ``contains`` with a string matches string values containing it (case-
  sensitive: SQLite's LIKE ignores ASCII case and PostgreSQL's does not, so
  STRPOS/INSTR are used), and list values with an element equal to it; with a
  number or boolean it matches lists holding that element.
- ``in`` takes a list and means "equals one of".
- ``exists`` means present and not ``null`` (non-empty for locale/time zone);
  ``not_exists`` is its opposite.
- ``greater_than``/``less_than`` take a number and match number values only.
- ``before``/``after`` take an ISO 8601 date or date-time. On attributes they
  compare ISO text (byte order, so store dates in one offset, ideally UTC);
  on ``createdAt``/``updatedAt`` they compare real date-times, a value
  without offset being UTC and a date meaning its midnight UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, Value
from django.db.models.functions import StrIndex
from django.utils.translation import gettext as _

from audiences.identities import IdentityValueError, identity_normalize
from audiences.json_sql import Compare, InList, JsonKind, JsonListHas, JsonNumber, JsonText, Scalar
from audiences.models import Consent, Identity, IdentityNamespace
from audiences.rule_parsing import (
    BEFORE,
    CONTAINS,
    EQUALS,
    EXISTS,
    GREATER_THAN,
    IDENTITY_PREFIX,
    IN,
    LESS_THAN,
    MAX_IN_VALUES,
    MAX_RULES_CONDITIONS,
    MAX_RULES_DEPTH,
    NOT_EQUALS,
    NOT_EXISTS,
    OPERATOR_LABELS,
    OPERATORS_BY_KIND,
    Condition,
    Group,
    rule_set_parse,
)
from core.errors import FieldError, InvalidInput, pointer

__all__ = [
    "MAX_IN_VALUES",
    "MAX_RULES_CONDITIONS",
    "MAX_RULES_DEPTH",
    "OPERATORS_BY_KIND",
    "OPERATOR_LABELS",
    "rules_clean",
    "rules_to_q",
    "rules_validate",
]


def rules_validate(rules: Any, *, prefix: Sequence[object] = ("rules",)) -> None:
    """Raise ``InvalidInput`` naming every problem in ``rules`` (pointers under ``prefix``)."""
    rules_clean(rules, prefix=prefix)


def rules_clean(rules: Any, *, prefix: Sequence[object] = ("rules",)) -> dict[str, Any]:
    """The rules as they should be stored: validated, identity values normalised.

    Unlike ``rules_to_q`` this reads the identity namespaces (one query when
    the rules name any), because values are compared in their stored spelling.
    """
    rule_set_parse(rules, tuple(prefix))
    codes = set(_identity_codes(rules))
    namespaces = (
        {ns.code: ns for ns in IdentityNamespace.objects.filter(code__in=codes)} if codes else {}
    )
    errors: list[FieldError] = []
    cleaned = _clean_group(rules, tuple(prefix), namespaces, errors)
    if errors:
        detail = errors[0].detail if len(errors) == 1 else _("Some rules are not valid.")
        raise InvalidInput(detail, errors=errors)
    return cleaned


def _identity_codes(group: dict[str, Any]) -> list[str]:
    codes: list[str] = []
    for item in group["conditions"]:
        if "conditions" in item:
            codes.extend(_identity_codes(item))
        elif item["field"].startswith(IDENTITY_PREFIX):
            codes.append(item["field"][len(IDENTITY_PREFIX) :])
    return codes


def _clean_group(
    group: dict[str, Any],
    path: tuple[object, ...],
    namespaces: dict[str, IdentityNamespace],
    errors: list[FieldError],
) -> dict[str, Any]:
    conditions: list[dict[str, Any]] = []
    for index, item in enumerate(group["conditions"]):
        item_path = (*path, "conditions", index)
        if "conditions" in item:
            conditions.append(_clean_group(item, item_path, namespaces, errors))
            continue
        condition = {"field": item["field"], "operator": item["operator"]}
        if "value" in item and item["value"] is not None:
            condition["value"] = item["value"]
        if item["field"].startswith(IDENTITY_PREFIX):
            code = item["field"][len(IDENTITY_PREFIX) :]
            namespace = namespaces.get(code)
            if namespace is None:
                errors.append(
                    FieldError(
                        pointer(*item_path, "field"),
                        _("No identity namespace has the code “%s”.") % code,
                    )
                )
            elif item["operator"] in (EQUALS, NOT_EQUALS, IN):
                condition["value"] = _normalized(
                    namespace, item["value"], (*item_path, "value"), errors
                )
        conditions.append(condition)
    return {"combinator": group["combinator"], "conditions": conditions}


def _normalized(
    namespace: IdentityNamespace, value: Any, path: tuple[object, ...], errors: list[FieldError]
) -> Any:
    if isinstance(value, list):
        return [_normalized(namespace, item, (*path, i), errors) for i, item in enumerate(value)]
    try:
        return identity_normalize(namespace, value)
    except IdentityValueError as error:
        errors.append(FieldError(pointer(*path), str(error)))
        return value


def _kind_of(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return "number"
    return "string"


def _attribute_equals(keys: tuple[str, ...], value: Scalar) -> Q:
    """Never NULL in SQL, so that ``~`` of it (not_equals) keeps profiles without the key."""
    kind = _kind_of(value)
    if kind in ("true", "false"):
        return Q(Compare(JsonKind(keys), "=", Value(kind)))
    column = JsonNumber(keys) if kind == "number" else JsonText(keys)
    # kind matches => the column is not NULL, so the AND is TRUE or FALSE, never NULL.
    return Q(Compare(JsonKind(keys), "=", Value(kind))) & Q(Compare(column, "=", Value(value)))


def _attribute_q(condition: Condition) -> Q:
    keys = condition.target
    assert isinstance(keys, tuple)
    operator, value = condition.operator, condition.value
    if operator == EQUALS:
        return _attribute_equals(keys, value)
    if operator == NOT_EQUALS:
        return ~_attribute_equals(keys, value)
    if operator == IN:
        return _any(_attribute_equals(keys, item) for item in value)
    if operator == EXISTS:
        return ~Q(InList(JsonKind(keys), ("missing", "null")))
    if operator == NOT_EXISTS:
        return Q(InList(JsonKind(keys), ("missing", "null")))
    if operator == CONTAINS:
        in_list = Q(JsonListHas(keys, value))
        if isinstance(value, str):
            return Q(Compare(StrIndex(JsonText(keys), Value(value)), ">", Value(0))) | in_list
        return in_list
    if operator in (GREATER_THAN, LESS_THAN):
        op = ">" if operator == GREATER_THAN else "<"
        return Q(Compare(JsonNumber(keys), op, Value(float(value))))
    op = "<" if operator == BEFORE else ">"
    return Q(Compare(JsonText(keys), op, Value(value)))


def _any(parts: Any) -> Q:
    result = Q()
    for part in parts:
        result = part if not result else result | part
    return result


def _text_q(condition: Condition) -> Q:
    column = str(condition.target)
    operator, value = condition.operator, condition.value
    if operator == EQUALS:
        return Q(**{column: value})
    if operator == NOT_EQUALS:
        return ~Q(**{column: value})
    if operator == IN:
        return Q(**{f"{column}__in": list(value)})
    if operator == EXISTS:
        return ~Q(**{column: ""})
    if operator == NOT_EXISTS:
        return Q(**{column: ""})
    return Q(Compare(StrIndex(F(column), Value(value)), ">", Value(0)))


def _datetime_q(condition: Condition) -> Q:
    lookup = "lt" if condition.operator == BEFORE else "gt"
    return Q(**{f"{condition.target}__{lookup}": condition.value})


def _consent_equals(channel: str, status: str) -> Q:
    consents = Consent.objects.filter(profile=OuterRef("pk"), channel=channel)
    if status == Consent.Status.UNKNOWN:
        # No consent row counts as unknown.
        return ~Q(
            Exists(consents.filter(status__in=[Consent.Status.OPTED_IN, Consent.Status.OPTED_OUT]))
        )
    return Q(Exists(consents.filter(status=status)))


def _consent_q(condition: Condition) -> Q:
    channel = str(condition.target)
    if condition.operator == EQUALS:
        return _consent_equals(channel, condition.value)
    if condition.operator == NOT_EQUALS:
        return ~_consent_equals(channel, condition.value)
    return _any(_consent_equals(channel, status) for status in condition.value)


def _identity_q(condition: Condition) -> Q:
    identities = Identity.objects.filter(profile=OuterRef("pk"), namespace__code=condition.target)
    operator, value = condition.operator, condition.value
    if operator == EQUALS:
        return Q(Exists(identities.filter(value=value)))
    if operator == NOT_EQUALS:
        return ~Q(Exists(identities.filter(value=value)))
    if operator == IN:
        return Q(Exists(identities.filter(value__in=list(value))))
    if operator == EXISTS:
        return Q(Exists(identities))
    if operator == NOT_EXISTS:
        return ~Q(Exists(identities))
    return Q(
        Exists(
            identities.annotate(position=StrIndex(F("value"), Value(value))).filter(position__gt=0)
        )
    )


_TRANSLATORS = {
    "attribute": _attribute_q,
    "text": _text_q,
    "datetime": _datetime_q,
    "consent": _consent_q,
    "identity": _identity_q,
}


def _group_q(group: Group) -> Q:
    result = Q()
    for item in group.items:
        part = _group_q(item) if isinstance(item, Group) else _TRANSLATORS[item.kind](item)
        if not result:
            result = part
        elif group.combinator == "and":
            result &= part
        else:
            result |= part
    return result


def rules_to_q(rules: Any) -> Q:
    """One ``Q`` on ``Profile`` selecting the profiles ``rules`` match.

    Structure is checked (``InvalidInput`` if the stored rules are broken) but
    the database is not read: identity values are used as stored, which
    ``rules_clean`` made sure is their normalised spelling.
    """
    return _group_q(rule_set_parse(rules))
