"""Email through Django's email API: SMTP from ``EMAIL_URL``, a django-anymail provider,
or the file outbox (the default).

Each message is a proper MIME message: text and HTML alternatives, From and
Reply-To from the version's channel settings, a ``Message-ID`` and Clarion's own
message id in ``X-Clarion-Message-Id`` (and, for django-anymail providers, in the
message's ``metadata``). One connection is opened per worker
process and reused across messages and batches; after a connection error it is
closed and opened again.

SMTP replies (RFC 5321 4.2): 4xx is transient and retried; 5xx is permanent. Only a
recipient refused at ``RCPT`` with 550, 551 or 553 is a hard bounce that suppresses
the address: a 5xx to ``MAIL FROM`` is about the sender, one after ``DATA`` about
the content. A refused login is the operator's to fix: transient, like a connection
error.
"""

from __future__ import annotations

import logging
import smtplib
import socket
from collections.abc import Iterator, Mapping, Sequence
from email.utils import formataddr, make_msgid
from typing import Any

from django.conf import settings
from django.core.mail import BadHeaderError, EmailMultiAlternatives, get_connection
from django.utils.html import escape

from delivery.channels.base import Outgoing, SendResult, TransportError

logger = logging.getLogger(__name__)

CLARION_MESSAGE_ID_HEADER = "X-Clarion-Message-Id"
# Replies to RCPT that say the mailbox does not exist or never will (RFC 5321 4.2.3): the
# address goes on the suppression list. Other 5xx fail the message without suppressing.
HARD_BOUNCE_CODES = frozenset({550, 551, 553})
# Connection-level failures: the message is retried, the connection opened again.
CONNECTION_ERRORS = (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError)
# What a connection kept open since an earlier message says when the server has dropped
# it meanwhile (idle timeout, restart): open a new one and send again at once.
STALE_CONNECTION_ERRORS = (smtplib.SMTPServerDisconnected, ConnectionError)


def smtp_error(code: int, text: bytes | str, *, recipient: bool = False) -> TransportError:
    """Classify an SMTP reply: 4xx transient, 5xx permanent; ``recipient``: a reply to RCPT."""
    detail = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    return TransportError(
        code=f"smtp_{code}",
        detail=f"{code} {detail}".strip(),
        permanent=500 <= code < 600,
        suppress=recipient and code in HARD_BOUNCE_CODES,
    )


def _provider_error(error: Exception) -> TransportError:
    """An error of a non-SMTP backend (django-anymail and others)."""
    status = getattr(error, "status_code", None)
    name = type(error).__name__
    if name == "AnymailRecipientsRefused":
        return TransportError("recipient_refused", str(error), permanent=True, suppress=True)
    if name == "AnymailInvalidAddress":
        return TransportError("invalid_address", str(error), permanent=True)
    if isinstance(status, int) and 400 <= status < 500 and status not in (401, 408, 429):
        return TransportError(f"http_{status}", str(error), permanent=True)
    code = f"http_{status}" if isinstance(status, int) else name
    return TransportError(code, str(error), permanent=False)


def _classify(error: Exception) -> TransportError:
    # smtplib's errors are OSErrors: the specific ones are looked at first.
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(error.recipients.values()), (550, b"recipient refused"))
        return smtp_error(code, text, recipient=True)
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return TransportError(
            "smtp_auth_failed", smtp_error(error.smtp_code, error.smtp_error).detail, False
        )
    if isinstance(error, smtplib.SMTPResponseException):
        return smtp_error(error.smtp_code, error.smtp_error)
    if isinstance(error, smtplib.SMTPNotSupportedError):  # e.g. an address that needs SMTPUTF8
        return TransportError("smtp_not_supported", str(error), permanent=True)
    if isinstance(error, BadHeaderError):  # a rendered subject with a line break in it
        return TransportError("invalid_header", str(error), permanent=True)
    if isinstance(error, socket.timeout | TimeoutError):
        return TransportError("timeout", str(error) or "timed out", permanent=False)
    if isinstance(error, ConnectionRefusedError):
        return TransportError("connection_refused", str(error), permanent=False)
    if isinstance(error, CONNECTION_ERRORS):
        return TransportError("connection_error", str(error) or type(error).__name__, False)
    return _provider_error(error)


