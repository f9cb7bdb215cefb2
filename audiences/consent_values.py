"""Consent as people write it in files: the stored statuses, and yes/no, true/false, 1/0."""

from __future__ import annotations

from django.utils.translation import gettext as _

from audiences.models import Consent

# Spreadsheets and CRM exports say yes/no, true/false or 1/0 more often than
# opted_in/opted_out; imports take either, in any case.
CONSENT_ALIASES: dict[str, str] = {
    "yes": Consent.Status.OPTED_IN,
    "true": Consent.Status.OPTED_IN,
    "1": Consent.Status.OPTED_IN,
    "no": Consent.Status.OPTED_OUT,
    "false": Consent.Status.OPTED_OUT,
    "0": Consent.Status.OPTED_OUT,
}


def consent_values_text() -> str:
    """The consent values an import accepts, in words (help text and row errors)."""
    return _("%(statuses)s, or yes/no, true/false, 1/0 (any case)") % {
        "statuses": ", ".join(Consent.Status.values)
    }


def consent_status_parse(value: str) -> str | None:
    """``Yes`` -> ``opted_in``, ``0`` -> ``opted_out``, ``Unknown`` -> ``unknown``; else None."""
    word = value.strip().lower()
    if word in Consent.Status.values:
        return word
    alias = CONSENT_ALIASES.get(word)
    return str(alias) if alias is not None else None
