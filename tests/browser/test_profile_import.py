"""A marketer imports profiles from a CSV file in the browser and finds one of them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from playwright.sync_api import FilePayload, Page, expect
from pytest_django.fixtures import Settings as SettingsWrapper
from pytest_django.live_server_helper import LiveServer

from audiences.models import Consent, IdentityNamespace, Profile, ProfileImport
from audiences.services.imports import profile_import_run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"

# Five good rows, then two bad ones (lines 7 and 8 of the file).
CSV_TEXT = (
    "email,tier,loyalty.points,consent.email\n"
    "Dana@Example.com,gold,120,opted_in\n"
    "eli@example.com,silver,40,opted_out\n"
    "fay@example.com,gold,,\n"
    "gus@example.com,bronze,5,opted_in\n"
    "hal@example.com,silver,60,unknown\n"
    "not-an-email,gold,10,opted_in\n"
    "ivy@example.com,gold,30,maybe\n"
)


def _screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def test_upload_a_csv_watch_it_finish_download_rejected_rows_and_find_a_profile(
    page: Page, live_server: LiveServer, settings: SettingsWrapper, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"  # the upload and its rejected rows
    # The task is queued on commit; eager, it runs in the live server's request thread.
    settings.CELERY_TASK_ALWAYS_EAGER = True
    User.objects.create_superuser("noor", "noor@example.com", "import-pass-1")
    page.set_default_timeout(15_000)

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "noor")
    page.fill("#id_password", "import-pass-1")
    page.click("input[type=submit]")
    expect(page.locator("#user-tools")).to_contain_text("noor")

    # Profile imports › Add: the file and the identity namespace.
    page.click(".clarion-navigation tr.model-profileimport a.addlink")
    upload: FilePayload = {
        "name": "spring.csv",
        "mimeType": "text/csv",
        "buffer": CSV_TEXT.encode(),
    }
    page.set_input_files("#id_file", files=[upload])
    page.select_option("#id_namespace", label="email")
    page.click("input[name=_save]")

    # The import's own page, with its progress.
    expect(page.locator(".messagelist")).to_contain_text(
        "The import is queued; this page shows its progress."
    )
    profile_import = ProfileImport.objects.get()
    assert page.url.endswith(f"/admin/audiences/profileimport/{profile_import.pk}/change/")
    bar = page.locator(".field-progress progress")
    expect(bar).to_have_attribute("data-status", "partially_succeeded")
    expect(bar).to_have_attribute("value", "100")
    expect(page.locator(".field-progress .clarion-import-percent")).to_have_text("100%")
    expect(page.locator(".field-status .readonly")).to_have_text("Succeeded with rejected rows")
    expect(page.locator("#content h2").first).to_have_text(
        "spring.csv (Succeeded with rejected rows)"
    )
    expect(page.locator(".field-created_count .readonly")).to_have_text("5")
    expect(page.locator(".field-updated_count .readonly")).to_have_text("0")
    expect(page.locator(".field-rejected_count .readonly")).to_have_text("2")
    expect(page.locator(".field-file_name .readonly")).to_have_text("spring.csv")
    # What the bar would poll says the same.
    status = page.request.get(
        f"{live_server.url}/admin/audiences/profileimport/{profile_import.pk}/status/"
    ).json()
    assert {k: status[k] for k in ("status", "finished", "created", "updated", "rejected")} == {
        "status": "partially_succeeded",
        "finished": True,
        "created": 5,
        "updated": 0,
        "rejected": 2,
    }
    _screenshot(page, "profile-import-finished.png")

    # The rejected rows, as a CSV download: line, reason, the row as written.
    link = page.locator(".field-rejected_rows a")
    expect(link).to_have_text("Download (2 rows)")
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == "spring-rejected.csv"
    rejected = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert rejected == [
        ["line", "reason", "row"],
        [
            "7",
            "“not-an-email” is not a valid email address: An email address must have an @-sign.",
            "not-an-email,gold,10,opted_in",
        ],
        [
            "8",
            "“maybe” is not a consent value for email: use opted_in, opted_out, unknown, "
            "or yes/no, true/false, 1/0 (any case).",
            "ivy@example.com,gold,30,maybe",
        ],
    ]
    assert Profile.objects.count() == 5

    # Profiles: search by an imported email written in upper case, open the profile.
    page.goto(f"{live_server.url}/admin/audiences/profile/")
    page.fill("#searchbar", "ELI@EXAMPLE.COM")
    page.press("#searchbar", "Enter")
    results = page.locator("#result_list tbody tr")
    expect(results).to_have_count(1)
    expect(results.first.locator(".field-primary_identity")).to_have_text("email:eli@example.com")
    results.first.locator(".field-primary_identity a").click()

    pretty = page.locator(".field-attributes_pretty pre.clarion-json")
    expected = {"loyalty": {"points": "40"}, "tier": "silver"}
    expect(pretty).to_have_text(json.dumps(expected, indent=2, sort_keys=True))
    assert pretty.inner_text().splitlines()[:3] == ["{", '  "loyalty": {', '    "points": "40"']
    eli = Profile.objects.get(email_address="eli@example.com")
    assert eli.attributes == expected
    assert list(eli.consents.values_list("channel", "status")) == [
        ("email", Consent.Status.OPTED_OUT)
    ]
    _screenshot(page, "profile-imported.png")


def test_the_import_page_follows_a_running_import_until_it_finishes(
    page: Page, live_server: LiveServer, settings: SettingsWrapper, tmp_path: Path
) -> None:
    # No eager Celery here: the import waits in the queue, and the test plays the worker.
    settings.MEDIA_ROOT = tmp_path / "media"
    content = CSV_TEXT.encode()
    profile_import = ProfileImport(
        namespace=IdentityNamespace.objects.get(code="email"), total_bytes=len(content)
    )
    profile_import.file.save("spring.csv", ContentFile(content), save=False)
    profile_import.save()
    User.objects.create_superuser("noor", "noor@example.com", "import-pass-1")
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "noor")
    page.fill("#id_password", "import-pass-1")
    page.click("input[type=submit]")
    expect(page.locator("#user-tools")).to_contain_text("noor")

    page.goto(f"{live_server.url}/admin/audiences/profileimport/{profile_import.pk}/change/")
    bar = page.locator(".field-progress progress")
    expect(bar).to_have_attribute("data-status", "queued")
    expect(page.locator(".field-status .readonly")).to_have_text("Queued")

    # Halfway: the bar and its label follow the counts the status view reports.
    ProfileImport.objects.filter(pk=profile_import.pk).update(
        processed_bytes=len(content) // 2, created_count=2, rejected_count=1
    )
    expect(page.locator(".field-progress .clarion-import-percent")).to_have_text("50% · 2 / 0 / 1")
    expect(bar).to_have_attribute("value", "50")

    # The worker finishes: the page reloads by itself with the final counts.
    assert profile_import_run(import_id=profile_import.pk)
    expect(page.locator(".field-status .readonly")).to_have_text("Succeeded with rejected rows")
    expect(bar).to_have_attribute("data-status", "partially_succeeded")
    expect(bar).to_have_attribute("data-status-url", "")
    expect(page.locator(".field-created_count .readonly")).to_have_text("5")
    expect(page.locator(".field-rejected_count .readonly")).to_have_text("2")
    expect(page.locator(".field-rejected_rows a")).to_have_text("Download (2 rows)")
