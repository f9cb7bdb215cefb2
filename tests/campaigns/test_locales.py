"""The locale fallback chain: lang-REGION -> lang -> campaign default."""

from __future__ import annotations

import pytest

from core.locales import locale_chain, locale_normalize, locale_resolve


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("pt_br", "pt-BR"),
        ("EN", "en"),
        ("zh-hant-tw", "zh-Hant-TW"),
        (" fr-ca ", "fr-CA"),
        ("es-419", "es-419"),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert locale_normalize(raw) == expected


def test_chain_goes_from_region_to_language_to_default() -> None:
    assert locale_chain("pt-BR", "en") == ["pt-BR", "pt", "en"]
    assert locale_chain("zh-Hant-TW", "en") == ["zh-Hant-TW", "zh-Hant", "zh", "en"]
    assert locale_chain(None, "en") == ["en"]
    assert locale_chain("en-GB", "en") == ["en-GB", "en"]


@pytest.mark.parametrize(
    ("requested", "available", "expected"),
    [
        ("pt-BR", ["en", "pt", "pt-BR"], "pt-BR"),
        ("pt-BR", ["en", "pt"], "pt"),
        ("pt-BR", ["en", "fr"], "en"),
        ("pt_br", ["en", "pt-BR"], "pt-BR"),
        ("PT", ["en", "pt-BR"], "en"),  # a bare language does not pick a region
        (None, ["en", "fr"], "en"),
        ("de", ["fr"], None),  # no match and no default content: nothing
    ],
)
def test_resolve(requested: str | None, available: list[str], expected: str | None) -> None:
    assert locale_resolve(requested, available, "en") == expected
