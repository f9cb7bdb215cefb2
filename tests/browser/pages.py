"""Checks a browser test runs on an admin page: axe-core's WCAG 2.1 AA rules, nothing
wider than the viewport, and a screenshot for docs/ when asked (issue 10)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from django.conf import settings
from playwright.sync_api import Locator, Page

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
# WCAG 2.0 and 2.1, levels A and AA: what the issue asks the pages to meet.
AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
# A violation of these fails the test; "moderate" and "minor" ones are not reported.
AXE_FAILING_IMPACTS = ("serious", "critical")
# Where `make screenshots` has the tests save their pictures (docs/screenshots); unset:
# none are saved.
SCREENSHOTS_ENV = "CLARION_SCREENSHOTS"

# Parts of a page axe leaves out, each the narrowest selector with its reason. Rules are
# never turned off: a new page's violation fails until fixed or explained here.
AXE_EXCLUDE: tuple[tuple[str, str], ...] = ()

_AXE_RUN = """
async ([tags, exclude]) => {
  const results = await axe.run(
    {include: [document], exclude: exclude.map(selector => [selector])},
    {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']},
  );
  return results.violations.map(v => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    targets: v.nodes.map(n => n.target.join(' ') + (n.failureSummary ? ': '
      + n.failureSummary.replace(/\\s+/g, ' ') : '')),
  }));
}
"""

# Elements whose right edge is past the viewport, except those clipped by a scrolling
# (or clipping) box: a wide table in its own scroll box is fine, the box itself is
# checked. Only the outermost offender of a branch is listed.
_OVERFLOWING = """
() => {
  const width = window.innerWidth;
  const clips = el => {
    for (let box = el.parentElement; box && box !== document.body; box = box.parentElement) {
      if (getComputedStyle(box).overflowX !== 'visible') return true;
    }
    return false;
  };
  const over = new Set();
  for (const el of document.body.querySelectorAll('*')) {
    const rect = el.getBoundingClientRect();
    if ((rect.width === 0 && rect.height === 0) || rect.right <= width + 0.5) continue;
    if (getComputedStyle(el).visibility === 'hidden' || clips(el)) continue;
    over.add(el);
  }
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + [...el.classList].map(c => '.' + c).join('');
  const path = el => {
    const parts = [];
    for (let at = el; at && at !== document.body; at = at.parentElement) parts.unshift(name(at));
    return parts.slice(-4).join(' > ');
  };
  return [...over].filter(el => !over.has(el.parentElement)).map(
    el => `${path(el)}: right edge ${Math.round(el.getBoundingClientRect().right)} px`);
}
"""


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A/AA violations on the page as it is now, all impacts."""
    page.add_script_tag(path=str(AXE))
    exclude = [selector for selector, _reason in AXE_EXCLUDE]
    violations: list[dict[str, Any]] = page.evaluate(_AXE_RUN, [list(AXE_TAGS), exclude])
    return violations


def axe_failures(page: Page) -> str:
    """The serious and critical violations, one paragraph each; "" when there is none."""
    failing = [v for v in axe_violations(page) if v["impact"] in AXE_FAILING_IMPACTS]
    return "\n".join(
        f"{v['impact']} {v['id']}: {v['help']}\n" + "".join(f"  - {t}\n" for t in v["targets"])
        for v in failing
    )


def overflowing(page: Page) -> list[str]:
    """What is wider than the viewport: the page itself, then each offending element."""
    found: list[str] = page.evaluate(_OVERFLOWING)
    scroll_width, inner_width = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"
    )
    if scroll_width > inner_width:
        found.insert(0, f"the page scrolls sideways: {scroll_width} px in {inner_width} px")
    return found


def screenshot_save(page: Page, name: str, *, part: Locator | None = None) -> Path | None:
    """``<name>.png`` of the whole page, or of one ``part`` of it, in $CLARION_SCREENSHOTS
    (relative: to the project)."""
    folder = os.environ.get(SCREENSHOTS_ENV)
    if not folder:
        return None
    path = Path(settings.BASE_DIR) / folder / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    if part is not None:
        part.screenshot(path=str(path), animations="disabled", caret="hide")
        return path
    # From the top: the admin's sticky sidebar is drawn where the page was scrolled to.
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(path), full_page=True, animations="disabled", caret="hide")
    return path


