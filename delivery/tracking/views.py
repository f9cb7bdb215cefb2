"""The public tracking endpoints: open pixel, click redirects, the unsubscribe page.

Plain Django views: no login, no session, no cookies; the signed token (or the
random short code) is the only authority. Anything that does not check out gets
the same plain 404 page (``delivery/link_not_found.html``), never an error page
that says why, and never a 500; the open pixel always answers with the image,
and records nothing for a bad token.
"""

from __future__ import annotations

import base64
import logging
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from delivery.models import Message
from delivery.services.subscriptions import address_resubscribe, address_unsubscribe
from delivery.services.tracking import (
    Visitor,
    link_target_of,
    message_click_record,
    message_for_tracking,
    message_for_unsubscribe,
    message_open_record,
    short_link_resolve,
)
from delivery.tracking.content import ONE_CLICK_FIELD, ONE_CLICK_VALUE
from delivery.tracking.tokens import UNSUBSCRIBE_PREVIEW_TOKEN, Purpose, token_read

logger = logging.getLogger(__name__)

# A transparent GIF of 1x1 pixel, 42 bytes.
PIXEL_GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def client_ip(request: HttpRequest) -> str:
    """The client's address: ``REMOTE_ADDR``, or the header a trusted proxy sets.

    With ``CLARION_CLIENT_IP_HEADER`` (e.g. ``X-Forwarded-For``) the last address
    in that header is taken: the one the operator's own proxy added. Earlier ones
    are whatever the client claimed.
    """
    header = settings.CLARION_CLIENT_IP_HEADER
    if header:
        value = request.headers.get(header, "")
        last = value.split(",")[-1].strip()
        if last:
            return last
    return str(request.META.get("REMOTE_ADDR") or "")


def _visitor(request: HttpRequest) -> Visitor:
    return Visitor(address=client_ip(request), user_agent=request.headers.get("User-Agent", ""))


def _not_found(request: HttpRequest) -> HttpResponse:
    response = render(request, "delivery/link_not_found.html", status=404)
    add_never_cache_headers(response)
    return response


@require_http_methods(["GET", "HEAD"])
def open_pixel(request: HttpRequest, token: str) -> HttpResponse:
    """The open pixel: always the image, recording an open only for a valid token."""
    found = token_read(Purpose.OPEN, token)
    if found is not None and request.method == "GET":
        message = message_for_tracking(found[0])
        if message is not None:
            try:
                message_open_record(message=message, visitor=_visitor(request))
            except DatabaseError:  # a locked or unreachable database: the image still goes
                logger.exception("An open of message %s was not recorded", message.pk)
    response = HttpResponse(PIXEL_GIF, content_type="image/gif")
    add_never_cache_headers(response)  # every open asks again
    response["Pragma"] = "no-cache"
    response["Expires"] = "0"
    return response


def _redirect(request: HttpRequest, message: Message | None, link: int) -> HttpResponse:
    target = link_target_of(message, link) if message is not None else None
    if message is None or target is None:
        return _not_found(request)
    if request.method == "GET":  # a HEAD is a scanner checking the link: not a click
        try:
            message_click_record(message=message, link=link, url=target, visitor=_visitor(request))
        except DatabaseError:  # the person still gets where the link goes
            logger.exception("A click on message %s was not recorded", message.pk)
    response = HttpResponseRedirect(target)
    add_never_cache_headers(response)
    response["Referrer-Policy"] = "no-referrer"  # the token stays out of the target's logs
    return response


@require_http_methods(["GET", "HEAD"])
def click_redirect(request: HttpRequest, token: str) -> HttpResponse:
    """A tracked email link: 302 to the target the message held, or the 404 page."""
    found = token_read(Purpose.CLICK, token)
    if found is None:
        return _not_found(request)
    message_id, link = found
    return _redirect(request, message_for_tracking(message_id), link)


@require_http_methods(["GET", "HEAD"])
def short_redirect(request: HttpRequest, code: str) -> HttpResponse:
    """An SMS short link: 302 to the target, or the 404 page."""
    found = short_link_resolve(code) if code.isalnum() and len(code) <= 16 else None
    if found is None:
        return _not_found(request)
    return _redirect(request, *found)


def _locale_of(message: Message | None) -> str:
    """The supported language closest to the message's locale (zh-TW -> zh-hant)."""
    current = translation.get_language() or "en"
    if message is None or not message.locale:
        return current
    try:
        return translation.get_supported_language_variant(message.locale.lower())
    except LookupError:
        return current


def _unsubscribe_context(message: Message | None, **extra: Any) -> dict[str, Any]:
    return {"message": message, "is_test": bool(message and message.execution.is_test), **extra}


@csrf_exempt  # the signed token authorises; RFC 8058 clients POST without any cookie
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe_page(request: HttpRequest, token: str) -> HttpResponse:
    """Ask (GET), then unsubscribe (POST, or RFC 8058 one-click POST) or subscribe again.

    A GET never changes anything: link scanners follow links. A test send's page
    works but changes nothing (the address was typed by a colleague, not chosen
    by a recipient).
    """
    message: Message | None = None
    if token == UNSUBSCRIBE_PREVIEW_TOKEN:
        state = "preview"
    else:
        found = token_read(Purpose.UNSUBSCRIBE, token)
        message = message_for_unsubscribe(found[0]) if found is not None else None
        if message is None or not message.address:  # erased since: nothing to act on
            return _not_found(request)
        state = "ask"
        if request.method == "POST":
            state = _unsubscribe_post(request, message)
    with translation.override(_locale_of(message)):
        response = render(
            request, "delivery/unsubscribe.html", _unsubscribe_context(message, state=state)
        )
    add_never_cache_headers(response)
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response


def _unsubscribe_post(request: HttpRequest, message: Message) -> str:
    action = request.POST.get("action", "")
    one_click = request.POST.get(ONE_CLICK_FIELD) == ONE_CLICK_VALUE
    if action == "resubscribe":
        if not message.execution.is_test:
            address_resubscribe(
                channel=message.channel, address=message.address, source="link", message=message
            )
        return "resubscribed"
    if not message.execution.is_test:
        address_unsubscribe(
            channel=message.channel,
            address=message.address,
            source="one_click" if one_click else "link",
            message=message,
        )
    return "unsubscribed"
