from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeliveryConfig(AppConfig):
    name = "delivery"
    verbose_name = _("Delivery")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from audiences.erasure import erasure_hook_register
        from delivery.services.erasure import messages_forget_profile

        # Erasing a profile blanks the personal data its messages copied (audiences.erasure).
        erasure_hook_register(messages_forget_profile)
