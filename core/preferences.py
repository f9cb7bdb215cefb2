"""A person's language and time zone for the admin: reading, choosing, and applying them.

The choice is stored per user (``UserPreference``) and applied on every request by
``core.middleware.UserPreferenceMiddleware``; someone not logged in (the login page)
gets the language of the cookie the switcher sets, or of ``Accept-Language``, as
Django's ``LocaleMiddleware`` decides, and the site's time zone.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.core.exceptions import ObjectDoesNotExist
from django.utils.translation import gettext as _

from core.errors import FieldError, invalid_input, pointer
from core.models import UserPreference


@dataclass(frozen=True)
class Preferences:
    """What a request applies; blank means the default (browser language, site time zone)."""

    language: str = ""
    time_zone: str = ""


@cache
def time_zone_names() -> tuple[str, ...]:
    """Every IANA time zone this machine knows (``zoneinfo``), sorted; read once."""
    return tuple(sorted(zoneinfo.available_timezones()))


def language_codes() -> tuple[str, ...]:
    """The languages the admin speaks (``settings.LANGUAGES``), e.g. ``("en", "zh-hant")``."""
    return tuple(code for code, _name in settings.LANGUAGES)


def user_preferences(user: AbstractBaseUser | AnonymousUser) -> Preferences:
    """The user's choices; defaults for someone not logged in or who chose nothing.

    No query when the user was loaded by ``core.auth.PreferenceModelBackend``, which
    joins the preference row to the user's.
    """
    if not user.is_authenticated:
        return Preferences()
    try:
        row: UserPreference = user.clarion_preference  # type: ignore[attr-defined]
    except ObjectDoesNotExist:
        return Preferences()
    return Preferences(language=row.language, time_zone=row.time_zone)


def user_preferences_set(
    *, user: User, language: str | None = None, time_zone: str | None = None
) -> UserPreference:
    """Store the user's language and/or time zone (``None``: leave as it is; ``""``: default).

    Raises ``InvalidInput`` for a language the admin does not speak or an unknown zone.
    """
    errors = []
    if language and language not in language_codes():
        errors.append(FieldError(pointer("language"), _("Choose one of the languages offered.")))
    if time_zone and time_zone not in time_zone_names():
        errors.append(FieldError(pointer("timeZone"), _("Choose a time zone from the list.")))
    if errors:
        raise invalid_input(errors)
    changes = {}
    if language is not None:
        changes["language"] = language
    if time_zone is not None:
        changes["time_zone"] = time_zone
    row, _created = UserPreference.objects.update_or_create(user=user, defaults=changes)
    # The request's user object holds the row it was loaded with: keep it current.
    user.clarion_preference = row
    return row
