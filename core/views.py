"""The admin's per-person views: switching language and the Preferences page.

Both only parse input and call ``core.preferences``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from core.errors import ClarionError
from core.preferences import (
    language_codes,
    time_zone_names,
    user_preferences,
    user_preferences_set,
)


@require_POST
def language_switch(request: HttpRequest) -> HttpResponse:
    """The header's language switcher (on the login page too).

    Django's ``set_language`` sets the language cookie and redirects to ``next``; a
    logged-in user's choice is also stored, so it follows them to another browser.
    """
    response = set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in language_codes():
        user_preferences_set(user=request.user, language=language)
    return response


def _time_zone_choices() -> list[tuple[str, Any]]:
    default = pgettext_lazy("time zone", "The site's time zone (%(zone)s)") % {
        "zone": settings.TIME_ZONE
    }
    return [("", default), *((name, name) for name in time_zone_names())]


def _language_choices() -> list[tuple[str, Any]]:
    choices: list[tuple[str, Any]] = [("", _("The language your browser asks for"))]
    for code, _name in settings.LANGUAGES:
        info = translation.get_language_info(code)
        choices.append((code, info["name_local"]))
    return choices


class PreferencesForm(forms.Form):
    """A person's language and time zone."""

    language = forms.ChoiceField(label=_("Language"), choices=_language_choices, required=False)
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        choices=_time_zone_choices,
        required=False,
        help_text=_(
            "The admin shows times in this zone; point at a time to see it in UTC. "
            "Clarion stores times in UTC and the API writes them in UTC."
        ),
    )


def preferences_view(request: HttpRequest) -> HttpResponse:
    """Preferences (the header's user tools): the user's language and time zone."""
    current = user_preferences(request.user)
    form = PreferencesForm(
        request.POST or None,
        initial={"language": current.language, "time_zone": current.time_zone},
    )
    if request.method == "POST" and form.is_valid():
        try:
            user_preferences_set(
                user=request.user,  # type: ignore[arg-type]
                language=form.cleaned_data["language"],
                time_zone=form.cleaned_data["time_zone"],
            )
        except ClarionError as error:
            form.add_error(None, error.message)
        else:
            language = form.cleaned_data["language"] or translation.get_language_from_request(
                request
            )
            with translation.override(language):
                messages.success(request, gettext("Your preferences were saved."))
            response = HttpResponseRedirect(reverse("clarion-preferences"))
            if form.cleaned_data["language"]:
                response.set_cookie(
                    settings.LANGUAGE_COOKIE_NAME,
                    form.cleaned_data["language"],
                    max_age=settings.LANGUAGE_COOKIE_AGE,
                    path=settings.LANGUAGE_COOKIE_PATH,
                    domain=settings.LANGUAGE_COOKIE_DOMAIN,
                    secure=settings.LANGUAGE_COOKIE_SECURE,
                    httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                    samesite=settings.LANGUAGE_COOKIE_SAMESITE,
                )
            else:
                response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)
            return response
    context = {
        **admin.site.each_context(request),
        "title": gettext("Preferences"),
        "form": form,
    }
    return TemplateResponse(request, "admin/core/preferences.html", context)
