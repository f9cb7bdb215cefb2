"""Errors raised by services, with a stable code and the field they concern.

Services know nothing of HTTP; each class carries the status the API answers
with, and ``config.problems`` turns any of them into problem+json. The admin
shows ``message`` to the user.
"""

from __future__ import annotations

from dataclasses import dataclass, field


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
