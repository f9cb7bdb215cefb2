"""Push notifications: FCM (Android, iOS and web apps through Firebase) and Web Push.

The message's address is the device token (FCM) or the subscription's endpoint URL
(Web Push); ``push_info`` carries the rest of the device (``appID``, ``platform``,
``token``, and for Web Push the ``subscription`` with ``keys.p256dh`` and
``keys.auth``). The content parts are ``title``, ``body``, ``deepLink`` and
``imageUrl``.

Both services say when a token is gone for good (the app was uninstalled, the
subscription expired): the error is permanent with ``gone=True``, and the sending
pipeline forgets the registration. Rate limits, outages and timeouts are
transient. A credentials problem of ours (OAuth refused, 401/403 from FCM) is
transient too: the operator fixes it, nothing fails for it.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import firebase_admin
import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _
from firebase_admin import credentials, exceptions, messaging
from google.auth.exceptions import GoogleAuthError
from py_vapid import Vapid, Vapid01
from pywebpush import WebPushException, webpush

from delivery.channels.base import Outgoing, SendResult, TransportError

logger = logging.getLogger(__name__)

PROVIDER_AUTH_FAILED = "provider_auth_failed"


def _network_error(error: Exception) -> TransportError:
    if isinstance(error, requests.Timeout):
        return TransportError("timeout", str(error) or "timed out", permanent=False)
    return TransportError("connection_error", str(error) or type(error).__name__, False)


# --- FCM (HTTP v1 API, https://firebase.google.com/docs/reference/fcm/rest/v1/ErrorCode) ---

# firebase-admin names the FCM error code by exception class; the rest by the canonical code.
_FCM_CODES: tuple[tuple[type[exceptions.FirebaseError], str], ...] = (
    (messaging.UnregisteredError, "unregistered"),
    (messaging.SenderIdMismatchError, "sender_id_mismatch"),
    (messaging.QuotaExceededError, "quota_exceeded"),
    (messaging.ThirdPartyAuthError, "third_party_auth_error"),
)
# Retried: quota, outages, timeouts, and what firebase-admin cannot name.
_FCM_TRANSIENT = frozenset(
    {"RESOURCE_EXHAUSTED", "UNAVAILABLE", "INTERNAL", "DEADLINE_EXCEEDED", "UNKNOWN", "ABORTED"}
)


def fcm_error(error: exceptions.FirebaseError) -> TransportError:
    """Classify an error of ``messaging.send``."""
    response = error.http_response
    status = response.status_code if response is not None else None
    name = next((n for kind, n in _FCM_CODES if isinstance(error, kind)), str(error.code).lower())
    detail = f"{status or ''} {error.code}: {error}".strip()
    if isinstance(error, messaging.UnregisteredError):
        return TransportError(f"fcm_{name}", detail, permanent=True, gone=True)
    # A sender id mismatch or another 404 fails the message but forgets no token: with
    # the credentials of another Firebase project every token answers so, and one send
    # would otherwise erase every registration.
    if isinstance(error, messaging.SenderIdMismatchError | exceptions.NotFoundError):
        return TransportError(f"fcm_{name}", detail, permanent=True)
    if status == 404:
        return TransportError(f"fcm_{name}", detail, permanent=True)
    if isinstance(error, messaging.ThirdPartyAuthError):  # the APNs key set in Firebase
        return TransportError(f"fcm_{name}", detail, permanent=False)
    if isinstance(error, exceptions.UnauthenticatedError | exceptions.PermissionDeniedError):
        return TransportError(PROVIDER_AUTH_FAILED, detail, permanent=False)
    if error.code in _FCM_TRANSIENT or status is None or status == 429 or status >= 500:
        return TransportError(f"fcm_{name}", detail, permanent=False)
    return TransportError(f"fcm_{name}", detail, permanent=True)


def fcm_message(message: Outgoing) -> messaging.Message:
    """The FCM message: a notification, and Clarion's data for the app to act on."""
    parts = message.parts
    data = {"clarionMessageId": str(message.message_id)}
    if parts.get("deepLink"):
        data["deepLink"] = parts["deepLink"]
    notification = messaging.Notification(
        title=parts.get("title") or None,
        body=parts.get("body") or None,
        image=parts.get("imageUrl") or None,
    )
    with warnings.catch_warnings():
        # Apps send FCM registration tokens (pushInfo.token, as the reference API does), and
        # the v1 API takes them; firebase-admin 7.7 marks the field deprecated in favour of
        # Firebase installation ids, which Clarion is not given.
        warnings.filterwarnings("ignore", "Message.token is deprecated", DeprecationWarning)
        return messaging.Message(token=message.address, notification=notification, data=data)