# What a zh-Hant page may show in Latin letters: names and codes a Taiwanese marketer
# reads as they are, never English prose (issue 10: "without meeting an English string").
# Case matters: "Email" as a heading would be English, "email" as a namespace code is not.
LATIN_ALLOWED = frozenset(
    {
        "Clarion",  # the product
        "API",
        "JSON",
        "curl",
        "URL",
        "UTC",  # time zones and the UTC on hover
        "CSV",
        "HTML",
        "SMS",
        "Bearer",  # the Authorization header of the curl sample
        "Content-Type",
        "POST",
        "email",  # identity namespace and channel codes, as the API spells them
        "phone",
        "aep",  # recipient types of the trigger call ("type": "aep")
        "external",
        "English",  # the language switcher names each language in its own language
        "CRM",  # as Taiwanese marketers write it: CRM ID
        "Webhook",  # likewise: Webhook 端點
        "Cron",  # the Unix scheduler, by its name: Cron 排程
        "AND",  # a rule's combinators, as the audience builder shows them: （AND）
        "safe",  # the Liquid filter, named in the content's help: | safe
    }
)
# Taken out of the text before looking for words: codes, addresses and ids.
_LATIN_PATTERNS = tuple(
    re.compile(pattern, re.ASCII)
    for pattern in (
        r"\{\{.*?\}\}|\{%.*?%\}",  # Liquid: {{ profile.person.name.firstName }}
        r"</?(?:a|p|br|div|span|strong|em|b|i|ul|ol|li|h[1-6]|img|table|tr|td|th)\b[^>]*>",
        r"[\w.+-]+@[\w-]+(\.[\w-]+)+",  # email addresses
        r"https?://\S+",  # URLs
        r"JSON Lines|(?<![\w.])\.[a-z]{2,5}\b",  # file formats: JSON Lines (.jsonl)
        r"\b[A-Z][A-Za-z]+(/[\w+-]+)+",  # time zones: Asia/Taipei
        r"/[\w./-]*\w",  # paths and JSON pointers: /api/v1/..., /content/zh-Hant
        r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b",  # ids
        r"\b(?=[0-9a-f]*[0-9])[0-9a-f]{6,}\b",  # hexadecimal ids: an API key's cfa3223c
        r"\b[a-z]{2}-(?:[A-Z]{2}|[a-z]{2}|[Hh]an[st])\b",  # locales: zh-Hant, pt-BR
        r'"[A-Za-z_][\w.]*"',  # JSON keys and codes in quotes: "userId"
        r"\b[a-z]+(_[a-z0-9]+)+\b",  # codes: no_consent, smtp_550
        r"\b[a-z]\w*(\.\w+)+\b",  # attribute paths: attributes.tier
        r"\b[a-z]+[A-Z]\w*\b",  # camelCase keys: firstName, executeAt
    )
)
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z-]*[A-Za-z]|[A-Za-z]", re.ASCII)
# Two-letter English words that give a sentence away ("Email to ana@example.com"); shorter
# runs of Latin letters are otherwise left alone (ID, pt, v1).
ENGLISH_SHORT_WORDS = frozenset(
    {"to", "at", "of", "by", "in", "on", "or", "is", "an", "as", "be", "if", "it", "no", "we"}
)


def latin_words(text: str, *, allowed: tuple[str, ...] = ()) -> list[str]:
    """The runs of three or more Latin letters in ``text`` (a page's ``innerText``), and
    the short English words, that are no allowed name or code: English a zh-Hant reader
    would meet, each with the text around it. ``allowed`` adds the page's own data (a
    campaign's name and content, the curl sample), taken out before looking.
    """
    for own in sorted(allowed, key=len, reverse=True):
        if own:  # as typed, or as CSS shows it (the header's user name is in capitals)
            # Whole words only: "1" is a consent value, not a piece of every id.
            before = r"(?<![A-Za-z0-9])" if own[0].isascii() and own[0].isalnum() else ""
            after = r"(?![A-Za-z0-9])" if own[-1].isascii() and own[-1].isalnum() else ""
            text = re.sub(before + re.escape(own) + after, " ", text, flags=re.IGNORECASE)
    for pattern in _LATIN_PATTERNS:
        text = pattern.sub(" ", text)
    found: dict[str, str] = {}
    for match in _LATIN_WORD.finditer(text):
        word = match.group()
        letters = sum(char.isalpha() for char in word)
        short = letters < 3 and word not in ENGLISH_SHORT_WORDS
        if short or word in LATIN_ALLOWED or word in found:
            continue
        around = text[max(0, match.start() - 30) : match.end() + 30]
        found[word] = " ".join(around.split())
    return [f"{word}: …{around}…" for word, around in found.items()]


def english_on_page(page: Page, *, allowed: tuple[str, ...] = ()) -> str:
    """The English words of the page as a person sees it (``latin_words``), one a line,
    with its address; "" when there is none."""
    # What the page marks as code (<code>, <pre>...) is read as it is.
    code = page.evaluate(
        "[...document.querySelectorAll('code, pre, kbd, samp')].map(e => e.innerText)"
    )
    words = latin_words(page.evaluate("document.body.innerText"), allowed=(*allowed, *code))
    if not words:
        return ""
    return f"English on {page.url}:\n" + "\n".join(f"  - {word}" for word in words)
