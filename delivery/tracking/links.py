"""Rewriting the links of a rendered message, and adding the open pixel (pure functions).

``html_links_rewrite`` hands every ``http(s)`` target of an ``<a href>`` or
``<area href>`` to a callback and puts the URL it returns in its place. The
HTML is read with the standard library's ``html.parser``, so uppercase tags,
single, double or missing quotes, entities (``&amp;``) and comments (links
inside ``<!-- -->``, including Outlook's conditional comments, are left alone)
are understood as a browser would; only the ``href`` value itself is replaced,
so the rest of the document stays byte for byte as rendered.

Left alone as well: every other scheme (``mailto:``, ``tel:``, ``#anchors``,
relative links) and any link carrying the marker attribute
``data-clarion-notrack`` (docs/tracking.md). The marker is removed from what is
sent, so recipients' mail clients never see it.

``text_links_rewrite`` does the same for the bare ``http(s)`` URLs of a text
part (the email's text alternative, an SMS).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html import escape, unescape
from html.parser import HTMLParser

# The attribute that keeps a link out of click tracking (like SendGrid's clicktracking=off).
NO_TRACK_ATTRIBUTE = "data-clarion-notrack"
_LINK_TAGS = frozenset({"a", "area"})
_TRACKED_SCHEME = re.compile(r"https?://", re.IGNORECASE)
# Browsers drop ASCII tabs and newlines inside URLs, and leading or trailing whitespace.
_URL_NOISE = re.compile(r"[\t\n\r]")
# One attribute of a start tag already delimited by the parser: its name, then an
# optional value, double-quoted, single-quoted or bare (HTML's unquoted attribute value).
_ATTRIBUTE = re.compile(
    r"""(?P<space>[\s/]*)(?P<name>[^\s/>"'=][^\s/>=]*)"""
    r"""(?:\s*=\s*(?P<value>"[^"]*"|'[^']*'|[^\s>]*))?"""
)
# A bare URL in text: up to whitespace or a character that cannot end it in prose.
_TEXT_URL = re.compile(r"""https?://[^\s<>"'`]+""", re.IGNORECASE)
_TRAILING = ".,;:!?'\""
_CLOSERS = {")": "(", "]": "[", "}": "{"}

# Given a link's target (entities decoded), the URL to put instead, or None to keep it.
Rewrite = Callable[[str], str | None]


def link_target(raw: str) -> str | None:
    """The ``http(s)`` target an attribute value stands for, or None for any other link."""
    target = _URL_NOISE.sub("", unescape(raw)).strip()
    return target if _TRACKED_SCHEME.match(target) else None


class _LinkFinder(HTMLParser):
    """Collects (start, end, replacement) edits of the document's link start tags."""

    def __init__(self, source: str, rewrite: Rewrite) -> None:
        super().__init__(convert_charrefs=True)
        self.rewrite = rewrite
        self.edits: list[tuple[int, int, str]] = []
        # Offsets of each line's first character: getpos() gives (line, column).
        self._lines = [0] + [m.end() for m in re.finditer("\n", source)]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _LINK_TAGS:
            return
        raw = self.get_starttag_text()
        if raw is None:
            return
        line, column = self.getpos()
        start = self._lines[line - 1] + column
        replaced = _tag_rewrite(raw, self.rewrite)
        if replaced != raw:
            self.edits.append((start, start + len(raw), replaced))

    handle_startendtag = handle_starttag


def _tag_rewrite(raw: str, rewrite: Rewrite) -> str:
    """One ``<a ...>`` start tag with its href rewritten, or its marker removed."""
    name_end = re.match(r"<[^\s/>]+", raw)
    assert name_end is not None  # the parser only reports tags that start so
    attributes = list(_ATTRIBUTE.finditer(raw, name_end.end()))
    names = [m.group("name").lower() for m in attributes]
    if NO_TRACK_ATTRIBUTE in names:
        # Left alone; only the marker goes (with the whitespace before it).
        marker = attributes[names.index(NO_TRACK_ATTRIBUTE)]
        return raw[: marker.start()] + raw[marker.end() :]
    if "href" not in names:
        return raw
    href = attributes[names.index("href")]  # the first one wins, as in browsers
    value = href.group("value")
    if value is None:
        return raw
    unquoted = value[1:-1] if value[:1] in ("'", '"') else value
    target = link_target(unquoted)
    if target is None:
        return raw
    replacement = rewrite(target)
    if replacement is None:
        return raw
    return raw[: href.start("value")] + f'"{escape(replacement)}"' + raw[href.end("value") :]


def html_links_rewrite(html: str, rewrite: Rewrite) -> str:
    """``html`` with each tracked link's href replaced by ``rewrite(target)``."""
    lower = html.lower()
    if "href" not in lower and NO_TRACK_ATTRIBUTE not in lower:
        return html
    finder = _LinkFinder(html, rewrite)
    finder.feed(html)
    finder.close()
    out: list[str] = []
    position = 0
    for start, end, replacement in finder.edits:
        out.append(html[position:start])
        out.append(replacement)
        position = end
    out.append(html[position:])
    return "".join(out)


def _url_end(url: str) -> str:
    """``url`` without the punctuation that ends the sentence around it."""
    while url:
        last = url[-1]
        if last in _TRAILING or (last in _CLOSERS and url.count(_CLOSERS[last]) < url.count(last)):
            url = url[:-1]
        else:
            break
    return url


def text_links_rewrite(text: str, rewrite: Rewrite) -> str:
    """``text`` with each bare ``http(s)`` URL replaced by ``rewrite(url)``."""

    def replace(match: re.Match[str]) -> str:
        found = match.group(0)
        url = _url_end(found)
        replacement = rewrite(url)
        return found if replacement is None else replacement + found[len(url) :]

    return _TEXT_URL.sub(replace, text) if text else text


def html_pixel_append(html: str, url: str) -> str:
    """``html`` with a 1x1 image loading ``url`` at the end of its body."""
    pixel = (
        f'<img src="{escape(url)}" width="1" height="1" alt="" '
        'style="display:block;width:1px;height:1px;border:0;margin:0;padding:0">'
    )
    close = html.lower().rfind("</body")
    if close == -1:
        return html + pixel
    return html[:close] + pixel + html[close:]
