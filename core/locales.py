"""Locales: normalising codes and the fallback chain lang-REGION -> lang -> default."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

_SEPARATORS = re.compile(r"[_\s]+")

# BCP 47 subset: language, optional script, optional region (en, pt-BR, zh-Hant-TW).
LOCALE_PATTERN = r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$"
locale_validator = RegexValidator(
    LOCALE_PATTERN,
    _("Use a locale such as en, fr-CA or zh-Hant-TW (language, optional script and region)."),
)


def locale_normalize(code: str) -> str:
    """``pt_br`` -> ``pt-BR``, ``ZH-hant-tw`` -> ``zh-Hant-TW``; unknown shapes kept as typed."""
    parts = [p for p in _SEPARATORS.sub("-", code.strip()).split("-") if p]
    if not parts:
        return ""
    out = [parts[0].lower()]
    for part in parts[1:]:
        if len(part) == 4 and part.isalpha():
            out.append(part.title())
        elif len(part) in (2, 3):
            out.append(part.upper())
        else:
            out.append(part)
    return "-".join(out)


def locale_chain(requested: str | None, default: str) -> list[str]:
    """The locales to try, in order: ``pt-BR`` -> ``pt`` -> default (no repeats)."""
    chain: list[str] = []
    if requested:
        parts = locale_normalize(requested).split("-")
        # zh-Hant-TW -> zh-Hant-TW, zh-Hant, zh
        for end in range(len(parts), 0, -1):
            chain.append("-".join(parts[:end]))
    chain.append(locale_normalize(default))
    return [code for code in dict.fromkeys(chain) if code]


def locale_resolve(requested: str | None, available: Iterable[str], default: str) -> str | None:
    """The content locale a recipient gets, or None when nothing matches.

    Matching ignores case; the returned value is spelled as in ``available``.
    """
    return _resolve(requested, tuple(available), default)


# Sending resolves the same few (requested, available, default) for every message.
@lru_cache(maxsize=1024)
def _resolve(requested: str | None, available: tuple[str, ...], default: str) -> str | None:
    by_key = {locale_normalize(code).lower(): code for code in available}
    for candidate in locale_chain(requested, default):
        match = by_key.get(candidate.lower())
        if match is not None:
            return match
    return None
