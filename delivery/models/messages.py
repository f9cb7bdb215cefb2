"""Executions, messages and their delivery records; idempotency and scheduled executions.

One trigger call is one ``Execution``; each recipient is one ``Message``, written
``queued`` in the same transaction as the execution and the call's
``IdempotencyRecord``. A message keeps what rendering needs (the version, the
recipient's data) but never the rendered content: the admin re-renders it.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.channels import Channel
from core.ids import uuid7


class ExecutionKind(models.TextChoices):
    UNITARY = "unitary", _("Unitary (recipients in the call)")
    AUDIENCE = "audience", _("Audience")


class ExecutionStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    IN_PROGRESS = "in_progress", _("In progress")
    SUCCEEDED = "succeeded", _("Succeeded")
    PARTIALLY_FAILED = "partially_failed", _("Partially failed")
    FAILED = "failed", _("Failed")


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    EXCLUDED = "excluded", _("Excluded")
    # From the provider's feedback, after "sent" (delivery.feedback).
    DELIVERED = "delivered", _("Delivered")
    BOUNCED = "bounced", _("Bounced")
    COMPLAINED = "complained", _("Marked as spam")


# A message in one of these is finished: no worker will try to send it again. Only
# provider feedback still moves it (sent -> delivered -> complained, sent -> bounced).
MESSAGE_FINAL = (
    MessageStatus.SENT,
    MessageStatus.FAILED,
    MessageStatus.EXCLUDED,
    MessageStatus.DELIVERED,
    MessageStatus.BOUNCED,
    MessageStatus.COMPLAINED,
)
# Handed to the provider: the statuses a "sent" message can move on to.
MESSAGE_SENT = (
    MessageStatus.SENT,
    MessageStatus.DELIVERED,
    MessageStatus.BOUNCED,
    MessageStatus.COMPLAINED,
)
EXECUTION_FINAL = (
    ExecutionStatus.SUCCEEDED,
    ExecutionStatus.PARTIALLY_FAILED,
    ExecutionStatus.FAILED,
)


class RecipientType(models.TextChoices):
    AEP = "aep", _("Profile")
    EXTERNAL = "external", _("External (no profile)")


class Execution(models.Model):
    """One accepted trigger call: a unitary call's recipients, or one audience send.

    ``version`` is the campaign version live when the call was accepted; every
    message renders from it. ``context`` is the call-level context. An audience
    execution fans out in batches; ``fanout_cursor`` is the last profile written,
    so a fan-out interrupted by a crash resumes where it stopped.
    """

    id = models.UUIDField(_("ID"), primary_key=True, default=uuid7, editable=False)
    kind = models.CharField(_("kind"), max_length=10, choices=ExecutionKind.choices)
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        verbose_name=_("campaign"),
        on_delete=models.PROTECT,
        related_name="executions",
    )
    version = models.ForeignKey(
        "campaigns.CampaignVersion",
        verbose_name=_("version"),
        on_delete=models.PROTECT,
        related_name="executions",
    )
    api_key = models.ForeignKey(
        "core.ApiKey",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="executions",
        verbose_name=_("API key"),
    )
    request_id = models.CharField(_("request id"), max_length=255, blank=True, db_index=True)
    context = models.JSONField(_("context"), default=dict, blank=True)
    audience = models.ForeignKey(
        "audiences.Audience",
        verbose_name=_("audience"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="executions",
    )
    schedule = models.OneToOneField(
        "delivery.ExecutionSchedule",
        verbose_name=_("schedule"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="execution",
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=ExecutionStatus.choices,
        default=ExecutionStatus.QUEUED,
        db_index=True,
    )
    targeted_count = models.PositiveIntegerField(_("targeted"), default=0)
    # A "send test" from the campaign admin (delivery.services.proofs): one external
    # recipient typed by a user, sent without the marketing consent check.
    is_test = models.BooleanField(_("test send"), default=False)
    # Final counts by message status, written when the execution finishes (GET reads
    # the messages while it runs).
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    fanout_done = models.BooleanField(_("all messages written"), default=True)
    fanout_cursor = models.UUIDField(_("fan-out cursor"), null=True, blank=True, editable=False)
    heartbeat_at = models.DateTimeField(_("last progress"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("accepted"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("execution")
        verbose_name_plural = _("executions")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.id}"


class Message(models.Model):
    """One recipient of one execution, from acceptance to its final status.

    Holds who it goes to (identity, profile, address), the recipient's own
    ``profile`` and ``context`` from the call (merged at render time, never into
    the stored profile), the status with its reason, and the attempts count.
    """

    # Version 7 (time-ordered): on PostgreSQL the table is partitioned by id ranges,
    # that is by acceptance time. An audience message's id is derived from its
    # execution and profile (core.ids.uuid7_derived), so a resumed fan-out cannot
    # write a second one.
    id = models.UUIDField(_("ID"), primary_key=True, default=uuid7, editable=False)
    execution = models.ForeignKey(
        Execution, verbose_name=_("execution"), on_delete=models.CASCADE, related_name="messages"
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        verbose_name=_("campaign"),
        on_delete=models.PROTECT,
        related_name="messages",
    )
    version = models.ForeignKey(
        "campaigns.CampaignVersion",
        verbose_name=_("version"),
        on_delete=models.PROTECT,
        related_name="messages",
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    position = models.PositiveIntegerField(
        _("position"), default=0, help_text=_("The recipient's place in a unitary call.")
    )
    recipient_type = models.CharField(
        _("recipient type"), max_length=10, choices=RecipientType.choices
    )
    namespace = models.CharField(_("namespace"), max_length=64, blank=True)
    user_id = models.CharField(_("user id"), max_length=320, blank=True)
    profile = models.ForeignKey(
        "audiences.Profile",
        verbose_name=_("profile"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )
    address = models.TextField(
        _("address"), blank=True, help_text=_("Email address, phone number or push token.")
    )
    push_info = models.JSONField(_("push target"), null=True, blank=True)
    recipient_profile = models.JSONField(_("profile data from the call"), default=dict, blank=True)
    recipient_context = models.JSONField(_("context from the call"), default=dict, blank=True)
    locale = models.CharField(_("locale"), max_length=20, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=MessageStatus.choices, default=MessageStatus.QUEUED
    )
    # When the provider's feedback last moved the status (delivered, bounced, complained).
    feedback_at = models.DateTimeField(_("provider feedback"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=64, blank=True)
    reason_detail = models.TextField(_("reason detail"), blank=True)
    warnings = models.JSONField(_("warnings"), default=list, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    provider_message_id = models.CharField(_("provider message id"), max_length=255, blank=True)
    # Claiming: a send task sets status=sending and its own token; the sweeper gives a
    # message back when claimed_at is older than the lease (a worker died holding it).
    claim_token = models.UUIDField(_("claim token"), null=True, blank=True, editable=False)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True, editable=False)
    # When a send task was last asked for (acceptance, retry, sweep) and when the next
    # attempt is due; the sweeper re-enqueues what waited too long.
    enqueued_at = models.DateTimeField(_("enqueued"), null=True, blank=True, editable=False)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True, editable=False)
    accepted_at = models.DateTimeField(_("accepted"), auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    # Tracking (delivery.tracking): the targets of the links rewritten when it was sent,
    # in link order (link n is links[n - 1]); a click's redirect reads its target here,
    # so a token can only ever lead to a URL the message held. ``clicked_at`` is the
    # first human click on any link, set by a conditional UPDATE so it is counted once.
    links = models.JSONField(_("tracked links"), default=list, blank=True)
    clicked_at = models.DateTimeField(_("first click"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-accepted_at"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        indexes = [
            models.Index(fields=["execution", "status"], name="message_execution_status"),
            models.Index(fields=["status", "enqueued_at"], name="message_status_enqueued"),
            models.Index(fields=["campaign", "accepted_at"], name="message_campaign_accepted"),
            models.Index(fields=["address"], name="message_address"),
            # Provider feedback finds its message by the provider's id (delivery.inbound).
            models.Index(fields=["provider_message_id"], name="message_provider_id"),
        ]
        # No unique constraint but the primary key: on a partitioned table every
        # unique index must hold the partition key (the id). The fan-out's derived ids
        # keep one message per profile and execution.

    def __str__(self) -> str:
        return gettext("%(channel)s to %(recipient)s") % {
            "channel": self.get_channel_display(),
            "recipient": self.user_id or self.address,
        }


class MessageAttempt(models.Model):
    """One try at handing a message to its channel's provider, and how it went."""

    class Outcome(models.TextChoices):
        SENT = "sent", _("Sent")
        RETRY = "retry", _("Failed, will retry")
        FAILED = "failed", _("Failed")

    # On PostgreSQL partitioned like the messages, by message id: a purge drops both.
    message = models.ForeignKey(
        Message, verbose_name=_("message"), on_delete=models.CASCADE, related_name="attempt_log"
    )
    number = models.PositiveSmallIntegerField(_("attempt"))
    outcome = models.CharField(_("outcome"), max_length=8, choices=Outcome.choices)
    code = models.CharField(_("code"), max_length=64, blank=True)
    detail = models.TextField(_("detail"), blank=True)
    provider_message_id = models.CharField(_("provider message id"), max_length=255, blank=True)
    at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        ordering = ["message", "number"]
        verbose_name = _("attempt")
        verbose_name_plural = _("attempts")

    def __str__(self) -> str:
        return f"#{self.number} {self.get_outcome_display()}"


