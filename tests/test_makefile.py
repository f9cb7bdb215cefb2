"""The Makefile picks the Python that creates .venv: the first >= 3.11 on PATH, or PYTHON=.

Each test runs ``make which-python`` with a PATH holding only stub ``python*``
commands that print what a real one prints for ``--version``.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

MAKEFILE = Path(settings.BASE_DIR) / "Makefile"
MAKE = shutil.which("make")
pytestmark = pytest.mark.skipif(MAKE is None, reason="make is not installed")

# What a pyenv shim prints for a version that is not installed (and exits 127).
PYENV_MISSING = "pyenv: {name}: command not found"


def _stubs(tmp_path: Path, versions: dict[str, str | None]) -> Path:
    """A bin folder with one stub per name: None stands for a broken pyenv shim."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for name, version in versions.items():
        stub = folder / name
        if version is None:
            stub.write_text(f"#!/bin/sh\necho '{PYENV_MISSING.format(name=name)}' >&2\nexit 127\n")
        else:
            stub.write_text(f"#!/bin/sh\necho 'Python {version}'\n")
        stub.chmod(0o755)
    return folder


def _which_python(
    folder: Path, *make_args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    assert MAKE is not None
    return subprocess.run(
        [MAKE, "--no-print-directory", "-s", "-f", str(MAKEFILE), "which-python", *make_args],
        cwd=MAKEFILE.parent,
        env={"PATH": str(folder), **(env or {})},
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.parametrize(
    ("versions", "chosen"),
    [
        # The newest first.
        (
            {"python3.13": "3.13.1", "python3.12": "3.12.8", "python3.11": "3.11.9"},
            "python3.13 (Python 3.13.1)",
        ),
        # A machine with only 3.12: no python3.11 needed any more.
        ({"python3.12": "3.12.3", "python3": "3.12.3"}, "python3.12 (Python 3.12.3)"),
        # pyenv shims for versions that are not installed are skipped.
        (
            {"python3.13": None, "python3.12": None, "python3.11": "3.11.7"},
            "python3.11 (Python 3.11.7)",
        ),
        # A plain python3 is fine when it is new enough...
        ({"python3": "3.13.0"}, "python3 (Python 3.13.0)"),
        # ...and passed over when it is older than 3.11.
        ({"python3": "3.9.18", "python3.11": "3.11.2"}, "python3.11 (Python 3.11.2)"),
    ],
)
def test_the_first_python_3_11_or_newer_on_path_is_chosen(
    tmp_path: Path, versions: dict[str, str | None], chosen: str
) -> None:
    # Given a PATH with these python commands
    folder = _stubs(tmp_path, versions)

    # When make looks for the Python that creates .venv
    result = _which_python(folder)

    # Then it names the chosen one and its version
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{chosen}\n"


def test_no_python_3_11_or_newer_stops_with_a_message(tmp_path: Path) -> None:
    # Given only older or broken pythons
    folder = _stubs(tmp_path, {"python3": "3.9.18", "python3.10": "3.10.13", "python3.13": None})

    # When make looks for one
    result = _which_python(folder)

    # Then it fails, says what it needs and how to name one, and chose nothing
    assert result.returncode != 0
    assert result.stdout == ""
    assert result.stderr.splitlines()[:2] == [
        "Clarion needs Python 3.11 or newer, and none of these is: "
        "python3.13 python3.12 python3.11 python3.",
        "Install one (3.11, 3.12 or 3.13), or name it: "
        "make which-python PYTHON=/path/to/python3.12",
    ]


@pytest.mark.parametrize("how", ["argument", "environment"])
def test_python_overrides_the_search(tmp_path: Path, how: str) -> None:
    # Given a newer python on PATH and an older supported one named explicitly
    folder = _stubs(tmp_path, {"python3.13": "3.13.1", "python3.11": "3.11.9"})

    # When PYTHON names it, on make's command line or in the environment (as .ci/run does)
    if how == "argument":
        result = _which_python(folder, "PYTHON=python3.11")
    else:
        result = _which_python(folder, env={"PYTHON": "python3.11"})

    # Then that one is used
    assert result.returncode == 0, result.stderr
    assert result.stdout == "python3.11 (Python 3.11.9)\n"


def test_python_naming_an_old_version_is_refused(tmp_path: Path) -> None:
    # Given PYTHON naming a Python 3.10, with a 3.12 on PATH
    folder = _stubs(tmp_path, {"python3.10": "3.10.13", "python3.12": "3.12.8"})

    # When make looks for the Python
    result = _which_python(folder, "PYTHON=python3.10")

    # Then it does not fall back silently: the named one is not good enough
    assert result.returncode != 0
    assert result.stdout == ""
    assert "none of these is: python3.10." in result.stderr


def test_the_venv_is_created_with_the_chosen_python_and_says_so(tmp_path: Path) -> None:
    # Given a project folder without .venv, and a Python 3.12 on PATH whose stub logs its
    # calls and, for `-m venv DIR`, makes a DIR/bin/pip that logs its calls too
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(MAKEFILE, project / "Makefile")
    (project / "pyproject.toml").write_text("")
    log = tmp_path / "calls.log"
    folder = tmp_path / "bin"
    folder.mkdir()
    stub = folder / "python3.12"
    stub.write_text(
        "#!/bin/sh\n"
        f'echo "python3.12 $*" >> {log}\n'
        'if [ "$1" = --version ]; then echo "Python 3.12.8"; exit 0; fi\n'
        'mkdir -p "$3/bin"\n'
        f'printf \'#!/bin/sh\\necho "pip $*" >> {log}\\n\' > "$3/bin/pip"\n'
        'cp "$0" "$3/bin/python"\n'
        'chmod +x "$3/bin/pip"\n'
    )
    stub.chmod(0o755)

    # When `make install` runs there
    assert MAKE is not None
    result = subprocess.run(
        [MAKE, "--no-print-directory", "install"],
        cwd=project,
        env={"PATH": f"{folder}:/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=30,
    )

    # Then it says which Python it chose, and made .venv with it before installing
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "Creating .venv with python3.12 (Python 3.12.8)"
    assert log.read_text().splitlines() == [
        "python3.12 --version",
        "python3.12 -m venv .venv",
        "pip install --quiet --upgrade pip",
        "pip install --quiet -e .[dev]",
    ]
    assert (project / ".venv" / ".installed").exists()
