"""Importing profiles from CSV and JSON lines: counts, rejected rows, merging, batches."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audiences.importing import ImportProgress, RejectedRows, import_format_guess, profiles_import
from audiences.models import Audience, AudienceMember, Consent, Identity, IdentityNamespace, Profile
from audiences.profile_input import profile_input_parse
from audiences.selectors import profile_resolve
from audiences.services.profiles import profile_upsert
from core.errors import InvalidInput

pytestmark = pytest.mark.django_db

CSV_FILE = "\n".join(
    [
        "email,firstName,loyalty.tier,locale,timeZone,consent.email,identities.phone",
        "ana@example.com,Ana,gold,fr_CA,America/Toronto,opted_in,+1 416 555 0100",
        "not-an-email,Bob,,,,,",
        "cy@example.com,Cy,,klingon!,,,",
        "dee@example.com,Dee",
        "eve@example.com,Eve,,,Mars/Base,,",
        "FOO@Example.com,Foo,silver,,,maybe,",
        "gus@example.com,Gus,,,,,12",
        "Hana@Example.com,,,,,,",
        "",
    ]
)
CSV_REJECTED = [
    ["line", "reason", "row"],
    [
        "3",
        "“not-an-email” is not a valid email address: An email address must have an @-sign.",
        "not-an-email,Bob,,,,,",
    ],
    ["4", "“klingon!” is not a locale such as en or fr-CA.", "cy@example.com,Cy,,klingon!,,,"],
    ["5", "Expected 7 columns, found 2.", "dee@example.com,Dee"],
    [
        "6",
        "“Mars/Base” is not an IANA time zone such as Europe/Paris.",
        "eve@example.com,Eve,,,Mars/Base,,",
    ],
    [
        "7",
        "“maybe” is not a consent value for email: use opted_in, opted_out, unknown, "
        "or yes/no, true/false, 1/0 (any case).",
        "FOO@Example.com,Foo,silver,,,maybe,",
    ],
    [
        "8",
        "“12” is not a valid phone number (read with default region US).",
        "gus@example.com,Gus,,,,,12",
    ],
]

JSONL_FILE = "\n".join(
    [
        '{"email": "ana@example.com", "attributes": {"loyalty": {"tier": "gold"}}, '
        '"locale": "fr-CA", "consent": {"email": "opted_in"}}',
        '{"identity": "bo@example.com", "identities": '
        '[{"namespace": "phone", "value": "+14165550101"}]}',
        "not json",
        "[1, 2]",
        '{"attributes": {"a": 1}}',
        '{"email": "cy@example.com", "colour": "red"}',
        "",
        '{"value": "DEE@example.com", "timeZone": "Europe/Paris"}',
        '{"email": "x@", "attributes": "plain"}',
        "",
    ]
)
JSONL_REJECTED = [
    ["line", "reason", "row"],
    ["3", "Not valid JSON: Expecting value: line 1 column 1 (char 0)", "not json"],
    ["4", "Each line must be a JSON object.", "[1, 2]"],
    [
        "5",
        "The line has no identity: give “email”, “identity” or “value”.",
        '{"attributes": {"a": 1}}',
    ],
    ["6", "Unknown field “colour”.", '{"email": "cy@example.com", "colour": "red"}'],
    [
        "9",
        "“x@” is not a valid email address: There must be something after the @-sign.; "
        "Attributes must be an object.",
        '{"email": "x@", "attributes": "plain"}',
    ],
]


def run_import(
    tmp_path: Path,
    text: str,
    *,
    file_format: str = "csv",
    batch_size: int = 1000,
    namespace: str = "email",
    audience: Audience | None = None,
    progress: list[ImportProgress] | None = None,
) -> tuple[ImportProgress, list[list[str]]]:
    """Import ``text``; returns the counts and the rejected-rows file's rows ([] if none)."""
    path = tmp_path / "rejected.csv"
    path.unlink(missing_ok=True)
    rejected = RejectedRows(path)
    data = text.encode()
    result = profiles_import(
        stream=io.BytesIO(data),
        file_format=file_format,
        namespace=IdentityNamespace.objects.get(code=namespace),
        rejected=rejected,
        batch_size=batch_size,
        audience=audience,
        total_bytes=len(data),
        on_progress=(
            (lambda p: progress.append(ImportProgress(**vars(p)))) if progress is not None else None
        ),
    )
    rejected.close()
    if not path.exists():
        return result, []
    with path.open(newline="", encoding="utf-8") as handle:
        return result, list(csv.reader(handle))


def identities_of(profile: Profile) -> list[tuple[str, str]]:
    return sorted(
        (i.namespace.code, i.value) for i in profile.identities.select_related("namespace")
    )