class IdempotencyRecord(models.Model):
    """The first response to an (API key, idempotency key): replayed for the same body.

    Written in the transaction that accepts the call, so it exists exactly when the
    execution does. Kept ``IDEMPOTENCY_TTL`` (24 hours), then pruned.
    """

    # Whose key it is: "key:<api key id>", or "user:<id>" for a signed-in user's call.
    owner = models.CharField(_("owner"), max_length=64)
    key = models.CharField(_("idempotency key"), max_length=255)
    endpoint = models.CharField(_("endpoint"), max_length=16)
    body_hash = models.CharField(_("body hash"), max_length=64)
    response_status = models.PositiveSmallIntegerField(_("response status"))
    response_body = models.JSONField(_("response body"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [
            models.UniqueConstraint(fields=["owner", "key"], name="idempotency_unique_key"),
        ]

    def __str__(self) -> str:
        return self.key


class ExecutionSchedule(models.Model):
    """An audience execution asked for at ``execute_at``; readable and cancellable until then."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        STARTED = "started", _("Started")
        CANCELLED = "cancelled", _("Cancelled")
        FAILED = "failed", _("Failed")

    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False)
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        verbose_name=_("campaign"),
        on_delete=models.PROTECT,
        related_name="execution_schedules",
    )
    api_key = models.ForeignKey(
        "core.ApiKey",
        verbose_name=_("API key"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    request_id = models.CharField(_("request id"), max_length=255, blank=True)
    audience = models.ForeignKey(
        "audiences.Audience",
        verbose_name=_("audience"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    context = models.JSONField(_("context"), default=dict, blank=True)
    execute_at = models.DateTimeField(_("execute at"), db_index=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.SCHEDULED
    )
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["execute_at"]
        verbose_name = _("scheduled execution")
        verbose_name_plural = _("scheduled executions")

    def __str__(self) -> str:
        return gettext("%(campaign)s at %(time)s") % {
            "campaign": self.campaign_id,
            "time": f"{self.execute_at:%Y-%m-%d %H:%M}",
        }
