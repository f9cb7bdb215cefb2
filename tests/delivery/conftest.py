"""Fixtures for delivery: live campaigns, and sending inline instead of through a broker."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core import mail

from campaigns.models import Campaign
from campaigns.services.lifecycle import campaign_activate
from core.actors import Actor
from core.buckets import bucket_reset_local
from delivery.channels.registry import transports_close
from tests.factories import CampaignFactory

LiveCampaign = Callable[..., Campaign]


@pytest.fixture
def live_campaign(db: None) -> LiveCampaign:
    """``live_campaign(**factory_fields)``: a campaign made by CampaignFactory, activated."""

    def make(**fields: Any) -> Campaign:
        campaign = CampaignFactory.create(**fields)
        return campaign_activate(campaign=campaign, actor=Actor())

    return make


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Send tasks are recorded instead of published (nothing is sent)."""
    batches: list[list[str]] = []
    monkeypatch.setattr("delivery.enqueue._publish", batches.append)
    return batches


@pytest.fixture
def send_inline(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Send tasks run at once, in the test's process and transaction."""
    from delivery.services.sending import message_send_batch

    monkeypatch.setattr(
        "delivery.enqueue._publish", lambda ids: message_send_batch(message_ids=ids)
    )
    mail.outbox.clear()
    yield
    transports_close()


@pytest.fixture(autouse=True)
def _fresh_buckets() -> Iterator[None]:
    bucket_reset_local()
    yield
    bucket_reset_local()
