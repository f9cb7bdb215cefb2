"""API keys: creating, changing and revoking them (audited), and authenticating a bearer token.

The secret is generated here and returned once; only its SHA-256 hash is
stored. Whoever creates or changes a key can give it only the scopes and
access labels they hold themselves, so a key never reaches further than the
person who made it.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.actors import Actor
from core.errors import FieldError, invalid_input, pointer
from core.models import AccessLabel, ApiKey, ApiKeyEvent
from core.scopes import SCOPE_PERMISSIONS, SCOPES
from core.selectors import access_labels_held, api_key_label_ids

logger = logging.getLogger(__name__)

KEY_PREFIX = "clr_"
PREFIX_BYTES = 4  # 8 hex characters: enough to tell keys apart in a list
# A new prefix collides with an existing one about once in 4 billion keys; retry a few times.
PREFIX_ATTEMPTS = 5
# last_used_at is written at most this often per key, to keep the trigger path free of writes.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# Authenticated keys are cached (Redis when configured) so a trigger call reads no key row;
# changing or revoking a key forgets its entry at once, and entries expire after this
# long in any case (a label deleted from the admin, say).
KEY_CACHE_SECONDS = 60


def api_key_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def actor_holds_scope(actor: Actor, scope: str) -> bool:
    """Whether ``actor`` may hand out ``scope``: the system and superusers hold every scope,
    a user holds one when they have each permission the API asks of it."""
    if actor.api_key is not None:
        return actor.api_key.has_scope(scope)
    if actor.user is None or actor.is_superuser:
        return True  # the system (commands, beat) and superusers hold every scope
    return all(actor.has_perm(perm) for perm in SCOPE_PERMISSIONS.get(scope, ()))


def _scope_errors(scopes: Sequence[str], actor: Actor, granted: set[str]) -> list[FieldError]:
    errors = []
    for index, scope in enumerate(scopes):
        if scope not in SCOPES:
            errors.append(
                FieldError(
                    pointer("scopes", index),
                    _("Unknown scope “%(s)s”; known: %(known)s.")
                    % {"s": scope, "known": ", ".join(SCOPES)},
                )
            )
        elif scope in granted and not actor_holds_scope(actor, scope):
            errors.append(
                FieldError(
                    pointer("scopes", index),
                    _("You do not hold the scope “%s”, so you cannot give it.") % scope,
                )
            )
    return errors


def _labels_resolve(
    names: Sequence[str], actor: Actor, granted: set[str]
) -> tuple[list[AccessLabel], list[FieldError]]:
    labels = list(AccessLabel.objects.filter(name__in=list(names)))
    by_name = {label.name: label for label in labels}
    held = access_labels_held(actor)
    errors = []
    for index, name in enumerate(names):
        label = by_name.get(name)
        if label is None:
            errors.append(
                FieldError(pointer("accessLabels", index), _("Unknown access label “%s”.") % name)
            )
        elif name in granted and held is not None and label.id not in held:
            errors.append(
                FieldError(
                    pointer("accessLabels", index),
                    _("You do not hold the access label “%s”, so you cannot give it.") % name,
                )
            )
    return labels, errors


def api_key_grant_errors(
    *,
    key: ApiKey | None,
    scopes: Sequence[str],
    access_labels: Sequence[str],
    actor: Actor,
    is_active: bool = True,
) -> list[FieldError]:
    """What is wrong with giving ``key`` (None: a new key) these scopes and labels.

    Unknown names, and scopes or labels ``actor`` does not hold that the key does
    not already have in force. A revoked key has nothing in force: switching it
    back on grants everything it carries again.
    """
    if not is_active:  # a revoked key grants nothing, whatever it carries
        return _scope_errors(scopes, actor, set()) + _labels_resolve(access_labels, actor, set())[1]
    in_force_scopes: set[str] = set()
    in_force_labels: set[str] = set()
    if key is not None and key.is_active:
        in_force_scopes = set(key.scopes or [])
        in_force_labels = set(key.access_labels.values_list("name", flat=True))
    errors = _scope_errors(scopes, actor, granted=set(scopes) - in_force_scopes)
    errors += _labels_resolve(access_labels, actor, granted=set(access_labels) - in_force_labels)[1]
    return errors


def _check(
    *,
    key: ApiKey | None,
    name: str,
    scopes: Sequence[str],
    label_names: Sequence[str],
    actor: Actor,
    is_active: bool = True,
) -> None:
    """Refuse, with a pointer per problem, what creating or changing a key may not do."""
    errors = api_key_grant_errors(
        key=key, scopes=scopes, access_labels=label_names, actor=actor, is_active=is_active
    )
    if not name.strip():
        errors.append(FieldError("/name", _("A key needs a name.")))
    if errors:
        raise invalid_input(errors)


def _event(key: ApiKey, action: str, actor: Actor, detail: dict[str, Any]) -> None:
    ApiKeyEvent.objects.create(
        api_key=key, key_name=key.name, action=action, actor=actor.db_user, detail=detail
    )


def api_key_create(
    *,
    name: str,
    scopes: Iterable[str],
    access_labels: Iterable[str] = (),
    actor: Actor = Actor(),  # noqa: B008 (frozen: the system)
) -> tuple[ApiKey, str]:
    """Create a key; returns it with its secret, which is never stored or shown again."""
    scopes = sorted(set(scopes))
    label_names = sorted(set(access_labels))
    _check(key=None, name=name, scopes=scopes, label_names=label_names, actor=actor)
    labels = list(AccessLabel.objects.filter(name__in=label_names))
    for attempt in range(PREFIX_ATTEMPTS):
        prefix = secrets.token_hex(PREFIX_BYTES)
        secret = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
        try:
            with transaction.atomic():
                key = ApiKey.objects.create(
                    name=name.strip(),
                    prefix=prefix,
                    key_hash=api_key_hash(secret),
                    scopes=scopes,
                    created_by=actor.db_user,
                )
                key.access_labels.set(labels)
                _event(key, "created", actor, {"scopes": scopes, "accessLabels": label_names})
        except IntegrityError:
            if attempt == PREFIX_ATTEMPTS - 1:
                raise
            continue  # the prefix (or, astronomically unlikely, the hash) is taken
        return key, secret
    raise AssertionError("unreachable")  # pragma: no cover


def api_key_update(
    *,
    key: ApiKey,
    name: str,
    scopes: Iterable[str],
    access_labels: Iterable[str],
    is_active: bool,
    actor: Actor,
) -> ApiKey:
    """Change a key's name, scopes, labels or active switch; only what changed is recorded.

    Scopes and labels the key already has in force may stay even when ``actor``
    does not hold them; only newly granted ones are checked, and switching a
    revoked key back on grants all of its scopes and labels again.
    """
    scopes = sorted(set(scopes))
    label_names = sorted(set(access_labels))
    with transaction.atomic():
        key = ApiKey.objects.select_for_update().get(pk=key.pk)
        old_labels = sorted(key.access_labels.values_list("name", flat=True))
        _check(
            key=key,
            name=name,
            scopes=scopes,
            label_names=label_names,
            actor=actor,
            is_active=is_active,
        )
        labels = list(AccessLabel.objects.filter(name__in=label_names))
        changes: dict[str, Any] = {}
        if name.strip() != key.name:
            changes["name"] = [key.name, name.strip()]
        if scopes != sorted(key.scopes or []):
            changes["scopes"] = [sorted(key.scopes or []), scopes]
        if label_names != old_labels:
            changes["accessLabels"] = [old_labels, label_names]
        key.name = name.strip()
        key.scopes = scopes
        activity_changed = key.is_active != is_active
        key.is_active = is_active
        key.save(update_fields=["name", "scopes", "is_active"])
        key.access_labels.set(labels)
        _forget(key)
        if changes:
            _event(key, "changed", actor, changes)
        if activity_changed:
            _event(key, "reactivated" if is_active else "revoked", actor, {})
    return key


def api_key_revoke(*, key: ApiKey, actor: Actor) -> ApiKey:
    """Switch a key off; calls with it get 401 from now on. Revoking twice records once."""
    with transaction.atomic():
        key = ApiKey.objects.select_for_update().get(pk=key.pk)
        if key.is_active:
            key.is_active = False
            key.save(update_fields=["is_active"])
            _forget(key)
            _event(key, "revoked", actor, {})
    return key


def _cache_key(key_hash: str) -> str:
    return f"apikey:{key_hash}"


def _forget(key: ApiKey) -> None:
    """Drop ``key`` from the authentication cache, now and once the change commits."""
    cache.delete(_cache_key(key.key_hash))
    transaction.on_commit(lambda: cache.delete(_cache_key(key.key_hash)))


# When this process last asked the shared cache whether to record a key's use (by key id).
_last_used_asked: dict[Any, datetime] = {}


def api_key_authenticate(secret: str) -> ApiKey | None:
    """The active key whose secret this is, or None.

    Cached by the secret's hash with its label ids (``api_key_label_ids``), so a
    call with a known key costs no query; revoking or changing a key forgets it.
    """
    if not secret.startswith(KEY_PREFIX):
        return None
    key_hash = api_key_hash(secret)
    key: ApiKey | None = cache.get(_cache_key(key_hash))
    if key is None:
        key = ApiKey.objects.filter(key_hash=key_hash, is_active=True).first()
        if key is None:
            return None
        api_key_label_ids(key)
        cache.set(_cache_key(key_hash), key, KEY_CACHE_SECONDS)
    # At most one write per key and minute, across processes. The cached key itself is
    # never written back: a key revoked meanwhile must not be cached again.
    now = timezone.now()
    stale = key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION
    # The cached key keeps its old last_used_at, so after a minute every call looks stale:
    # this process asks the shared cache at most once a minute per key, not once a call.
    asked = _last_used_asked.get(key.pk)
    if stale and asked is not None and now - asked < LAST_USED_RESOLUTION:
        stale = False
    seconds = int(LAST_USED_RESOLUTION.total_seconds())
    if stale:
        _last_used_asked[key.pk] = now
    if stale and cache.add(f"apikey-used:{key.pk}", 1, seconds):
        try:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        except DatabaseError:  # a bookkeeping write never fails the call it counts
            logger.warning("Could not record the use of API key %s", key.prefix, exc_info=True)
        key.last_used_at = now
    return key