def test_csv_good_and_bad_rows(tmp_path: Path) -> None:
    # given a CSV with 2 good rows and 6 bad ones
    # when it is imported
    result, rejected = run_import(tmp_path, CSV_FILE)

    # then the good rows are profiles and the bad ones are in the rejected file, with reasons
    assert (result.created, result.updated, result.rejected) == (2, 0, 6)
    assert result.processed_bytes == len(CSV_FILE.encode())
    assert rejected == CSV_REJECTED
    assert Profile.objects.count() == 2
    ana = profile_resolve(namespace="email", value="ana@example.com")
    assert ana.attributes == {"firstName": "Ana", "loyalty": {"tier": "gold"}}
    assert (ana.locale, ana.time_zone) == ("fr-CA", "America/Toronto")
    assert identities_of(ana) == [("email", "ana@example.com"), ("phone", "+14165550100")]
    consent = Consent.objects.get(profile=ana)
    assert (consent.channel, consent.status, consent.source) == ("email", "opted_in", "import")
    hana = profile_resolve(namespace="email", value="hana@example.com")
    # empty cells are skipped, not written as ""
    assert (hana.attributes, hana.locale, hana.time_zone) == ({}, "", "")
    assert not Consent.objects.filter(profile=hana).exists()


def test_jsonl_good_and_bad_rows(tmp_path: Path) -> None:
    # given: ana exists already
    profile_upsert(
        data=profile_input_parse(
            namespace="email", value="ana@example.com", data={"attributes": {"points": 3}}
        )
    )

    # when a JSON-lines file with 3 good lines, 5 bad lines and blank lines is imported
    result, rejected = run_import(tmp_path, JSONL_FILE, file_format="jsonl")

    # then line numbers count every physical line, blank ones skipped
    assert (result.created, result.updated, result.rejected) == (2, 1, 5)
    assert rejected == JSONL_REJECTED
    ana = profile_resolve(namespace="email", value="ana@example.com")
    assert ana.attributes == {"points": 3, "loyalty": {"tier": "gold"}}
    bo = profile_resolve(namespace="phone", value="+14165550101")
    assert identities_of(bo) == [("email", "bo@example.com"), ("phone", "+14165550101")]
    dee = profile_resolve(namespace="email", value="dee@example.com")
    assert dee.time_zone == "Europe/Paris"
    assert Profile.objects.count() == 3


def consent_of(email: str) -> dict[str, str]:
    profile = profile_resolve(namespace="email", value=email)
    assert profile is not None
    return dict(profile.consents.values_list("channel", "status"))


def test_csv_consent_takes_yes_no_true_false_1_0_in_any_case(tmp_path: Path) -> None:
    # given consent written the way spreadsheets write it
    text = "\n".join(
        [
            "email,consent.email,consent.sms,consent.push",
            "a@example.com,Yes,no,TRUE",
            "b@example.com,false,1,0",
            "c@example.com,OPTED_IN,Unknown,opted_out",
            "d@example.com,y,,",
            "",
        ]
    )

    # when it is imported
    result, rejected = run_import(tmp_path, text)

    # then yes/true/1 opt in, no/false/0 opt out, the stored values take any case,
    # and anything else is rejected naming what is accepted
    assert (result.created, result.updated, result.rejected) == (3, 0, 1)
    assert consent_of("a@example.com") == {
        "email": "opted_in",
        "sms": "opted_out",
        "push": "opted_in",
    }
    assert consent_of("b@example.com") == {
        "email": "opted_out",
        "sms": "opted_in",
        "push": "opted_out",
    }
    assert consent_of("c@example.com") == {
        "email": "opted_in",
        "sms": "unknown",
        "push": "opted_out",
    }
    assert rejected == [
        ["line", "reason", "row"],
        [
            "5",
            "“y” is not a consent value for email: use opted_in, opted_out, unknown, "
            "or yes/no, true/false, 1/0 (any case).",
            "d@example.com,y,,",
        ],
    ]
    assert not Identity.objects.filter(value="d@example.com").exists()


def test_jsonl_consent_takes_the_same_words(tmp_path: Path) -> None:
    text = "\n".join(
        [
            '{"email": "a@example.com", "consent": {"email": "YES", "sms": "0"}}',
            '{"email": "b@example.com", "consent": {"email": true, "sms": 0}}',
            '{"email": "c@example.com", "consent": {"email": 2}}',
            "",
        ]
    )

    result, rejected = run_import(tmp_path, text, file_format="jsonl")

    assert (result.created, result.updated, result.rejected) == (2, 0, 1)
    assert consent_of("a@example.com") == {"email": "opted_in", "sms": "opted_out"}
    assert consent_of("b@example.com") == {"email": "opted_in", "sms": "opted_out"}
    assert rejected[1][:2] == [
        "3",
        "“2” is not a consent value for email: use opted_in, opted_out, unknown, "
        "or yes/no, true/false, 1/0 (any case).",
    ]
    assert not Identity.objects.filter(value="c@example.com").exists()


