"""``manage.py compile_translations`` works without GNU gettext: Babel writes the .mo."""

from __future__ import annotations

import gettext
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command


def test_without_msgfmt_the_catalogue_is_compiled_by_babel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a copy of the project's zh_Hant catalogue, and no msgfmt on the PATH
    messages = tmp_path / "locale" / "zh_Hant" / "LC_MESSAGES"
    messages.mkdir(parents=True)
    project = Path(settings.BASE_DIR) / "locale" / "zh_Hant" / "LC_MESSAGES" / "django.po"
    shutil.copy(project, messages / "django.po")
    monkeypatch.setattr(settings, "BASE_DIR", tmp_path)
    monkeypatch.setattr(shutil, "which", lambda _name: None)

    # when the translations are compiled
    call_command("compile_translations")

    # then the .mo is there and translates
    with (messages / "django.mo").open("rb") as mo:
        catalogue = gettext.GNUTranslations(mo)
    assert catalogue.gettext("Subscribe again") == "重新訂閱"
