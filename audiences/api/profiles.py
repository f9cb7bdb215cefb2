"""Profile resources: upsert, read and erase one profile by identity; upsert many at once.

Profiles are addressed by an identity, ``/profiles/{namespace}/{value}``; the
value is normalised before it is looked up, so ``ANA@Example.com`` finds
``ana@example.com``. An unknown namespace in the path is a 404 with the code
``unknown_namespace`` (the path names nothing); inside a batch it rejects that
item. Bodies are parsed by ``audiences.profile_input``, profiles found by
``audiences.selectors.profile_resolve`` and written by ``audiences.services``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audiences.models import Consent, IdentityNamespace, Profile
from audiences.profile_input import ProfileInput, profile_input_parse
from audiences.selectors import (
    UnknownNamespace,
    identity_namespace_get,
    profile_resolve,
    profile_with_relations,
)
from audiences.services.bulk import UpsertOutcome, profile_upsert_many
from audiences.services.profiles import profile_delete, profile_upsert
from core.api.batch import (
    REJECTED,
    BatchItemResultSerializer,
    item_rejected,
    item_rejected_by,
)
from core.api.fields import ClosedSerializer, StrictCharField, StrictObjectField
from core.api.permissions import Access, HasAccess
from core.api.problems import flatten_errors
from core.api.schema import problems
from core.channels import Channel
from core.errors import ClarionError, FieldError, invalid_input, pointer
from core.formats import iso_datetime

READ_PROFILES = Access("profiles:read", "audiences.view_profile")
CHANGE_PROFILES = Access("profiles:write", "audiences.change_profile")
DELETE_PROFILES = Access("profiles:write", "audiences.delete_profile")

# Brief: "up to 1000 upserts per call"; 1000 small profiles also fit in the 1 MB body limit.
MAX_BATCH_PROFILES = 1000


# --- Shapes ------------------------------------------------------------------------


class IdentityInputSerializer(ClosedSerializer):
    """One more identity of the person."""

    namespace = StrictCharField(help_text=_lazy("email, phone, crm_id, ecid or a custom code."))
    value = StrictCharField(trim_whitespace=False)

    class Meta:
        ref_name = "ProfileIdentityInput"


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
    consent = serializers.DictField(
        child=serializers.ChoiceField(choices=Consent.Status.choices),
        required=False,
        help_text=_lazy("Marketing consent per channel (email, sms, push)."),
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
    """Up to 1000 upserts, applied in order, each on its own."""

    profiles = serializers.ListField(
        child=ProfileBatchItemSerializer(), max_length=MAX_BATCH_PROFILES
    )

    class Meta:
        ref_name = "ProfileBatchInput"


class _BatchEnvelopeSerializer(ClosedSerializer):
    # Parses the envelope only: items are checked one by one so a bad item
    # rejects that item, not the batch.
    profiles = serializers.ListField(
        child=serializers.JSONField(), max_length=MAX_BATCH_PROFILES, allow_empty=True
    )


class IdentityOutputSerializer(serializers.Serializer):
    namespace = serializers.CharField()
    value = serializers.CharField()

    class Meta:
        ref_name = "ProfileIdentity"


class PushOutputSerializer(serializers.Serializer):
    appId = serializers.CharField()
    platform = serializers.ChoiceField(choices=["ios", "android", "web"])
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


def profile_output(profile: Profile) -> dict[str, Any]:
    """The API's view of a profile (pass one loaded by ``profile_with_relations``)."""
    consents = {consent.channel: consent for consent in profile.consents.all()}

    def consent(channel: str) -> dict[str, Any]:
        found = consents.get(channel)
        if found is None:
            return {"status": Consent.Status.UNKNOWN, "source": "", "updatedAt": None}
        return {
            "status": found.status,
            "source": found.source,
            "updatedAt": iso_datetime(found.updated_at),
        }

    return {
        "id": str(profile.pk),
        "attributes": profile.attributes,
        "locale": profile.locale,
        "timeZone": profile.time_zone,
        "identities": [
            {"namespace": identity.namespace.code, "value": identity.value}
            for identity in sorted(
                profile.identities.all(), key=lambda i: (i.namespace.code, i.value)
            )
        ],
        "addresses": {
            "email": profile.email_address or None,
            "mobile": profile.mobile_number or None,
            "push": [
                {
                    "appId": push.app_id,
                    "platform": push.platform,
                    "token": push.token,
                    "lastSeenAt": iso_datetime(push.last_seen_at),
                }
                for push in profile.push_registrations.all()
            ],
        },
        "consent": {channel: consent(channel) for channel in Channel.values},
        "createdAt": iso_datetime(profile.created_at),
        "updatedAt": iso_datetime(profile.updated_at),
    }