def test_reimport_updates_instead_of_creating(tmp_path: Path) -> None:
    # given the CSV was imported once
    run_import(tmp_path, CSV_FILE)
    before = set(Profile.objects.values_list("pk", flat=True))

    # when it is imported again
    result, rejected = run_import(tmp_path, CSV_FILE)

    # then the same profiles are updated and the same rows rejected
    assert (result.created, result.updated, result.rejected) == (0, 2, 6)
    assert rejected == CSV_REJECTED
    assert set(Profile.objects.values_list("pk", flat=True)) == before
    assert Identity.objects.count() == 3


def test_dotted_columns_nest_and_merge_deeply(tmp_path: Path) -> None:
    # given a profile with nested attributes
    profile, _ = profile_upsert(
        data=profile_input_parse(
            namespace="email",
            value="ana@example.com",
            data={
                "attributes": {"loyalty": {"tier": "bronze", "points": 10}, "firstName": "Old"},
                "locale": "en",
            },
        )
    )

    # when a CSV changes one nested value and leaves other cells empty
    text = "email,loyalty.tier,loyalty.card.number,firstName,locale\nana@example.com,gold,42,,\n"
    result, _ = run_import(tmp_path, text)

    # then the nested objects merge, and empty cells leave stored values alone
    assert (result.created, result.updated) == (0, 1)
    profile.refresh_from_db()
    assert profile.attributes == {
        "loyalty": {"tier": "gold", "points": 10, "card": {"number": "42"}},
        "firstName": "Old",
    }
    assert profile.locale == "en"


def test_batch_boundaries_and_duplicate_identity_in_a_batch(tmp_path: Path) -> None:
    # given 5 rows in batches of 2, where the 4th repeats the 3rd's identity (same batch)
    text = (
        "email,n,seen.first,seen.second\n"
        "a@example.com,1,,\n"
        "b@example.com,2,,\n"
        "c@example.com,3,yes,\n"
        "C@example.com,4,,yes\n"
        "d@example.com,5,,\n"
    )
    progress: list[ImportProgress] = []

    # when it is imported
    result, rejected = run_import(tmp_path, text, batch_size=2, progress=progress)

    # then c is created once and updated by its second row, merging both rows
    assert (result.created, result.updated, result.rejected) == (4, 1, 0)
    assert rejected == []
    assert Profile.objects.count() == 4
    c = profile_resolve(namespace="email", value="c@example.com")
    assert c.attributes == {"n": "4", "seen": {"first": "yes", "second": "yes"}}
    # progress after each batch of 2 and at the end
    lines = text.encode().splitlines(keepends=True)
    assert [(p.processed_bytes, p.created, p.updated) for p in progress] == [
        (sum(map(len, lines[:3])), 2, 0),
        (sum(map(len, lines[:5])), 3, 1),
        (len(text.encode()), 4, 1),
    ]


def test_duplicate_identity_across_batches(tmp_path: Path) -> None:
    text = "email,n\na@example.com,1\nb@example.com,2\na@example.com,3\n"
    result, _ = run_import(tmp_path, text, batch_size=2)
    assert (result.created, result.updated) == (2, 1)
    a = profile_resolve(namespace="email", value="a@example.com")
    assert a.attributes == {"n": "3"}


def test_imported_profiles_join_a_static_audience(tmp_path: Path) -> None:
    # given a static audience with one member already
    audience = Audience.objects.create(name="Imported", kind=Audience.Kind.STATIC)
    old, _ = profile_upsert(
        data=profile_input_parse(namespace="email", value="a@example.com", data={})
    )
    AudienceMember.objects.create(audience=audience, profile=old)

    # when rows for that member, a new person (twice) and a bad row are imported
    text = "email\na@example.com\nb@example.com\nb@example.com\nbad\n"
    result, _ = run_import(tmp_path, text, batch_size=2, audience=audience)

    # then every imported profile is a member, once
    assert (result.created, result.updated, result.rejected) == (1, 2, 1)
    members = AudienceMember.objects.filter(audience=audience)
    assert sorted(m.profile.email_address for m in members) == ["a@example.com", "b@example.com"]


