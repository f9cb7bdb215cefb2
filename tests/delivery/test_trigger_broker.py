"""A trigger call's response never waits on the broker: send tasks and audience fan-outs
are published after the commit by a background thread of the web process."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from audiences.models import Audience
from audiences.services.audiences import audience_add_members, audience_create
from core.scopes import EXECUTIONS_TRIGGER
from delivery.models import Execution, Message
from tests.delivery.trigger_calls import AUDIENCE, UNITARY, stored_profile, unitary

pytestmark = pytest.mark.django_db


class SlowBroker:
    """Stands in for a task's ``apply_async``: holds every publish until ``answer()``."""

    def __init__(self) -> None:
        self.answered = threading.Event()
        self.published: list[Any] = []

    def __call__(self, args: tuple[Any, ...], kwargs: Any = None, **options: Any) -> None:
        self.answered.wait(timeout=30)
        self.published.append(args[0])

    def answer(self) -> list[Any]:
        """Let the held publishes through; returns them once the publisher got there."""
        self.answered.set()
        deadline = time.monotonic() + 10
        while not self.published and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.published


@pytest.fixture
def slow_broker(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[SlowBroker]:
    settings.CLARION_ENQUEUE_IN_BACKGROUND = True  # as in production
    broker = SlowBroker()
    for task in ("message_send_task", "execution_fanout_task"):
        monkeypatch.setattr(f"delivery.tasks.{task}.apply_async", broker)
    yield broker
    broker.answer()  # never leave the publisher thread waiting


def test_a_unitary_response_does_not_wait_on_the_broker(
    api_client, live_campaign, slow_broker, django_capture_on_commit_callbacks
) -> None:
    campaign = live_campaign(create_new_profiles=True)

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(EXECUTIONS_TRIGGER).post(UNITARY, unitary(campaign), format="json")

    assert response.status_code == 202
    assert slow_broker.published == []  # answered while the broker still holds the publish
    assert slow_broker.answer() == [[str(Message.objects.get().pk)]]


def test_an_audience_response_does_not_wait_on_the_broker(
    api_client, live_campaign, slow_broker, django_capture_on_commit_callbacks
) -> None:
    stored_profile("ana@example.com")
    audience = audience_create(name="Everyone", kind=Audience.Kind.STATIC)
    audience_add_members(audience=audience, identities=[("email", "ana@example.com")])
    campaign = live_campaign(category="marketing", audience=audience)

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(EXECUTIONS_TRIGGER).post(
            AUDIENCE, {"campaignId": str(campaign.pk)}, format="json"
        )

    assert response.status_code == 202
    assert slow_broker.published == []
    assert slow_broker.answer() == [str(Execution.objects.get().pk)]
