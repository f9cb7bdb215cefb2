"""Settings of the audience benchmarks' workers (benchmarks/bench_audience.py): production
settings, and with ``CLARION_BENCH_EMAIL=discard`` an email backend that builds each
message's MIME bytes and drops them (benchmarks/audience_backends.py).

Never used by Clarion itself: only processes the benchmark starts read this module.
"""

from __future__ import annotations

import os

from config.settings.production import *  # noqa: F403

if os.environ.get("CLARION_BENCH_EMAIL") == "discard":
    EMAIL_BACKEND = "benchmarks.audience_backends.MimeDiscardBackend"
