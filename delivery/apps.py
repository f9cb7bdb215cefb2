from __future__ import annotations

from importlib import import_module
from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class DeliveryConfig(AppConfig):
    name = "delivery"
    verbose_name = _("Delivery")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from anymail.signals import tracking

        from audiences.erasure import erasure_hook_register
        from delivery.inbound.receivers import anymail_tracking_received
        from delivery.models import ShortLink, WebhookDelivery
        from delivery.retention.registry import retention_register
        from delivery.services.erasure import messages_forget_profile

        # Registers the tasks with Celery in every process: the web process publishes them
        # by name (delivery.enqueue), and Celery's autodiscovery runs only in workers.
        import_module("delivery.tasks")

        # Erasing a profile blanks the personal data its messages copied (audiences.erasure).
        erasure_hook_register(messages_forget_profile)

        # Email providers' feedback (delivered, bounced...) arrives through anymail's
        # tracking webhooks as this signal (delivery/inbound/).
        tracking.connect(anymail_tracking_received, dispatch_uid="clarion-anymail-tracking")
        # Rows about messages that a dropped partition would leave behind: SMS short
        # links go with their message; webhook deliveries (and their attempts) by age.
        retention_register(ShortLink, message_field="message_id")
        retention_register(WebhookDelivery, time_field="created_at")
        # PostgreSQL: the coming weeks' message partitions exist from the first start
        # (`make run` migrates); beat keeps them coming (delivery.retention.maintenance).
        post_migrate.connect(_partitions_ensure, sender=self)


def _partitions_ensure(*, using: str, plan: Any = None, **_kwargs: Any) -> None:
    from delivery.retention.maintenance import message_partitions_ensure

    message_partitions_ensure(using=using)
