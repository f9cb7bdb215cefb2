"""Clarion's URLs plus ``POST /bench/bare``: the ceiling of the trigger benchmark.

The bare view runs through the same gunicorn workers and the same middleware as
the trigger API, parses the JSON body and answers 202 with a small JSON object,
and does nothing else: no authentication, no database, no cache. Whatever a
trigger call costs beyond it is Clarion's own work.
"""

from __future__ import annotations

import json

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from config.urls import handler404, handler500
from config.urls import urlpatterns as clarion_urlpatterns

__all__ = ["handler404", "handler500", "urlpatterns"]


@csrf_exempt
@require_POST
def bare(request: HttpRequest) -> JsonResponse:
    body = json.loads(request.body)
    return JsonResponse({"requestId": body.get("requestId"), "status": "queued"}, status=202)


urlpatterns = [path("bench/bare", bare), *clarion_urlpatterns]
