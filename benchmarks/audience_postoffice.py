"""The peer of the audience-smtp scenario: django-post-office sends the same messages to
the same SMTP sink (benchmarks/bench_audience.py).

Run with ``DJANGO_SETTINGS_MODULE=benchmarks.settings_postoffice`` and its own
``DATABASE_URL`` (created empty by the caller):
``audience_postoffice.py --messages N --port P --processes 1 --batch-size 100 --threads 5``.
Not timed: the migration and the ``EmailTemplate`` holding the bare loop's content
(benchmarks/audience_content.py) as Django templates, as Clarion's campaign is seeded
before its clock starts. Timed, as Clarion's clock runs from the execution's acceptance
to the last message final:

- queueing: ``mail.send_many`` (post-office's bulk form of ``mail.send``: one ``send``
  per recipient, which renders the template with that recipient's context, then one
  ``bulk_create``) by pages of 1,000 recipients, as Clarion's fan-out pages profiles;
- sending: ``send_queued_mail_until_done`` (what ``manage.py send_queued_mail -p P``
  runs): a batch of ``BATCH_SIZE`` queued emails at a time, split over P forked
  processes of ``THREADS_PER_PROCESS`` threads, each thread on its own SMTP connection.

Prints one JSON line: messages sent, the settings, and the seconds and messages per
second of queueing, sending and both (end to end, the figure compared with Clarion).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from email.utils import formataddr
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.audience_content import (
    CONTEXT,
    EMAIL_CONTENT,
    FROM_EMAIL,
    FROM_NAME,
    REPLY_TO,
    email_address,
    profile_attributes,
)

PAGE = 1_000  # recipients per send_many call, as Clarion's fan-out pages profiles


def template_create() -> Any:
    """The bare loop's content as a post-office template (Django template syntax reads the
    same variables, and Django templates autoescape as Clarion's HTML rendering does)."""
    from post_office.models import EmailTemplate

    hidden = f'<div style="display:none">{EMAIL_CONTENT["preheader"]}</div>'
    return EmailTemplate.objects.create(
        name="bench-newsletter",
        subject=EMAIL_CONTENT["subject"],
        content=EMAIL_CONTENT["text"],
        html_content=EMAIL_CONTENT["html"].replace("<body>", "<body>" + hidden),
    )


def queue(messages: int, template: Any) -> None:
    from post_office import mail

    sender = formataddr((FROM_NAME, FROM_EMAIL))
    for start in range(0, messages, PAGE):
        mail.send_many([
            {
                "recipients": [email_address(index)],
                "sender": sender,
                "template": template,
                "context": {"profile": profile_attributes(index), "context": CONTEXT},
                "headers": {"Reply-To": REPLY_TO},
                "priority": "medium",
            }
            for index in range(start, min(start + PAGE, messages))
        ])  # fmt: skip


def rate(messages: int, seconds: float) -> dict[str, float]:
    return {"seconds": round(seconds, 3), "per_second": round(messages / seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--threads", type=int, default=5)
    options = parser.parse_args()
    os.environ["BENCH_SMTP_PORT"] = str(options.port)
    os.environ["BENCH_POSTOFFICE_BATCH_SIZE"] = str(options.batch_size)
    os.environ["BENCH_POSTOFFICE_THREADS"] = str(options.threads)
    import django

    django.setup()
    from django.core.management import call_command
    from post_office.mail import send_queued_mail_until_done
    from post_office.models import STATUS, Email

    call_command("migrate", verbosity=0)
    template = template_create()
    with tempfile.TemporaryDirectory(prefix="bench-postoffice-") as locks:
        started = time.perf_counter()
        queue(options.messages, template)
        queued = time.perf_counter()
        send_queued_mail_until_done(lockfile=f"{locks}/send", processes=options.processes)
        finished = time.perf_counter()
    sent = Email.objects.filter(status=STATUS.sent).count()
    print(json.dumps({
        "messages": sent, "expected": options.messages,
        "settings": {"processes": options.processes, "BATCH_SIZE": options.batch_size,
                     "THREADS_PER_PROCESS": options.threads},
        "queue": rate(options.messages, queued - started),
        "send": rate(sent, finished - queued),
        **rate(sent, finished - started),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
