"""Accepting a trigger call: checks 4 to 8, then one transaction, then 202.

``execution_accept_unitary`` checks the call against the live version (through
caches), resolves the ``aep`` recipients with one query, and writes the
idempotency record, the execution and one ``queued`` message per recipient in
one transaction; send tasks are published after the commit. A call is accepted
whole or refused whole. The number of queries does not grow with the number of
recipients (tests/delivery/test_accept_queries.py pins it).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db import IntegrityError, connection
from django.utils import timezone
from django.utils.translation import gettext as _

from audiences.identities import IdentityValueError, identity_normalize
from audiences.models import Identity, IdentityNamespace, Profile, PushRegistration
from audiences.selectors import identity_namespace_get
from campaigns.models import Category
from campaigns.versions import VersionSnapshot
from core.actors import Actor
from core.channels import Channel
from core.errors import ClarionError, FieldError, invalid_input, pointer
from core.formats import iso_datetime
from core.ids import uuid7
from core.inserts import Statement, insert_statement
from delivery.addresses import Address, profile_address, recipient_address
from delivery.calls import TriggerRecipient, UnitaryCall
from delivery.enqueue import send_on_commit
from delivery.models import (
    Execution,
    ExecutionKind,
    ExecutionStatus,
    Message,
    MessageStatus,
    RecipientType,
)
from delivery.services.happenings import Happening, HappeningType, happenings_statements
from delivery.services.idempotency import (
    Response,
    accept_once,
    idempotency_owner,
    idempotency_replay,
)
from delivery.services.triggers import call_data_check, triggerable_version

ACCEPT_ATTEMPTS = 2  # a lost race creating a profile retries once, then finds the winner's
NAMESPACE_CACHE_SECONDS = 60.0


@dataclass
class NamespaceMismatch(ClarionError):
    code: str = "namespace_mismatch"
    status: int = 422


@dataclass
class UnknownRecipient(ClarionError):
    code: str = "unknown_recipient"
    status: int = 422


_namespaces: dict[str, tuple[float, IdentityNamespace]] = {}


def _namespace(code: str) -> IdentityNamespace:
    """The campaign's identity namespace as normalising needs it (its code and value
    kind), read at most once a minute per process.

    An unsaved copy: its primary key is never used, since a namespace deleted and
    created again (a test database flushed) has a new one. Identities are looked up
    by the namespace's code, and new ones get the row read when they are written.
    """
    found = _namespaces.get(code)
    now = time.monotonic()
    if found is not None and now - found[0] < NAMESPACE_CACHE_SECONDS:
        return found[1]
    row = identity_namespace_get(code, at="/campaignId")
    namespace = IdentityNamespace(code=row.code, name=row.name, value_kind=row.value_kind)
    _namespaces[code] = (now, namespace)
    return namespace


def _check_namespaces(call: UnitaryCall, expected: str) -> None:
    errors = [
        FieldError(
            pointer("recipients", index, "namespace"),
            _("The campaign names recipients by “%(expected)s”, not “%(given)s”.")
            % {"expected": expected, "given": recipient.namespace},
        )
        for index, recipient in enumerate(call.recipients)
        if recipient.type == RecipientType.AEP and recipient.namespace != expected
    ]
    if errors:
        raise invalid_input(errors, code="namespace_mismatch")


@dataclass
class _Resolved:
    """The ``aep`` recipients' normalised identities and the profiles found for them."""

    values: dict[int, str]  # recipient index -> normalised userId
    profiles: dict[str, Profile]  # normalised userId -> profile
    registrations: dict[Any, list[PushRegistration]]  # profile id -> newest first


def _refuse_same_person(values: dict[int, str], profiles: dict[str, Profile]) -> None:
    """Two recipients of one call that are one person (``Bob@`` and ``bob@``, or two
    identities of one profile) would get one message each: refused with a pointer to
    each later one. The schema's "duplicate userId" check sees only identical spellings."""
    first: dict[object, int] = {}
    errors = []
    for index, value in sorted(values.items()):
        profile = profiles.get(value)
        person: object = profile.pk if profile is not None else ("new", value)
        if person in first:
            errors.append(
                FieldError(
                    pointer("recipients", index, "userId"),
                    _("The same person as recipient %d; name each person once per call.")
                    % first[person],
                )
            )
        else:
            first[person] = index
    if errors:
        raise invalid_input(errors, code="duplicate_recipient")


def _profiles_sql() -> str:
    """Identities of one namespace with their profile's id and addresses (all acceptance
    reads of a profile), without model instances or the profile's attributes."""
    quote = connection.ops.quote_name
    identity, namespace, profile = (
        quote(model._meta.db_table) for model in (Identity, IdentityNamespace, Profile)
    )
    return (
        f"SELECT i.{quote('value')}, p.{quote('id')}, p.{quote('email_address')}, "  # noqa: S608
        f"p.{quote('mobile_number')} FROM {identity} i "
        f"JOIN {namespace} n ON n.{quote('id')} = i.{quote('namespace_id')} "
        f"JOIN {profile} p ON p.{quote('id')} = i.{quote('profile_id')} "
        f"WHERE n.{quote('code')} = %s AND i.{quote('value')} IN "
    )


