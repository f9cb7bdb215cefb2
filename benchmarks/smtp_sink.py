"""The trigger benchmark's mail server: accepts every message and records its arrival.

Run by benchmarks/bench_trigger.py in its own process:
``python benchmarks/smtp_sink.py --port 8925 --out arrivals.txt``. It listens on
loopback (aiosmtpd), answers 250 to everything, and appends one line per message
to ``--out``: Clarion's message id (the ``X-Clarion-Message-Id`` header) and the
arrival time (``time.time()``, the machine's clock, the same one the load
generator stamps its sends with). It prints ``ready`` once it listens and stops
on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import re
import signal
import threading
import time
from typing import IO, Any

from aiosmtpd.controller import Controller

# Clarion's id of the message (delivery/channels/email.py), a UUID on one line.
MESSAGE_ID = re.compile(rb"^X-Clarion-Message-Id:[ \t]*(\S+)", re.MULTILINE | re.IGNORECASE)


class Recorder:
    """aiosmtpd handler: one line per message, written through at once."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        arrived = time.time()
        content = envelope.original_content or envelope.content or b""
        if isinstance(content, str):
            content = content.encode()
        match = MESSAGE_ID.search(content)
        message_id = match.group(1).decode() if match else "-"
        self.out.write(f"{message_id} {arrived:.6f}\n")
        return "250 OK"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", required=True)
    options = parser.parse_args()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_args: stop.set())
    with open(options.out, "a", buffering=1, encoding="ascii") as out:  # line-buffered
        controller = Controller(Recorder(out), hostname="127.0.0.1", port=options.port)
        controller.start()
        print("ready", flush=True)
        try:
            stop.wait()
        finally:
            controller.stop()


if __name__ == "__main__":
    main()
