from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _ensure_builtin_namespaces(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    """Create the built-in identity namespaces after every migrate (and test flush).

    Like Django's content types: a flush between transactional tests empties the
    table, and post_migrate puts the built-in rows back.
    """
    from audiences.models import BUILTIN_NAMESPACES, IdentityNamespace

    kinds = {"email": IdentityNamespace.ValueKind.EMAIL, "phone": IdentityNamespace.ValueKind.PHONE}
    for code, name in BUILTIN_NAMESPACES.items():
        IdentityNamespace.objects.using(using).get_or_create(
            code=code,
            defaults={
                "name": name,
                "builtin": True,
                "value_kind": kinds.get(code, IdentityNamespace.ValueKind.TEXT),
            },
        )


class AudiencesConfig(AppConfig):
    name = "audiences"
    verbose_name = _("Audiences and profiles")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        post_migrate.connect(_ensure_builtin_namespaces, sender=self)
