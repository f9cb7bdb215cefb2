"""A real SMTP server (aiosmtpd) on loopback that records what it accepts, for the delivery tests.

It runs in a thread of the test process, on a free port, and keeps every message it
accepted (parsed), with its envelope. Two behaviours make the fault tests possible:

- ``script(address, "451 4.3.0 Try again later", ...)``: the next RCPT commands for
  that address get these replies, one each, then ``250``: a greylisting server, or a
  mailbox that does not exist.
- ``hold_after(n)``: after ``n`` messages were accepted, every further DATA waits for
  ``release()`` before it is answered. A worker killed meanwhile never got its
  ``250``, so the server never took that message: its connection is gone and aiosmtpd
  cancels the reply (``dropped`` counts them). This kills a worker at a known moment,
  while it waits on the server, and not in the instant between the server's ``250``
  and the worker's database commit, where no sender can know the message left.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

CLARION_MESSAGE_ID_HEADER = "X-Clarion-Message-Id"
# aiosmtpd logs every command at INFO: thousands of lines around a failure.
logging.getLogger("mail.log").setLevel(logging.WARNING)


@dataclass(frozen=True)
class Received:
    """One message the server accepted (answered ``250`` to its DATA)."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def clarion_id(self) -> str:
        return str(self.message[CLARION_MESSAGE_ID_HEADER])


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        reply = self.sink._rcpt_reply(address)
        if reply.startswith("250"):
            envelope.rcpt_tos.append(address)
        return reply

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        sink = self.sink
        if sink._must_hold():
            with sink._lock:
                sink.held += 1
            try:
                while not sink._released.is_set():
                    await asyncio.sleep(0.02)
            except asyncio.CancelledError:  # the client went away before its answer
                with sink._lock:
                    sink.held -= 1
                    sink.dropped += 1
                raise
            with sink._lock:
                sink.held -= 1
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        with sink._lock:
            sink.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 2.0.0 Message accepted"


class SmtpSink:
    """See the module docstring. ``start()`` binds ``port``; ``stop()`` closes it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.received: list[Received] = []
        self.rcpt_log: list[tuple[str, str]] = []  # (address, reply), every RCPT in order
        self.held = 0
        self.dropped = 0
        self._lock = threading.Lock()
        self._scripts: dict[str, list[str]] = {}
        self._hold_after: int | None = None
        self._released = threading.Event()
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._released.set()
        self._controller.stop()

    # --- behaviours ------------------------------------------------------------------
    def script(self, address: str, *replies: str) -> None:
        """The next RCPT commands for ``address`` get ``replies``, one each; then 250."""
        with self._lock:
            self._scripts.setdefault(address.lower(), []).extend(replies)

    def hold_after(self, accepted: int) -> None:
        """Accept ``accepted`` messages in all, then hold every DATA until ``release()``."""
        with self._lock:
            self._released.clear()
            self._hold_after = accepted

    def release(self) -> None:
        """Answer the held messages (those whose client is still there) and stop holding."""
        with self._lock:
            self._hold_after = None
        self._released.set()

    def _must_hold(self) -> bool:
        with self._lock:
            return self._hold_after is not None and len(self.received) >= self._hold_after

    def _rcpt_reply(self, address: str) -> str:
        with self._lock:
            queued = self._scripts.get(address.lower())
            reply = queued.pop(0) if queued else "250 2.1.5 Recipient OK"
            self.rcpt_log.append((address.lower(), reply))
            return reply

    # --- reading -----------------------------------------------------------------------
    def messages(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def count(self) -> int:
        with self._lock:
            return len(self.received)

    def clarion_ids(self) -> Counter[str]:
        """How many times each Clarion message id arrived."""
        return Counter(received.clarion_id for received in self.messages())

    def replies_to(self, address: str) -> list[str]:
        """The reply code of every RCPT for ``address``, in order."""
        with self._lock:
            return [reply[:3] for rcpt, reply in self.rcpt_log if rcpt == address.lower()]

    def wait_until(self, condition: Callable[[SmtpSink], bool], seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while not condition(self):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True
