"""What happened to a message after it left: opens, clicks, unsubscribes, provider feedback."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from delivery.models.messages import Message


class EventType(models.TextChoices):
    """One vocabulary for message events, report metrics and outbound webhook events."""

    OPENED = "opened", _("Opened")
    CLICKED = "clicked", _("Clicked")
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
    RESUBSCRIBED = "resubscribed", _("Subscribed again")
    DELIVERED = "delivered", _("Delivered")
    BOUNCED = "bounced", _("Bounced")
    DEFERRED = "deferred", _("Delayed (soft bounce)")
    COMPLAINED = "complained", _("Marked as spam")
    REJECTED = "rejected", _("Rejected by the provider")


class MessageEvent(models.Model):
    """One event of one message: an open, a click, an unsubscribe, or provider feedback.

    ``first`` marks the first event of its kind for the message (and, for a click,
    for that link), so unique counts come from the rows with one partial unique
    index: the row that wins the insert is the unique one, also under races.
    ``machine`` flags what looks machine-made (an Apple Mail Privacy Protection
    proxy's open, a link scanner's click right after delivery); reports show those
    apart. ``ip`` is truncated to its /24 (IPv4) or /48 (IPv6) network.
    On PostgreSQL the table is partitioned by ``message`` id ranges, like messages.
    """

    message = models.ForeignKey(
        Message, verbose_name=_("message"), on_delete=models.CASCADE, related_name="events"
    )
    type = models.CharField(_("event"), max_length=16, choices=EventType.choices)
    at = models.DateTimeField(_("time"), db_index=True)
    # Clicks: the link's 1-based index in the message, and its target as sent.
    link = models.PositiveSmallIntegerField(_("link"), default=0)
    url = models.TextField(_("link target"), blank=True)
    machine = models.BooleanField(_("machine-made"), default=False)
    first = models.BooleanField(_("first of its kind"), default=False)
    user_agent = models.CharField(_("user agent"), max_length=512, blank=True)
    ip = models.CharField(_("network"), max_length=64, blank=True)
    # Provider feedback: who said it, and their event id (a repeated webhook is dropped).
    provider = models.CharField(_("provider"), max_length=32, blank=True)
    provider_event_id = models.CharField(_("provider event id"), max_length=255, blank=True)
    reason = models.CharField(_("reason"), max_length=64, blank=True)
    detail = models.TextField(_("detail"), blank=True)

    class Meta:
        ordering = ["message", "at"]
        verbose_name = _("message event")
        verbose_name_plural = _("message events")
        constraints = [
            # Every unique index holds the message id (the partition key on PostgreSQL).
            models.UniqueConstraint(
                fields=["message", "type", "link", "machine"],
                condition=models.Q(first=True),
                name="message_event_first",
            ),
            models.UniqueConstraint(
                fields=["message", "provider", "provider_event_id"],
                condition=~models.Q(provider_event_id=""),
                name="message_event_provider_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} {self.at:%Y-%m-%d %H:%M}"
