"""problem+json (RFC 9457) for every API error, from one exception handler.

Each problem has ``type``, ``title``, ``status``, ``detail``, a stable ``code``
and ``errors``: a list of ``{"pointer", "detail"}`` naming each bad field with
a JSON pointer (RFC 6901).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions as drf
from rest_framework.response import Response

from core.errors import ClarionError, FieldError, errors_summary, pointer

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"

# Lazy: each problem takes its title in the language of the request that gets it.
TITLES: dict[int, Promise] = {
    400: _("Bad request"),
    401: _("Not authenticated"),
    403: _("Forbidden"),
    404: _("Not found"),
    405: _("Method not allowed"),
    406: _("Not acceptable"),
    409: _("Conflict"),
    413: _("Payload too large"),
    415: _("Unsupported media type"),
    422: _("Unprocessable content"),
    429: _("Too many requests"),
    500: _("Internal server error"),
    503: _("Service unavailable"),
}

# DRF exception class -> stable code.
_DRF_CODES: list[tuple[type[drf.APIException], str]] = [
    (drf.ParseError, "malformed_json"),
    (drf.AuthenticationFailed, "invalid_api_key"),
    (drf.NotAuthenticated, "not_authenticated"),
    (drf.PermissionDenied, "forbidden"),
    (drf.NotFound, "not_found"),
    (drf.MethodNotAllowed, "method_not_allowed"),
    (drf.NotAcceptable, "not_acceptable"),
    (drf.UnsupportedMediaType, "unsupported_media_type"),
    (drf.Throttled, "rate_limited"),
    (drf.ValidationError, "validation_error"),
]


def flatten_errors(detail: Any, prefix: tuple[object, ...] = ()) -> list[FieldError]:
    """DRF's nested error detail -> one FieldError per leaf message."""
    found: list[FieldError] = []
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            tokens = prefix if key in ("non_field_errors", "__all__") else (*prefix, key)
            found.extend(flatten_errors(value, tokens))
    elif isinstance(detail, list | tuple):
        if all(isinstance(item, str) for item in detail):
            found.extend(FieldError(pointer(*prefix), str(item)) for item in detail)
        else:
            for index, item in enumerate(detail):
                if item:  # DRF leaves {} for list items without errors
                    found.extend(flatten_errors(item, (*prefix, index)))
    else:
        found.append(FieldError(pointer(*prefix), str(detail)))
    return found


def problem_body(
    *,
    status: int,
    code: str,
    detail: str,
    errors: Iterable[FieldError] = (),
    title: str | None = None,
) -> dict[str, Any]:
    return {
        "type": f"urn:clarion:problem:{code}",
        "title": title or str(TITLES.get(status, _("Error"))),
        "status": status,
        "detail": detail,
        "code": code,
        "errors": [{"pointer": e.pointer, "detail": e.detail} for e in errors],
    }


def problem_response(
    *,
    status: int,
    code: str,
    detail: str,
    errors: Iterable[FieldError] = (),
    headers: Mapping[str, str] | None = None,
) -> Response:
    response = Response(
        problem_body(status=status, code=code, detail=detail, errors=errors),
        status=status,
        headers=dict(headers or {}),
        content_type=PROBLEM_CONTENT_TYPE,
    )
    return response


def _drf_code(exc: drf.APIException) -> str:
    for cls, code in _DRF_CODES:
        if isinstance(exc, cls):
            return code
    return "error"


def problem_exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every error leaves the API as problem+json."""
    if isinstance(exc, ClarionError):
        return problem_response(
            status=exc.status, code=exc.code, detail=exc.message, errors=exc.errors
        )
    if isinstance(exc, RequestDataTooBig):
        # Django raises it when request.body exceeds DATA_UPLOAD_MAX_MEMORY_SIZE.
        return problem_response(
            status=413,
            code="payload_too_large",
            detail=str(_("The request body is too large.")),
        )
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()
    if isinstance(exc, drf.APIException):
        headers: dict[str, str] = {}
        if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
            headers["WWW-Authenticate"] = 'Bearer realm="api"'
        headers.update(getattr(exc, "headers", None) or {})
        wait = getattr(exc, "wait", None)
        if isinstance(exc, drf.Throttled) and wait is not None and "Retry-After" not in headers:
            headers["Retry-After"] = str(int(wait) + 1)
        code = getattr(exc, "problem_code", None) or _drf_code(exc)
        if isinstance(exc, drf.ValidationError):
            errors = flatten_errors(exc.detail)
            detail = errors_summary(errors)
            return problem_response(
                status=exc.status_code, code=code, detail=detail, errors=errors, headers=headers
            )
        return problem_response(
            status=exc.status_code, code=code, detail=str(exc.detail), headers=headers
        )
    logger.exception("Unhandled API error", exc_info=exc)
    return problem_response(
        status=500,
        code="internal_error",
        detail=str(_("An unexpected error occurred; it was logged.")),
    )


def _json_problem(status: int, code: str, detail: str) -> HttpResponse:
    return JsonResponse(
        problem_body(status=status, code=code, detail=detail),
        status=status,
        content_type=PROBLEM_CONTENT_TYPE,
    )


def api_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404: problem+json under /api/, Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return _json_problem(404, "not_found", str(_("No such resource.")))
    from django.views.defaults import page_not_found

    return page_not_found(request, exception or Http404())


def api_server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return _json_problem(
            500, "internal_error", str(_("An unexpected error occurred; it was logged."))
        )
    from django.views.defaults import server_error

    return server_error(request)
