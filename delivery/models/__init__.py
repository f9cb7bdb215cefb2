"""Delivery's models, by concept: messages, their events, report rollups, outbound webhooks."""

from delivery.models.events import EventType, MessageEvent
from delivery.models.messages import (
    EXECUTION_FINAL,
    MESSAGE_FINAL,
    MESSAGE_SENT,
    Execution,
    ExecutionKind,
    ExecutionSchedule,
    ExecutionStatus,
    IdempotencyRecord,
    Message,
    MessageAttempt,
    MessageStatus,
    RecipientType,
)
from delivery.models.reports import ReportCounter
from delivery.models.tracking import ShortLink
from delivery.models.webhooks import (
    WEBHOOK_TEST_EVENT,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEventType,
    webhook_secret_new,
)

__all__ = [
    "EXECUTION_FINAL",
    "MESSAGE_FINAL",
    "MESSAGE_SENT",
    "WEBHOOK_TEST_EVENT",
    "EventType",
    "Execution",
    "ExecutionKind",
    "ExecutionSchedule",
    "ExecutionStatus",
    "IdempotencyRecord",
    "Message",
    "MessageAttempt",
    "MessageEvent",
    "MessageStatus",
    "RecipientType",
    "ReportCounter",
    "ShortLink",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEventType",
    "webhook_secret_new",
]
