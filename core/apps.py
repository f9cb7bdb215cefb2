from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """What every app needs and no app owns: API keys, access labels, the API plumbing."""

    name = "core"
    verbose_name = _("Settings")
    default_auto_field = "django.db.models.BigAutoField"
