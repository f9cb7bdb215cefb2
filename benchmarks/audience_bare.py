"""The ceilings of the audience benchmarks: the same messages with no database, no queue.

``audience_bare.py mime --messages N --processes P``: P processes (one per core) each
render their share of the email (benchmarks/audience_content.py, parsed once, with
python-liquid as Clarion uses it) and build its MIME bytes with Django's mail classes,
as Clarion's email transport does (delivery/channels/email.py: text and HTML
alternatives, preheader, From, Reply-To, Message-ID and X-Clarion-Message-Id), then
drop them. ``audience_bare.py smtp --messages N --port P``: one process renders,
builds and sends each message over ONE reused SMTP connection to 127.0.0.1:P.

Each prints one JSON line: messages, seconds (the slowest process, after its start-up)
and messages per second.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time
import uuid
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


def _django() -> None:
    from django.conf import settings

    if not settings.configured:
        settings.configure(EMAIL_TIMEOUT=10)


class Builder:
    """The email's templates parsed once; ``build(i)`` renders and builds message ``i``."""

    def __init__(self) -> None:
        from liquid import Environment

        _django()
        text, html = Environment(), Environment(autoescape=True)
        self.templates = {
            part: (html if part == "html" else text).from_string(source)
            for part, source in EMAIL_CONTENT.items()
        }

    def build(self, index: int) -> Any:
        from email.utils import formataddr, make_msgid

        from django.core.mail import EmailMultiAlternatives

        parts = {
            part: template.render(profile=profile_attributes(index), context=CONTEXT)
            for part, template in self.templates.items()
        }
        email = EmailMultiAlternatives(
            subject=parts["subject"],
            body=parts["text"],
            from_email=formataddr((FROM_NAME, FROM_EMAIL)),
            to=[email_address(index)],
            reply_to=[REPLY_TO],
            headers={
                "Message-ID": make_msgid(domain="example.com"),
                "X-Clarion-Message-Id": str(uuid.uuid4()),
            },
        )
        hidden = f'<div style="display:none">{parts["preheader"]}</div>'
        email.attach_alternative(parts["html"].replace("<body>", "<body>" + hidden), "text/html")
        return email


def _mime_share(task: tuple[int, int]) -> tuple[int, float]:
    start_index, count = task
    builder = Builder()
    builder.build(0).message().as_bytes()  # warm: imports, charsets
    started = time.perf_counter()
    for index in range(start_index, start_index + count):
        builder.build(index).message().as_bytes()
    return count, time.perf_counter() - started


def mime(messages: int, processes: int) -> dict[str, float]:
    share = messages // processes
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        done = pool.map(_mime_share, [(p * share, share) for p in range(processes)])
    total, seconds = sum(d[0] for d in done), max(d[1] for d in done)
    return {
        "messages": total,
        "seconds": round(seconds, 3),
        "per_second": round(total / seconds, 1),
    }


def smtp(messages: int, port: int) -> dict[str, float]:
    from django.core.mail.backends.smtp import EmailBackend

    builder = Builder()
    connection = EmailBackend(host="127.0.0.1", port=port, fail_silently=False)
    connection.open()  # one connection for every message
    started = time.perf_counter()
    for index in range(messages):
        email = builder.build(index)
        email.connection = connection
        connection.send_messages([email])
    seconds = time.perf_counter() - started
    connection.close()
    return {
        "messages": messages,
        "seconds": round(seconds, 3),
        "per_second": round(messages / seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["mime", "smtp"])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--processes", type=int, default=multiprocessing.cpu_count())
    parser.add_argument("--port", type=int, default=0)
    options = parser.parse_args()
    if options.mode == "mime":
        result = mime(options.messages, options.processes)
    else:
        result = smtp(options.messages, options.port)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
