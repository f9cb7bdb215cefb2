"""The unitary trigger call's body, read without DRF's serializer machinery when it is
plainly valid.

``UnitaryInputSerializer`` deep-copies its declared fields, and those of the
recipient serializer, for every call: with the validation, a tenth of a call's
CPU (docs/performance.md, "Profile of the accept path"). ``unitary_call_plain``
takes only bodies that the serializer accepts, and builds the same
``UnitaryCall``; anything else, however harmless, gives None and the serializer
judges it, so every error answer (its wording, codes and pointers) stays the
serializer's. tests/delivery/test_unitary_input.py holds the two to agreeing.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from core.channels import Platform
from delivery.api.serializers import REFERENCE_IGNORED, json_size, trigger_recipient
from delivery.calls import UnitaryCall
from delivery.limits import (
    MAX_CONTEXT_BYTES,
    MAX_RECIPIENTS_PER_CALL,
    MAX_REQUEST_ID_LENGTH,
    MAX_USER_ID_LENGTH,
)
from delivery.models import RecipientType

_CALL_FIELDS = frozenset({"requestId", "campaignId", "recipients", "context"}) | REFERENCE_IGNORED
_RECIPIENT_FIELDS = (
    frozenset({"type", "namespace", "userId", "channelData", "profile", "context"})
    | REFERENCE_IGNORED
)
_CHANNEL_DATA_LIMITS = {"emailAddress": 320, "mobilePhoneNumber": 40}
_PUSH_INFO_FIELDS = frozenset({"appID", "platform", "token"})
_RECIPIENT_TYPES = frozenset(RecipientType.values)
_PLATFORMS = frozenset(Platform.values)
# What DRF's CharField refuses in any string: NUL and surrogate code points.
_REFUSED_CHARACTERS = re.compile("[\x00\ud800-\udfff]")


def _text(value: Any, max_length: int) -> bool:
    """A JSON string the serializer's ``StrictCharField`` takes as is (not blank)."""
    return (
        type(value) is str
        and 0 < len(value) <= max_length
        and _REFUSED_CHARACTERS.search(value) is None
    )


def _context(value: Any) -> bool:
    return type(value) is dict and json_size(value) <= MAX_CONTEXT_BYTES


def _push_info(value: Any) -> bool:
    return (
        type(value) is dict
        and value.keys() == _PUSH_INFO_FIELDS
        and _text(value["appID"], 200)
        and type(value["platform"]) is str
        and value["platform"] in _PLATFORMS
        and _text(value["token"], 4096)
    )


def _channel_data(value: Any) -> bool:
    if type(value) is not dict:
        return False
    for name, item in value.items():
        if name == "pushInfo":
            if not _push_info(item):
                return False
        elif name not in _CHANNEL_DATA_LIMITS or not _text(item, _CHANNEL_DATA_LIMITS[name]):
            return False
    return True


def _recipient_plain(value: Any) -> bool:
    if type(value) is not dict or not value.keys() <= _RECIPIENT_FIELDS:
        return False
    kind = value.get("type")
    if type(kind) is not str or kind not in _RECIPIENT_TYPES:
        return False
    if "namespace" in value and not _text(value["namespace"], 64):
        return False
    if kind == RecipientType.AEP and "namespace" not in value:
        return False
    return (
        _text(value.get("userId"), MAX_USER_ID_LENGTH)
        and ("channelData" not in value or _channel_data(value["channelData"]))
        and ("profile" not in value or type(value["profile"]) is dict)
        and ("context" not in value or _context(value["context"]))
    )


def unitary_call_plain(data: Any) -> UnitaryCall | None:
    """The ``UnitaryCall`` that ``UnitaryInputSerializer`` builds from ``data``, when
    ``data`` is a body it takes; None for anything else (the serializer then decides)."""
    if type(data) is not dict or not data.keys() <= _CALL_FIELDS:
        return None
    request_id, campaign_id, recipients = (
        data.get("requestId"),
        data.get("campaignId"),
        data.get("recipients"),
    )
    if not _text(request_id, MAX_REQUEST_ID_LENGTH) or type(campaign_id) is not str:
        return None
    if type(recipients) is not list or not 0 < len(recipients) <= MAX_RECIPIENTS_PER_CALL:
        return None
    if "context" in data and not _context(data["context"]):
        return None
    if not all(_recipient_plain(recipient) for recipient in recipients):
        return None
    if len({recipient["userId"] for recipient in recipients}) < len(recipients):
        return None  # a duplicate userId: the serializer points at it
    try:
        campaign = uuid.UUID(hex=campaign_id)  # what DRF's UUIDField takes
    except ValueError:
        return None
    return UnitaryCall(
        campaign_id=campaign,
        request_id=str(request_id),
        # The serializer hands on copies of the objects it read (dict(data)).
        recipients=tuple(
            trigger_recipient(
                {
                    **recipient,
                    "profile": dict(recipient.get("profile") or {}),
                    "context": dict(recipient.get("context") or {}),
                }
            )
            for recipient in recipients
        ),
        context=dict(data.get("context") or {}),
    )
