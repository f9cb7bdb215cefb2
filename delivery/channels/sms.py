"""SMS through Twilio's Programmable Messaging API, with the official ``twilio`` SDK.

The sender is the channel configuration's ``sender``: a phone number in E.164 or an
alphanumeric sender id goes out as ``From``; a Messaging Service SID (``MG`` and 32
hex digits) as ``MessagingServiceSid``, so Twilio picks the number from its pool.
The provider message id is the message SID (``SM...``).

Errors (https://www.twilio.com/docs/api/errors): 429, 5xx, timeouts and connection
errors are transient; 401 (wrong account SID or auth token) is transient too, as it
is the operator's to fix and no message should fail for it; every other 4xx is
permanent. 21610 (the recipient answered STOP) also puts the number on the suppression
list as ``unsubscribed`` (a START reply lifts it).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _
from twilio.base.exceptions import (
    TwilioException,
    TwilioRestException,
    TwilioServiceException,
)
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from delivery.channels.base import Outgoing, SendResult, TransportError

# Twilio's client logs each request and response at INFO, some ten lines per SMS: only its
# warnings go to a worker's log, unless LOGGING sets a level for this logger.
_twilio_http_logger = logging.getLogger("twilio.http_client")
if _twilio_http_logger.level == logging.NOTSET:
    _twilio_http_logger.setLevel(logging.WARNING)

MESSAGING_SERVICE_SID = re.compile(r"MG[0-9a-fA-F]{32}")
# The recipient replied STOP: carriers refuse every further message from this sender, so
# the number is suppressed as unsubscribed (not a bounce: a START reply opts it in again).
# Other 4xx codes (21211 invalid number, 21614 not a mobile number, 21408 region not
# enabled...) fail the message without suppressing.
TWILIO_STOPPED = 21610


def twilio_error(error: TwilioRestException | TwilioServiceException) -> TransportError:
    """Classify an error answer of Twilio's REST API (legacy or RFC 9457 shape)."""
    status = int(error.status or 0)
    legacy = isinstance(error, TwilioRestException)
    text = error.msg if legacy else (error.detail or error.title)
    # Without a JSON body the SDK puts the HTTP status where Twilio's code would be.
    code = error.code if error.code and error.code != status else None
    detail = f"{status} {code}: {text}" if code else f"{status}: {text}"
    name = f"twilio_{code}" if code else f"http_{status}"
    if status == 401:
        return TransportError("provider_auth_failed", detail, permanent=False)
    if 400 <= status < 500 and status != 429:
        return TransportError(name, detail, permanent=True, unsubscribed=code == TWILIO_STOPPED)
    return TransportError(name, detail, permanent=False)


def _network_error(error: Exception) -> TransportError:
    if isinstance(error, requests.Timeout):
        return TransportError("timeout", str(error) or "timed out", permanent=False)
    return TransportError("connection_error", str(error) or type(error).__name__, False)


class TwilioTransport:
    """Sends each message with one Messages API call, over one kept-alive HTTP session."""

    def __init__(self, *, client: Client, status_callback: str = "") -> None:
        self.client = client
        self.status_callback = status_callback

    @classmethod
    def from_settings(cls) -> TwilioTransport:
        """Raises ImproperlyConfigured (the registry makes it a transient error) when unset."""
        account_sid, auth_token = settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN
        if not account_sid or not auth_token:
            raise ImproperlyConfigured(
                _("Twilio is not configured: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.")
            )
        http_client = TwilioHttpClient(timeout=settings.CLARION_PROVIDER_TIMEOUT_SECONDS)
        return cls(
            client=Client(account_sid, auth_token, http_client=http_client),
            status_callback=settings.TWILIO_STATUS_CALLBACK_URL,
        )

    def _params(self, message: Outgoing) -> dict[str, Any]:
        sender = str(message.channel_settings.get("sender") or "")
        params: dict[str, Any] = {"to": message.address, "body": message.parts.get("body", "")}
        if MESSAGING_SERVICE_SID.fullmatch(sender):
            params["messaging_service_sid"] = sender
        else:
            params["from_"] = sender
        if self.status_callback:
            params["status_callback"] = self.status_callback
        return params

    def _send_one(self, message: Outgoing) -> SendResult:
        try:
            created = self.client.messages.create(**self._params(message))
        except (TwilioRestException, TwilioServiceException) as error:
            return SendResult(message.message_id, error=twilio_error(error))
        except requests.RequestException as error:
            return SendResult(message.message_id, error=_network_error(error))
        except TwilioException as error:  # e.g. an answer that is not JSON
            error_result = TransportError("twilio_error", str(error), permanent=False)
            return SendResult(message.message_id, error=error_result)
        return SendResult(message.message_id, provider_message_id=str(created.sid))

    def send_many(self, outgoing: Sequence[Outgoing]) -> list[SendResult]:
        return [self._send_one(message) for message in outgoing]

    def close(self) -> None:
        http_client = self.client.http_client
        session = getattr(http_client, "session", None)
        if session is not None:
            session.close()