def _with_preheader(html: str, preheader: str) -> str:
    """The preheader as the first, hidden text of the HTML body (what inboxes preview)."""
    if not preheader:
        return html
    hidden = (
        '<div style="display:none;max-height:0;overflow:hidden;mso-hide:all" aria-hidden="true">'
        f"{escape(preheader)}</div>"
    )
    lower = html.lower()
    body = lower.find("<body")
    if body != -1:
        close = lower.find(">", body)
        if close != -1:
            return html[: close + 1] + hidden + html[close + 1 :]
    return hidden + html


def _sender(channel_settings: Mapping[str, Any]) -> tuple[str, list[str]]:
    address = str(channel_settings.get("fromEmail") or settings.DEFAULT_FROM_EMAIL)
    name = str(channel_settings.get("fromName") or "")
    reply_to = str(channel_settings.get("replyTo") or "")
    return (formataddr((name, address)) if name else address), ([reply_to] if reply_to else [])


def email_build(message: Outgoing) -> EmailMultiAlternatives:
    """The MIME message for one rendered email."""
    from_header, reply_to = _sender(message.channel_settings)
    domain = from_header.rpartition("@")[2].rstrip(">") or None
    parts = message.parts
    email = EmailMultiAlternatives(
        subject=parts.get("subject", ""),
        body=parts.get("text", ""),
        from_email=from_header,
        to=[message.address],
        reply_to=reply_to,
        headers={
            "Message-ID": make_msgid(domain=domain),
            CLARION_MESSAGE_ID_HEADER: str(message.message_id),
            **message.headers,
        },
    )
    # django-anymail sends this to the provider, whose tracking webhooks echo it back: the
    # feedback finds its message by it (delivery/services/provider_events.py). Other
    # backends (SMTP, files) ignore the attribute.
    email.metadata = {"clarion_message_id": str(message.message_id)}  # type: ignore[attr-defined]
    html = parts.get("html", "")
    if html:
        email.attach_alternative(_with_preheader(html, parts.get("preheader", "")), "text/html")
    return email


class EmailTransport:
    """Sends through one Django email connection, kept open for the life of the process."""

    def __init__(self) -> None:
        self._connection: Any = None

    def _open(self) -> Any:
        if self._connection is None:
            connection = get_connection(fail_silently=False)
            connection.open()
            # Kept only once open: a connection that failed to open is not reused as if
            # it were (the backend would then open and close one per message).
            self._connection = connection
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:  # closing a broken connection may fail too; it is dropped anyway
                logger.debug("Closing the email connection failed", exc_info=True)
            self._connection = None

    def _send_one(self, email: EmailMultiAlternatives) -> None:
        reused = self._connection is not None
        try:
            connection = self._open()
            email.connection = connection
            connection.send_messages([email])
        except STALE_CONNECTION_ERRORS:
            if not reused:
                raise
            # The server dropped the connection while it was idle: open a new one, try once
            # more. (A drop after the server accepted the data would send twice; SMTP gives
            # no way to tell, and a duplicate beats a loss.)
            self.close()
            connection = self._open()
            email.connection = connection
            connection.send_messages([email])

    def send_many(self, outgoing: Sequence[Outgoing]) -> Iterator[SendResult]:
        # One result as soon as the server answered each message: the caller records it
        # before the next one goes (delivery/services/sending.py).
        for message in outgoing:
            email = email_build(message)
            provider_id = email.extra_headers["Message-ID"]
            try:
                self._send_one(email)
            except Exception as error:
                # After a refused recipient or a reply code the session goes on (smtplib
                # resets it); after anything else the connection is not trusted again.
                if not isinstance(
                    error, smtplib.SMTPResponseException | smtplib.SMTPRecipientsRefused
                ) or isinstance(error, smtplib.SMTPConnectError):
                    self.close()
                yield SendResult(message.message_id, error=_classify(error))
                continue
            status = getattr(email, "anymail_status", None)
            if status is not None and getattr(status, "message_id", None):
                provider_id = str(status.message_id)
            yield SendResult(message.message_id, provider_message_id=provider_id)
