"""docs/guide.md and its Traditional Chinese twin: the same sections and pictures, each
picture in docs/screenshots/ in the guide's language (`make screenshots` takes them)."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

DOCS = Path(settings.BASE_DIR) / "docs"
GUIDES = {"en": DOCS / "guide.md", "zh-hant": DOCS / "guide.zh-Hant.md"}
PICTURE = re.compile(r"!\[[^\]]*\]\((screenshots/[^)]+)\)")
SECTION = re.compile(r"^## (\d+)\. ", re.MULTILINE)


def _pictures(language: str) -> list[str]:
    return PICTURE.findall(GUIDES[language].read_text(encoding="utf-8"))


def test_each_guide_shows_pictures_in_its_own_language_and_they_exist() -> None:
    for language in GUIDES:
        pictures = _pictures(language)

        assert pictures, language
        assert [p for p in pictures if not p.startswith(f"screenshots/{language}-")] == []
        assert [p for p in pictures if not (DOCS / p).is_file()] == []


def test_the_two_guides_have_the_same_sections_and_pictures() -> None:
    sections = {
        language: SECTION.findall(path.read_text(encoding="utf-8"))
        for language, path in GUIDES.items()
    }
    english = [p.removeprefix("screenshots/en-") for p in _pictures("en")]
    chinese = [p.removeprefix("screenshots/zh-hant-") for p in _pictures("zh-hant")]

    assert sections["en"] == sections["zh-hant"] == [str(n) for n in range(1, 13)]
    assert english == chinese


def test_each_guide_links_the_other_at_the_top() -> None:
    english = GUIDES["en"].read_text(encoding="utf-8").splitlines()[:3]
    chinese = GUIDES["zh-hant"].read_text(encoding="utf-8").splitlines()[:3]

    assert "[繁體中文版](guide.zh-Hant.md)" in english
    assert "[English version](guide.md)" in chinese
