"""Demo data for a first run: three logins (a superuser, a marketer and an approver, in
the role groups of core/roles.py), an email sender, two live campaigns (a transactional
order confirmation, and a marketing newsletter for an audience of one opted-in person,
with an unsubscribe link) and an API key.

``demo_seed`` is idempotent: it creates what is missing and leaves what exists
alone (a changed password is not reset, a stopped demo campaign is not
restarted). An API key's secret exists only at creation, so it is returned
only by the run that creates the key.
"""

from __future__ import annotations

import json
import shlex
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import transaction

from audiences.models import Audience
from audiences.profile_input import profile_input_parse
from audiences.services.audiences import audience_add_members, audience_create
from audiences.services.profiles import profile_upsert
from campaigns.models import Campaign, ChannelConfiguration, Status
from campaigns.services.authoring import campaign_create
from campaigns.services.lifecycle import (
    approval_required,
    campaign_activate,
    campaign_submit_for_review,
)
from core.actors import Actor
from core.apikeys import api_key_create
from core.channels import Channel
from core.models import ApiKey
from core.roles import APPROVERS, MARKETERS, roles_ensure

DEMO_USERNAME = "demo"
# Two more demo logins, one per role (core/roles.py), with the same demo password.
DEMO_MARKETER = "marketer"
DEMO_APPROVER = "approver"
DEMO_DEFAULT_PASSWORD = "demo-clarion"  # noqa: S105 (a documented local demo login)
DEMO_CHANNEL_CONFIGURATION = "Demo email sender"
DEMO_CAMPAIGN = "Demo order confirmation"
DEMO_NEWSLETTER = "Demo newsletter"
DEMO_AUDIENCE = "Demo subscribers"
DEMO_SUBSCRIBER = "ana@example.com"
DEMO_API_KEY = "Demo key"
DEMO_SCOPES = (
    "executions:trigger",
    "executions:read",
    "campaigns:read",
    "campaigns:write",
    "profiles:read",
    "profiles:write",
)

DEMO_CAMPAIGN_DATA: dict[str, Any] = {
    "name": DEMO_CAMPAIGN,
    "description": "Created by seed_demo: a transactional email to try the trigger API with.",
    "tags": ["demo"],
    "category": "transactional",
    "channel": "email",
    "tracking": {"opens": True, "clicks": True},
    "audience": {"identityNamespace": "email", "createNewProfiles": True},
    "defaultLocale": "en",
    "content": {
        "en": {
            "subject": "Thanks for your order, {{ profile.person.name.firstName }}",
            "preheader": "Your {{ context.product.name }} is on its way",
            "html": (
                "<p>Hi {{ profile.person.name.firstName }},</p>"
                "<p>Your {{ context.product.name }} is on its way.</p>"
                '<p><a href="https://shop.example/orders">Track your order</a></p>'
            ),
            "text": (
                "Hi {{ profile.person.name.firstName }},\n\n"
                "Your {{ context.product.name }} is on its way.\n"
                "Track your order: https://shop.example/orders\n"
            ),
        },
        "fr": {
            "subject": "Merci pour votre commande, {{ profile.person.name.firstName }}",
            "preheader": "Votre {{ context.product.name }} est en route",
            "html": (
                "<p>Bonjour {{ profile.person.name.firstName }},</p>"
                "<p>Votre {{ context.product.name }} est en route.</p>"
                '<p><a href="https://shop.example/orders">Suivre votre commande</a></p>'
            ),
            "text": (
                "Bonjour {{ profile.person.name.firstName }},\n\n"
                "Votre {{ context.product.name }} est en route.\n"
                "Suivre votre commande : https://shop.example/orders\n"
            ),
        },
    },
}


DEMO_NEWSLETTER_DATA: dict[str, Any] = {
    "name": DEMO_NEWSLETTER,
    "description": (
        "Created by seed_demo: a marketing email to an audience, with open and click "
        "tracking and an unsubscribe link."
    ),
    "tags": ["demo"],
    "category": "marketing",
    "channel": "email",
    "tracking": {"opens": True, "clicks": True},
    "audience": {"identityNamespace": "email", "createNewProfiles": False},
    "defaultLocale": "en",
    "content": {
        "en": {
            "subject": "Winter sale, {{ profile.person.name.firstName }}",
            "preheader": "Coats and jackets at half price",
            "html": (
                "<p>Hi {{ profile.person.name.firstName }},</p>"
                "<p>Our winter sale starts today.</p>"
                '<p><a href="https://shop.example/sale">See the sale</a></p>'
                '<p><small><a href="{{ unsubscribe_url }}">Unsubscribe</a></small></p>'
            ),
            "text": (
                "Hi {{ profile.person.name.firstName }},\n\n"
                "Our winter sale starts today: https://shop.example/sale\n\n"
                "Unsubscribe: {{ unsubscribe_url }}\n"
            ),
        },
    },
}


