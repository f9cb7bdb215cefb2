"""The profiles API's shapes: what it takes (closed, strict) and what it answers.

Views are in ``audiences.api.profiles``; an input shape only checks JSON types and
lengths, ``audiences.profile_input`` checks and normalises the values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from rest_framework import serializers

from audiences.models import Consent, Profile
from audiences.selectors import ProfileRelations, profile_relations
from core.api.batch import REJECTED, BatchItemResultSerializer
from core.api.fields import ClosedSerializer, StrictCharField, StrictObjectField
from core.api.problems import flatten_errors
from core.channels import Channel, Platform
from core.errors import FieldError, pointer
from core.formats import iso_datetime

# Brief: "up to 1000 upserts per call"; 1000 small profiles also fit in the 1 MB body limit.
MAX_BATCH_PROFILES = 1000


# --- Input ---------------------------------------------------------------------------


class IdentityInputSerializer(ClosedSerializer):
    """One more identity of the person."""

    namespace = StrictCharField(help_text=_lazy("email, phone, crm_id, ecid or a custom code."))
    value = StrictCharField(trim_whitespace=False)

    class Meta:
        ref_name = "ProfileIdentityInput"


class ConsentInputSerializer(ClosedSerializer):
    """Marketing consent per channel; channels left out keep their consent."""

    email = serializers.ChoiceField(choices=Consent.Status.choices, required=False)
    sms = serializers.ChoiceField(choices=Consent.Status.choices, required=False)
    push = serializers.ChoiceField(choices=Consent.Status.choices, required=False)

    class Meta:
        ref_name = "ProfileConsentInput"


class ProfileUpsertInputSerializer(ClosedSerializer):
    """What to change; every field is optional."""

    attributes = StrictObjectField(
        required=False,
        help_text=_lazy("Merged deeply into the stored attributes; null removes a key."),
    )
    locale = StrictCharField(required=False, max_length=20, help_text=_lazy("e.g. fr-CA"))
    timeZone = StrictCharField(
        required=False, max_length=64, help_text=_lazy("IANA name, e.g. America/Toronto")
    )
    identities = serializers.ListField(
        child=IdentityInputSerializer(), required=False, max_length=50
    )
    consent = ConsentInputSerializer(
        required=False, help_text=_lazy("Marketing consent per channel (email, sms, push).")
    )
    consentSource = StrictCharField(
        required=False,
        max_length=120,
        help_text=_lazy("Where the consent was given; default “api”."),
    )

    class Meta:
        ref_name = "ProfileUpsertInput"


class ProfileBatchItemSerializer(ProfileUpsertInputSerializer):
    """One upsert of a batch: the identity it is addressed by plus the upsert fields."""

    namespace = StrictCharField()
    value = StrictCharField(trim_whitespace=False)

    class Meta:
        ref_name = "ProfileBatchItem"


class ProfileBatchInputSerializer(ClosedSerializer):
    """Up to 1000 upserts, applied in order, each on its own.

    The whole body is checked against this shape first: an item that does not
    match it (not an object, a wrong type, a missing or unknown field) is a 400
    for the batch, as the document says. Items that match it are accepted or
    rejected one by one, on their values.
    """

    profiles = serializers.ListField(
        child=ProfileBatchItemSerializer(), max_length=MAX_BATCH_PROFILES
    )

    class Meta:
        ref_name = "ProfileBatchInput"


# --- Output --------------------------------------------------------------------------


class IdentityOutputSerializer(serializers.Serializer):
    namespace = serializers.CharField()
    value = serializers.CharField()

    class Meta:
        ref_name = "ProfileIdentity"


class PushOutputSerializer(serializers.Serializer):
    appId = serializers.CharField()
    platform = serializers.ChoiceField(choices=Platform.choices)
    token = serializers.CharField()
    lastSeenAt = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "ProfilePushRegistration"


class AddressesOutputSerializer(serializers.Serializer):
    email = serializers.CharField(allow_null=True)
    mobile = serializers.CharField(allow_null=True, help_text=_lazy("E.164"))
    push = PushOutputSerializer(many=True)

    class Meta:
        ref_name = "ProfileAddresses"


class ConsentOutputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Consent.Status.choices)
    source = serializers.CharField()  # type: ignore[assignment]
    updatedAt = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "ProfileConsent"


class ConsentsOutputSerializer(serializers.Serializer):
    email = ConsentOutputSerializer()
    sms = ConsentOutputSerializer()
    push = ConsentOutputSerializer()

    class Meta:
        ref_name = "ProfileConsents"


class ProfileOutputSerializer(serializers.Serializer):
    """A profile with its identities, addresses and consent."""

    id = serializers.UUIDField()
    attributes = serializers.DictField()
    locale = serializers.CharField()
    timeZone = serializers.CharField()
    identities = IdentityOutputSerializer(many=True)
    addresses = AddressesOutputSerializer()
    consent = ConsentsOutputSerializer()
    createdAt = serializers.DateTimeField()
    updatedAt = serializers.DateTimeField()

    class Meta:
        ref_name = "Profile"


class _ProfileRefSerializer(serializers.Serializer):
    id = serializers.UUIDField()

    class Meta:
        ref_name = "ProfileRef"


class ProfileBatchResultSerializer(BatchItemResultSerializer):
    status = serializers.ChoiceField(choices=["created", "updated", REJECTED])
    profile = _ProfileRefSerializer(required=False, help_text=_lazy("When not rejected."))
    code = serializers.CharField(
        required=False, help_text=_lazy("When rejected: validation_error or identity_conflict.")
    )

    class Meta:
        ref_name = "ProfileBatchResult"


class ProfileBatchOutputSerializer(serializers.Serializer):
    results = ProfileBatchResultSerializer(many=True)

    class Meta:
        ref_name = "ProfileBatchOutput"


# --- Rendering -----------------------------------------------------------------------


def profile_output(profile: Profile, relations: ProfileRelations | None = None) -> dict[str, Any]:
    """The API's view of a profile: pass one loaded by ``profile_with_relations``, or its
    ``relations`` as the call that wrote it knows them."""
    if relations is None:
        relations = profile_relations(profile)

    def consent(channel: str) -> dict[str, Any]:
        found = relations.consents.get(channel)
        if found is None:
            return {"status": Consent.Status.UNKNOWN, "source": "", "updatedAt": None}
        status, source, updated_at = found
        return {"status": status, "source": source, "updatedAt": iso_datetime(updated_at)}

    return {
        "id": str(profile.pk),
        "attributes": profile.attributes,
        "locale": profile.locale,
        "timeZone": profile.time_zone,
        "identities": [
            {"namespace": code, "value": value} for code, value in sorted(relations.identities)
        ],
        "addresses": {
            "email": profile.email_address or None,
            "mobile": profile.mobile_number or None,
            "push": [
                {
                    "appId": app_id,
                    "platform": platform,
                    "token": token,
                    "lastSeenAt": iso_datetime(last_seen_at),
                }
                for app_id, platform, token, last_seen_at in relations.push_registrations
            ],
        },
        "consent": {channel: consent(channel) for channel in Channel.values},
        "createdAt": iso_datetime(profile.created_at),
        "updatedAt": iso_datetime(profile.updated_at),
    }


# --- Parsing -------------------------------------------------------------------------


def shape_errors(
    serializer: serializers.Serializer, data: Any, *prefix: object
) -> list[FieldError]:
    """DRF's errors for ``data`` with pointers from the body's root; [] when valid."""
    if not isinstance(data, Mapping):
        return [FieldError(pointer(*prefix), _("Expected a JSON object."))]
    if serializer.is_valid():
        return []
    return flatten_errors(serializer.errors, prefix)
