"""Which links a push notification may carry (``deepLink``, ``imageUrl``).

A device opens these links, and their value may come from trigger data
(``{{ context.url }}``). Only ``https:`` links, and the app schemes the
channel configuration names (``myapp://product/42``), are accepted: never
``javascript:``, ``data:``, plain ``http:`` or anything else. Checked when
content is saved (the literal start of the template) and again after
rendering (the value a device would get).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# RFC 3986 section 3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
SCHEME_PATTERN = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
# Schemes that are not an app's own and may not be allowed as app schemes.
NOT_APP_SCHEMES = frozenset(
    {"http", "https", "javascript", "vbscript", "data", "file", "blob", "about", "ftp", "ws", "wss"}
)
_C0_AND_SPACE = "".join(chr(code) for code in range(0x21))
_TAB_OR_NEWLINE = re.compile(r"[\t\n\r]")


def _as_a_browser_reads_it(value: str) -> str:
    # WHATWG URL parsing drops leading and trailing C0 controls and spaces and removes
    # tabs and newlines anywhere, so " java\tscript:" is still javascript:.
    return _TAB_OR_NEWLINE.sub("", value.strip(_C0_AND_SPACE))


def link_scheme(value: str) -> str | None:
    """The lower-cased scheme of a link, or None when it has none."""
    match = SCHEME_PATTERN.match(_as_a_browser_reads_it(value))
    return match.group(1).lower() if match else None


def _refusal(app_schemes: tuple[str, ...]) -> str:
    if not app_schemes:
        return _("Use an https:// link.")
    return _(
        "Use an https:// link or a link of an app scheme this channel allows: %s."
    ) % ", ".join(f"{scheme}:" for scheme in app_schemes)


def link_problem(value: str, app_schemes: Iterable[str]) -> str | None:
    """Why a rendered link may not be sent, or None when it may (an empty link is fine)."""
    allowed = tuple(scheme.lower() for scheme in app_schemes)
    link = _as_a_browser_reads_it(value)
    if not link:
        return None
    scheme = link_scheme(link)
    if scheme == "https" and urlsplit(link).hostname:
        return None
    if scheme is not None and scheme in allowed:
        return None
    return _refusal(allowed)


def link_template_problem(source: str, app_schemes: Iterable[str]) -> str | None:
    """Why a link template is refused when saved, or None.

    Only the literal start, before the first ``{{`` or ``{%``, is known at this
    point: it must be empty (the rendered value is checked at sending) or begin
    with ``https://`` or an allowed app scheme.
    """
    allowed = tuple(scheme.lower() for scheme in app_schemes)
    start = _as_a_browser_reads_it(re.split(r"\{\{|\{%", source, maxsplit=1)[0])
    if not start:
        return None
    scheme = link_scheme(start)
    if scheme == "https" and start.lower().startswith("https://"):
        return None
    if scheme is not None and scheme in allowed:
        return None
    return _refusal(allowed)


def app_schemes_validator(value: object) -> None:
    """A list of URI schemes (RFC 3986) apps register, such as ``myapp``; not web schemes."""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError(_("Give a list of scheme names, such as myapp."))
    for scheme in value:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme):
            raise ValidationError(
                _("“%s” is not a URI scheme: a letter, then letters, digits, + . or -.") % scheme
            )
        if scheme.lower() in NOT_APP_SCHEMES:
            raise ValidationError(
                _("“%s” is not an app scheme; https: links are always allowed.") % scheme
            )
