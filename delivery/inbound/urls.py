"""Routes of the inbound provider webhooks, mounted under /hooks/ (docs/operations.md)."""

from __future__ import annotations

from anymail import urls as anymail_urls
from django.urls import URLPattern, include, path

from delivery.inbound.views import anymail_guarded, twilio_inbound, twilio_status

# Anymail's tracking and inbound routes (one per provider), each behind the guard.
_anymail = [
    URLPattern(p.pattern, anymail_guarded(p.callback), p.default_args, p.name)
    for p in anymail_urls.urlpatterns
    if isinstance(p, URLPattern)
]

urlpatterns = [
    path("anymail/", include((_anymail, "anymail"))),
    path("twilio/status", twilio_status, name="twilio-status"),
    path("twilio/inbound", twilio_inbound, name="twilio-inbound"),
]
