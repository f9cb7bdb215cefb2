"""Channel configurations, defined by administrators."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from campaigns.links import app_schemes_validator
from core.channels import Channel, Platform

# A host name (RFC 1123 labels) with an optional port: tracked links become
# ``https://<tracking domain>/t/c/...``, so a scheme or a path here would break every link.
tracking_domain_validator = RegexValidator(
    r"^(?=.{1,253}(:|$))([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*"
    r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(:[0-9]{1,5})?$",
    _("Enter a host name such as links.example.com (no https://, no path)."),
)


class ChannelConfiguration(models.Model):
    """How a channel sends: sender identity for email, sender id for SMS, app for push.

    One table for the three channels; ``clean`` requires the fields of the
    chosen channel.
    """

    class SmsProvider(models.TextChoices):
        TWILIO = "twilio", _("Twilio")
        OUTBOX = "outbox", _("Local outbox (no real sending)")

    class PushProvider(models.TextChoices):
        FCM = "fcm", _("Firebase Cloud Messaging")
        WEBPUSH = "webpush", _("Web Push")
        OUTBOX = "outbox", _("Local outbox (no real sending)")

    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=120, unique=True)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    is_active = models.BooleanField(_("active"), default=True)
    # email
    from_name = models.CharField(_("from name"), max_length=120, blank=True)
    from_email = models.EmailField(_("from address"), blank=True)
    reply_to = models.EmailField(_("reply-to address"), blank=True)
    tracking_domain = models.CharField(
        _("tracking domain"),
        max_length=253,
        blank=True,
        help_text=_("Optional host name used in tracked links instead of Clarion's own."),
        validators=[tracking_domain_validator],
    )
    # sms
    sms_sender = models.CharField(
        _("SMS sender"),
        max_length=20,
        blank=True,
        help_text=_("An alphanumeric sender id (up to 11 characters) or a number in E.164."),
    )
    sms_provider = models.CharField(
        _("SMS provider"), max_length=16, choices=SmsProvider.choices, blank=True
    )
    # push
    push_app_id = models.CharField(_("push app id"), max_length=200, blank=True)
    push_platform = models.CharField(
        _("push platform"), max_length=8, choices=Platform.choices, blank=True
    )
    push_provider = models.CharField(
        _("push provider"), max_length=16, choices=PushProvider.choices, blank=True
    )
    push_app_schemes = models.JSONField(
        _("allowed app link schemes"),
        default=list,
        blank=True,
        validators=[app_schemes_validator],
        help_text=_(
            "Push only: your app's own URI schemes (e.g. myapp) that deep links and image URLs "
            "may use besides https:. Web schemes such as http, javascript or data are refused."
        ),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["channel", "name"]
        verbose_name = _("channel configuration")
        verbose_name_plural = _("channel configurations")

    def __str__(self) -> str:
        return f"{self.name} ({self.get_channel_display()})"

    def clean(self) -> None:
        required = (
            {
                Channel.EMAIL: ["from_email"],
                Channel.SMS: ["sms_sender", "sms_provider"],
                Channel.PUSH: ["push_app_id", "push_platform", "push_provider"],
            }.get(Channel(self.channel), [])
            if self.channel
            else []
        )
        errors = {
            name: _("Required for the %(channel)s channel.") % {"channel": self.channel}
            for name in required
            if not getattr(self, name)
        }
        if errors:
            raise ValidationError(errors)

    def summary(self) -> dict[str, Any]:
        """The channel-specific settings, in the API's camelCase."""
        if self.channel == Channel.EMAIL:
            return {
                "fromName": self.from_name,
                "fromEmail": self.from_email,
                "replyTo": self.reply_to,
                "trackingDomain": self.tracking_domain,
            }
        if self.channel == Channel.SMS:
            return {"sender": self.sms_sender, "provider": self.sms_provider}
        return {
            "appId": self.push_app_id,
            "platform": self.push_platform,
            "provider": self.push_provider,
            "appSchemes": list(self.push_app_schemes or []),
        }
