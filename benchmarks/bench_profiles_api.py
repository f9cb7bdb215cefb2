"""Profiles API speed: one batch of 1,000 upserts vs 1,000 single PUTs.

Run: `.venv/bin/python benchmarks/bench_profiles_api.py` (a throw-away SQLite
database under var/bench-api/; set DATABASE_URL for PostgreSQL). Requests go
through Django's test client in-process (no network), so the figures are the
server's own cost. Prints a table and writes benchmarks/results/profiles_api.json.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
os.environ["CLARION_DATA_DIR"] = str(ROOT / "var" / "bench-api")
(ROOT / "var" / "bench-api" / "staticfiles").mkdir(parents=True, exist_ok=True)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from audiences.models import Profile  # noqa: E402
from core.apikeys import api_key_create  # noqa: E402

N = 1000


def _items(offset: int, tier: str) -> list[dict[str, object]]:
    return [
        {
            "namespace": "email",
            "value": f"person{offset + i}@example.com",
            "attributes": {"tier": tier, "name": {"first": f"P{i}"}},
            "locale": "en",
            "consent": {"email": "opted_in"},
        }
        for i in range(N)
    ]


def main() -> None:
    if connection.vendor == "sqlite":
        db = ROOT / "var" / "bench-api" / "clarion.sqlite3"
        db.unlink(missing_ok=True)
    call_command("migrate", verbosity=0)
    Profile.objects.all().delete()
    _, secret = api_key_create(name="bench", scopes=["profiles:write"])
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_HOST="localhost")
    rows: dict[str, float] = {}

    for label, tier in (("batch, 1,000 new profiles", "gold"), ("batch, 1,000 updates", "silver")):
        body = json.dumps({"profiles": _items(0, tier)})
        start = time.perf_counter()
        response = client.post("/api/v1/profiles:batch", body, content_type="application/json")
        rows[label] = time.perf_counter() - start
        assert response.status_code == 200, response.content

    for label, tier in (("1,000 PUTs, new profiles", "gold"), ("1,000 PUTs, updates", "silver")):
        start = time.perf_counter()
        for item in _items(10_000, tier):
            path = f"/api/v1/profiles/email/{item.pop('value')}"
            item.pop("namespace")
            response = client.put(path, json.dumps(item), content_type="application/json")
            assert response.status_code in (200, 201), response.content
        rows[label] = time.perf_counter() - start

    print(f"Profiles API ({os.cpu_count()} cores, {connection.vendor})")
    print(f"{'what':<30}{'seconds':>10}{'profiles/s':>12}")
    for label, seconds in rows.items():
        print(f"{label:<30}{seconds:>10.2f}{N / seconds:>12.0f}")
    out = ROOT / "benchmarks" / "results" / "profiles_api.json"
    out.write_text(
        json.dumps({"cores": os.cpu_count(), "database": connection.vendor, "seconds": rows})
    )


if __name__ == "__main__":
    main()
