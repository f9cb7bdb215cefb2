"""The trigger API: ``/api/v1/executions/...``.

A trigger call is checked in the brief's order: the body parses (400), matches
the schema (400), the key is valid and has the scope (401, 403), is within its
rate limit (429), then the services check the campaign (404, 403, 422, 409) and
the recipients (422). Parsing and the schema come first, before authentication,
so the answer to a malformed call does not depend on the key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.fields import ClosedSerializer
from core.api.lookups import uuid_or_404
from core.api.permissions import Access, request_actor
from core.api.problems import PROBLEM_CONTENT_TYPE
from core.api.schema import ProblemSerializer, problems
from core.buckets import bucket_take, seconds_until_full
from core.models import ApiKey
from core.scopes import EXECUTIONS_READ, EXECUTIONS_TRIGGER
from delivery.api.serializers import (
    AudienceAcceptedSerializer,
    AudienceInputSerializer,
    ExecutionOutputSerializer,
    ScheduleOutputSerializer,
    UnitaryAcceptedSerializer,
    UnitaryInputSerializer,
)
from delivery.api.unitary_input import unitary_call_plain
from delivery.calls import body_hash
from delivery.limits import MAX_REQUEST_ID_LENGTH
from delivery.models import ExecutionKind
from delivery.selectors import (
    execution_data,
    execution_get_visible,
    schedule_data,
    schedule_get_visible,
)
from delivery.services.accept import execution_accept_unitary
from delivery.services.audience import execution_accept_audience, execution_schedule_cancel
from delivery.services.idempotency import Response as Accepted

TRIGGER = Access(EXECUTIONS_TRIGGER, "campaigns.trigger_campaign")
READ_EXECUTIONS = Access(
    EXECUTIONS_READ, "delivery.view_execution", also_scopes=(EXECUTIONS_TRIGGER,)
)
CANCEL_SCHEDULES = Access(EXECUTIONS_TRIGGER, "campaigns.trigger_campaign")

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description=_(
        "The idempotency key; default: the body's requestId. Scoped to the API key, kept 24 h."
    ),
)
_RATE_HEADERS = {
    "RateLimit-Limit": _("Calls per second this API key may make."),
    "RateLimit-Remaining": _("Calls left now."),
    "RateLimit-Reset": _("Seconds until the allowance is whole again."),
}
ACCEPTED_HEADERS = [
    OpenApiParameter(
        "Idempotent-Replayed",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=[202],
        description=_("“true” when this is the stored response of an earlier call."),
    ),
    OpenApiParameter(
        "Location",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=[202],
        description=_("Where to read the execution (or schedule)."),
    ),
    *(
        OpenApiParameter(
            name,
            OpenApiTypes.INT,
            OpenApiParameter.HEADER,
            response=[202, 429],
            description=description,
        )
        for name, description in _RATE_HEADERS.items()
    ),
    OpenApiParameter(
        "Retry-After",
        OpenApiTypes.INT,
        OpenApiParameter.HEADER,
        response=[429],
        description=_("Seconds to wait before calling again."),
    ),
]
TRIGGER_PROBLEMS = {
    **problems(
        400,
        404,
        409,
        413,
        415,
        422,
        descriptions={
            404: _("No campaign has this id (pointer /campaignId)."),
            409: _(
                "The campaign is not live or outside its schedule, or a call with the same "
                "idempotency key is still in flight; retry later."
            ),
            422: _(
                "The campaign's category does not suit this endpoint, a namespace does not "
                "match, a recipient is unknown or has no valid address, or the idempotency "
                "key was used with another body (a pointer per problem)."
            ),
        },
    ),
    (429, PROBLEM_CONTENT_TYPE): OpenApiResponse(
        ProblemSerializer, description=_("Over this API key's rate limit; see Retry-After.")
    ),
}


class RateLimitExceeded(exceptions.Throttled):
    problem_code = "rate_limited"

    def __init__(self, wait: float, headers: dict[str, str]) -> None:
        super().__init__(wait=wait)
        self.headers = headers


class _TriggerApi(APIView):
    """Validates the body before authenticating, then applies the key's rate limit."""

    access = {"POST": TRIGGER}
    input_serializer: type[ClosedSerializer]
    output_serializer: type[serializers.Serializer]
    endpoint: str

    @staticmethod
    def plain_input(data: Any) -> Any:
        """The call, read without the serializer, when ``data`` is plainly valid; None
        lets the serializer judge (and word the errors)."""
        return None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        if request.method == "POST":
            self.call = self.plain_input(request.data)
            if self.call is None:
                serializer = self.input_serializer(data=request.data)
                serializer.is_valid(raise_exception=True)
                self.call = serializer.to_call()  # type: ignore[attr-defined]
        super().initial(request, *args, **kwargs)
        self.rate_headers = self._rate_limit(request)

    def _rate_limit(self, request: Request) -> dict[str, str]:
        if not isinstance(request.auth, ApiKey):
            return {}
        rate = float(settings.CLARION_TRIGGER_RATE_LIMIT)
        capacity = float(settings.CLARION_TRIGGER_RATE_BURST)
        # By the key's random prefix rather than its row id: installations (and test
        # databases) sharing one Redis never share a bucket.
        answer = bucket_take(f"trigger:{request.auth.prefix}", rate=rate, capacity=capacity)
        headers = {
            "RateLimit-Limit": str(settings.CLARION_TRIGGER_RATE_LIMIT),
            "RateLimit-Remaining": str(max(0, int(answer.tokens_left))),
            "RateLimit-Reset": str(seconds_until_full(answer, rate=rate, capacity=capacity)),
        }
        if not answer.granted:
            wait = max(1, int(answer.wait_seconds + 0.999))
            raise RateLimitExceeded(wait, headers | {"Retry-After": str(wait)})
        return headers

    def idempotency_key(self, request: Request, request_id: str) -> str:
        """The ``Idempotency-Key`` header, else ``requestId``. A header longer than a
        record holds is kept as its hash: cut short, two keys could become one."""
        header = request.headers.get("Idempotency-Key", "").strip()
        if len(header) > MAX_REQUEST_ID_LENGTH:
            return "sha256:" + hashlib.sha256(header.encode()).hexdigest()
        return header or request_id

    def accept(self, request: Request, service: Callable[..., Accepted]) -> Accepted:
        """Run the endpoint's accept service on the call ``initial`` validated."""
        call = self.call
        return service(
            actor=request_actor(request),
            call=call,
            fingerprint=body_hash(self.endpoint, request.data),
            idempotency_key=self.idempotency_key(request, call.request_id),
        )

    def accepted(self, accepted: Accepted, location: str) -> Response:
        headers = dict(self.rate_headers) | {"Location": location}
        if accepted.replayed:
            headers["Idempotent-Replayed"] = "true"
        # In the output serializer's order, so a replay is byte for byte the first answer:
        # the stored body comes back from PostgreSQL's jsonb with its keys reordered.
        body = accepted_body(self.output_serializer, accepted.body)
        return Response(body, status=accepted.status, headers=headers)