# --- Lookups ---------------------------------------------------------------------------
# The path names an identity: an unknown namespace there names nothing, so it is a 404
# (code unknown_namespace), where a body's unknown namespace is a 400.
IN_PATH = "/identity"


def _namespace_or_404(code: str) -> IdentityNamespace:
    try:
        return identity_namespace_get(code, at=IN_PATH + "/namespace")
    except UnknownNamespace as error:
        raise replace(error, status=404) from None


def _profile_or_404(namespace: str, value: str) -> Profile:
    """``profile_resolve`` for the path; ``ProfileNotFound`` is already the 404 problem."""
    return profile_resolve(namespace=_namespace_or_404(namespace), value=value, at=IN_PATH)


def _shape_errors(
    serializer: serializers.Serializer, data: Any, *prefix: object
) -> list[FieldError]:
    """DRF's errors for ``data`` with pointers from the body's root; [] when valid."""
    if not isinstance(data, Mapping):
        return [FieldError(pointer(*prefix), _("Expected a JSON object."))]
    if serializer.is_valid():
        return []
    return flatten_errors(serializer.errors, prefix)


# --- Schema --------------------------------------------------------------------------

# Where a profile operation can say more than ``problems()``'s general meaning.
INVALID_IDENTITY = _lazy(
    "Malformed JSON or invalid fields, including an invalid identity value "
    "(problem+json with a pointer per field)."
)
NO_PROFILE = _lazy(
    "No profile has this identity (code not_found), or the namespace is unknown "
    "(code unknown_namespace)."
)
UNKNOWN_NAMESPACE = _lazy("The namespace is unknown (code unknown_namespace).")
IDENTITY_CONFLICT = _lazy(
    "The identities given belong to different profiles (code identity_conflict)."
)


_PATH = [
    OpenApiParameter(
        "namespace",
        OpenApiTypes.STR,
        OpenApiParameter.PATH,
        description="Identity namespace code: email, phone, crm_id, ecid or a custom one.",
    ),
    OpenApiParameter(
        "value",
        OpenApiTypes.STR,
        OpenApiParameter.PATH,
        description="Identity value, normalised before lookup (email lower-cased, phone E.164).",
    ),
]


# --- Views ---------------------------------------------------------------------------


