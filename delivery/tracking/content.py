"""What tracking changes in a rendered message before it leaves (docs/tracking.md).

``content_track`` is called by sending for every rendered message:

- **email**, when the version tracks clicks: each distinct ``http(s)`` target of
  the HTML and text parts becomes a signed ``/t/c/<token>`` redirect (the same
  target in both parts is one link); when it tracks opens: a 1x1 image loading
  ``/t/o/<token>`` ends the HTML body. Links marked ``data-clarion-notrack``
  are left alone, and lose the marker, whatever the version says;
- **SMS**, when the version tracks clicks: each distinct URL of the body
  becomes a short link ``/s/<code>`` (12 characters after the host);
- **marketing email** also carries ``List-Unsubscribe`` with the message's signed
  unsubscribe URL and ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``
  (RFC 8058), test sends included, so a proof shows what recipients get.

The unsubscribe link itself (``{{ unsubscribe_url }}``) is never rewritten: a
scanner following it lands on a page that asks before doing anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from campaigns.models import Category
from campaigns.versions import VersionSnapshot
from core.channels import Channel
from delivery.limits import MAX_TRACKED_LINKS
from delivery.tracking.links import html_links_rewrite, html_pixel_append, text_links_rewrite
from delivery.tracking.tokens import (
    click_url,
    open_url,
    public_base,
    short_code_new,
    short_url,
    unsubscribe_url,
)

# RFC 8058 section 3.1: the body a mail client POSTs to the List-Unsubscribe URL.
ONE_CLICK_FIELD, ONE_CLICK_VALUE = "List-Unsubscribe", "One-Click"
ONE_CLICK_BODY = f"{ONE_CLICK_FIELD}={ONE_CLICK_VALUE}"


@dataclass(frozen=True)
class TrackedContent:
    """The parts as they are sent, the tracked targets in link order, extra headers,
    and the SMS short links to store as (code, 1-based link index)."""

    parts: Mapping[str, str]
    links: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    short_links: list[tuple[str, int]] = field(default_factory=list)


def message_unsubscribe_url(message_id: UUID, channel_settings: Mapping[str, Any]) -> str:
    """The signed unsubscribe URL of a message (``{{ unsubscribe_url }}``)."""
    return unsubscribe_url(message_id, public_base(channel_settings))


class _Links:
    """Numbers the distinct targets of one message as they are met (link 1, 2, ...)."""

    def __init__(self, skip: str) -> None:
        self.skip = skip
        self.index: dict[str, int] = {}

    def number(self, target: str) -> int | None:
        if target == self.skip:
            return None
        found = self.index.get(target)
        if found is None:
            if len(self.index) >= MAX_TRACKED_LINKS:
                return None
            found = self.index[target] = len(self.index) + 1
        return found

    def targets(self) -> list[str]:
        return list(self.index)


def _email(message_id: UUID, snapshot: VersionSnapshot, parts: Mapping[str, str]) -> TrackedContent:
    base = public_base(snapshot.channel_settings)
    unsubscribe = unsubscribe_url(message_id, base)
    links = _Links(skip=unsubscribe)
    clicks = snapshot.tracking.clicks

    def rewrite(target: str) -> str | None:
        number = links.number(target) if clicks else None
        return None if number is None else click_url(message_id, number, base)

    sent = dict(parts)
    html = parts.get("html", "")
    if html:
        html = html_links_rewrite(html, rewrite)  # also drops the no-track markers
        if snapshot.tracking.opens:
            html = html_pixel_append(html, open_url(message_id, base))
        sent["html"] = html
    if clicks and parts.get("text"):
        sent["text"] = text_links_rewrite(parts["text"], rewrite)
    headers: dict[str, str] = {}
    if snapshot.category == Category.MARKETING:
        headers = {"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": ONE_CLICK_BODY}
    return TrackedContent(sent, links.targets(), headers)


def _sms(message_id: UUID, snapshot: VersionSnapshot, parts: Mapping[str, str]) -> TrackedContent:
    base = public_base()
    links = _Links(skip=unsubscribe_url(message_id, public_base(snapshot.channel_settings)))
    codes: dict[int, str] = {}

    def rewrite(target: str) -> str | None:
        number = links.number(target)
        if number is None:
            return None
        code = codes.setdefault(number, short_code_new())
        return short_url(code, base)

    sent = dict(parts)
    sent["body"] = text_links_rewrite(parts.get("body", ""), rewrite)
    return TrackedContent(
        sent, links.targets(), short_links=[(code, number) for number, code in codes.items()]
    )


def content_track(
    *, message_id: UUID, snapshot: VersionSnapshot, parts: Mapping[str, str]
) -> TrackedContent:
    """``parts`` of message ``message_id`` as they are sent, with what tracking needs."""
    if snapshot.channel == Channel.EMAIL:
        return _email(message_id, snapshot, parts)
    if snapshot.channel == Channel.SMS and snapshot.tracking.clicks:
        return _sms(message_id, snapshot, parts)
    return TrackedContent(parts)
