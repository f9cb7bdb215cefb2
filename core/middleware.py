"""Applying a person's language and time zone to each admin request (``core.preferences``)."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from core.preferences import user_preferences

# The API speaks the language of the request's Accept-Language and writes times in UTC
# (docs/api.md), whoever the session belongs to: an admin user trying the API in the
# browser gets what a client would.
API_PREFIX = "/api/"


class UserPreferenceMiddleware:
    """Activates the logged-in user's language and time zone for the request.

    Placed after ``AuthenticationMiddleware`` (it needs ``request.user``) and after
    ``LocaleMiddleware``, whose choice (language cookie, then ``Accept-Language``)
    stands when the user has chosen no language, and for anyone not logged in.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(API_PREFIX):
            timezone.deactivate()
            return self.get_response(request)
        preferences = user_preferences(request.user)
        if preferences.language:
            translation.activate(preferences.language)
            request.LANGUAGE_CODE = translation.get_language()
        if preferences.time_zone:
            timezone.activate(zoneinfo.ZoneInfo(preferences.time_zone))
        else:
            # Thread-locals outlive the request: never leave the last one's zone behind.
            timezone.deactivate()
        return self.get_response(request)