class ProfileDetailApi(APIView):
    """One profile by identity: ``GET``, ``PUT`` (upsert), ``DELETE`` (erasure)."""

    permission_classes = [HasAccess]
    access = {"GET": READ_PROFILES, "PUT": CHANGE_PROFILES, "DELETE": DELETE_PROFILES}

    @extend_schema(
        operation_id="profiles_retrieve",
        summary="Get a profile by identity",
        parameters=_PATH,
        responses={
            200: ProfileOutputSerializer,
            **problems(400, 404, descriptions={400: INVALID_IDENTITY, 404: NO_PROFILE}),
        },
    )
    def get(self, request: Request, namespace: str, value: str) -> Response:
        """The profile with its identities, addresses and consent."""
        profile = _profile_or_404(namespace, value)
        return Response(profile_output(profile_with_relations(profile)))

    @extend_schema(
        operation_id="profiles_upsert",
        summary="Create or update a profile by identity",
        parameters=_PATH,
        request=ProfileUpsertInputSerializer,
        responses={
            200: ProfileOutputSerializer,
            201: ProfileOutputSerializer,
            **problems(
                400,
                404,
                409,
                413,
                415,
                descriptions={
                    400: INVALID_IDENTITY,
                    404: UNKNOWN_NAMESPACE,
                    409: IDENTITY_CONFLICT,
                },
            ),
        },
    )
    def put(self, request: Request, namespace: str, value: str) -> Response:
        """Create the profile (201) or update it (200): attributes merge deeply, identities add."""
        ns = _namespace_or_404(namespace)
        body = request.data
        serializer = ProfileUpsertInputSerializer(data=body)
        errors = _shape_errors(serializer, body)
        if errors:
            raise invalid_input(errors)
        data = profile_input_parse(namespace=ns.code, value=value, data=serializer.validated_data)
        profile, created = profile_upsert(data=data)
        return Response(
            profile_output(profile_with_relations(profile)),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        operation_id="profiles_erase",
        summary="Erase a profile (attributes, identities, addresses, consent)",
        parameters=_PATH,
        responses={
            204: None,
            **problems(400, 404, descriptions={400: INVALID_IDENTITY, 404: NO_PROFILE}),
        },
    )
    def delete(self, request: Request, namespace: str, value: str) -> Response:
        """Erase the person; suppression entries for their addresses are kept on purpose."""
        profile = _profile_or_404(namespace, value)
        profile_delete(profile=profile)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProfileBatchApi(APIView):
    """``POST /profiles:batch``: up to 1000 upserts, each accepted or rejected on its own."""

    permission_classes = [HasAccess]
    access = {"POST": CHANGE_PROFILES}

    @extend_schema(
        operation_id="profiles_batch_upsert",
        summary="Create or update up to 1000 profiles",
        request=ProfileBatchInputSerializer,
        responses={200: ProfileBatchOutputSerializer, **problems(400, 413, 415)},
    )
    def post(self, request: Request) -> Response:
        """Per-item results in input order; 200 even when some items are rejected."""
        body = request.data
        envelope = _BatchEnvelopeSerializer(data=body)
        errors = _shape_errors(envelope, body)
        if errors:
            raise invalid_input(errors)
        namespaces = {ns.code: ns for ns in IdentityNamespace.objects.all()}
        results: list[dict[str, Any] | None] = []
        parsed: list[tuple[int, ProfileInput]] = []
        for index, item in enumerate(envelope.validated_data["profiles"]):
            data_or_rejection = self._parse(index, item, namespaces)
            if isinstance(data_or_rejection, ProfileInput):
                parsed.append((index, data_or_rejection))
                results.append(None)
            else:
                results.append(data_or_rejection)
        # One bulk upsert for every well-formed item (a few queries for the whole batch).
        outcomes = profile_upsert_many(inputs=[data for _index, data in parsed])
        for (index, _data), outcome in zip(parsed, outcomes, strict=True):
            results[index] = self._result(index, outcome)
        return Response({"results": results})

    def _parse(
        self, index: int, item: Any, namespaces: Mapping[str, IdentityNamespace]
    ) -> ProfileInput | dict[str, Any]:
        prefix = pointer("profiles", index)
        serializer = ProfileBatchItemSerializer(data=item)
        errors = _shape_errors(serializer, item, "profiles", index)
        if errors:
            return item_rejected(index, "validation_error", errors)
        fields = dict(serializer.validated_data)
        try:
            return profile_input_parse(
                namespace=fields.pop("namespace"),
                value=fields.pop("value"),
                data=fields,
                prefix=prefix,
                identity_at=prefix,
                namespaces=namespaces,
            )
        except ClarionError as error:
            return item_rejected_by(index, prefix, error)

    def _result(self, index: int, outcome: UpsertOutcome) -> dict[str, Any]:
        if outcome.error is not None:
            return item_rejected_by(index, pointer("profiles", index), outcome.error)
        return {
            "index": index,
            "status": "created" if outcome.created else "updated",
            "profile": {"id": str(outcome.profile_id)},
        }