@dataclass
class DemoSeed:
    """What ``demo_seed`` found or created."""

    user: User
    # None when the demo user's password no longer is the configured one.
    password: str | None
    marketer: User
    approver: User
    channel_configuration: ChannelConfiguration
    campaign: Campaign
    newsletter: Campaign
    api_key: ApiKey
    # Only on the run that created the key: the secret is stored hashed.
    api_key_secret: str | None
    created: list[str] = field(default_factory=list)


def _demo_user(password: str, created: list[str]) -> User:
    user = User.objects.filter(username=DEMO_USERNAME).first()
    if user is None:
        user = User.objects.create_superuser(DEMO_USERNAME, "demo@example.com", password)
        created.append("user")
    return user


def _demo_role_user(username: str, group: Group, password: str, created: list[str]) -> User:
    """A staff login in one role group; a user that exists keeps its password and groups."""
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User.objects.create_user(
            username, f"{username}@example.com", password, is_staff=True
        )
        user.groups.add(group)
        created.append(username)
    return user


def _demo_channel_configuration(created: list[str]) -> ChannelConfiguration:
    # No service exists for channel configurations yet: administrators add them in the admin.
    configuration = ChannelConfiguration.objects.filter(name=DEMO_CHANNEL_CONFIGURATION).first()
    if configuration is None:
        configuration = ChannelConfiguration(
            name=DEMO_CHANNEL_CONFIGURATION,
            channel=Channel.EMAIL,
            from_name="Clarion Demo Shop",
            from_email="shop@example.com",
            reply_to="help@example.com",
        )
        configuration.full_clean()
        configuration.save()
        created.append("channel configuration")
    return configuration


def _demo_campaign(data: dict[str, Any], created: list[str]) -> Campaign:
    campaign = Campaign.objects.filter(name=data["name"]).order_by("created_at").first()
    # The seed acts as the system, so that with CLARION_REQUIRE_APPROVAL on, the
    # demo user is not the last editor and may approve it (four eyes).
    system = Actor.system()
    if campaign is None:
        campaign = campaign_create(data=data, actor=system)
        created.append(f"campaign “{data['name']}”")
    if campaign.status == Status.DRAFT:
        if approval_required():
            campaign = campaign_submit_for_review(campaign=campaign, actor=system)
        else:
            campaign = campaign_activate(campaign=campaign, actor=system)
    return campaign


def _demo_audience(created: list[str]) -> Audience:
    """One opted-in subscriber, Ana: who the demo newsletter goes to."""
    audience = Audience.objects.filter(name=DEMO_AUDIENCE).first()
    if audience is not None:
        return audience
    profile_upsert(
        data=profile_input_parse(
            namespace="email",
            value=DEMO_SUBSCRIBER,
            data={
                "attributes": {"person": {"name": {"firstName": "Ana"}}},
                "consent": {"email": "opted_in"},
            },
        )
    )
    audience = audience_create(
        name=DEMO_AUDIENCE, kind=Audience.Kind.STATIC, description="Created by seed_demo."
    )
    audience_add_members(audience=audience, identities=[("email", DEMO_SUBSCRIBER)])
    created.append("audience")
    return audience


def _demo_api_key(user: User, created: list[str]) -> tuple[ApiKey, str | None]:
    key = ApiKey.objects.filter(name=DEMO_API_KEY, is_active=True).order_by("created_at").first()
    if key is not None:
        return key, None
    key, secret = api_key_create(name=DEMO_API_KEY, scopes=DEMO_SCOPES, actor=Actor(user=user))
    created.append("API key")
    return key, secret


@transaction.atomic
def demo_seed(*, password: str = DEMO_DEFAULT_PASSWORD) -> DemoSeed:
    """Create the demo login, sender, campaign and API key where missing."""
    created: list[str] = []
    user = _demo_user(password, created)
    groups = roles_ensure()
    marketer = _demo_role_user(DEMO_MARKETER, groups[MARKETERS], password, created)
    approver = _demo_role_user(DEMO_APPROVER, groups[APPROVERS], password, created)
    configuration = _demo_channel_configuration(created)
    sender = {"channelConfiguration": str(configuration.pk)}
    campaign = _demo_campaign({**DEMO_CAMPAIGN_DATA, **sender}, created)
    audience = _demo_audience(created)
    newsletter_audience = {**DEMO_NEWSLETTER_DATA["audience"], "audienceId": str(audience.pk)}
    newsletter = _demo_campaign(
        {**DEMO_NEWSLETTER_DATA, **sender, "audience": newsletter_audience}, created
    )
    key, secret = _demo_api_key(user, created)
    return DemoSeed(
        user=user,
        password=password if user.check_password(password) else None,
        marketer=marketer,
        approver=approver,
        channel_configuration=configuration,
        campaign=campaign,
        newsletter=newsletter,
        api_key=key,
        api_key_secret=secret,
        created=created,
    )


