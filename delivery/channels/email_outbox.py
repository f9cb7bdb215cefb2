"""The local email outbox of ``make run``: Django's file backend, plus each HTML part alone.

Django's file backend appends the raw messages to one ``.log`` file per
connection. This one also writes ``<message id>.html`` next to it, the HTML part
as sent, so a developer opens it in a browser: the open pixel loads from
``CLARION_PUBLIC_URL`` and the tracked links go through Clarion's redirects.
"""

from __future__ import annotations

from pathlib import Path

from django.core.mail import EmailMessage
from django.core.mail.backends.filebased import EmailBackend

from delivery.channels.email import CLARION_MESSAGE_ID_HEADER


class OutboxEmailBackend(EmailBackend):
    """Writes the raw message to the ``.log`` file, and its HTML part to ``<id>.html``."""

    def write_message(self, message: EmailMessage) -> None:
        super().write_message(message)
        name = str(message.extra_headers.get(CLARION_MESSAGE_ID_HEADER) or "")
        html = next(
            (
                str(content)
                for content, mimetype in getattr(message, "alternatives", [])
                if mimetype == "text/html"
            ),
            None,
        )
        if not name or html is None or "/" in name:
            return
        path = Path(self.file_path) / f"{name}.html"
        temporary = path.with_suffix(".tmp")
        temporary.write_text(html, encoding="utf-8")
        temporary.replace(path)  # readers never see half a file
