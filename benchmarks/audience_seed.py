"""Seeds and triggers the audience benchmarks (benchmarks/bench_audience.py), on PostgreSQL.

Run as a child with the benchmark's environment (``DJANGO_SETTINGS_MODULE``,
``DATABASE_URL``...) on a migrated database:

- ``audience_seed.py profiles --count N``: at least N profiles (an email address, an
  ``email`` identity, an Android push registration, opted-in consent for email and
  push), written by ``INSERT ... SELECT generate_series`` in one statement per table
  (a million profiles in about a minute, where the API would take hours), and a static
  audience "bench N" holding the first N; prints ``{"audience": id}``.
- ``audience_seed.py campaigns --audience ID``: a live marketing push campaign (push
  configuration on the outbox transport) and a live marketing email campaign, with the
  content of benchmarks/audience_content.py; prints their ids.
- ``audience_seed.py trigger --campaign ID --audience ID``: accepts one audience
  execution through the service the API calls and publishes its fan-out before it
  exits; prints ``{"execution": id}``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from uuid import UUID

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402

import delivery.tasks  # noqa: E402, F401 (registers the tasks the fan-out publishes)
from audiences.models import (  # noqa: E402
    Audience,
    AudienceMember,
    Consent,
    Identity,
    IdentityNamespace,
    Profile,
    PushRegistration,
)
from benchmarks.audience_content import (  # noqa: E402
    CONTEXT,
    EMAIL_CONTENT,
    FIRST_NAMES,
    FROM_EMAIL,
    FROM_NAME,
    PUSH_CONTENT,
    REPLY_TO,
)
from campaigns.models import Campaign, CampaignContent, ChannelConfiguration  # noqa: E402
from campaigns.review import campaign_review  # noqa: E402
from campaigns.services.lifecycle import campaign_activate  # noqa: E402
from core.actors import Actor  # noqa: E402
from delivery.calls import AudienceCall  # noqa: E402
from delivery.services.audience import execution_accept_audience  # noqa: E402

APP_ID = "com.example.shop"


def profiles_ensure(count: int) -> str:
    """At least ``count`` profiles, numbered in creation order; the audience of the first."""
    table = Profile._meta.db_table
    names = "ARRAY[" + ",".join(f"'{name}'" for name in FIRST_NAMES) + "]"
    email = IdentityNamespace.objects.get(code="email").pk
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 (our own table names)
        have = cursor.fetchone()[0]
    if have < count:
        with transaction.atomic(), connection.cursor() as cursor:
            # created_at grows with the number: "the first N" is ORDER BY created_at.
            cursor.execute(
                f"""
                CREATE TEMP TABLE bench_new ON COMMIT DROP AS
                SELECT gen_random_uuid() AS id, i FROM generate_series(%s, %s) AS i;
                INSERT INTO {table} (id, attributes, locale, time_zone, email_address,
                                     mobile_number, created_at, updated_at)
                SELECT id, jsonb_build_object('person', jsonb_build_object('name',
                         jsonb_build_object('firstName', ({names})[1 + i %% 10]))),
                       'en', '', 'person' || i || '@example.com', '',
                       timestamp '2020-01-01' + i * interval '1 millisecond', now()
                FROM bench_new;
                INSERT INTO {Identity._meta.db_table} (profile_id, namespace_id, value, created_at)
                SELECT id, %s, 'person' || i || '@example.com', now() FROM bench_new;
                INSERT INTO {PushRegistration._meta.db_table}
                    (profile_id, app_id, platform, token, created_at)
                SELECT id, %s, 'android', 'token-' || i || '-' || md5(id::text), now()
                FROM bench_new;
                INSERT INTO {Consent._meta.db_table} (profile_id, channel, status, source, updated_at)
                SELECT id, channel, 'opted_in', 'bench', now()
                FROM bench_new, (VALUES ('email'), ('push')) AS c(channel);
                ANALYZE;
                """,  # noqa: S608 (table names from the models, numbers as parameters)
                [have, count - 1, email, APP_ID],
            )
    audience, created = Audience.objects.get_or_create(
        name=f"bench {count}", defaults={"kind": Audience.Kind.STATIC}
    )
    if created:
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {AudienceMember._meta.db_table} (audience_id, profile_id, added_at)
                SELECT %s, id, now() FROM {table} ORDER BY created_at LIMIT %s;
                ANALYZE {AudienceMember._meta.db_table};
                """,  # noqa: S608
                [audience.pk, count],
            )
    return str(audience.pk)


def campaigns_create(audience_id: str) -> dict[str, str]:
    audience = Audience.objects.get(pk=audience_id)
    email_namespace = IdentityNamespace.objects.get(code="email")
    email_sender = ChannelConfiguration.objects.create(
        name="Bench email", channel="email", from_name=FROM_NAME, from_email=FROM_EMAIL,
        reply_to=REPLY_TO,
    )  # fmt: skip
    push_app = ChannelConfiguration.objects.create(
        name="Bench push", channel="push", push_app_id=APP_ID, push_platform="android",
        push_provider="outbox",
    )  # fmt: skip
    made = {}
    for channel, sender, content in (
        ("email", email_sender, EMAIL_CONTENT),
        ("push", push_app, PUSH_CONTENT),
    ):
        campaign = Campaign.objects.create(
            name=f"Bench {channel} newsletter",
            category="marketing",
            channel=channel,
            channel_configuration=sender,
            identity_namespace=email_namespace,
            default_locale="en",
            audience=audience,
        )
        CampaignContent.objects.create(campaign=campaign, locale="en", **content)
        review = campaign_review(campaign=campaign)
        if review.errors:
            raise SystemExit(f"the {channel} campaign does not pass review: {review.errors}")
        made[channel] = str(campaign_activate(campaign=campaign, actor=Actor()).pk)
    return made


def trigger(campaign_id: str, audience_id: str) -> dict[str, str]:
    with transaction.atomic():  # the fan-out is published on commit (inline: see the env)
        response = execution_accept_audience(
            actor=Actor(),
            call=AudienceCall(
                campaign_id=UUID(campaign_id), audience_id=UUID(audience_id), context=CONTEXT
            ),
            fingerprint="",
            idempotency_key="",
        )
    return {"execution": str(response.body["executionId"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["profiles", "campaigns", "trigger"])
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--audience", default="")
    parser.add_argument("--campaign", default="")
    options = parser.parse_args()
    if options.command == "profiles":
        result: dict[str, str] = {"audience": profiles_ensure(options.count)}
    elif options.command == "campaigns":
        result = campaigns_create(options.audience)
    else:
        result = trigger(options.campaign, options.audience)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
