"""Helpers for the tracking tests: send a real email (locmem backend), find its links, counters."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from django.core import mail
from django.core.mail import EmailMultiAlternatives

from campaigns.models import Campaign
from delivery.models import Message, ReportCounter
from delivery.services.sending import message_send_batch
from tests.delivery.sending_helpers import accept_unitary, recipient

TRACKED_HTML = (
    "<html><body><p>Hello {{ profile.name }}</p>"
    '<a href="https://shop.example/new?id=7&amp;utm=mail#top">New</a>'
    "<A HREF='https://shop.example/sale'>Sale</A>"
    '<a href="mailto:help@shop.example">Help</a>'
    '<a href="{{ unsubscribe_url }}">Unsubscribe</a>'
    "</body></html>"
)
TRACKED_TEXT = "New: https://shop.example/new?id=7&utm=mail#top\nUnsubscribe: {{ unsubscribe_url }}"
TRACKED_CONTENT = {"en": {"subject": "News", "html": TRACKED_HTML, "text": TRACKED_TEXT}}


def send_email(campaign: Campaign, address: str = "ana@example.com", **fields: Any) -> Message:
    """Accept one recipient and send it through the real email channel; the message."""
    [message] = accept_unitary(campaign, recipient(address, **fields))
    # In a test's transaction nothing is published: send it here. Outside one (concurrent
    # tests), send_inline already sent it on commit, and this claims nothing.
    message_send_batch(message_ids=[str(message.pk)])
    message.refresh_from_db()
    assert message.status == "sent", (message.status, message.reason)
    return message


def last_email() -> EmailMultiAlternatives:
    email = mail.outbox[-1]
    assert isinstance(email, EmailMultiAlternatives)
    return email


def html_of(email: EmailMultiAlternatives) -> str:
    [(html, mimetype)] = email.alternatives
    assert mimetype == "text/html"
    return str(html)


def paths(text: str, prefix: str) -> list[str]:
    """The paths of the URLs under ``prefix`` (``/t/c/``...) in ``text``, in order."""
    urls = re.findall(r"https?://[^\s\"'<>]+", text)
    return [urlsplit(u).path for u in urls if urlsplit(u).path.startswith(prefix)]


def counters(campaign: Campaign) -> dict[tuple[str, str], int]:
    """The campaign's report counters summed over hours: {(metric, key): count}."""
    found: dict[tuple[str, str], int] = {}
    for metric, key, count in ReportCounter.objects.filter(campaign=campaign).values_list(
        "metric", "key", "count"
    ):
        found[(metric, key)] = found.get((metric, key), 0) + count
    return found


def engagement(campaign: Campaign) -> Mapping[tuple[str, str], int]:
    """Only the open and click counters (sending adds targeted, sent...)."""
    return {k: v for k, v in counters(campaign).items() if k[0].startswith(("opened", "clicked"))}
