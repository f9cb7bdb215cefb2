"""The API's JSON parser: a body size limit and no crash on hostile JSON."""

from __future__ import annotations

import codecs
import json
import math
from collections.abc import Mapping
from typing import IO, Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.parsers import JSONParser
from rest_framework.settings import api_settings
from rest_framework.utils import json as drf_json

# Brief, trigger contract: "body at most 1 MB".
MAX_BODY_BYTES = 1024 * 1024


class PayloadTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = _("The request body is larger than 1 MB.")
    default_code = "payload_too_large"
    problem_code = "payload_too_large"


def _finite_float(text: str) -> float:
    """A JSON number as a float; 1e400 would be infinity, which no database stores."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(gettext("the number %s is out of range") % text)
    return value


class LimitedJSONParser(JSONParser):
    """JSONParser that refuses bodies over ``MAX_BODY_BYTES`` with 413.

    DRF reads the WSGI stream directly, which bypasses Django's
    ``DATA_UPLOAD_MAX_MEMORY_SIZE`` check, so the limit is enforced here, on
    the declared length and on the bytes actually read (chunked bodies).
    """

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        context = parser_context or {}
        request = context.get("request")
        if request is not None:
            declared = request.META.get("CONTENT_LENGTH") or "0"
            if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
                raise PayloadTooLarge()
        raw = stream.read(MAX_BODY_BYTES + 1)
        if len(raw) > MAX_BODY_BYTES:
            raise PayloadTooLarge()
        encoding = context.get("encoding", "utf-8")
        try:
            text = codecs.decode(raw, encoding)
            parse_constant = drf_json.strict_constant if api_settings.STRICT_JSON else None
            return json.loads(text, parse_constant=parse_constant, parse_float=_finite_float)
        except (ValueError, LookupError) as exc:
            raise exceptions.ParseError(_("JSON parse error: %s") % exc) from None
        except RecursionError:
            # json raises RecursionError, not ValueError, on very deep nesting.
            raise exceptions.ParseError(_("JSON parse error: nested too deeply.")) from None