def accepted_body(serializer: type[serializers.Serializer], body: Mapping[str, Any]) -> Any:
    """What ``serializer(body).data`` gives for an accepted call's body, without building
    the serializer (its fields are deep-copied for each instance: a tenth of a call).

    The body's values are strings (ids, times, statuses) or lists of such objects, which
    the serializer's fields give back unchanged; only the order of the keys is its.
    """
    if not isinstance(body, Mapping):
        return body
    ordered: dict[str, Any] = {}
    for name, field in serializer._declared_fields.items():
        if name not in body:
            continue  # an optional field (audience: executionId or scheduleId)
        value = body[name]
        if isinstance(field, serializers.ListSerializer) and isinstance(
            field.child, serializers.Serializer
        ):
            value = [accepted_body(type(field.child), item) for item in value]
        ordered[name] = value
    return ordered


class ExecutionUnitaryCreateApi(_TriggerApi):
    input_serializer = UnitaryInputSerializer
    output_serializer = UnitaryAcceptedSerializer
    endpoint = ExecutionKind.UNITARY
    plain_input = staticmethod(unitary_call_plain)

    @extend_schema(
        operation_id="executions_unitary_create",
        summary="Trigger a transactional campaign for the recipients in the call",
        parameters=[IDEMPOTENCY_KEY, *ACCEPTED_HEADERS],
        request=UnitaryInputSerializer,
        responses={202: UnitaryAcceptedSerializer, **TRIGGER_PROBLEMS},
    )
    def post(self, request: Request) -> Response:
        accepted = self.accept(request, execution_accept_unitary)
        return self.accepted(accepted, f"/api/v1/executions/{accepted.body['executionId']}")


