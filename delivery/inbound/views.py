"""The inbound webhook views: authentication first, then one service call each.

* ``/hooks/anymail/<esp>/tracking/``: django-anymail's own views, behind a guard
  that refuses every request while ``ANYMAIL_WEBHOOK_SECRET`` is unset (anymail
  alone would accept them with a warning); anymail checks the basic auth.
* ``/hooks/twilio/status`` and ``/hooks/twilio/inbound``: Twilio's
  ``X-Twilio-Signature``, an HMAC of the URL Twilio called and the POST
  parameters with the account's auth token, checked over the *public* URL
  (``CLARION_PUBLIC_URL`` and the path), since a proxy in front of Clarion may
  change the host and scheme the request arrives with.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from anymail.exceptions import AnymailConfigurationError
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from delivery.services.provider_events import params_of, sms_reply_record, twilio_status_record

logger = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def anymail_guarded(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """``view`` (an anymail webhook view), refusing everything while no secret is set,
    and a malformed body with a 400 instead of a 500."""

    @csrf_exempt
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.ANYMAIL.get("WEBHOOK_SECRET"):
            logger.warning("Refused an email provider webhook: ANYMAIL_WEBHOOK_SECRET is not set")
            return HttpResponse(
                "Webhooks are not configured.\n", status=403, content_type="text/plain"
            )
        try:
            return view(request, *args, **kwargs)
        except (json.JSONDecodeError, UnicodeDecodeError, AnymailConfigurationError) as error:
            logger.warning("Refused a malformed email provider webhook: %s", error)
            return HttpResponse("Malformed webhook.\n", status=400, content_type="text/plain")

    return guarded


def twilio_signed(request: HttpRequest) -> bool:
    """True when the request carries Twilio's valid signature over its public URL."""
    token = settings.TWILIO_AUTH_TOKEN
    signature = request.META.get("HTTP_X_TWILIO_SIGNATURE", "")
    if not token or not signature:
        return False
    url = settings.CLARION_PUBLIC_URL + request.get_full_path()
    return bool(RequestValidator(token).validate(url, request.POST, signature))


def _refused() -> HttpResponse:
    return HttpResponse("Invalid signature.\n", status=403, content_type="text/plain")


@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest) -> HttpResponse:
    """Twilio's status callback for an SMS Clarion sent."""
    if not twilio_signed(request):
        return _refused()
    twilio_status_record(params=params_of(request.POST))
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def twilio_inbound(request: HttpRequest) -> HttpResponse:
    """Twilio's incoming-message webhook: STOP and START replies."""
    if not twilio_signed(request):
        return _refused()
    params = params_of(request.POST)
    sms_reply_record(sender=params.get("From", ""), body=params.get("Body", ""))
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")
