"""The one interface every channel's transport implements, and its errors.

A transport takes rendered messages and hands them to a provider; it returns
one ``SendResult`` per message, in order: a list, or an iterator that yields
each as soon as the provider answered (the sender then records each before the
next message goes, so a crash leaves no sent message unrecorded but the one in
hand). It never raises for one message's failure: the result carries a
``TransportError`` that says whether to retry (``permanent=False``), and whether
the address should be suppressed (a hard bounce) or the push token forgotten
(``gone``). After Healthchecks' transports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID


@dataclass(frozen=True)
class Outgoing:
    """One rendered message on its way out."""

    message_id: UUID
    channel: str
    address: str
    parts: Mapping[str, str]  # the rendered content parts (subject, html, text / body / title...)
    channel_settings: Mapping[str, Any]
    push_info: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TransportError:
    """Why a message did not leave: a stable ``code`` and the provider's words."""

    code: str
    detail: str
    permanent: bool
    suppress: bool = False  # a hard bounce: nothing more may be sent to this address
    unsubscribed: bool = False  # the recipient opted out at the provider (an SMS STOP)
    gone: bool = False  # a push token the service no longer knows: forget it


@dataclass(frozen=True)
class SendResult:
    """The outcome for one message: a provider message id, or an error."""

    message_id: UUID
    provider_message_id: str = ""
    error: TransportError | None = None


class Transport(Protocol):
    """Sends rendered messages of one channel; one instance is reused by a worker process."""

    def send_many(self, outgoing: Sequence[Outgoing]) -> Iterable[SendResult]: ...

    def close(self) -> None: ...
