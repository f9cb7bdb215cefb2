"""docs/api.md lists every problem code of the trigger API and every message reason."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from delivery.api.executions import RateLimitExceeded
from delivery.services import accept, audience, idempotency, triggers
from delivery.services.exclusions import Reason

DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def _default_code(error_class: type) -> str:
    return str(next(f.default for f in fields(error_class) if f.name == "code"))


def test_every_trigger_code_and_reason_is_in_the_api_docs() -> None:
    text = DOCS.read_text()
    codes = {
        _default_code(error_class)
        for error_class in (
            triggers.CampaignNotFound,
            triggers.MissingAccessLabel,
            triggers.CategoryMismatch,
            triggers.CampaignNotLive,
            triggers.OutsideSchedule,
            accept.NamespaceMismatch,
            accept.UnknownRecipient,
            idempotency.IdempotencyKeyReused,
            idempotency.IdempotencyInFlight,
            audience.ScheduleNotCancellable,
        )
    }
    # raised through invalid_input(..., code=...) and DRF
    codes |= {
        "invalid_address",
        "invalid_identity",
        "unknown_audience",
        "no_audience",
        RateLimitExceeded.problem_code,
    }
    reasons = {value for name, value in vars(Reason).items() if name.isupper()}

    missing = sorted(code for code in codes | reasons if f"`{code}`" not in text)

    assert missing == []