def _profiles_known(namespace_code: str, values: set[str]) -> dict[str, Profile]:
    """The profiles known by these identity values (normalised) in the namespace: one
    query. Each is an unsaved copy holding only its id and addresses."""
    sql = _profiles_sql() + "(" + ", ".join(["%s"] * len(values)) + ")"
    with connection.cursor() as cursor:
        cursor.execute(sql, [namespace_code, *values])
        rows = cursor.fetchall()
    return {
        value: Profile(
            id=profile_id if isinstance(profile_id, UUID) else UUID(str(profile_id)),
            email_address=email_address,
            mobile_number=mobile_number,
        )
        for value, profile_id, email_address, mobile_number in rows
    }


def _resolve(
    call: UnitaryCall, namespace: IdentityNamespace, snapshot: VersionSnapshot
) -> _Resolved:
    values: dict[int, str] = {}
    errors: list[FieldError] = []
    for index, recipient in enumerate(call.recipients):
        if recipient.type != RecipientType.AEP:
            continue
        try:
            values[index] = identity_normalize(namespace, recipient.user_id)
        except IdentityValueError as error:
            errors.append(FieldError(pointer("recipients", index, "userId"), str(error)))
    if errors:
        # In an email or phone namespace the userId is an address (step 8's code);
        # elsewhere it is an id that cannot be one (blank, control characters).
        kind = namespace.value_kind
        address_kinds = (IdentityNamespace.ValueKind.EMAIL, IdentityNamespace.ValueKind.PHONE)
        code = "invalid_address" if kind in address_kinds else "invalid_identity"
        raise invalid_input(errors, code=code)
    profiles = _profiles_known(namespace.code, set(values.values())) if values else {}
    _refuse_same_person(values, profiles)
    unknown = [index for index, value in values.items() if value not in profiles]
    if unknown and not snapshot.audience.create_new_profiles:
        message = _(
            "No profile is known for this recipient, and the campaign does not create profiles."
        )
        raise UnknownRecipient(
            message=message,
            errors=[
                FieldError(pointer("recipients", index, "userId"), message) for index in unknown
            ],
        )
    registrations: dict[Any, list[PushRegistration]] = {}
    if snapshot.channel == Channel.PUSH and profiles:
        for registration in PushRegistration.objects.filter(
            profile__in=[p.pk for p in profiles.values()]
        ).order_by("-last_seen_at", "-created_at"):
            registrations.setdefault(registration.profile_id, []).append(registration)
    return _Resolved(values, profiles, registrations)


def _addresses(
    call: UnitaryCall,
    snapshot: VersionSnapshot,
    namespace: IdentityNamespace,
    resolved: _Resolved,
) -> list[Address]:
    app_id = str(snapshot.channel_settings.get("appId") or "")
    web_push = snapshot.channel_settings.get("provider") == "webpush"
    found: list[Address] = []
    errors: list[FieldError] = []
    for index, recipient in enumerate(call.recipients):
        profile = resolved.profiles.get(resolved.values.get(index, ""))
        stored = (
            profile_address(
                snapshot.channel, profile, resolved.registrations.get(profile.pk, []), app_id
            )
            if profile is not None
            else None
        )
        # An external recipient without a namespace is named like the campaign's recipients.
        named_like_campaign = recipient.type == RecipientType.AEP or not recipient.namespace
        kind = namespace.value_kind if named_like_campaign else _kind_of(recipient)
        address = recipient_address(
            channel=snapshot.channel,
            index=index,
            recipient=recipient,
            namespace_kind=kind,
            stored=stored,
        )
        if not isinstance(address, FieldError) and web_push:
            address = _with_subscription(address, index, profile, resolved)
        if isinstance(address, FieldError):
            errors.append(address)
        else:
            found.append(address)
    if errors:
        raise invalid_input(errors, code="invalid_address")
    return found


def _with_subscription(
    address: Address, index: int, profile: Profile | None, resolved: _Resolved
) -> Address | FieldError:
    """Web Push encrypts for the browser's subscription keys, which ``pushInfo`` does not
    carry: they come from the profile's registration of the same endpoint, or the call
    is refused now rather than failing after its 202."""
    info = address.push_info or {}
    if info.get("subscription"):
        return address
    registrations = resolved.registrations.get(profile.pk, []) if profile is not None else []
    for registration in registrations:
        if registration.token == address.value and registration.subscription:
            return Address(address.value, {**info, "subscription": registration.subscription})
    return FieldError(
        pointer("recipients", index, "channelData", "pushInfo"),
        _(
            "Web Push needs the browser's subscription keys, and no registration of this "
            "endpoint on the profile has them: register the subscription on the profile."
        ),
    )


def _kind_of(recipient: TriggerRecipient) -> str:
    """An external recipient's namespace is not looked up: email and phone are understood."""
    return {
        "email": IdentityNamespace.ValueKind.EMAIL,
        "phone": IdentityNamespace.ValueKind.PHONE,
    }.get(recipient.namespace, IdentityNamespace.ValueKind.TEXT)


