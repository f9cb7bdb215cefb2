"""Campaigns, their per-locale content, and frozen versions."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from campaigns.limits import NAME_MAX_LENGTH, THROTTLE_MAX_PER_SECOND, THROTTLE_MIN_PER_SECOND
from core.channels import Channel
from core.locales import locale_validator


class Category(models.TextChoices):
    MARKETING = "marketing", _("Marketing")
    TRANSACTIONAL = "transactional", _("Transactional")


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    SCHEDULED = "scheduled", _("Scheduled")
    LIVE = "live", _("Live")
    STOPPED = "stopped", _("Stopped")
    COMPLETED = "completed", _("Completed")
    ARCHIVED = "archived", _("Archived")


# Which content parts each channel uses, in the API's camelCase -> model field.
CONTENT_PARTS: dict[str, dict[str, str]] = {
    Channel.EMAIL: {"subject": "subject", "preheader": "preheader", "html": "html", "text": "text"},
    Channel.SMS: {"body": "body"},
    Channel.PUSH: {
        "title": "title",
        "body": "body",
        "deepLink": "deep_link",
        "imageUrl": "image_url",
    },
}
# Parts rendered as HTML: Liquid output in them is HTML-escaped unless marked `safe`.
HTML_PARTS = frozenset({"html"})
# Parts holding a link a device opens: only https: or an app scheme the channel
# configuration allows (campaigns/links.py).
LINK_PARTS = frozenset({"deepLink", "imageUrl"})

# What each channel can track, the one place that says it (review, admin form, its script):
# email counts opens (an invisible image in the HTML) and clicks (rewritten links); SMS
# counts clicks (a rewritten link in the text) but has nothing to open; push has neither
# (the app, not Clarion, sees a notification opened).
TRACKING_BY_CHANNEL: dict[str, tuple[str, ...]] = {
    Channel.EMAIL: ("opens", "clicks"),
    Channel.SMS: ("clicks",),
    Channel.PUSH: (),
}


class Campaign(models.Model):
    """An API-triggered campaign as a marketer authors it.

    The row holds the working configuration and content. Activation freezes
    them into an immutable ``CampaignVersion`` that delivery uses; while a
    campaign is live, edits go to the row (its draft version) until published.
    """

    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False)
    # 1-2. Create and properties
    name = models.CharField(
        _("name"), max_length=NAME_MAX_LENGTH, help_text=_("What the campaign is called in lists.")
    )
    description = models.TextField(
        _("description"), blank=True, help_text=_("What it sends and why, for your colleagues.")
    )
    tags = models.ManyToManyField(
        "campaigns.Tag",
        blank=True,
        related_name="campaigns",
        verbose_name=_("tags"),
        help_text=_("Words to group and filter campaigns."),
    )
    access_labels = models.ManyToManyField(
        "core.AccessLabel",
        blank=True,
        related_name="campaigns",
        verbose_name=_("access labels"),
        help_text=_(
            "Only people and API keys holding all of these labels can see or use the campaign."
        ),
    )
    category = models.CharField(
        _("category"),
        max_length=16,
        choices=Category.choices,
        default=Category.TRANSACTIONAL,
        help_text=_(
            "Transactional: sent to the recipients named in each API call, not subject to "
            "marketing consent. Marketing: sent to an audience; consent applies."
        ),
    )
    # 3. Action
    channel = models.CharField(
        _("channel"),
        max_length=8,
        choices=Channel.choices,
        default=Channel.EMAIL,
        help_text=_("The one channel this campaign sends on."),
    )
    channel_configuration = models.ForeignKey(
        "campaigns.ChannelConfiguration",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="campaigns",
        verbose_name=_("channel configuration"),
        help_text=_("The sender set up by an administrator for this channel."),
    )
    track_opens = models.BooleanField(
        _("track opens"),
        default=True,
        help_text=_("Email only: adds an invisible image to count opens."),
    )
    track_clicks = models.BooleanField(
        _("track clicks"), default=True, help_text=_("Rewrites links so clicks are counted.")
    )
    throttle_rate = models.PositiveIntegerField(
        _("throttle (messages per second)"),
        null=True,
        blank=True,
        validators=[
            MinValueValidator(THROTTLE_MIN_PER_SECOND),
            MaxValueValidator(THROTTLE_MAX_PER_SECOND),
        ],
        help_text=_("Leave empty to send as fast as possible; otherwise 1 to 2000."),
    )
    # 5. Audience
    identity_namespace = models.ForeignKey(
        "audiences.IdentityNamespace",
        on_delete=models.PROTECT,
        related_name="campaigns",
        verbose_name=_("identity namespace"),
        help_text=_("How trigger calls name recipients: by email, phone, CRM id, ..."),
    )
    create_new_profiles = models.BooleanField(
        _("create new profiles"),
        default=False,
        help_text=_(
            "Transactional only: create a profile for a recipient Clarion does not know yet. "
            "Off: a call naming an unknown recipient fails for that recipient."
        ),
    )
    audience = models.ForeignKey(
        "audiences.Audience",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="campaigns",
        verbose_name=_("audience"),
        help_text=_("Marketing only: the people an audience execution sends to."),
    )
    # 6. Schedule
    start_at = models.DateTimeField(
        _("start"), null=True, blank=True, help_text=_("Optional. Calls before it are refused.")
    )
    end_at = models.DateTimeField(
        _("end"), null=True, blank=True, help_text=_("Optional. Calls after it are refused.")
    )
    # 4. Content (locales)
    default_locale = models.CharField(
        _("default locale"),
        max_length=20,
        default="en",
        validators=[locale_validator],
        help_text=_("Used when no content matches the recipient's locale."),
    )
    locale_attribute = models.CharField(
        _("locale attribute"),
        max_length=200,
        blank=True,
        default="",
        help_text=_(
            "Profile attribute holding the recipient's locale, e.g. preferences.language. "
            "Empty: the profile's own locale."
        ),
    )
    # Lifecycle
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    live_version = models.ForeignKey(
        "campaigns.CampaignVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("live version"),
    )
    has_draft_version = models.BooleanField(
        _("draft version open"),
        default=False,
        help_text=_(
            "A live or scheduled campaign is being edited; publish to replace the live version."
        ),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    last_edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("last edited by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    activated_at = models.DateTimeField(_("activated"), null=True, blank=True)

    class Meta:
        ordering = ["-updated_at"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        permissions = [
            ("approve_campaign", _("Can approve campaigns for activation")),
            ("trigger_campaign", _("Can trigger live campaigns (and give API keys that scope)")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(throttle_rate__isnull=True)
                | models.Q(
                    throttle_rate__gte=THROTTLE_MIN_PER_SECOND,
                    throttle_rate__lte=THROTTLE_MAX_PER_SECOND,
                ),
                name="campaign_throttle_in_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_editable(self) -> bool:
        """Drafts, and live or scheduled campaigns with an open draft version."""
        if self.status == Status.DRAFT:
            return True
        return self.status in (Status.LIVE, Status.SCHEDULED) and self.has_draft_version


class CampaignContent(models.Model):
    """A campaign's message in one locale. Which fields apply depends on the channel."""

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="contents"
    )
    locale = models.CharField(_("locale"), max_length=20, validators=[locale_validator])
    subject = models.CharField(_("subject"), max_length=998, blank=True)  # RFC 5322 line limit
    preheader = models.CharField(_("preheader"), max_length=500, blank=True)
    html = models.TextField(_("HTML body"), blank=True)
    text = models.TextField(_("text body"), blank=True)
    body = models.TextField(
        _("body"), blank=True, help_text=_("SMS text, or the push notification body.")
    )
    title = models.CharField(_("title"), max_length=500, blank=True)
    deep_link = models.CharField(_("deep link"), max_length=2000, blank=True)
    image_url = models.CharField(_("image URL"), max_length=2000, blank=True)

    class Meta:
        ordering = ["locale"]
        verbose_name = _("content")
        verbose_name_plural = _("content per locale")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "locale"], name="content_unique_locale"),
        ]

    def __str__(self) -> str:
        return self.locale

    def parts(self, channel: str) -> dict[str, str]:
        """The content parts that ``channel`` uses, keyed by API name."""
        return {api: getattr(self, attr) for api, attr in CONTENT_PARTS[channel].items()}


class CampaignVersion(models.Model):
    """An immutable snapshot of a campaign's configuration and content.

    Frozen on activation and on each publish; delivery, the dispatcher and
    access checks read only versions (``campaigns.versions`` reads the
    snapshot). Every version is kept.
    """

    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False)
    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField(_("number"))
    snapshot = models.JSONField(_("snapshot"))
    # Copies of snapshot facts that queries filter on, written once with the snapshot:
    # the dispatcher's schedule and the access labels of visibility checks.
    start_at = models.DateTimeField(_("start"), null=True, blank=True, editable=False)
    end_at = models.DateTimeField(_("end"), null=True, blank=True, editable=False)
    access_labels = models.ManyToManyField(
        "core.AccessLabel",
        blank=True,
        related_name="+",
        verbose_name=_("access labels"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["campaign", "-number"]
        verbose_name = _("campaign version")
        verbose_name_plural = _("campaign versions")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "number"], name="version_unique_number"),
        ]

    def __str__(self) -> str:
        return f"v{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise RuntimeError("Campaign versions are immutable once frozen.")
        super().save(*args, **kwargs)
