"""The API's language: the client's ``Accept-Language``, and nothing else.

An API client chooses the language of problem+json ``title`` and ``detail`` (and of
DRF's own validation messages) with ``Accept-Language`` (RFC 9110, section 12.5.4);
without one, English. The admin's choices (the language cookie, a user's saved
preference) do not reach ``/api/``: a script calling with a browser's session gets the
same answer as one calling with an API key. LocaleMiddleware still sets
``Content-Language`` and ``Vary: Accept-Language`` on the response.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation.trans_real import parse_accept_lang_header

API_PREFIX = "/api/"


def accept_language(header: str) -> str:
    """The first supported language of an ``Accept-Language`` header, else the default.

    ``zh-Hant``, ``zh-TW`` and ``zh-HK`` give ``zh-hant``; ``*`` or nothing known, English.
    """
    for code, _quality in parse_accept_lang_header(header):
        if code == "*":
            break
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


class ApiLanguageMiddleware:
    """Under /api/, the language of ``Accept-Language`` only.

    Last in MIDDLEWARE, so it overrides whatever an earlier middleware activated
    (LocaleMiddleware's cookie, the admin user's preference).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(API_PREFIX):
            language = accept_language(request.headers.get("Accept-Language", ""))
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)
