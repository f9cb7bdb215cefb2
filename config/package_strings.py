"""Strings of installed packages that ship no Traditional Chinese catalogue, named here so
that `make messages` carries them into locale/zh_Hant (issue 10).

Django looks a msgid up in every catalogue of the "django" domain, Clarion's
(``LOCALE_PATHS``) first, so a translation here is what the package's own
``gettext("periodic tasks")`` returns. Only what the admin's navigation and dashboard
show is listed: django-celery-beat's model names (its pages are for administrators,
and stay in English).
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

DJANGO_CELERY_BEAT_MODEL_NAMES = (
    gettext_noop("periodic task"),
    gettext_noop("periodic tasks"),
    gettext_noop("crontab"),
    gettext_noop("crontabs"),
    gettext_noop("interval"),
    gettext_noop("intervals"),
    gettext_noop("clocked"),
    gettext_noop("solar event"),
    gettext_noop("solar events"),
)
