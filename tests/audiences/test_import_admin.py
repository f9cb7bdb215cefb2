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
    assert profile_import.status == "succeeded"
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
    assert '<progress max="100" value="100" data-status="succeeded" data-status-url="">' in page
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
