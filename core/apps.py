from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """What every app needs and no app owns: API keys, access labels, the API plumbing."""

    name = "core"
    verbose_name = _("Settings")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from core import admin_display
        from core.db import connection_tune

        connection_created.connect(connection_tune, dispatch_uid="core.db.connection_tune")
        admin_display.install()
