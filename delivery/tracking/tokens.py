"""Signed tokens of tracking and unsubscribe links, and the links' public URLs.

A token is the message id and the link's index (0 for the open pixel and the
unsubscribe link), packed in 18 bytes and base64url-encoded, signed with
``django.core.signing`` (HMAC-SHA256 over ``SECRET_KEY``) under a salt per
purpose, so a click token never opens an unsubscribe page. The token only says
which message and which link: the redirect looks the target up in the message's
stored links, so no token can send anyone to a URL that was not in the message.

URLs start with ``CLARION_PUBLIC_URL``; an email channel configuration's
``tracking_domain`` replaces its host (the scheme stays).
"""

from __future__ import annotations

import base64
import binascii
import secrets
import string
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

from django.conf import settings
from django.core import signing
from django.urls import reverse


class Purpose:
    """One salt per kind of link: a token signed for one is refused by the others."""

    OPEN = "open"
    CLICK = "click"
    UNSUBSCRIBE = "unsubscribe"


_SALT = "clarion.tracking."
# base64url without padding; the signature separator is outside its alphabet.
_SEPARATOR = "."
# SMS short links: "/s/" and 9 letters or digits, 12 characters after the host. 62**9 (about
# 2**53) codes: guessing one that exists, among a billion issued, takes some 10 million tries.
SHORT_CODE_LENGTH = 9
_SHORT_ALPHABET = string.ascii_letters + string.digits
# The landing page's own example, for previews (there is no message behind it).
UNSUBSCRIBE_PREVIEW_TOKEN = "preview"  # noqa: S105 (a page name, not a secret)


def _signer(purpose: str) -> signing.Signer:
    return signing.Signer(salt=_SALT + purpose, sep=_SEPARATOR)


def token_make(purpose: str, message_id: UUID, link: int = 0) -> str:
    """The signed token of ``message_id``'s link ``link`` for ``purpose``."""
    packed = message_id.bytes + link.to_bytes(2, "big")
    value = base64.urlsafe_b64encode(packed).rstrip(b"=").decode()
    return _signer(purpose).sign(value)


def token_read(purpose: str, token: str) -> tuple[UUID, int] | None:
    """(message id, link index) of a valid token, or None for anything else."""
    if not isinstance(token, str) or len(token) > 200:
        return None
    try:
        value = _signer(purpose).unsign(token)
        packed = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (signing.BadSignature, binascii.Error, ValueError):
        return None
    if len(packed) != 18:
        return None
    return UUID(bytes=packed[:16]), int.from_bytes(packed[16:], "big")


def short_code_new() -> str:
    """A random, unguessable SMS short link code."""
    return "".join(secrets.choice(_SHORT_ALPHABET) for _ in range(SHORT_CODE_LENGTH))


def public_base(channel_settings: Mapping[str, Any] | None = None) -> str:
    """The scheme and host links start with: ``CLARION_PUBLIC_URL``, or the tracking domain."""
    base: str = settings.CLARION_PUBLIC_URL
    domain = str((channel_settings or {}).get("trackingDomain") or "").strip().strip("/")
    # A configuration saved before its domain was validated: never build broken links.
    if not domain or "/" in domain or "@" in domain:
        return base
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, domain, parts.path.rstrip("/"), "", ""))


def open_url(message_id: UUID, base: str) -> str:
    return base + reverse("tracking-open", args=[token_make(Purpose.OPEN, message_id)])


def click_url(message_id: UUID, link: int, base: str) -> str:
    return base + reverse("tracking-click", args=[token_make(Purpose.CLICK, message_id, link)])


def short_url(code: str, base: str) -> str:
    return base + reverse("tracking-short", args=[code])


def unsubscribe_url(message_id: UUID, base: str) -> str:
    token = token_make(Purpose.UNSUBSCRIBE, message_id)
    return base + reverse("unsubscribe", args=[token])
