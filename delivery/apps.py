from __future__ import annotations

from importlib import import_module

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeliveryConfig(AppConfig):
    name = "delivery"
    verbose_name = _("Delivery")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from anymail.signals import tracking

        from audiences.erasure import erasure_hook_register
        from delivery.inbound.receivers import anymail_tracking_received
        from delivery.services.erasure import messages_forget_profile

        # Registers the tasks with Celery in every process: the web process publishes them
        # by name (delivery.enqueue), and Celery's autodiscovery runs only in workers.
        import_module("delivery.tasks")

        # Erasing a profile blanks the personal data its messages copied (audiences.erasure).
        erasure_hook_register(messages_forget_profile)

        # Email providers' feedback (delivered, bounced...) arrives through anymail's
        # tracking webhooks as this signal (delivery/inbound/).
        tracking.connect(anymail_tracking_received, dispatch_uid="clarion-anymail-tracking")