class FcmTransport:
    """Sends through one firebase-admin app of its own, made from the service account file.

    ``messaging.send`` posts to the FCM v1 endpoint with requests, after an OAuth token
    call that google-auth caches until the token expires. firebase-admin itself retries
    a 500 or 503 a few times (with backoff) before answering.
    """

    def __init__(self, *, app: firebase_admin.App) -> None:
        self.app = app

    @classmethod
    def from_settings(cls) -> FcmTransport:
        """Raises ImproperlyConfigured (the registry makes it a transient error) when unset."""
        path = settings.FCM_CREDENTIALS_FILE
        if not path:
            raise ImproperlyConfigured(
                _("FCM is not configured: set FCM_CREDENTIALS_FILE to a service account file.")
            )
        try:
            credential = credentials.Certificate(path)
        except (OSError, ValueError) as error:
            raise ImproperlyConfigured(
                _("FCM_CREDENTIALS_FILE cannot be used: %(error)s") % {"error": error}
            ) from error
        app = firebase_admin.initialize_app(
            credential,
            options={"httpTimeout": settings.CLARION_PROVIDER_TIMEOUT_SECONDS},
            # Its own app, so closing this transport deletes only what it made.
            name=f"clarion-fcm-{uuid.uuid4()}",
        )
        return cls(app=app)

    def _send_one(self, message: Outgoing) -> SendResult:
        try:
            name = messaging.send(fcm_message(message), app=self.app)
        except exceptions.FirebaseError as error:
            return SendResult(message.message_id, error=fcm_error(error))
        except GoogleAuthError as error:  # the OAuth token call failed (key revoked, network)
            detail = f"{type(error).__name__}: {error}"
            return SendResult(
                message.message_id, error=TransportError(PROVIDER_AUTH_FAILED, detail, False)
            )
        except ValueError as error:  # a message firebase-admin refuses to encode
            error_result = TransportError("fcm_invalid_message", str(error), permanent=True)
            return SendResult(message.message_id, error=error_result)
        return SendResult(message.message_id, provider_message_id=name)

    def send_many(self, outgoing: Sequence[Outgoing]) -> list[SendResult]:
        return [self._send_one(message) for message in outgoing]

    def close(self) -> None:
        try:
            firebase_admin.delete_app(self.app)
        except Exception:  # closing must not fail a worker's shutdown
            logger.debug("Deleting the firebase-admin app failed", exc_info=True)


# --- Web Push (RFC 8030 delivery, RFC 8291 encryption, RFC 8292 VAPID) ---

# A notification not delivered within a day is stale; push services keep it that long
# for a device that is offline (RFC 8030 5.2).
WEBPUSH_TTL_SECONDS = 24 * 60 * 60


def webpush_error(response: requests.Response) -> TransportError:
    """Classify a push service's refusal (RFC 8030 6.2: 404 and 410 mean gone)."""
    status = response.status_code
    detail = f"{status} {response.reason or ''}: {response.text[:500]}".strip()
    if status in (404, 410):
        return TransportError(f"webpush_{status}", detail, permanent=True, gone=True)
    if status == 429 or status >= 500:
        return TransportError(f"webpush_{status}", detail, permanent=False)
    return TransportError(f"webpush_{status}", detail, permanent=True)


