"""``manage.py run_clarion`` (what ``make run`` calls): everything on one machine.

Migrates, collects static files, seeds the demo data, then runs gunicorn, a
Celery worker and Celery beat until Ctrl-C (core.processes supervises them).
"""

from __future__ import annotations

import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from campaigns.services.demo import DEMO_DEFAULT_PASSWORD, demo_instructions, demo_seed
from core.env import env_str
from core.processes import Supervisor, clarion_children, port_answers


class Command(BaseCommand):
    help = "Run Clarion's web server, Celery worker and beat together, with demo data."
    requires_system_checks = []  # migrate and the children run the checks

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity = int(options["verbosity"])
        # HOST=0.0.0.0 listens on every interface (add the name to ALLOWED_HOSTS).
        host = env_str("HOST", "127.0.0.1")
        port = int(settings.PORT)
        call_command("migrate", interactive=False, verbosity=verbosity)
        call_command("collectstatic", interactive=False, verbosity=0)
        seed = demo_seed(password=env_str("DEMO_PASSWORD", DEMO_DEFAULT_PASSWORD))
        local_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104
        base_url = f"http://{local_host}:{port}"
        banner = (
            "\n"
            + "=" * 72
            + f"\nClarion is running at {base_url}/  (Ctrl-C stops everything)\n\n"
            + demo_instructions(seed=seed, base_url=base_url)
            + "=" * 72
            + "\n"
        )
        supervisor = Supervisor(
            clarion_children(host=host, port=port),
            out=sys.stdout,
            ready=lambda: port_answers(host, port),
            banner=banner,
        )
        code = supervisor.run()
        if code:
            sys.exit(code)
