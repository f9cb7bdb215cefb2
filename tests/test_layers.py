"""The import rule of docs/architecture.md, enforced: import-linter's contracts in
pyproject.toml (core <- audiences <- campaigns <- delivery; domain code never imports DRF)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_imports_cross_no_layer() -> None:
    lint_imports = Path(sys.executable).parent / "lint-imports"

    result = subprocess.run(
        [str(lint_imports), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken." in result.stdout


def test_core_imports_no_app() -> None:
    """Belt and braces for the bottom layer: not even a function-level import of an app."""
    offenders = [
        f"{path.relative_to(ROOT)}: {line.strip()}"
        for path in (ROOT / "core").rglob("*.py")
        for line in path.read_text().splitlines()
        if line.strip().startswith(("from ", "import "))
        and any(
            line.strip().split()[1] == app or line.strip().split()[1].startswith(app + ".")
            for app in ("audiences", "campaigns", "delivery", "config")
        )
    ]

    assert offenders == []
