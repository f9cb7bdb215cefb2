"""People: identity namespaces, profiles, identities, addresses, consent, audiences."""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath
from typing import Any

from django.core.files.storage import Storage
from django.core.validators import RegexValidator
from django.db import models, transaction
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from core.channels import Channel, Platform

BUILTIN_NAMESPACES: dict[str, str] = {
    "email": "Email",
    "phone": "Phone",
    "crm_id": "CRM ID",
    "ecid": "Experience Cloud ID",
}


class IdentityNamespace(models.Model):
    """A kind of identifier a recipient is known by (email, phone, CRM id, ...).

    The four built-in namespaces are created by a migration and cannot be
    deleted; administrators may add custom ones. ``value_kind`` says how
    values are normalised before they are stored or looked up.
    """

    class ValueKind(models.TextChoices):
        EMAIL = "email", _("Email address (lower-cased, validated)")
        PHONE = "phone", _("Phone number (E.164)")
        TEXT = "text", _("Text (trimmed)")

    code = models.CharField(
        _("code"),
        max_length=64,
        unique=True,
        validators=[
            RegexValidator(
                r"^[a-z][a-z0-9_]{1,63}$",
                _("Use 2 to 64 lower-case letters, digits or underscores, starting with a letter."),
            )
        ],
        help_text=_("The value trigger calls send as `namespace`, e.g. `loyalty_id`."),
    )
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    value_kind = models.CharField(
        _("kind of value"), max_length=8, choices=ValueKind.choices, default=ValueKind.TEXT
    )
    builtin = models.BooleanField(_("built in"), default=False, editable=False)

    class Meta:
        ordering = ["-builtin", "code"]
        verbose_name = _("identity namespace")
        verbose_name_plural = _("identity namespaces")

    def __str__(self) -> str:
        return self.code


