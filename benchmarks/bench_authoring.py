"""Authoring-side speed: Liquid parse and render, review checks, preview.

Run: `.venv/bin/python benchmarks/bench_authoring.py` (uses a throw-away
SQLite database under var/bench/). Prints a table and writes
benchmarks/results/authoring.json. Figures are quoted in docs/performance.md.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
os.environ["CLARION_DATA_DIR"] = str(ROOT / "var" / "bench")
os.environ.pop("DATABASE_URL", None)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from campaigns.liquid import (  # noqa: E402
    SOURCE_TEMPLATES,
    template_parse,
    template_render,
)
from campaigns.models import ChannelConfiguration  # noqa: E402
from campaigns.preview import campaign_preview  # noqa: E402
from campaigns.review import campaign_review  # noqa: E402
from campaigns.services.authoring import campaign_create  # noqa: E402
from core.actors import Actor  # noqa: E402

HTML = (
    "<h1>Thanks {{ profile.person.name.firstName | default: 'friend' }}</h1>"
    "{% for item in context.items %}<p>{{ item.name }} x {{ item.qty }}: {{ item.price }}</p>{% endfor %}"
    '<p>{{ context.offerCode | upcase }}</p><a href="https://shop.example/o/{{ context.orderId }}">order</a>'
)
PROFILE = {"person": {"name": {"firstName": "Ana"}}}
CONTEXT = {
    "items": [{"name": f"Item {i}", "qty": i, "price": f"{i * 3}.00"} for i in range(10)],
    "offerCode": "thanks",
    "orderId": "A-1",
}


def _timed(fn: Callable[[], object], repeat: int) -> dict[str, float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return {
        "repeat": repeat,
        "mean_us": statistics.fmean(samples) * 1e6,
        "p95_us": sorted(samples)[int(0.95 * (repeat - 1))] * 1e6,
        "per_second": repeat / sum(samples),
    }


def main() -> None:
    (ROOT / "var" / "bench").mkdir(parents=True, exist_ok=True)
    db = ROOT / "var" / "bench" / "clarion.sqlite3"
    if db.exists():
        db.unlink()
    call_command("migrate", verbosity=0)
    configuration = ChannelConfiguration.objects.create(
        name="Bench sender", channel="email", from_email="shop@example.com"
    )
    content = {
        f"l{chr(97 + i // 26)}{chr(97 + i % 26)}": {
            "subject": f"Hi {i} {{{{ profile.x }}}}",
            "html": HTML,
            "text": "",
        }
        for i in range(49)
    }
    content["en"] = {
        "subject": "Thanks {{ profile.person.name.firstName }}",
        "html": HTML,
        "text": "",
    }
    campaign = campaign_create(
        data={"name": "Bench", "channelConfiguration": str(configuration.pk), "content": content},
        actor=Actor.system(),
    )

    def parse_uncached() -> None:
        SOURCE_TEMPLATES.clear()
        template_parse(HTML, html=True)

    results = {
        "liquid_parse_uncached": _timed(parse_uncached, 500),
        "liquid_render_cached": _timed(
            lambda: template_render(
                template_parse(HTML, html=True), profile=PROFILE, context=CONTEXT
            ),
            5000,
        ),
        "review_50_locales": _timed(lambda: campaign_review(campaign=campaign), 50),
        "preview_fallback": _timed(
            lambda: campaign_preview(
                campaign=campaign, locale="en-GB", profile=PROFILE, context=CONTEXT
            ),
            500,
        ),
    }
    machine = {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    print(f"Authoring benchmarks ({machine['cores']} cores, Python {machine['python']})")
    print(f"{'operation':<26}{'repeat':>8}{'mean µs':>12}{'p95 µs':>12}{'per second':>14}")
    for name, row in results.items():
        print(
            f"{name:<26}{row['repeat']:>8}{row['mean_us']:>12.1f}{row['p95_us']:>12.1f}"
            f"{row['per_second']:>14.0f}"
        )
    out = ROOT / "benchmarks" / "results" / "authoring.json"
    out.write_text(json.dumps({"machine": machine, "results": results}, indent=2))
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