def _create_profiles(
    call: UnitaryCall, namespace: IdentityNamespace, resolved: _Resolved
) -> dict[str, Profile]:
    """Profiles for the unknown ``aep`` recipients (only their identity; the call's
    ``profile`` data is for this message, never stored)."""
    missing = sorted({v for v in resolved.values.values() if v not in resolved.profiles})
    if not missing:
        return {}
    created = {}
    for value in missing:
        profile = Profile()
        if namespace.value_kind == IdentityNamespace.ValueKind.EMAIL:
            profile.email_address = value
        elif namespace.value_kind == IdentityNamespace.ValueKind.PHONE:
            profile.mobile_number = value
        created[value] = profile
    Profile.objects.bulk_create(created.values())
    row = IdentityNamespace.objects.get(code=namespace.code)
    # Raises IntegrityError when a concurrent call created one of them first.
    Identity.objects.bulk_create(
        [Identity(profile=p, namespace=row, value=v) for v, p in created.items()]
    )
    return created


def _unitary_once(*, actor: Actor, call: UnitaryCall, fingerprint: str, key: str) -> Response:
    now = timezone.now()
    snapshot = triggerable_version(
        campaign_id=call.campaign_id, actor=actor, category=Category.TRANSACTIONAL, now=now
    )
    namespace = _namespace(snapshot.audience.identity_namespace)
    _check_namespaces(call, namespace.code)
    resolved = _resolve(call, namespace, snapshot)
    addresses = _addresses(call, snapshot, namespace, resolved)
    call_data_check(
        [("/context", call.context)]
        + [
            (pointer("recipients", index, part), getattr(recipient, part))
            for index, recipient in enumerate(call.recipients)
            for part in ("profile", "context")
        ]
    )

    execution_id = uuid7(now)
    message_ids = [uuid7(now) for _recipient in call.recipients]
    response = Response(
        202,
        {
            "executionId": str(execution_id),
            "requestId": call.request_id,
            "campaignId": str(call.campaign_id),
            "status": ExecutionStatus.QUEUED.value,
            "recipients": [
                {"userId": r.user_id, "messageId": str(m), "status": MessageStatus.QUEUED.value}
                for r, m in zip(call.recipients, message_ids, strict=True)
            ],
            "createdAt": iso_datetime(now),
        },
    )

    def write() -> list[Statement]:
        profiles = {**resolved.profiles, **_create_profiles(call, namespace, resolved)}
        execution = Execution(
            id=execution_id,
            kind=ExecutionKind.UNITARY,
            campaign_id=snapshot.campaign_id,
            version_id=snapshot.version_id,
            api_key=actor.api_key,
            request_id=call.request_id,
            context=dict(call.context),
            targeted_count=len(call.recipients),
        )
        messages = [
            Message(
                id=message_id,
                execution_id=execution_id,
                campaign_id=snapshot.campaign_id,
                version_id=snapshot.version_id,
                channel=snapshot.channel,
                position=index,
                recipient_type=recipient.type,
                namespace=recipient.namespace,
                user_id=recipient.user_id,
                profile=profiles.get(resolved.values.get(index, "")),
                address=address.value,
                push_info=address.push_info,
                recipient_profile=dict(recipient.profile),
                recipient_context=dict(recipient.context),
                enqueued_at=now,
            )
            for index, (recipient, message_id, address) in enumerate(
                zip(call.recipients, message_ids, addresses, strict=True)
            )
        ]
        # Built first: they set accepted_at, which the counters' hour is taken from.
        inserts = [insert_statement([execution]), insert_statement(messages)]
        happenings = [
            Happening(type=HappeningType.TARGETED, message=m, at=m.accepted_at) for m in messages
        ]
        send_on_commit(message_ids)
        return inserts + happenings_statements(happenings=happenings)

    return accept_once(
        owner=idempotency_owner(actor),
        key=key,
        endpoint=ExecutionKind.UNITARY,
        fingerprint=fingerprint,
        at="/requestId",
        response=response,
        write=write,
    )


def execution_accept_unitary(
    *, actor: Actor, call: UnitaryCall, fingerprint: str, idempotency_key: str
) -> Response:
    """Accept ``POST /api/v1/executions/unitary``: 202 with the execution and message ids.

    ``idempotency_key`` is the ``Idempotency-Key`` header or else ``requestId``;
    ``fingerprint`` is ``delivery.calls.body_hash`` of the body. Raises the
    ClarionError of the first check that fails (404, 403, 409, 422).
    """
    owner = idempotency_owner(actor)
    replay = idempotency_replay(
        owner=owner, key=idempotency_key, fingerprint=fingerprint, at="/requestId"
    )
    if replay is not None:
        return replay
    for attempt in range(ACCEPT_ATTEMPTS):
        try:
            return _unitary_once(
                actor=actor, call=call, fingerprint=fingerprint, key=idempotency_key
            )
        except IntegrityError:
            if attempt == ACCEPT_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")
