"""seed_demo: the demo login, sender, live campaigns, audience and API key, created once."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from audiences.models import Audience, Consent, Profile
from campaigns.models import AuditEvent, Campaign, ChannelConfiguration, Status
from campaigns.preview import campaign_preview
from campaigns.services.demo import DEMO_CAMPAIGN, DEMO_NEWSLETTER, DEMO_SCOPES
from core.apikeys import api_key_authenticate, api_key_hash
from core.models import ApiKey

pytestmark = pytest.mark.django_db


def _seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _printed_secret(output: str) -> str:
    line = next(line for line in output.splitlines() if line.startswith("API key:"))
    return line.split()[2]


def test_first_run_creates_everything_and_prints_login_and_key() -> None:
    output = _seed()

    user = User.objects.get(username="demo")
    assert (user.username, user.is_superuser, user.is_staff) == ("demo", True, True)
    assert user.check_password("demo-clarion")
    assert "Login:    demo / demo-clarion" in output
    configuration = ChannelConfiguration.objects.get()
    assert (configuration.name, configuration.channel, configuration.from_email) == (
        "Demo email sender",
        "email",
        "shop@example.com",
    )
    campaign = Campaign.objects.get(name=DEMO_CAMPAIGN)
    assert (campaign.category, campaign.channel, campaign.status) == (
        "transactional",
        "email",
        Status.LIVE,
    )
    assert campaign.live_version is not None
    assert sorted(campaign.live_version.snapshot["content"]) == ["en", "fr"]
    secret = _printed_secret(output)
    key = ApiKey.objects.get()
    assert key.scopes == sorted(DEMO_SCOPES)
    assert key.key_hash == api_key_hash(secret)
    assert api_key_authenticate(secret) == key
    assert f"Bearer {secret}" in output
    assert str(campaign.pk) in output


def test_first_run_creates_a_marketer_and_an_approver_in_their_role_groups() -> None:
    output = _seed()

    logins = {
        user.username: (user.is_superuser, user.is_staff, [g.name for g in user.groups.all()])
        for user in User.objects.prefetch_related("groups").order_by("username")
    }
    assert logins == {
        "approver": (False, True, ["Approvers"]),
        "demo": (True, True, []),
        "marketer": (False, True, ["Marketers"]),
    }
    assert User.objects.get(username="marketer").check_password("demo-clarion")
    assert User.objects.get(username="approver").check_password("demo-clarion")
    assert "marketer / demo-clarion  (Marketers: authors campaigns)" in output
    assert "approver / demo-clarion  (Approvers: approves them)" in output


def test_demo_content_renders_with_the_sample_data_in_both_locales() -> None:
    _seed()
    campaign = Campaign.objects.get(name=DEMO_CAMPAIGN)
    profile = {"person": {"name": {"firstName": "Ana"}}}
    context = {"product": {"name": "Jackets"}}

    english = campaign_preview(campaign=campaign, locale="en", profile=profile, context=context)
    french = campaign_preview(campaign=campaign, locale="fr", profile=profile, context=context)

    assert english.parts["subject"] == "Thanks for your order, Ana"
    assert "Your Jackets is on its way." in english.parts["text"]
    assert french.parts["subject"] == "Merci pour votre commande, Ana"


def test_second_run_creates_nothing_and_shows_no_secret() -> None:
    first = _seed()
    events = AuditEvent.objects.count()

    second = _seed()

    assert "Demo data already present." in second
    assert _printed_secret(first) not in second
    assert "$CLARION_API_KEY" in second
    assert (
        User.objects.count(),
        ChannelConfiguration.objects.count(),
        Campaign.objects.count(),
        ApiKey.objects.count(),
        Audience.objects.count(),
        Profile.objects.count(),
    ) == (3, 1, 2, 1, 1, 1)
    assert AuditEvent.objects.count() == events


def test_demo_password_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_PASSWORD", "another-demo-pass")

    output = _seed()

    assert User.objects.get(username="demo").check_password("another-demo-pass")
    assert "Login:    demo / another-demo-pass" in output


def test_a_changed_password_is_kept_and_not_printed() -> None:
    _seed()
    user = User.objects.get(username="demo")
    user.set_password("changed-by-the-user-1")
    user.save()

    output = _seed()

    user.refresh_from_db()
    assert user.check_password("changed-by-the-user-1")
    assert "demo-clarion" not in output


def test_the_newsletter_is_live_for_an_opted_in_audience_and_printed_with_its_call() -> None:
    # when the demo data is seeded
    output = _seed()

    # then a live marketing campaign tracks and carries an unsubscribe link
    newsletter = Campaign.objects.get(name=DEMO_NEWSLETTER)
    assert (newsletter.category, newsletter.status) == ("marketing", Status.LIVE)
    assert newsletter.live_version is not None
    assert "{{ unsubscribe_url }}" in newsletter.live_version.snapshot["content"]["en"]["html"]
    # for an audience of one person who opted in to email
    audience = Audience.objects.get()
    assert newsletter.audience_id == audience.pk
    [member] = audience.members.all()
    assert member.email_address == "ana@example.com"
    consent = Consent.objects.get(profile=member, channel="email")
    assert consent.status == Consent.Status.OPTED_IN
    # and the instructions give its audience call and both report pages
    assert "/api/v1/executions/audience" in output
    assert f'"campaignId": "{newsletter.pk}"' in output
    assert f"/admin/campaigns/campaign/{newsletter.pk}/report/" in output
