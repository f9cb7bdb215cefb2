"""Profile resources: upsert, read and erase one profile by identity; upsert many at once.

Profiles are addressed by an identity, ``/profiles/{namespace}/{value}``; the
value is normalised before it is looked up, so ``ANA@Example.com`` finds
``ana@example.com``. An unknown namespace in the path is a 404 with the code
``unknown_namespace`` (the path names nothing); inside a batch it rejects that
item. Parsing and every write go through ``audiences.services.profiles``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Prefetch
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audiences.identities import IdentityValueError, identity_normalize
from audiences.models import Channel, Consent, Identity, IdentityNamespace, Profile
from audiences.services.bulk import UpsertOutcome, profile_upsert_many
from audiences.services.profiles import (
    ProfileInput,
    profile_delete,
    profile_input_parse,
    profile_upsert,
)
from campaigns.api.access import Access, HasAccess
from campaigns.api.serializers import (
    ClosedSerializer,
    ProblemSerializer,
    StrictCharField,
    StrictObjectField,
)
from config.errors import ClarionError, FieldError, InvalidInput
from config.formats import iso_datetime
from config.problems import PROBLEM_CONTENT_TYPE, flatten_errors, pointer

READ_PROFILES = Access("profiles:read", "audiences.view_profile")
CHANGE_PROFILES = Access("profiles:write", "audiences.change_profile")
DELETE_PROFILES = Access("profiles:write", "audiences.delete_profile")

# Brief: "up to 1000 upserts per call"; 1000 small profiles also fit in the 1 MB body limit.
MAX_BATCH_PROFILES = 1000


class UnknownNamespace(ClarionError):
    """The path names an identity namespace that does not exist (404)."""

    def __init__(self, code: str) -> None:
        message = _("Unknown identity namespace “%s”.") % code
        super().__init__(
            message=message,
            code="unknown_namespace",
            status=404,
            errors=[FieldError("/identity/namespace", message)],
        )


# --- Shapes ------------------------------------------------------------------------


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


class BatchErrorSerializer(serializers.Serializer):
    pointer = serializers.CharField(help_text=_lazy("JSON pointer from the body's root."))
    detail = serializers.CharField()

    class Meta:
        ref_name = "ProfileBatchError"


class BatchResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["created", "updated", "rejected"])
    profile = _ProfileRefSerializer(required=False, help_text=_lazy("When not rejected."))
    code = serializers.CharField(
        required=False, help_text=_lazy("When rejected: validation_error or identity_conflict.")
    )
    errors = BatchErrorSerializer(many=True, required=False)  # type: ignore[assignment]

    class Meta:
        ref_name = "ProfileBatchResult"


class ProfileBatchOutputSerializer(serializers.Serializer):
    results = BatchResultSerializer(many=True)

    class Meta:
        ref_name = "ProfileBatchOutput"


# --- Rendering -----------------------------------------------------------------------


def _with_relations(profile: Profile) -> Profile:
    """The profile again, with what ``profile_output`` reads in three more queries."""
    return Profile.objects.prefetch_related(
        Prefetch("identities", queryset=Identity.objects.select_related("namespace")),
        "push_registrations",
        "consents",
    ).get(pk=profile.pk)


def profile_output(profile: Profile) -> dict[str, Any]:
    """The API's view of a profile (pass one loaded by ``_with_relations``)."""
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


def _namespace_or_404(code: str) -> IdentityNamespace:
    namespace = IdentityNamespace.objects.filter(code=code).first()
    if namespace is None:
        raise UnknownNamespace(code)
    return namespace


def _profile_or_404(namespace_code: str, value: str) -> Profile:
    namespace = _namespace_or_404(namespace_code)
    try:
        normalized = identity_normalize(namespace, value)
    except IdentityValueError as error:
        raise InvalidInput(
            message=str(error), errors=[FieldError("/identity/value", str(error))]
        ) from None
    identity = (
        Identity.objects.select_related("profile")
        .filter(namespace=namespace, value=normalized)
        .first()
    )
    if identity is None:
        raise exceptions.NotFound(
            _("No profile has the identity %(namespace)s “%(value)s”.")
            % {"namespace": namespace.code, "value": normalized}
        )
    return identity.profile


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

