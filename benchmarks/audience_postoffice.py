"""The peer of the audience-smtp scenario: django-post-office sends the same messages to
the same SMTP sink (benchmarks/bench_audience.py).

Run with ``DJANGO_SETTINGS_MODULE=benchmarks.settings_postoffice`` and its own
``DATABASE_URL`` (created empty by the caller): migrates, renders --messages emails
with the same templates as the bare loop (benchmarks/audience_bare.py) and queues them
with post_office's ``mail.send`` (not timed: post-office stores rendered content), then
times ``mail.send_queued`` (one process: with more, its forked children share the
parent's database connection and PostgreSQL drops it) until every email is sent.
Prints one JSON line: messages, seconds, messages per second.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5_000)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    options = parser.parse_args()
    os.environ["BENCH_SMTP_PORT"] = str(options.port)
    import django

    django.setup()
    from django.core.management import call_command
    from post_office import mail
    from post_office.models import STATUS, Email

    from benchmarks.audience_bare import Builder

    call_command("migrate", verbosity=0)
    builder = Builder()
    for index in range(options.messages):
        email = builder.build(index)
        mail.send(
            email.to,
            email.from_email,
            subject=email.subject,
            message=email.body,
            html_message=email.alternatives[0][0],
            headers={**email.extra_headers, "Reply-To": email.reply_to[0]},
            priority="medium",
        )
    started = time.perf_counter()
    # send_queued takes one batch (BATCH_SIZE, 100 by default) per call, as its cron does.
    while Email.objects.filter(status=STATUS.queued).exists():
        mail.send_queued(processes=options.processes)
    seconds = time.perf_counter() - started
    sent = Email.objects.filter(status=STATUS.sent).count()
    print(json.dumps({
        "messages": sent, "queued": options.messages, "seconds": round(seconds, 3),
        "per_second": round(sent / seconds, 1),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