class ExecutionAudienceCreateApi(_TriggerApi):
    input_serializer = AudienceInputSerializer
    output_serializer = AudienceAcceptedSerializer
    endpoint = ExecutionKind.AUDIENCE

    @extend_schema(
        operation_id="executions_audience_create",
        summary="Trigger a marketing campaign for its audience, now or at schedule.executeAt",
        parameters=[IDEMPOTENCY_KEY, *ACCEPTED_HEADERS],
        request=AudienceInputSerializer,
        responses={202: AudienceAcceptedSerializer, **TRIGGER_PROBLEMS},
    )
    def post(self, request: Request) -> Response:
        accepted = self.accept(request, execution_accept_audience)
        if "scheduleId" in accepted.body:
            location = f"/api/v1/executions/schedules/{accepted.body['scheduleId']}"
        else:
            location = f"/api/v1/executions/{accepted.body['executionId']}"
        return self.accepted(accepted, location)


EXECUTION_ID = OpenApiParameter("execution_id", OpenApiTypes.UUID, OpenApiParameter.PATH)
SCHEDULE_ID = OpenApiParameter("schedule_id", OpenApiTypes.UUID, OpenApiParameter.PATH)


class ExecutionDetailApi(APIView):
    access = {"GET": READ_EXECUTIONS}

    @extend_schema(
        operation_id="executions_retrieve",
        summary="An execution: status, counts by message status, and its recipients",
        parameters=[EXECUTION_ID],
        responses={200: ExecutionOutputSerializer, **problems(404)},
    )
    def get(self, request: Request, execution_id: str) -> Response:
        message = str(_("No execution has the id “%s”.") % execution_id)
        execution = execution_get_visible(
            actor=request_actor(request), execution_id=uuid_or_404(execution_id, not_found=message)
        )
        if execution is None:
            raise exceptions.NotFound(message)
        return Response(execution_data(execution))


class ExecutionScheduleDetailApi(APIView):
    access = {"GET": READ_EXECUTIONS, "DELETE": CANCEL_SCHEDULES}

    def _schedule(self, request: Request, schedule_id: str) -> Any:
        message = str(_("No scheduled execution has the id “%s”.") % schedule_id)
        schedule = schedule_get_visible(
            actor=request_actor(request), schedule_id=uuid_or_404(schedule_id, not_found=message)
        )
        if schedule is None:
            raise exceptions.NotFound(message)
        return schedule

    @extend_schema(
        operation_id="executions_schedules_retrieve",
        summary="A scheduled audience execution",
        parameters=[SCHEDULE_ID],
        responses={200: ScheduleOutputSerializer, **problems(404)},
    )
    def get(self, request: Request, schedule_id: str) -> Response:
        return Response(schedule_data(self._schedule(request, schedule_id)))

    @extend_schema(
        operation_id="executions_schedules_cancel",
        summary="Cancel a scheduled audience execution before it starts",
        parameters=[SCHEDULE_ID],
        responses={
            200: ScheduleOutputSerializer,
            **problems(
                404, 409, descriptions={409: _("The execution has started or was cancelled.")}
            ),
        },
    )
    def delete(self, request: Request, schedule_id: str) -> Response:
        schedule = execution_schedule_cancel(schedule=self._schedule(request, schedule_id))
        return Response(schedule_data(schedule), status=status.HTTP_200_OK)