def test_rule_based_audience_is_refused(tmp_path: Path) -> None:
    audience = Audience.objects.create(name="Rules", kind=Audience.Kind.RULES)
    with pytest.raises(InvalidInput, match="static audience"):
        run_import(tmp_path, "email\na@example.com\n", audience=audience)
    assert Profile.objects.count() == 0


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("firstName,phone", "The file has no “email” column (the identity)."),
        ("email,a,a", "The column “a” appears twice."),
        ("email,consent.fax", "“consent.fax”: consent columns are consent.email"),
        ("email,identities.nope", "“identities.nope”: unknown identity namespace."),
        ("email,loyalty,loyalty.tier", "“loyalty” and “loyalty.tier” cannot both be columns."),
        ("email,a..b", "“a..b” is not a valid attribute name."),
    ],
)
def test_bad_header_stops_the_import(tmp_path: Path, header: str, message: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        run_import(tmp_path, f"{header}\nx@example.com,1,2\n")
    assert raised.value.message.startswith(message)
    assert Profile.objects.count() == 0


def test_empty_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"The file is empty\."):
        run_import(tmp_path, "")


def test_bom_crlf_quoted_newlines_and_bad_bytes(tmp_path: Path) -> None:
    # given an Excel-style CSV: BOM, CRLF, a quoted cell over two lines, a line not in UTF-8
    data = (
        b"\xef\xbb\xbfemail,note\r\n"
        b'a@example.com,"two\r\nlines"\r\n'
        b"b@example.com,caf\xe9\r\n"
        b'c@example.com,"unclosed\r\n'
    )
    rejected = RejectedRows(tmp_path / "rejected.csv")

    # when it is imported
    result = profiles_import(
        stream=io.BytesIO(data),
        file_format="csv",
        namespace=IdentityNamespace.objects.get(code="email"),
        rejected=rejected,
    )
    rejected.close()

    # then the multi-line record counts as one row starting on line 2
    assert (result.created, result.updated, result.rejected) == (1, 0, 2)
    a = profile_resolve(namespace="email", value="a@example.com")
    assert a.attributes == {"note": "two\r\nlines"}
    with (tmp_path / "rejected.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows == [
        ["line", "reason", "row"],
        ["4", "The line is not valid UTF-8.", "b@example.com,caf\ufffd"],
        ["5", "Not valid CSV: unexpected end of data", 'c@example.com,"unclosed'],
    ]


def test_phone_namespace_import(tmp_path: Path) -> None:
    text = "phone,identities.email\n+1 416 555 0100,Ana@Example.com\n"
    result, _ = run_import(tmp_path, text, namespace="phone")
    assert (result.created, result.rejected) == (1, 0)
    profile = profile_resolve(namespace="phone", value="+14165550100")
    assert (profile.email_address, profile.mobile_number) == ("ana@example.com", "+14165550100")


@pytest.mark.parametrize(
    ("name", "expected"),
    [("people.csv", "csv"), ("People.JSONL", "jsonl"), ("x.ndjson", "jsonl")],
)
def test_format_from_extension(name: str, expected: str) -> None:
    assert import_format_guess(name) == expected


def test_unknown_extension_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"name it \.csv or \.jsonl"):
        import_format_guess("people.xlsx")


def test_planner_statistics_refreshed_as_the_tables_grow(tmp_path: Path) -> None:
    # given a file of 5 profiles, imported one row per batch
    lines = ["email"] + [f"p{i}@example.com" for i in range(5)]

    # when it is imported
    with CaptureQueriesContext(connection) as queries:
        result, _rejected = run_import(tmp_path, "\n".join(lines), batch_size=1)

    # then PostgreSQL's statistics are refreshed after batches 1, 2 and 4 only, SQLite's never
    analyzes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("ANALYZE")]
    expected = 3 if connection.vendor == "postgresql" else 0
    assert (
        analyzes == ["ANALYZE audiences_profile, audiences_identity, audiences_consent"] * expected
    )
    assert result.created == 5


def test_reimport_of_unchanged_profiles_does_not_rewrite_them(tmp_path: Path) -> None:
    # given the CSV was imported once
    run_import(tmp_path, CSV_FILE)
    before = dict(Profile.objects.values_list("pk", "updated_at"))

    # when the same file is imported again
    with CaptureQueriesContext(connection) as queries:
        result, _rejected = run_import(tmp_path, CSV_FILE)

    # then the profiles are found but not written: no UPDATE of a profile, same updated_at
    assert result.updated == 2
    assert not [q for q in queries.captured_queries if 'UPDATE "audiences_profile"' in q["sql"]]
    assert dict(Profile.objects.values_list("pk", "updated_at")) == before
