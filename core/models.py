"""Access labels and API keys: who may see and use what, shared by every app.

Both models were born in ``campaigns`` and keep their tables there
(``campaigns_accesslabel``, ``campaigns_apikey`` and their many-to-many
tables): core/migrations/0001 took them over without touching the database.
"""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

label_name_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$",
    _("Use letters, digits and _ . : - (at most 64 characters)."),
)


class AccessLabel(models.Model):
    """An object-level access label ("manage access" in the reference).

    A campaign carrying labels is visible only to users (through their groups)
    and API keys that hold every one of them.
    """

    name = models.CharField(
        _("name"), max_length=64, unique=True, validators=[label_name_validator]
    )
    description = models.TextField(_("description"), blank=True)
    groups = models.ManyToManyField(
        Group,
        blank=True,
        related_name="access_labels",
        verbose_name=_("groups holding this label"),
        db_table="campaigns_accesslabel_groups",
    )

    class Meta:
        db_table = "campaigns_accesslabel"
        ordering = ["name"]
        verbose_name = _("access label")
        verbose_name_plural = _("access labels")

    def __str__(self) -> str:
        return self.name


class ApiKey(models.Model):
    """A credential for the REST API: ``Authorization: Bearer <key>``.

    Only a SHA-256 hash of the secret is stored: keys are 256-bit random
    values, so a fast hash is safe and keeps authentication cheap on the
    trigger path. The prefix identifies a key in lists without revealing it.
    """

    name = models.CharField(_("name"), max_length=120)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(_("scopes"), default=list, blank=True)
    access_labels = models.ManyToManyField(
        AccessLabel,
        blank=True,
        related_name="api_keys",
        verbose_name=_("access labels"),
        db_table="campaigns_apikey_access_labels",
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        db_table = "campaigns_apikey"
        ordering = ["name"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or [])


class ApiKeyEvent(models.Model):
    """Who created, changed, revoked or reactivated an API key, and when. Never edited."""

    class Action(models.TextChoices):
        CREATED = "created", _("Created")
        CHANGED = "changed", _("Changed")
        REVOKED = "revoked", _("Revoked")
        REACTIVATED = "reactivated", _("Reactivated")

    api_key = models.ForeignKey(
        ApiKey,
        null=True,
        on_delete=models.SET_NULL,
        related_name="events",
        verbose_name=_("API key"),
    )
    key_name = models.CharField(_("key name"), max_length=120)
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    actor = models.ForeignKey(
        "auth.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("user"),
    )
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API key event")
        verbose_name_plural = _("API key events")

    def __str__(self) -> str:
        return f"{self.action} {self.key_name}"


class UserPreference(models.Model):
    """A person's own choices for the admin: the language it speaks and the time zone
    it shows times in. Blank means "the default": the browser's language, and
    ``settings.TIME_ZONE``. Read on every request by ``core.middleware``."""

    user = models.OneToOneField(
        "auth.User",
        on_delete=models.CASCADE,
        related_name="clarion_preference",
        verbose_name=_("user"),
    )
    language = models.CharField(
        _("language"),
        max_length=16,
        blank=True,
        help_text=_("Blank: the language the browser asks for."),
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        help_text=_("Blank: the site's time zone."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("user preference")
        verbose_name_plural = _("user preferences")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.language or '-'} {self.time_zone or '-'}"