class Profile(models.Model):
    """A person Clarion can message: attributes for templates, locale and time zone.

    Found through its identities; ``attributes`` is free JSON reachable as
    ``{{ profile.* }}`` in templates.
    """

    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    locale = models.CharField(_("locale"), max_length=20, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)
    email_address = models.EmailField(
        _("email address"),
        blank=True,
        help_text=_("Where email goes; defaults to the email identity."),
    )
    mobile_number = models.CharField(
        _("mobile number"),
        max_length=20,
        blank=True,
        help_text=_("E.164; defaults to the phone identity."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self) -> str:
        """The profile's name in the admin: its primary identity (``email:ana@example.com``).

        Lists and pages that show many profiles prefetch ``identities_prefetch()``;
        without it this reads the identities (one query).
        """
        identity = self.primary_identity()
        if identity is not None:
            return str(identity)
        return gettext("Profile %(id)s") % {"id": str(self.id)[:8]}

    def primary_identity(self) -> Identity | None:
        """The identity a person would recognise first: an email address, then a phone
        number, then any other; built-in namespaces before custom ones."""
        if "identities" in getattr(self, "_prefetched_objects_cache", {}):
            identities = list(self.identities.all())
        elif self.pk is None:
            return None
        else:
            identities = list(self.identities.select_related("namespace"))
        return min(identities, key=_primary_order, default=None)


# Which identity names a profile: by kind of value, then built-in first, then by code.
PRIMARY_KIND_ORDER: dict[str, int] = {
    IdentityNamespace.ValueKind.EMAIL: 0,
    IdentityNamespace.ValueKind.PHONE: 1,
    IdentityNamespace.ValueKind.TEXT: 2,
}


def _primary_order(identity: Identity) -> tuple[int, bool, str, str]:
    namespace = identity.namespace
    return (
        PRIMARY_KIND_ORDER.get(namespace.value_kind, 9),
        not namespace.builtin,
        namespace.code,
        identity.value,
    )


def identities_prefetch(through: str = "") -> models.Prefetch:
    """Prefetch a profile's identities with their namespaces, which its name reads:
    ``prefetch_related(identities_prefetch())`` on profiles,
    ``identities_prefetch("profile__")`` on rows pointing at one."""
    return models.Prefetch(
        f"{through}identities", queryset=Identity.objects.select_related("namespace")
    )


class Identity(models.Model):
    """One (namespace, value) that names a profile; unique across the store."""

    profile = models.ForeignKey(
        Profile, verbose_name=_("profile"), on_delete=models.CASCADE, related_name="identities"
    )
    namespace = models.ForeignKey(
        IdentityNamespace,
        on_delete=models.PROTECT,
        related_name="identities",
        verbose_name=_("namespace"),
    )
    value = models.CharField(_("value"), max_length=320)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["namespace__code", "value"]
        verbose_name = _("identity")
        verbose_name_plural = _("identities")
        constraints = [
            models.UniqueConstraint(fields=["namespace", "value"], name="identity_unique_value"),
        ]

    def __str__(self) -> str:
        return f"{self.namespace.code}:{self.value}"


class PushRegistration(models.Model):
    """A device or browser that can receive push notifications for a profile."""

    profile = models.ForeignKey(
        Profile,
        verbose_name=_("profile"),
        on_delete=models.CASCADE,
        related_name="push_registrations",
    )
    app_id = models.CharField(_("app id"), max_length=200)
    platform = models.CharField(_("platform"), max_length=8, choices=Platform.choices)
    token = models.TextField(_("token"), help_text=_("FCM/APNs token, or the Web Push endpoint."))
    subscription = models.JSONField(
        _("Web Push subscription"), null=True, blank=True, help_text=_("keys.p256dh and keys.auth")
    )
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-last_seen_at"]
        verbose_name = _("push registration")
        verbose_name_plural = _("push registrations")
        constraints = [
            models.UniqueConstraint(fields=["app_id", "token"], name="push_unique_token"),
        ]

    def __str__(self) -> str:
        return f"{self.app_id} {self.platform}"


class Consent(models.Model):
    """Marketing consent of one profile for one channel."""

    class Status(models.TextChoices):
        OPTED_IN = "opted_in", _("Opted in")
        OPTED_OUT = "opted_out", _("Opted out")
        UNKNOWN = "unknown", _("Unknown")

    profile = models.ForeignKey(
        Profile, verbose_name=_("profile"), on_delete=models.CASCADE, related_name="consents"
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.UNKNOWN
    )
    source = models.CharField(_("source"), max_length=120, blank=True)
    updated_at = models.DateTimeField(_("updated"))

    class Meta:
        ordering = ["channel"]
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [
            models.UniqueConstraint(fields=["profile", "channel"], name="consent_unique_channel"),
        ]

    def __str__(self) -> str:
        return f"{self.channel}: {self.status}"


class Suppression(models.Model):
    """An address nothing may be sent to (marketing), or nothing at all for bounces and complaints."""

    class Reason(models.TextChoices):
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
        HARD_BOUNCE = "hard_bounce", _("Hard bounce")
        COMPLAINT = "complaint", _("Spam complaint")
        MANUAL = "manual", _("Added by hand")

    # Transactional sends ignore marketing consent but not these.
    BLOCKS_TRANSACTIONAL = (Reason.HARD_BOUNCE, Reason.COMPLAINT)

    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    address = models.CharField(_("address"), max_length=320)
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("suppression")
        verbose_name_plural = _("suppression list")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "address"], name="suppression_unique_address"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.address} ({self.get_reason_display()})"