def webpush_payload(message: Outgoing) -> str:
    """What the site's service worker receives (docs/configuration.md shows it)."""
    parts = message.parts
    return json.dumps(
        {
            "title": parts.get("title", ""),
            "body": parts.get("body", ""),
            "deepLink": parts.get("deepLink", ""),
            "imageUrl": parts.get("imageUrl", ""),
            "clarionMessageId": str(message.message_id),
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def _vapid_key(value: str) -> Vapid01:
    if "-----BEGIN" in value:
        return Vapid.from_pem(value.encode())
    if os.path.isfile(value):
        return Vapid.from_file(value)
    return Vapid.from_string(value)


def _subscription(message: Outgoing) -> dict[str, Any] | None:
    info: Mapping[str, Any] = message.push_info or {}
    subscription = info.get("subscription") or {}
    keys = subscription.get("keys", subscription) if isinstance(subscription, Mapping) else {}
    if not isinstance(keys, Mapping) or not keys.get("p256dh") or not keys.get("auth"):
        return None
    return {"endpoint": message.address, "keys": {"p256dh": keys["p256dh"], "auth": keys["auth"]}}


class WebPushTransport:
    """Encrypts each message for its subscription and posts it to the push service."""

    def __init__(self, *, vapid: Vapid01, subject: str, timeout: float) -> None:
        self.vapid = vapid
        self.subject = subject
        self.timeout = timeout
        self.session = requests.Session()  # keep-alive to the few push services

    @classmethod
    def from_settings(cls) -> WebPushTransport:
        """Raises ImproperlyConfigured (the registry makes it a transient error) when unset."""
        key, subject = settings.WEBPUSH_VAPID_PRIVATE_KEY, settings.WEBPUSH_VAPID_SUBJECT
        if not key or not subject:
            raise ImproperlyConfigured(
                _(
                    "Web Push is not configured: set WEBPUSH_VAPID_PRIVATE_KEY and "
                    "WEBPUSH_VAPID_SUBJECT."
                )
            )
        try:
            vapid = _vapid_key(key)
        except Exception as error:  # py_vapid raises whatever its decoders raise
            raise ImproperlyConfigured(
                _("WEBPUSH_VAPID_PRIVATE_KEY cannot be read: %(error)s")
                % {"error": type(error).__name__}
            ) from error
        return cls(vapid=vapid, subject=subject, timeout=settings.CLARION_PROVIDER_TIMEOUT_SECONDS)

    def _send_one(self, message: Outgoing) -> SendResult:
        subscription = _subscription(message)
        if subscription is None:
            error = TransportError(
                "webpush_no_subscription",
                _("The push registration has no Web Push subscription keys (p256dh, auth)."),
                permanent=True,
            )
            return SendResult(message.message_id, error=error)
        try:
            response = webpush(
                subscription_info=subscription,
                data=webpush_payload(message),
                vapid_private_key=self.vapid,
                # A new dict each time: pywebpush writes the endpoint's origin into it.
                vapid_claims={"sub": self.subject},
                timeout=self.timeout,
                ttl=WEBPUSH_TTL_SECONDS,
                requests_session=self.session,
            )
        except WebPushException as error:
            if error.response is not None and isinstance(error.response, requests.Response):
                return SendResult(message.message_id, error=webpush_error(error.response))
            error_result = TransportError("webpush_invalid_subscription", str(error), True)
            return SendResult(message.message_id, error=error_result)
        except requests.RequestException as error:
            return SendResult(message.message_id, error=_network_error(error))
        except (ValueError, TypeError) as error:  # keys that are not P-256 points
            error_result = TransportError("webpush_invalid_subscription", str(error), True)
            return SendResult(message.message_id, error=error_result)
        location = (
            response.headers.get("Location", "") if isinstance(response, requests.Response) else ""
        )
        return SendResult(message.message_id, provider_message_id=location)

    def send_many(self, outgoing: Sequence[Outgoing]) -> list[SendResult]:
        return [self._send_one(message) for message in outgoing]

    def close(self) -> None:
        self.session.close()
