"""Seeds the trigger benchmark's database: a live transactional email campaign, known
profiles and an API key, through Clarion's services.

Run by benchmarks/bench_trigger.py as a child with the benchmark's environment
(``DJANGO_SETTINGS_MODULE``, ``DATABASE_URL``, ...) on a freshly migrated database:
``python benchmarks/trigger_seed.py --profiles 10000``. Prints one JSON line:
``{"campaignId", "apiKey", "profiles"}``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import django  # noqa: E402

django.setup()

from audiences.models import IdentityNamespace  # noqa: E402
from audiences.profile_input import IdentityKey, ProfileInput  # noqa: E402
from audiences.services.bulk import profile_upsert_many  # noqa: E402
from campaigns.models import ChannelConfiguration  # noqa: E402
from campaigns.services.authoring import campaign_create  # noqa: E402
from campaigns.services.demo import DEMO_CAMPAIGN_DATA  # noqa: E402
from campaigns.services.lifecycle import campaign_activate  # noqa: E402
from core.actors import Actor  # noqa: E402
from core.apikeys import api_key_create  # noqa: E402
from core.channels import Channel  # noqa: E402
from core.scopes import EXECUTIONS_READ, EXECUTIONS_TRIGGER  # noqa: E402

FIRST_NAMES = ["Ana", "Bo", "Chen", "Dara", "Eli", "Femi", "Gus", "Hana", "Ivo", "Jun"]
BATCH = 1000


def profile_email(index: int) -> str:
    """The address of known profile ``index``; trigger_wrk.lua and trigger_paced.py agree."""
    return f"person{index}@example.com"


def seed(profiles: int) -> dict[str, object]:
    system = Actor.system()
    configuration = ChannelConfiguration(
        name="Benchmark sender",
        channel=Channel.EMAIL,
        from_name="Clarion Bench Shop",
        from_email="shop@example.com",
        reply_to="help@example.com",
    )
    configuration.full_clean()
    configuration.save()
    # The demo campaign's content (two locales, profile and context variables, a tracked
    # link), for known profiles only: an unknown recipient would be a 422, not a new row.
    data = {
        **DEMO_CAMPAIGN_DATA,
        "name": "Benchmark order confirmation",
        "channelConfiguration": str(configuration.pk),
        "audience": {"identityNamespace": "email", "createNewProfiles": False},
    }
    campaign = campaign_activate(campaign=campaign_create(data=data, actor=system), actor=system)
    namespace = IdentityNamespace.objects.get(code="email")
    for start in range(0, profiles, BATCH):
        inputs = [
            ProfileInput(
                identity=IdentityKey(namespace, profile_email(index)),
                attributes={"person": {"name": {"firstName": FIRST_NAMES[index % 10]}}},
                locale="en",
            )
            for index in range(start, min(profiles, start + BATCH))
        ]
        errors = [o.error for o in profile_upsert_many(inputs=inputs) if o.error is not None]
        if errors:
            raise SystemExit(f"seeding profiles failed: {errors[0]}")
    _key, secret = api_key_create(name="bench", scopes=[EXECUTIONS_TRIGGER, EXECUTIONS_READ])
    return {"campaignId": str(campaign.pk), "apiKey": secret, "profiles": profiles}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=10_000)
    print(json.dumps(seed(parser.parse_args().profiles)))


if __name__ == "__main__":
    main()
