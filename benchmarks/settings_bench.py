"""Settings for the trigger benchmark only (benchmarks/bench_trigger.py): production
settings plus a benchmark URLconf that adds the bare JSON view used as the ceiling.

Never used by Clarion itself: the extra route exists only in processes that the
benchmark starts with ``DJANGO_SETTINGS_MODULE=benchmarks.settings_bench``.
"""

from __future__ import annotations

from config.settings.production import *  # noqa: F403

ROOT_URLCONF = "benchmarks.urls_bench"
