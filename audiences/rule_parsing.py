"""Parsing the rule language (see ``audiences.rules`` for what it means).

``rule_set_parse`` walks a rule set once, collects every problem with a JSON
pointer, and returns a tree of ``Group`` and ``Condition`` with values already
typed (date-times parsed, lists as tuples).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audiences.models import Consent
from core.channels import Channel
from core.errors import FieldError, InvalidInput, pointer

MAX_RULES_DEPTH = 5  # groups within groups; deeper trees are unreadable in the builder
MAX_RULES_CONDITIONS = 100  # keeps the SQL statement small enough to plan quickly
MAX_IN_VALUES = 1000  # a longer list belongs in a static audience
MAX_TEXT_VALUE = 1000

COMBINATORS = ("and", "or")

# An empty value would be a rule that silently matches nothing (or, negated, everything);
# "does not exist" is how to ask for profiles without a value. The builder shows the same words.
EMPTY_VALUE_MESSAGE = gettext_lazy(
    "Give a value: an empty one would match nothing. For profiles without a value, "
    "use “does not exist”."
)

EQUALS = "equals"
NOT_EQUALS = "not_equals"
CONTAINS = "contains"
IN = "in"
EXISTS = "exists"
NOT_EXISTS = "not_exists"
GREATER_THAN = "greater_than"
LESS_THAN = "less_than"
BEFORE = "before"
AFTER = "after"

OPERATOR_LABELS: dict[str, Any] = {
    EQUALS: gettext_lazy("equals"),
    NOT_EQUALS: gettext_lazy("does not equal"),
    CONTAINS: gettext_lazy("contains"),
    IN: gettext_lazy("is one of"),
    EXISTS: gettext_lazy("exists"),
    NOT_EXISTS: gettext_lazy("does not exist"),
    GREATER_THAN: gettext_lazy("is greater than"),
    LESS_THAN: gettext_lazy("is less than"),
    BEFORE: gettext_lazy("is before"),
    AFTER: gettext_lazy("is after"),
}

# Field kind -> the operators it takes, in the order the builder lists them.
OPERATORS_BY_KIND: dict[str, tuple[str, ...]] = {
    "attribute": (
        EQUALS,
        NOT_EQUALS,
        CONTAINS,
        IN,
        EXISTS,
        NOT_EXISTS,
        GREATER_THAN,
        LESS_THAN,
        BEFORE,
        AFTER,
    ),
    "text": (EQUALS, NOT_EQUALS, CONTAINS, IN, EXISTS, NOT_EXISTS),
    "datetime": (BEFORE, AFTER),
    "consent": (EQUALS, NOT_EQUALS, IN),
    "identity": (EQUALS, NOT_EQUALS, CONTAINS, IN, EXISTS, NOT_EXISTS),
}

# Fields without a free part: name -> (kind, Profile column).
FIXED_FIELDS: dict[str, tuple[str, str]] = {
    "locale": ("text", "locale"),
    "timeZone": ("text", "time_zone"),
    "createdAt": ("datetime", "created_at"),
    "updatedAt": ("datetime", "updated_at"),
    **{f"consent.{channel}": ("consent", channel) for channel in Channel.values},
}
ATTRIBUTES_PREFIX = "attributes."
IDENTITY_PREFIX = "identity."
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,99}$")
_NAMESPACE = re.compile(r"^[a-z][a-z0-9_]{1,63}$")

Scalar = str | int | float | bool


@dataclass(frozen=True)
class Condition:
    kind: str
    target: str | tuple[str, ...]  # column, channel, namespace code, or attribute key path
    operator: str
    value: Any


@dataclass(frozen=True)
class Group:
    combinator: str
    items: tuple[Condition | Group, ...]


class _Parser:
    """Walks a rule set once, collecting every problem with its pointer."""

    def __init__(self, prefix: tuple[object, ...]) -> None:
        self.prefix = prefix
        self.errors: list[FieldError] = []
        self.conditions = 0

    def error(self, path: tuple[object, ...], detail: str) -> None:
        self.errors.append(FieldError(pointer(*self.prefix, *path), detail))

    def group(self, data: Any, path: tuple[object, ...], depth: int) -> Group | None:
        if not isinstance(data, dict):
            self.error(path, _("A group must be an object with “combinator” and “conditions”."))
            return None
        for key in data:
            if key not in ("combinator", "conditions"):
                self.error((*path, key), _("Unknown key “%s” in a group.") % key)
        combinator = data.get("combinator")
        if combinator not in COMBINATORS:
            self.error((*path, "combinator"), _("The combinator must be “and” or “or”."))
        if depth > MAX_RULES_DEPTH:
            self.error(path, _("Groups may be nested at most %d levels deep.") % MAX_RULES_DEPTH)
            return None
        conditions = data.get("conditions")
        if not isinstance(conditions, list):
            self.error((*path, "conditions"), _("The conditions must be a list."))
            return None
        if not conditions:
            self.error((*path, "conditions"), _("Add at least one condition to the group."))
        items: list[Condition | Group] = []
        for index, item in enumerate(conditions):
            item_path = (*path, "conditions", index)
            parsed: Condition | Group | None
            if isinstance(item, dict) and ("conditions" in item or "combinator" in item):
                parsed = self.group(item, item_path, depth + 1)
            else:
                parsed = self.condition(item, item_path)
            if parsed is not None:
                items.append(parsed)
        return Group(str(combinator), tuple(items))

    def condition(self, data: Any, path: tuple[object, ...]) -> Condition | None:
        self.conditions += 1
        if self.conditions == MAX_RULES_CONDITIONS + 1:
            self.error(path, _("A rule set may have at most %d conditions.") % MAX_RULES_CONDITIONS)
        if not isinstance(data, dict):
            self.error(path, _("A condition must be an object with “field” and “operator”."))
            return None
        for key in data:
            if key not in ("field", "operator", "value"):
                self.error((*path, key), _("Unknown key “%s” in a condition.") % key)
        field = data.get("field")
        resolved = self.field(field, (*path, "field"))
        if resolved is None:
            return None
        kind, target = resolved
        operator = data.get("operator")
        if operator not in OPERATORS_BY_KIND[kind]:
            allowed = ", ".join(OPERATORS_BY_KIND[kind])
            if isinstance(operator, str) and operator in OPERATOR_LABELS:
                detail = _(
                    "The field “%(field)s” does not take “%(operator)s” (use one of: %(allowed)s)."
                )
            else:
                detail = _("“%(operator)s” is not an operator (use one of: %(allowed)s).")
            self.error(
                (*path, "operator"),
                detail % {"field": field, "operator": operator, "allowed": allowed},
            )
            return None
        value = self.value(kind, operator, data, (*path, "value"))
        if value is _INVALID:
            return None
        return Condition(kind, target, operator, value)

    def field(self, field: Any, path: tuple[object, ...]) -> tuple[str, Any] | None:
        if not isinstance(field, str):
            self.error(path, _("The field must be a string."))
            return None
        if field in FIXED_FIELDS:
            kind, target = FIXED_FIELDS[field]
            return kind, target
        if field.startswith(ATTRIBUTES_PREFIX):
            keys = tuple(field[len(ATTRIBUTES_PREFIX) :].split("."))
            if all(_KEY.match(key) for key in keys) and len(keys) <= 20:
                return "attribute", keys
            self.error(
                path,
                _(
                    "“%s” is not an attribute path: use keys of letters, digits, _ and -, "
                    "starting with a letter or _, separated by dots."
                )
                % field,
            )
            return None
        if field.startswith(IDENTITY_PREFIX):
            code = field[len(IDENTITY_PREFIX) :]
            if _NAMESPACE.match(code):
                return "identity", code
            self.error(path, _("“%s” is not an identity namespace code.") % code)
            return None
        self.error(
            path,
            _(
                "“%s” is not a field (use attributes.<path>, locale, timeZone, createdAt, "
                "updatedAt, consent.email|sms|push or identity.<namespace>)."
            )
            % field,
        )
        return None

    def value(
        self, kind: str, operator: str, data: dict[str, Any], path: tuple[object, ...]
    ) -> Any:
        value = data.get("value")
        if operator in (EXISTS, NOT_EXISTS):
            if value is not None:
                self.error(path, _("“%s” takes no value.") % operator)
                return _INVALID
            return None
        if "value" not in data or value is None:
            self.error(path, _("This operator needs a value."))
            return _INVALID
        if operator == IN:
            if not isinstance(value, list) or not value:
                self.error(path, _("“in” takes a non-empty list of values."))
                return _INVALID
            if len(value) > MAX_IN_VALUES:
                self.error(path, _("“in” takes at most %d values.") % MAX_IN_VALUES)
                return _INVALID
            items = [self.scalar(kind, EQUALS, item, (*path, i)) for i, item in enumerate(value)]
            return _INVALID if _INVALID in items else tuple(items)
        return self.scalar(kind, operator, value, path)

    def scalar(self, kind: str, operator: str, value: Any, path: tuple[object, ...]) -> Any:
        if operator in (GREATER_THAN, LESS_THAN):
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
            ):
                self.error(path, _("Give a number."))
                return _INVALID
            return value
        if operator in (BEFORE, AFTER):
            moment = _parse_moment(value)
            if moment is None:
                self.error(
                    path,
                    _(
                        "Give an ISO 8601 date or date-time, e.g. 2024-05-01 or 2024-05-01T09:30:00Z."
                    ),
                )
                return _INVALID
            return value if kind == "attribute" else moment
        if kind == "consent":
            if value not in Consent.Status.values:
                self.error(path, _("Give one of: %s.") % ", ".join(Consent.Status.values))
                return _INVALID
            return value
        if (
            kind == "attribute"
            and operator in (EQUALS, NOT_EQUALS, CONTAINS)
            and (
                isinstance(value, bool) or (isinstance(value, int | float) and math.isfinite(value))
            )
        ):
            return value
        if not isinstance(value, str):
            if kind == "attribute":
                self.error(path, _("Give a string, a number or true/false."))
            else:
                self.error(path, _("Give a string."))
            return _INVALID
        if len(value) > MAX_TEXT_VALUE:
            self.error(path, _("The value is longer than %d characters.") % MAX_TEXT_VALUE)
            return _INVALID
        if operator == CONTAINS and not value:
            self.error(path, _("Give the text to look for."))
            return _INVALID
        if operator != CONTAINS and not value.strip():
            self.error(path, str(EMPTY_VALUE_MESSAGE))
            return _INVALID
        return value


_INVALID = object()


def _parse_moment(value: Any) -> dt.datetime | None:
    """An ISO date or date-time as an aware datetime (UTC when no offset is given)."""
    if not isinstance(value, str) or not 10 <= len(value) <= 40:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment


def rule_set_parse(rules: Any, prefix: tuple[object, ...] = ("rules",)) -> Group:
    """The rule set as a tree; raises ``InvalidInput`` with a pointer per problem."""
    parser = _Parser(prefix)
    group = parser.group(rules, (), 1)
    if parser.errors or group is None:
        errors = parser.errors or [FieldError(pointer(*prefix), _("The rules are not valid."))]
        detail = errors[0].detail if len(errors) == 1 else _("Some rules are not valid.")
        raise InvalidInput(detail, errors=errors)
    return group
