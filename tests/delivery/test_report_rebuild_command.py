"""``manage.py report_rebuild``: check, then repair, a campaign's rollups."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from delivery.models import ReportCounter
from tests.delivery.report_helpers import send_until_final, two_locale_campaign
from tests.delivery.sending_helpers import accept_unitary, recipient, use_fake_transport

pytestmark = pytest.mark.django_db


def test_check_finds_a_difference_and_rebuild_repairs_it(live_campaign, monkeypatch) -> None:
    # given a sent campaign whose "sent" rollup was lost
    use_fake_transport(monkeypatch)
    campaign = two_locale_campaign(live_campaign)
    messages = accept_unitary(campaign, recipient("a@example.com"), recipient("b@example.com"))
    send_until_final(messages)
    ReportCounter.objects.filter(metric="sent").delete()

    # when it is checked, rebuilt and checked again
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 campaigns' rollups differ"):
        call_command("report_rebuild", str(campaign.pk), "--check", stdout=out)
    call_command("report_rebuild", str(campaign.pk), stdout=out)
    call_command("report_rebuild", "--check", stdout=out)

    # then the difference was named, and is gone
    lines = out.getvalue().splitlines()
    assert lines[0] == f"{campaign.pk} {campaign.name}: 1 differences"
    assert lines[1].endswith("sent : stored 0, rows 2")
    assert lines[2] == f"{campaign.pk} {campaign.name}: 2 rollups written"
    assert lines[3] == f"{campaign.pk} {campaign.name}: exact"
    assert ReportCounter.objects.get(metric="sent").count == 2


def test_a_bad_since_or_campaign_is_refused() -> None:
    with pytest.raises(CommandError, match="time zone"):
        call_command("report_rebuild", "--since", "2026-01-01T00:00")
    with pytest.raises(CommandError, match="name no campaign"):
        call_command("report_rebuild", "00000000-0000-0000-0000-000000000000")
