"""Outbound webhooks: endpoints the admin configures, the events queued for them, each try.

A ``WebhookDelivery`` is one event for one endpoint. It names its message by plain
ids in its payload (no foreign key to ``Message``): on PostgreSQL messages are
partitioned and purged by time, and a delivery's history outlives them.
"""

from __future__ import annotations

import base64
import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.ids import uuid7

# Standard Webhooks (https://www.standardwebhooks.com): secrets are "whsec_" and the
# base64 of 24 to 64 random bytes; the bytes are the HMAC key.
WEBHOOK_SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
WEBHOOK_SECRET_BYTES = 32


def webhook_secret_new() -> str:
    """A new signing secret: ``whsec_`` and the base64 of 32 random bytes."""
    return (
        WEBHOOK_SECRET_PREFIX + base64.b64encode(secrets.token_bytes(WEBHOOK_SECRET_BYTES)).decode()
    )


class WebhookEventType(models.TextChoices):
    """What an endpoint can subscribe to (``test`` is only sent by the admin's button)."""

    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    BOUNCED = "bounced", _("Bounced")
    FAILED = "failed", _("Failed")
    EXCLUDED = "excluded", _("Excluded")
    OPENED = "opened", _("Opened")
    CLICKED = "clicked", _("Clicked")
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
    COMPLAINED = "complained", _("Marked as spam")


WEBHOOK_TEST_EVENT = "test"


class WebhookEndpoint(models.Model):
    """A URL that receives signed message events (the reference's feedback webhook).

    ``event_types`` lists the types it wants; ``campaigns``, when any, limits it to
    those campaigns' messages. An endpoint that keeps failing is disabled by Clarion
    with ``disabled_reason`` (docs/webhooks.md gives the rule); enabling it again in
    the admin clears the reason.
    """

    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=2000)
    secret = models.CharField(
        _("signing secret"),
        max_length=120,
        default=webhook_secret_new,
        help_text=_("Receivers verify each request's webhook-signature with it."),
    )
    event_types = models.JSONField(_("event types"), default=list)
    campaigns = models.ManyToManyField(
        "campaigns.Campaign",
        blank=True,
        related_name="webhook_endpoints",
        verbose_name=_("campaigns"),
        help_text=_("Only these campaigns' messages; none selected: every campaign."),
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    disabled_reason = models.TextField(_("why it was disabled"), blank=True)
    disabled_at = models.DateTimeField(_("disabled"), null=True, blank=True)
    # The last request the endpoint answered with a 2xx (the disabling rule reads it).
    last_success_at = models.DateTimeField(_("last success"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.name or self.url


class WebhookDelivery(models.Model):
    """One event on its way to one endpoint, retried until it succeeds or runs out.

    ``event_id`` is the ``webhook-id`` header and the payload's ``id``: the same on
    every try (receivers drop duplicates by it) and for every endpoint the event goes
    to. ``next_attempt_at`` is when the periodic task should try it (next); it is
    null once the delivery succeeded or failed for good.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    id = models.UUIDField(_("ID"), primary_key=True, default=uuid7, editable=False)
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        verbose_name=_("endpoint"),
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    event_id = models.UUIDField(_("event id"), default=uuid7, editable=False)
    event_type = models.CharField(_("event"), max_length=16)
    # Plain values, no foreign key (see the module docstring).
    message_id = models.UUIDField(_("message id"), null=True, blank=True, db_index=True)
    payload = models.JSONField(_("payload"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    # Set by the claim (a conditional UPDATE) with next_attempt_at moved past the lease:
    # a worker that dies holding it gives it back when the lease ends.
    claim_token = models.UUIDField(_("claim token"), null=True, blank=True, editable=False)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [
            # The periodic task's claim: due rows only (partial, so it stays small).
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="webhook_delivery_due",
            ),
            models.Index(fields=["endpoint", "created_at"], name="webhook_delivery_endpoint"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"


class WebhookAttempt(models.Model):
    """One request to an endpoint, and how it went (the admin shows them)."""

    delivery = models.ForeignKey(
        WebhookDelivery,
        verbose_name=_("delivery"),
        on_delete=models.CASCADE,
        related_name="attempt_log",
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        verbose_name=_("endpoint"),
        on_delete=models.CASCADE,
        related_name="attempt_log",
    )
    number = models.PositiveSmallIntegerField(_("attempt"))
    at = models.DateTimeField(_("time"))
    succeeded = models.BooleanField(_("succeeded"), default=False)
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("time taken (ms)"), default=0)
    error = models.TextField(_("error"), blank=True)
    response_excerpt = models.TextField(_("response (start)"), blank=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        indexes = [models.Index(fields=["endpoint", "at"], name="webhook_attempt_endpoint")]

    def __str__(self) -> str:
        return f"#{self.number} {self.status_code or self.error[:40]}"
