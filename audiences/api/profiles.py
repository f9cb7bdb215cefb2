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

from django.utils.translation import gettext_lazy as _lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audiences.api.profile_serializers import (
    ProfileBatchInputSerializer,
    ProfileBatchOutputSerializer,
    ProfileOutputSerializer,
    ProfileUpsertInputSerializer,
    profile_output,
    shape_errors,
)
from audiences.models import IdentityNamespace, Profile
from audiences.profile_input import ProfileInput, profile_input_parse
from audiences.selectors import (
    UnknownNamespace,
    identity_namespace_get,
    identity_namespaces,
    profile_resolve,
    profile_with_relations,
)
from audiences.services.bulk import UpsertOutcome, profile_upsert_many
from audiences.services.profiles import profile_delete, profile_upsert_shown
from core.api.batch import item_rejected_by
from core.api.permissions import Access
from core.api.schema import problems
from core.errors import ClarionError, invalid_input, pointer

READ_PROFILES = Access("profiles:read", "audiences.view_profile")
CHANGE_PROFILES = Access("profiles:write", "audiences.change_profile")
DELETE_PROFILES = Access("profiles:write", "audiences.delete_profile")


# --- Lookups ---------------------------------------------------------------------------
# The path names an identity: an unknown namespace there names nothing, so it is a 404
# (code unknown_namespace), where a body's unknown namespace is a 400.
IN_PATH = "/identity"


def _namespace_or_404(
    code: str, namespaces: Mapping[str, IdentityNamespace] | None = None
) -> IdentityNamespace:
    try:
        return identity_namespace_get(code, at=IN_PATH + "/namespace", namespaces=namespaces)
    except UnknownNamespace as error:
        raise replace(error, status=404) from None


def _profile_or_404(namespace: str, value: str) -> Profile:
    """``profile_resolve`` for the path; ``ProfileNotFound`` is already the 404 problem."""
    return profile_resolve(namespace=_namespace_or_404(namespace), value=value, at=IN_PATH)


# --- Schema --------------------------------------------------------------------------

# Where a profile operation can say more than ``problems()``'s general meaning.
INVALID_IDENTITY = _lazy(
    "The request matches this document but its values are not acceptable: an invalid "
    "identity value (pointer /identity/value), locale or time zone (a pointer per field)."
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

    access = {"GET": READ_PROFILES, "PUT": CHANGE_PROFILES, "DELETE": DELETE_PROFILES}

    @extend_schema(
        operation_id="profiles_retrieve",
        summary="Get a profile by identity",
        parameters=_PATH,
        responses={
            200: ProfileOutputSerializer,
            **problems(404, 422, descriptions={404: NO_PROFILE, 422: INVALID_IDENTITY}),
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
                422,
                descriptions={
                    422: INVALID_IDENTITY,
                    404: UNKNOWN_NAMESPACE,
                    409: IDENTITY_CONFLICT,
                },
            ),
        },
    )
    def put(self, request: Request, namespace: str, value: str) -> Response:
        """Create the profile (201) or update it (200): attributes merge deeply, identities add."""
        namespaces = identity_namespaces()  # one query for the path's and the body's
        ns = _namespace_or_404(namespace, namespaces)
        body = request.data
        serializer = ProfileUpsertInputSerializer(data=body)
        errors = shape_errors(serializer, body)
        if errors:
            raise invalid_input(errors, status=400)  # the body does not match the document
        data = profile_input_parse(
            namespace=ns.code, value=value, data=serializer.validated_data, namespaces=namespaces
        )
        upserted = profile_upsert_shown(data=data)
        return Response(
            profile_output(upserted.profile, upserted.relations),
            status=status.HTTP_201_CREATED if upserted.created else status.HTTP_200_OK,
        )

    @extend_schema(
        operation_id="profiles_erase",
        summary="Erase a profile (attributes, identities, addresses, consent)",
        parameters=_PATH,
        responses={
            204: None,
            **problems(404, 422, descriptions={404: NO_PROFILE, 422: INVALID_IDENTITY}),
        },
    )
    def delete(self, request: Request, namespace: str, value: str) -> Response:
        """Erase the person; suppression entries for their addresses are kept on purpose."""
        profile = _profile_or_404(namespace, value)
        profile_delete(profile=profile)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProfileBatchApi(APIView):
    """``POST /profiles:batch``: up to 1000 upserts, each accepted or rejected on its own."""

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
        envelope = ProfileBatchInputSerializer(data=body)
        errors = shape_errors(envelope, body)
        if errors:
            raise invalid_input(errors, status=400)  # the body does not match the document
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
            return item_rejected_by(index, prefix, error)

    def _result(self, index: int, outcome: UpsertOutcome) -> dict[str, Any]:
        if outcome.error is not None:
            return item_rejected_by(index, pointer("profiles", index), outcome.error)
        return {
            "index": index,
            "status": "created" if outcome.created else "updated",
            "profile": {"id": str(outcome.profile_id)},
        }
