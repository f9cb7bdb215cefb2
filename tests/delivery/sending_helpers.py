"""Helpers for the sending tests: a fake transport, people, and calls accepted in process.

The fake transport stands at the provider boundary (``transport_for``): it records
what it is asked to send and answers from a script, so a test can say "this
address fails twice with a 421, then goes". Real providers are tested with their
HTTP or SMTP servers elsewhere.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any
from uuid import UUID

import pytest

from audiences.models import Audience, Consent, Identity, IdentityNamespace, Profile
from audiences.selectors import audience_iter_batches
from campaigns.models import Campaign
from core.actors import Actor
from delivery.calls import AudienceCall, TriggerRecipient, UnitaryCall
from delivery.channels.base import Outgoing, SendResult, TransportError
from delivery.models import Execution, Message
from delivery.services.accept import execution_accept_unitary
from delivery.services.audience import execution_accept_audience, execution_fanout

TRANSIENT = TransportError("smtp_421", "421 Service not available, try later", permanent=False)
PERMANENT = TransportError("smtp_550", "550 No such user", permanent=True)


class FakeTransport:
    """Sends nothing; records every message handed to it and answers from ``fail``."""

    def __init__(self) -> None:
        self.sent: list[Outgoing] = []  # what "left", in order
        self.calls: list[list[Outgoing]] = []  # every send_many, failures included
        self._errors: dict[str, deque[TransportError]] = defaultdict(deque)
        self.raise_next: Exception | None = None

    def fail(self, address: str, *errors: TransportError) -> None:
        """The next sends to ``address`` fail with ``errors``, in order; then it goes."""
        self._errors[address].extend(errors)

    def send_many(self, outgoing: Sequence[Outgoing]) -> list[SendResult]:
        self.calls.append(list(outgoing))
        if self.raise_next is not None:
            error, self.raise_next = self.raise_next, None
            raise error
        results = []
        for message in outgoing:
            errors = self._errors.get(message.address)
            if errors:
                results.append(SendResult(message.message_id, error=errors.popleft()))
            else:
                self.sent.append(message)
                results.append(SendResult(message.message_id, f"fake-{len(self.sent)}"))
        return results

    def close(self) -> None:
        return None

    def addresses(self) -> list[str]:
        return [message.address for message in self.sent]


class OneByOneTransport(FakeTransport):
    """Answers message by message, as the SMTP transport does: the sender records each
    outcome before the next message goes. ``before_each`` runs before each answer."""

    def __init__(self) -> None:
        super().__init__()
        self.before_each: Callable[[Outgoing], None] = lambda _outgoing: None

    def send_many(self, outgoing: Sequence[Outgoing]) -> Iterator[SendResult]:  # type: ignore[override]
        for message in outgoing:
            self.before_each(message)
            yield from super().send_many([message])


def use_fake_transport(
    monkeypatch: pytest.MonkeyPatch, fake: FakeTransport | None = None
) -> FakeTransport:
    fake = fake if fake is not None else FakeTransport()
    monkeypatch.setattr("delivery.services.sending.transport_for", lambda *_args: fake)
    return fake


def person(
    email: str = "",
    *,
    locale: str = "",
    attributes: Mapping[str, Any] | None = None,
    consent: Mapping[str, str] | None = None,
    phone: str = "",
    identities: Mapping[str, str] | None = None,
) -> Profile:
    """A stored profile with an email identity (when ``email``), consents and attributes."""
    profile = Profile.objects.create(
        email_address=email,
        mobile_number=phone,
        locale=locale,
        attributes=dict(attributes or {}),
    )
    found = dict(identities or {})
    if email:
        found.setdefault("email", email)
    for code, value in found.items():
        Identity.objects.create(
            profile=profile, namespace=IdentityNamespace.objects.get(code=code), value=value
        )
    for channel, status in (consent or {}).items():
        Consent.objects.create(
            profile=profile, channel=channel, status=status, updated_at=profile.created_at
        )
    return profile


def recipient(user_id: str, **fields: Any) -> TriggerRecipient:
    """An ``aep`` recipient in the email namespace (the factory campaign's)."""
    return TriggerRecipient(type="aep", namespace="email", user_id=user_id, **fields)


def accept_unitary(
    campaign: Campaign,
    *recipients: TriggerRecipient,
    context: Mapping[str, Any] | None = None,
) -> list[Message]:
    """Accept a unitary call as the API does (nothing is published in a test
    transaction); the messages in the call's order."""
    response = execution_accept_unitary(
        actor=Actor(),
        call=UnitaryCall(
            campaign_id=campaign.pk,
            request_id="",
            recipients=tuple(recipients),
            context=dict(context or {}),
        ),
        fingerprint="",
        idempotency_key="",
    )
    return list(
        Message.objects.filter(execution_id=response.body["executionId"]).order_by("position")
    )


def static_audience(name: str, profiles: Sequence[Profile]) -> Audience:
    audience = Audience.objects.create(name=name, kind=Audience.Kind.STATIC)
    audience.members.add(*profiles)
    return audience


def accept_audience(
    campaign: Campaign,
    *,
    context: Mapping[str, Any] | None = None,
    audience: Audience | None = None,
) -> Execution:
    """Accept an audience call now (the fan-out task is not published in a test transaction)."""
    response = execution_accept_audience(
        actor=Actor(),
        call=AudienceCall(
            campaign_id=campaign.pk,
            audience_id=audience.pk if audience is not None else None,
            context=dict(context or {}),
        ),
        fingerprint="",
        idempotency_key="",
    )
    return Execution.objects.get(pk=response.body["executionId"])


def fan_out(campaign: Campaign, *, context: Mapping[str, Any] | None = None) -> Execution:
    """Accept an audience call and fan it out; the messages are written and published."""
    execution = accept_audience(campaign, context=context)
    assert execution_fanout(execution_id=execution.pk) is True
    execution.refresh_from_db()
    return execution


class CrashAfterFirstBatch:
    """While ``armed``, an audience fan-out dies after writing its first batch: the
    iterator raises when asked for the second, as if the worker had been killed."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.armed = True
        monkeypatch.setattr("delivery.services.audience.audience_iter_batches", self._iterate)

    def _iterate(self, *args: Any, **kwargs: Any) -> Iterator[list[Profile]]:
        batches = audience_iter_batches(*args, **kwargs)
        if not self.armed:
            yield from batches
            return
        yield next(batches)
        raise RuntimeError("worker killed")


def ids(messages: Sequence[Message]) -> list[str]:
    return [str(message.pk) for message in messages]


def by_address(execution_id: UUID) -> dict[str, Message]:
    return {m.address: m for m in Message.objects.filter(execution_id=execution_id)}
