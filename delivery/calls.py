"""A trigger call as the services take it: parsed and shape-checked by the API layer.

The API's serializers check types, sizes and required fields (400) and build
these; ``delivery.services.accept`` checks them against the campaign (404, 403,
409, 422). Field names follow the reference's payload in the product's words.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID


@dataclass(frozen=True)
class PushTarget:
    """``channelData.pushInfo``: one device or browser of one app."""

    app_id: str
    platform: str
    token: str


@dataclass(frozen=True)
class TriggerRecipient:
    """One entry of ``recipients``: who, where to (``channelData``) and their data."""

    type: str  # aep | external
    user_id: str
    namespace: str = ""
    email_address: str = ""
    mobile_phone_number: str = ""
    push: PushTarget | None = None
    profile: Mapping[str, Any] = field(default_factory=dict)
    context: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class UnitaryCall:
    """``POST /api/v1/executions/unitary``."""

    campaign_id: UUID
    request_id: str
    recipients: tuple[TriggerRecipient, ...]
    context: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AudienceCall:
    """``POST /api/v1/executions/audience``: now, or at ``execute_at``."""

    campaign_id: UUID
    request_id: str = ""
    audience_id: UUID | None = None
    context: Mapping[str, Any] = field(default_factory=dict)
    execute_at: datetime | None = None


def body_hash(endpoint: str, body: Any) -> str:
    """The fingerprint idempotency compares: the endpoint and the parsed JSON body,
    keys sorted, so whitespace and key order do not make two bodies differ."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{endpoint}\n{canonical}".encode()).hexdigest()
