"""``manage.py import_profiles``: output, rejected file, errors in words."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from audiences.models import Audience, AudienceMember, Profile

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("import_profiles", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_output_ends_with_the_counts_and_names_the_rejected_file(tmp_path: Path) -> None:
    # given a CSV with two good rows and one bad
    source = tmp_path / "people.csv"
    source.write_text("email,tier\na@example.com,gold\nnope,silver\nb@example.com,\n")

    # when it is imported
    output = run(str(source), "--namespace", "email", "--batch-size", "2")

    # then the output names the rejected file and ends with the counts
    rejected = tmp_path / "people.rejected.csv"
    assert output.splitlines() == [
        f"Rejected rows: {rejected}",
        "created 2, updated 0, rejected 1",
    ]
    with rejected.open(newline="") as handle:
        assert list(csv.reader(handle)) == [
            ["line", "reason", "row"],
            [
                "3",
                "“nope” is not a valid email address: An email address must have an @-sign.",
                "nope,silver",
            ],
        ]
    assert Profile.objects.count() == 2


def test_jsonl_into_a_static_audience_with_a_chosen_rejected_path(tmp_path: Path) -> None:
    # given a JSON-lines file with a .txt name, and a static audience
    source = tmp_path / "people.txt"
    source.write_text('{"email": "a@example.com"}\n{"email": "a@example.com"}\n')
    audience = Audience.objects.create(name="VIP", kind=Audience.Kind.STATIC)
    rejected = tmp_path / "out" / "bad.csv"

    # when imported with --format, --audience and --rejected
    output = run(
        str(source), "--namespace", "email", "--format", "jsonl",
        "--audience", str(audience.pk), "--rejected", str(rejected),
    )  # fmt: skip

    # then no rejected file is written and the profile joins the audience
    assert output.splitlines() == ["created 1, updated 1, rejected 0"]
    assert not rejected.exists()
    assert AudienceMember.objects.filter(audience=audience).count() == 1


def test_a_stale_rejected_file_is_removed(tmp_path: Path) -> None:
    source = tmp_path / "people.csv"
    source.write_text("email\na@example.com\n")
    stale = tmp_path / "people.rejected.csv"
    stale.write_text("line,reason,row\n9,old,old\n")
    assert run(str(source), "--namespace", "email").endswith("rejected 0\n")
    assert not stale.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--namespace", "fax"],
            "Unknown identity namespace “fax” (known: crm_id, ecid, email, phone).",
        ),
        (["--namespace", "email", "--audience", "nope"], "No audience with id nope."),
        (["--namespace", "email", "--batch-size", "0"], "--batch-size must be at least 1."),
    ],
)
def test_bad_options_are_errors_in_words(tmp_path: Path, args: list[str], message: str) -> None:
    source = tmp_path / "people.csv"
    source.write_text("email\na@example.com\n")
    with pytest.raises(CommandError) as raised:
        run(str(source), *args)
    assert str(raised.value).startswith(message)
    assert Profile.objects.count() == 0


def test_missing_file_unknown_format_and_bad_header(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="No such file"):
        run(str(tmp_path / "missing.csv"), "--namespace", "email")
    other = tmp_path / "people.xlsx"
    other.write_text("email\n")
    with pytest.raises(CommandError, match="Cannot tell the format"):
        run(str(other), "--namespace", "email")
    headless = tmp_path / "people.csv"
    headless.write_text("mail\na@example.com\n")
    with pytest.raises(CommandError, match="The file has no “email” column"):
        run(str(headless), "--namespace", "email")
    assert Profile.objects.count() == 0
