"""The channels Clarion sends on, and the push platforms: one enum each for every app."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    PUSH = "push", _("Push")


class Platform(models.TextChoices):
    """A push platform: where a device token or Web Push subscription comes from."""

    IOS = "ios", _("iOS")
    ANDROID = "android", _("Android")
    WEB = "web", _("Web")