_PROBLEM_MEANING = {
    400: "The body does not match this document: malformed JSON, a wrong type, an unknown "
    "field, a value outside the declared limits (a pointer per field).",
    401: "Missing or invalid API key.",
    403: "The API key lacks the scope, or the user the permission.",
    404: "No profile has this identity (code not_found), or the namespace is unknown "
    "(code unknown_namespace).",
    409: "The identities given belong to different profiles (code identity_conflict).",
    413: "The body is larger than 1 MB.",
    415: "The body is not application/json.",
    422: "The request matches this document but its values are not acceptable: an invalid "
    "identity value (pointer /identity/value), locale or time zone (a pointer per field).",
}


def _problems(*statuses: int) -> dict[Any, Any]:
    return {
        (code, PROBLEM_CONTENT_TYPE): OpenApiResponse(
            ProblemSerializer, description=_PROBLEM_MEANING[code]
        )
        for code in (401, 403, *statuses)
    }


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
        responses={200: ProfileOutputSerializer, **_problems(404, 422)},
    )
    def get(self, request: Request, namespace: str, value: str) -> Response:
        """The profile with its identities, addresses and consent."""
        profile = _profile_or_404(namespace, value)
        return Response(profile_output(_with_relations(profile)))

    @extend_schema(
        operation_id="profiles_upsert",
        summary="Create or update a profile by identity",
        parameters=_PATH,
        request=ProfileUpsertInputSerializer,
        responses={
            200: ProfileOutputSerializer,
            201: ProfileOutputSerializer,
            **_problems(400, 404, 409, 413, 415, 422),
        },
    )
    def put(self, request: Request, namespace: str, value: str) -> Response:
        """Create the profile (201) or update it (200): attributes merge deeply, identities add."""
        ns = _namespace_or_404(namespace)
        body = request.data
        serializer = ProfileUpsertInputSerializer(data=body)
        errors = _shape_errors(serializer, body)
        if errors:
            raise InvalidInput(
                message=errors[0].detail if len(errors) == 1 else _("Some fields are not valid."),
                errors=errors,
                status=400,  # the body does not match the document
            )
        data = profile_input_parse(namespace=ns.code, value=value, data=serializer.validated_data)
        profile, created = profile_upsert(data=data)
        return Response(
            profile_output(_with_relations(profile)),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        operation_id="profiles_erase",
        summary="Erase a profile (attributes, identities, addresses, consent)",
        parameters=_PATH,
        responses={204: None, **_problems(404, 422)},
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
        responses={200: ProfileBatchOutputSerializer, **_problems(400, 413, 415)},
    )
    def post(self, request: Request) -> Response:
        """Per-item results in input order; 200 even when some items are rejected."""
        body = request.data
        envelope = ProfileBatchInputSerializer(data=body)
        errors = _shape_errors(envelope, body)
        if errors:
            raise InvalidInput(
                message=errors[0].detail if len(errors) == 1 else _("Some fields are not valid."),
                errors=errors,
                status=400,  # the body does not match the document
            )
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
        self, index: int, item: Mapping[str, Any], namespaces: Mapping[str, IdentityNamespace]
    ) -> ProfileInput | dict[str, Any]:
        prefix = pointer("profiles", index)
        fields = dict(item)
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
            return _rejected(index, error.code, _under(prefix, error))

    def _result(self, index: int, outcome: UpsertOutcome) -> dict[str, Any]:
        if outcome.error is not None:
            return _rejected(
                index, outcome.error.code, _under(pointer("profiles", index), outcome.error)
            )
        return {
            "index": index,
            "status": "created" if outcome.created else "updated",
            "profile": {"id": str(outcome.profile_id)},
        }


def _under(prefix: str, error: ClarionError) -> list[FieldError]:
    """Service errors other than parsing (identity_conflict) point at the item's root."""
    return [
        e if e.pointer.startswith(prefix + "/") else FieldError(prefix + e.pointer, e.detail)
        for e in error.errors
    ] or [FieldError(prefix, error.message)]


def _rejected(index: int, code: str, errors: list[FieldError]) -> dict[str, Any]:
    return {
        "index": index,
        "status": "rejected",
        "code": code,
        "errors": [{"pointer": e.pointer, "detail": e.detail} for e in errors],
    }
