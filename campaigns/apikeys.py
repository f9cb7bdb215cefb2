"""API keys: creating them (secret shown once) and authenticating a bearer token."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta

from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import AccessLabel, ApiKey
from campaigns.models.access import SCOPES
from config.errors import FieldError, InvalidInput

KEY_PREFIX = "clr_"
# last_used_at is written at most this often per key, to keep the trigger path free of writes.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def api_key_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_key_create(
    *,
    name: str,
    scopes: Iterable[str],
    access_labels: Iterable[str] = (),
    created_by: User | None = None,
) -> tuple[ApiKey, str]:
    """Create a key; returns it with its secret, which is never stored or shown again."""
    scopes = sorted(set(scopes))
    errors = [
        FieldError(
            f"/scopes/{i}",
            _("Unknown scope “%(s)s”; known: %(known)s.") % {"s": s, "known": ", ".join(SCOPES)},
        )
        for i, s in enumerate(scopes)
        if s not in SCOPES
    ]
    labels = list(AccessLabel.objects.filter(name__in=list(access_labels)))
    missing = set(access_labels) - {label.name for label in labels}
    errors += [
        FieldError("/accessLabels", _("Unknown access label “%s”.") % m) for m in sorted(missing)
    ]
    if not name.strip():
        errors.append(FieldError("/name", _("A key needs a name.")))
    if errors:
        raise InvalidInput(message=errors[0].detail, errors=errors)
    prefix = secrets.token_hex(4)
    secret = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(
        name=name.strip(),
        prefix=prefix,
        key_hash=api_key_hash(secret),
        scopes=scopes,
        created_by=created_by,
    )
    key.access_labels.set(labels)
    return key, secret


def api_key_authenticate(secret: str) -> ApiKey | None:
    """The active key whose secret this is, or None."""
    if not secret.startswith(KEY_PREFIX):
        return None
    key = ApiKey.objects.filter(key_hash=api_key_hash(secret), is_active=True).first()
    if key is None:
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key
