"""``manage.py seed_demo``: demo login, email sender, live campaign and API key (idempotent)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from campaigns.services.demo import DEMO_DEFAULT_PASSWORD, demo_instructions, demo_seed
from core.env import env_str


class Command(BaseCommand):
    help = (
        "Create the demo superuser (password from DEMO_PASSWORD, default demo-clarion), "
        "an email sender, a live demo campaign and an API key, where missing."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        seed = demo_seed(password=env_str("DEMO_PASSWORD", DEMO_DEFAULT_PASSWORD))
        if seed.created:
            self.stdout.write(self.style.SUCCESS("Demo data created: " + ", ".join(seed.created)))
        else:
            self.stdout.write("Demo data already present.")
        self.stdout.write(demo_instructions(seed=seed, base_url=settings.CLARION_PUBLIC_URL))
