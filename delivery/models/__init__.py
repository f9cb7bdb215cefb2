"""Delivery's models, by concept: messages, their events, report rollups."""

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

__all__ = [
    "EXECUTION_FINAL",
    "MESSAGE_FINAL",
    "MESSAGE_SENT",
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
]
