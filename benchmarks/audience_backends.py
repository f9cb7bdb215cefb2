"""Django email backends used only by the audience benchmarks (benchmarks/bench_audience.py).

``MimeDiscardBackend`` does what a provider's client does before the network: it
builds each message's MIME bytes (``message().as_bytes()``), then drops them. The
audience-email-mime scenario measures Clarion's rendering and bookkeeping against a
bare loop doing the same, with no network in either.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend


class MimeDiscardBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        for message in email_messages:
            message.message().as_bytes()
        return len(email_messages)
