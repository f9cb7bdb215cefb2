"""The profile import admin: upload, background run, progress, rejected-rows download."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from audiences import tasks
from audiences.models import Audience, AudienceMember, IdentityNamespace, Profile, ProfileImport
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CSV_FILE = b"email,tier\na@example.com,gold\nnope,silver\nb@example.com,\n"


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def admin_client_(admin_user_obj: User) -> Client:
    client = Client()
    client.force_login(admin_user_obj)
    return client


def queued_import(content: bytes = CSV_FILE, name: str = "people.csv") -> ProfileImport:
    profile_import = ProfileImport(
        namespace=IdentityNamespace.objects.get(code="email"), total_bytes=len(content)
    )
    profile_import.file.save(name, ContentFile(content), save=False)
    profile_import.save()
    return profile_import


def test_upload_queues_an_import_that_the_task_runs(
    admin_client_: Client,
    admin_user_obj: User,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given a static audience, and the broker replaced by a list
    audience = Audience.objects.create(name="Imported", kind=Audience.Kind.STATIC)
    sent: list[str] = []
    monkeypatch.setattr(tasks.profile_import_run_task, "delay", sent.append)

    # when a marketer uploads a CSV
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_.post(
            reverse("admin:audiences_profileimport_add"),
            {
                "file": SimpleUploadedFile("people.csv", CSV_FILE, content_type="text/csv"),
                "namespace": IdentityNamespace.objects.get(code="email").pk,
                "audience": audience.pk,
            },
        )

    # then the import is queued, enqueued after commit, and the browser goes to its page
    profile_import = ProfileImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "admin:audiences_profileimport_change", args=[profile_import.pk]
    )
    assert (profile_import.status, profile_import.total_bytes) == ("queued", len(CSV_FILE))
    assert profile_import.created_by == admin_user_obj
    assert sent == [str(profile_import.pk)]
    assert Profile.objects.count() == 0

    # when the worker runs the task, twice (a redelivery)
    assert tasks.profile_import_run_task(str(profile_import.pk)) is True
    assert tasks.profile_import_run_task(str(profile_import.pk)) is False

    # then it ran once: counts, rejected rows, audience members
    profile_import.refresh_from_db()
    assert profile_import.status == "partially_succeeded"
    assert (
        profile_import.created_count,
        profile_import.updated_count,
        profile_import.rejected_count,
    ) == (2, 0, 1)
    assert profile_import.processed_bytes == len(CSV_FILE)
    assert profile_import.finished_at is not None
    assert Profile.objects.count() == 2
    assert AudienceMember.objects.filter(audience=audience).count() == 2
    with profile_import.rejected_file.open("rb") as handle:
        assert handle.read().decode() == (
            "line,reason,row\r\n"
            "3,“nope” is not a valid email address: An email address must have an @-sign.,"
            '"nope,silver"\r\n'
        )


def test_upload_refuses_other_file_types_and_rule_based_audiences(admin_client_: Client) -> None:
    rules = Audience.objects.create(name="Rules", kind=Audience.Kind.RULES)
    response = admin_client_.post(
        reverse("admin:audiences_profileimport_add"),
        {
            "file": SimpleUploadedFile("people.xlsx", b"x"),
            "namespace": IdentityNamespace.objects.get(code="email").pk,
            "audience": rules.pk,
        },
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"file", "audience"}
    assert ProfileImport.objects.count() == 0


def test_status_view_reports_progress(admin_client_: Client) -> None:
    # given an import half-way through
    profile_import = queued_import()
    ProfileImport.objects.filter(pk=profile_import.pk).update(
        status="running", total_bytes=200, processed_bytes=100, created_count=1
    )

    # when the progress bar polls
    response = admin_client_.get(
        reverse("admin:audiences_profileimport_status", args=[profile_import.pk])
    )

    # then it gets the percentage and counts
    assert response.status_code == 200
    assert json.loads(response.content) == {
        "status": "running",
        "statusLabel": "Running",
        "percent": 50,
        "processedBytes": 100,
        "totalBytes": 200,
        "created": 1,
        "updated": 0,
        "rejected": 0,
        "error": "",
        "finished": False,
    }


def test_change_and_list_pages_show_a_polling_progress_bar(admin_client_: Client) -> None:
    profile_import = queued_import()
    status_url = reverse("admin:audiences_profileimport_status", args=[profile_import.pk])
    for url in (
        reverse("admin:audiences_profileimport_change", args=[profile_import.pk]),
        reverse("admin:audiences_profileimport_changelist"),
    ):
        page = admin_client_.get(url).content.decode()
        assert (
            f'<progress max="100" value="0" data-status="queued" data-status-url="{status_url}">'
            in page
        )
        assert "audiences/import_progress.js" in page


def test_finished_import_shows_counts_and_download_link(admin_client_: Client) -> None:
    # given an import that ran
    profile_import = queued_import()
    tasks.profile_import_run_task(str(profile_import.pk))

    # when its page is opened
    page = admin_client_.get(
        reverse("admin:audiences_profileimport_change", args=[profile_import.pk])
    ).content.decode()

    # then the bar is full and no longer polls, and the rejected rows can be downloaded
    download = reverse("admin:audiences_profileimport_rejected", args=[profile_import.pk])
    assert (
        '<progress max="100" value="100" data-status="partially_succeeded" data-status-url="">'
        in page
    )
    assert f'<a href="{download}">Download (1 rows)</a>' in page
    response = admin_client_.get(download)
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="people-rejected.csv"'
    assert b"".join(response.streaming_content).startswith(b"line,reason,row\r\n3,")  # type: ignore[attr-defined]


def test_download_needs_permission(client: Client) -> None:
    # given an import with rejected rows, and a staff user without import permissions
    profile_import = queued_import()
    tasks.profile_import_run_task(str(profile_import.pk))
    download = reverse("admin:audiences_profileimport_rejected", args=[profile_import.pk])
    status = reverse("admin:audiences_profileimport_status", args=[profile_import.pk])
    user = UserFactory.create(username="clerk")
    client.force_login(user)

    # then both the download and the status are refused
    assert client.get(download).status_code == 403
    assert client.get(status).status_code == 403

    # when the user may view imports, the download works
    user.user_permissions.add(Permission.objects.get(codename="view_profileimport"))
    user = User.objects.get(pk=user.pk)
    client.force_login(user)
    assert client.get(download).status_code == 200


def test_anonymous_download_goes_to_login(client: Client) -> None:
    profile_import = queued_import()
    response = client.get(
        reverse("admin:audiences_profileimport_rejected", args=[profile_import.pk])
    )
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_bad_file_fails_the_import_in_words(admin_client_: Client) -> None:
    profile_import = queued_import(b"mail\na@example.com\n")
    tasks.profile_import_run_task(str(profile_import.pk))
    profile_import.refresh_from_db()
    assert profile_import.status == "failed"
    assert profile_import.error == "The file has no “email” column (the identity)."
    assert not profile_import.rejected_file
    assert Profile.objects.count() == 0
    response = admin_client_.get(
        reverse("admin:audiences_profileimport_rejected", args=[profile_import.pk])
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    "name", ["admin:audiences_profileimport_status", "admin:audiences_profileimport_rejected"]
)
def test_a_malformed_import_id_is_404(admin_client_: Client, name: str) -> None:
    # given an import with rejected rows
    profile_import = queued_import()
    tasks.profile_import_run_task(str(profile_import.pk))

    # when its progress or its rejected rows are asked for with an id that is not a UUID
    response = admin_client_.get(reverse(name, args=["not-a-uuid"]))

    # then it is not found (not a redirect to a change page that does not exist)
    assert response.status_code == 404


def upload(client: Client, content: bytes, name: str = "people.csv") -> ProfileImport:
    response = client.post(
        reverse("admin:audiences_profileimport_add"),
        {
            "file": SimpleUploadedFile(name, content, content_type="text/csv"),
            "namespace": IdentityNamespace.objects.get(code="email").pk,
        },
    )
    assert response.status_code == 302
    return ProfileImport.objects.get(pk=response["Location"].split("/")[-3])


def test_list_and_progress_page_say_how_each_import_ended(admin_client_: Client) -> None:
    # given imports that ended each way
    all_good = queued_import(b"email\na@example.com\n", name="good.csv")
    some_bad = queued_import(b"email\nb@example.com\nnope\n", name="mixed.csv")
    all_bad = queued_import(b"email\nnope\nnot-either\n", name="bad.csv")
    for profile_import in (all_good, some_bad, all_bad):
        tasks.profile_import_run_task(str(profile_import.pk))

    # when the list and each import's page are opened
    listing = admin_client_.get(reverse("admin:audiences_profileimport_changelist"))
    pages = {
        p.pk: admin_client_.get(
            reverse("admin:audiences_profileimport_change", args=[p.pk])
        ).content.decode()
        for p in (all_good, some_bad, all_bad)
    }

    # then each says in words how it ended; the one whose every row was rejected failed
    rows = {row.pk: row.status for row in listing.context["cl"].result_list}
    assert rows == {
        all_good.pk: "succeeded",
        some_bad.pk: "partially_succeeded",
        all_bad.pk: "failed",
    }
    html = listing.content.decode()
    assert '<td class="field-status">Succeeded</td>' in html
    assert '<td class="field-status">Succeeded with rejected rows</td>' in html
    assert '<td class="field-status">Failed</td>' in html
    assert '<div class="readonly">Succeeded</div>' in pages[all_good.pk]
    assert '<div class="readonly">Succeeded with rejected rows</div>' in pages[some_bad.pk]
    assert '<div class="readonly">Failed</div>' in pages[all_bad.pk]
    assert "All 2 rows were rejected; download the rejected rows to see why." in pages[all_bad.pk]
    status = admin_client_.get(reverse("admin:audiences_profileimport_status", args=[all_bad.pk]))
    assert (status.json()["statusLabel"], status.json()["finished"]) == ("Failed", True)


def test_import_page_title_shows_the_uploaded_name_not_the_storage_path(
    admin_client_: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the same file name uploaded twice (storage renames the second copy)
    monkeypatch.setattr(tasks.profile_import_run_task, "delay", lambda import_id: None)
    upload(admin_client_, b"email\n")
    second = upload(admin_client_, b"email\n")
    assert str(second.file.name).startswith("imports/people_")

    # when the second import's page is opened
    response = admin_client_.get(reverse("admin:audiences_profileimport_change", args=[second.pk]))

    # then its title, heading and file column show the name that was uploaded
    page = response.content.decode()
    assert "<title>people.csv (Queued) | View profile import | Clarion</title>" in page
    assert "<h2>people.csv (Queued)</h2>" in page
    assert '<div class="readonly">people.csv</div>' in page
    assert "imports/" not in page


def test_the_upload_form_names_the_accepted_consent_values(admin_client_: Client) -> None:
    page = admin_client_.get(reverse("admin:audiences_profileimport_add")).content.decode()

    assert (
        "Consent columns take opted_in, opted_out, unknown, or yes/no, true/false, 1/0 "
        "(any case)." in page
    )


def test_deleting_an_import_in_the_admin_deletes_its_files(
    admin_client_: Client, django_capture_on_commit_callbacks: Any
) -> None:
    # given an import with an uploaded file and a rejected-rows file
    profile_import = queued_import()
    tasks.profile_import_run_task(str(profile_import.pk))
    profile_import.refresh_from_db()
    files = [Path(profile_import.file.path), Path(profile_import.rejected_file.path)]
    assert [f.exists() for f in files] == [True, True]

    # when it is deleted from its page
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_.post(
            reverse("admin:audiences_profileimport_delete", args=[profile_import.pk]),
            {"post": "yes"},
        )

    # then the row and both files are gone
    assert response.status_code == 302
    assert ProfileImport.objects.count() == 0
    assert [f.exists() for f in files] == [False, False]


def test_bulk_deleting_imports_in_the_changelist_deletes_their_files(
    admin_client_: Client, django_capture_on_commit_callbacks: Any
) -> None:
    # given two finished imports with files
    imports = [queued_import(), queued_import()]
    for profile_import in imports:
        tasks.profile_import_run_task(str(profile_import.pk))
        profile_import.refresh_from_db()
    files = [Path(f.path) for p in imports for f in (p.file, p.rejected_file)]
    assert all(f.exists() for f in files)

    # when both are deleted with the changelist's "delete selected" action
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_.post(
            reverse("admin:audiences_profileimport_changelist"),
            {
                "action": "delete_selected",
                "_selected_action": [str(p.pk) for p in imports],
                "post": "yes",
            },
        )

    # then the rows and every file are gone
    assert response.status_code == 302
    assert ProfileImport.objects.count() == 0
    assert [f.exists() for f in files] == [False] * 4