class Audience(models.Model):
    """Who a marketing campaign goes to: a static list of profiles, or rules on profiles.

    Rules are data (``rules``: a tree of AND/OR groups and conditions) that
    ``audiences.rules`` translates to one database query.
    """

    class Kind(models.TextChoices):
        STATIC = "static", _("Static list")
        RULES = "rules", _("Rule-based")

    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=200, unique=True)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.RULES)
    rules = models.JSONField(
        _("rules"),
        default=dict,
        blank=True,
        help_text=_("Conditions on profiles (rule-based audiences)."),
    )
    members = models.ManyToManyField(
        Profile,
        verbose_name=_("members"),
        through="AudienceMember",
        related_name="audiences",
        blank=True,
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("audience")
        verbose_name_plural = _("audiences")

    def __str__(self) -> str:
        return self.name


class AudienceMember(models.Model):
    """A profile in a static audience."""

    audience = models.ForeignKey(
        Audience, verbose_name=_("audience"), on_delete=models.CASCADE, related_name="memberships"
    )
    profile = models.ForeignKey(
        Profile, verbose_name=_("profile"), on_delete=models.CASCADE, related_name="memberships"
    )
    added_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        verbose_name = _("audience member")
        verbose_name_plural = _("audience members")
        constraints = [
            models.UniqueConstraint(fields=["audience", "profile"], name="audience_member_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.audience_id}:{self.profile_id}"


class ProfileImport(models.Model):
    """One import of a CSV or JSON-lines file, run in the background, with its counts.

    How it ended is in ``status``: succeeded, succeeded with rejected rows, or
    failed (``error`` says why; an import whose every row was rejected failed).
    ``heartbeat_at`` moves after every batch, so a sweep can tell an import
    whose worker died from a slow one. Deleting an import deletes its files.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        PARTIALLY_SUCCEEDED = "partially_succeeded", _("Succeeded with rejected rows")
        FAILED = "failed", _("Failed")

    FINISHED = (Status.SUCCEEDED, Status.PARTIALLY_SUCCEEDED, Status.FAILED)

    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False)
    file = models.FileField(_("file"), upload_to="imports/")
    original_name = models.CharField(
        _("file name"),
        max_length=255,
        blank=True,
        help_text=_("The uploaded file's name (the stored copy may be renamed)."),
    )
    namespace = models.ForeignKey(
        IdentityNamespace, verbose_name=_("namespace"), on_delete=models.PROTECT, related_name="+"
    )
    audience = models.ForeignKey(
        Audience,
        verbose_name=_("audience"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="imports",
        help_text=_("Optional: add every imported profile to this static audience."),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.QUEUED
    )
    total_bytes = models.BigIntegerField(_("total bytes"), default=0)
    processed_bytes = models.BigIntegerField(_("processed bytes"), default=0)
    # Counts of profiles, not times: a context of their own ("created" is also a time).
    created_count = models.PositiveIntegerField(
        pgettext_lazy("profiles counted", "created"), default=0
    )
    updated_count = models.PositiveIntegerField(
        pgettext_lazy("profiles counted", "updated"), default=0
    )
    rejected_count = models.PositiveIntegerField(_("rejected"), default=0)
    rejected_file = models.FileField(_("rejected rows"), upload_to="imports/", blank=True)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        "auth.User",
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    heartbeat_at = models.DateTimeField(
        _("last progress"),
        null=True,
        blank=True,
        help_text=_("When the worker running the import last reported progress."),
    )
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("profile import")
        verbose_name_plural = _("profile imports")

    def __str__(self) -> str:
        return f"{self.display_name} ({self.get_status_display()})"

    @property
    def display_name(self) -> str:
        """The uploaded file's name; never the storage path (``imports/…``)."""
        return self.original_name or PurePosixPath(self.file.name or "").name

    @property
    def progress_percent(self) -> int:
        if not self.total_bytes:
            return 100 if self.status in self.FINISHED else 0
        return min(100, int(100 * self.processed_bytes / self.total_bytes))

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        """Delete the row and, once that is committed, its uploaded and rejected-rows files.

        The files hold personal data; Django leaves a FileField's file behind. They go
        after the commit so a rolled-back delete keeps them. A queryset's ``delete()``
        skips this method: delete imports one by one (``profile_imports_delete``).
        """
        stored = [(f.storage, f.name) for f in (self.file, self.rejected_file) if f.name]
        result = super().delete(*args, **kwargs)
        transaction.on_commit(lambda: _files_delete(stored))
        return result


def _files_delete(stored: list[tuple[Storage, str]]) -> None:
    for storage, name in stored:
        storage.delete(name)