def _authorization(api_key: str | None) -> str:
    if api_key is None:
        # Double quotes: the shell fills in the key from the environment.
        return '"Authorization: Bearer $CLARION_API_KEY"'
    return shlex.quote("Authorization: Bearer " + api_key)


def demo_curl_trigger(*, campaign: Campaign, base_url: str, api_key: str | None) -> str:
    """A curl call sending the demo campaign to one recipient, with sample data filled in.

    ``api_key`` None writes ``$CLARION_API_KEY`` in its place.
    """
    body = {
        # The idempotency key: sending the same body again replays the first answer.
        "requestId": f"demo-{uuid.uuid4().hex[:12]}",
        "campaignId": str(campaign.pk),
        "recipients": [
            {
                "type": "aep",
                "namespace": "email",
                "userId": "ana@example.com",
                "profile": {"person": {"name": {"firstName": "Ana"}}},
                "context": {"product": {"name": "Jackets"}},
            }
        ],
    }
    return (
        f"curl -X POST {shlex.quote(base_url + '/api/v1/executions/unitary')} \\\n"
        f"  -H {_authorization(api_key)} \\\n"
        "  -H 'Content-Type: application/json' \\\n"
        f"  --data-binary {shlex.quote(json.dumps(body))}"
    )


def demo_curl_audience(*, campaign: Campaign, base_url: str, api_key: str | None) -> str:
    """A curl call sending a marketing campaign to its audience."""
    body = {"requestId": f"demo-{uuid.uuid4().hex[:12]}", "campaignId": str(campaign.pk)}
    return (
        f"curl -X POST {shlex.quote(base_url + '/api/v1/executions/audience')} \\\n"
        f"  -H {_authorization(api_key)} \\\n"
        "  -H 'Content-Type: application/json' \\\n"
        f"  --data-binary {shlex.quote(json.dumps(body))}"
    )


def demo_curl_campaigns(*, base_url: str, api_key: str | None) -> str:
    """A curl call listing campaigns."""
    return f"curl {shlex.quote(base_url + '/api/v1/campaigns')} -H {_authorization(api_key)}"


def _mail_goes_to() -> str:
    if settings.EMAIL_BACKEND.endswith(".OutboxEmailBackend") or settings.EMAIL_BACKEND.endswith(
        ".filebased.EmailBackend"
    ):
        folder = getattr(settings, "EMAIL_FILE_PATH", "var/outbox")
        return (
            f"the outbox folder {folder} (open its <message id>.html in a browser: "
            "the open and the clicks are tracked)"
        )
    return "the mail server of EMAIL_URL"


def demo_instructions(*, seed: DemoSeed, base_url: str) -> str:
    """What to open and what to paste, for a person at a terminal."""
    password = seed.password or "(changed since it was created: use yours)"
    lines = [
        f"Admin:    {base_url}/admin/",
        f"Login:    {seed.user.get_username()} / {password}  (superuser)",
        f"          {seed.marketer.get_username()} / {password}  (Marketers: authors campaigns)",
        f"          {seed.approver.get_username()} / {password}  (Approvers: approves them)",
        f"API docs: {base_url}/api/docs/",
    ]
    if seed.campaign.status != Status.LIVE:
        lines.append(
            f"The demo campaign is {seed.campaign.get_status_display()}: "
            "activate it in the admin to trigger it."
        )
    if seed.api_key_secret is not None:
        lines.append(f"API key:  {seed.api_key_secret}  (shown once; only its hash is stored)")
    else:
        lines.append(
            f'API key:  "{seed.api_key.name}" ({seed.api_key.prefix}…) was created on an '
            "earlier run and its secret was shown then. Create a new key in the admin or with "
            "`python manage.py create_api_key --name NAME --scopes "
            + ",".join(DEMO_SCOPES)
            + "`, then `export CLARION_API_KEY=<secret>`."
        )
    lines += [
        "",
        f"Trigger the demo campaign: one email to ana@example.com, delivered to {_mail_goes_to()}.",
        "The answer's Location header is where to read the execution (GET, same key):",
        demo_curl_trigger(campaign=seed.campaign, base_url=base_url, api_key=seed.api_key_secret),
        "",
        f"Send the demo newsletter (marketing) to its audience, {DEMO_SUBSCRIBER} (opted in).",
        "Its email has an unsubscribe link and List-Unsubscribe header; after unsubscribing,",
        "sending it again excludes Ana (reason: suppressed):",
        demo_curl_audience(
            campaign=seed.newsletter, base_url=base_url, api_key=seed.api_key_secret
        ),
        "",
        "Reports (opens, clicks, unsubscribes, with charts and CSV):",
        f"{base_url}/admin/campaigns/campaign/{seed.campaign.pk}/report/",
        f"{base_url}/admin/campaigns/campaign/{seed.newsletter.pk}/report/",
        "",
        "List campaigns:",
        demo_curl_campaigns(base_url=base_url, api_key=seed.api_key_secret),
    ]
    return "\n".join(lines) + "\n"
