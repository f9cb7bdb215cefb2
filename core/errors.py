"""Errors raised by services, with a stable code and the field they concern.

Services know nothing of HTTP (nothing here imports DRF); each class carries
the status the API answers with, and ``core.api.problems`` turns any of them
into problem+json. The admin shows ``message`` to the user.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _


def escape_pointer_token(token: str) -> str:
    """One JSON pointer token (RFC 6901, section 3): ``~`` and ``/`` escaped."""
    return token.replace("~", "~0").replace("/", "~1")


def pointer(*tokens: object) -> str:
    """A JSON pointer from path tokens: pointer("recipients", 3, "userId")."""
    return "".join("/" + escape_pointer_token(str(token)) for token in tokens)


@dataclass(frozen=True)
class FieldError:
    """One bad field: a JSON pointer (``/content/en/subject``) and what is wrong."""

    pointer: str
    detail: str


@dataclass
class ClarionError(Exception):
    """Base for every error a service raises on purpose."""

    message: str
    code: str = "invalid"
    errors: list[FieldError] = field(default_factory=list)
    status: int = 400

    def __str__(self) -> str:
        return self.message


@dataclass
class InvalidInput(ClarionError):
    """The input is well-formed but its values are not acceptable (422).

    Services raise it for what the API's OpenAPI document cannot say: a
    reference to nothing, a name in use, a locale or template that does not
    parse. A request that does not match the document is refused before any
    service runs, with 400 (docs/api.md, "Errors").
    """

    code: str = "validation_error"
    status: int = 422


def errors_summary(errors: Sequence[FieldError]) -> str:
    """The one-line message for a list of field errors: the error itself when alone."""
    if len(errors) == 1:
        return errors[0].detail
    return str(_("Some fields are not valid."))


def invalid_input(
    errors: Sequence[FieldError], *, code: str = "validation_error", status: int = 422
) -> InvalidInput:
    """An ``InvalidInput`` for these field errors, its message from ``errors_summary``.

    ``status=400`` for a request that does not match the API's document (the
    serializers' shape checks); the default 422 is for values a service refuses.
    """
    return InvalidInput(
        message=errors_summary(errors), code=code, errors=list(errors), status=status
    )


@dataclass
class InvalidTransition(ClarionError):
    """The campaign's status does not allow this action (409)."""

    code: str = "invalid_transition"
    status: int = 409


@dataclass
class ReviewBlocked(ClarionError):
    """Review checks found errors that block activation or publishing (422)."""

    code: str = "review_failed"
    status: int = 422


@dataclass
class NotPermitted(ClarionError):
    """The user or API key may not do this (403)."""

    code: str = "forbidden"
    status: int = 403
