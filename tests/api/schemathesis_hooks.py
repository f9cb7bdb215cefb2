"""Schemathesis hooks (``SCHEMATHESIS_HOOKS``) for what the OpenAPI document cannot say.

JSON Schema has no words for "each recipient's ``userId`` once" or "a context of at
most 200 KB". A unitary call breaking either is a 400 (the brief lists them among the
schema checks), so it is not a schema-valid request: generated bodies that break them
are dropped, and a "schema-valid request rejected" failure whose only errors are these
two (the coverage phase builds its bodies without the filter) is not the API's fault.
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis

UNITARY = "/api/v1/executions/unitary"
MAX_CONTEXT_BYTES = 200 * 1024  # delivery.limits (no Django here: st imports this module)
# The details of the 400s for these two rules (delivery/api/serializers.py).
UNWRITTEN_RULES = frozenset({"duplicate userId", "The context is larger than 200 KB."})


def _too_large(context: Any) -> bool:
    size = len(json.dumps(context, ensure_ascii=False, separators=(",", ":")).encode())
    return size > MAX_CONTEXT_BYTES


@schemathesis.hook("filter_body").apply_to(path=UNITARY, method="POST")  # type: ignore[attr-defined]
def unitary_within_unwritten_rules(context: Any, body: Any) -> bool:
    if not isinstance(body, dict):
        return True
    if _too_large(body.get("context")):
        return False
    recipients = body.get("recipients")
    if not isinstance(recipients, list):
        return True
    user_ids = [json.dumps(r.get("userId")) for r in recipients if isinstance(r, dict)]
    if len(user_ids) != len(set(user_ids)):
        return False
    return not any(isinstance(r, dict) and _too_large(r.get("context")) for r in recipients)


@schemathesis.hook("filter_failure").apply_to(path=UNITARY, method="POST")  # type: ignore[attr-defined]
def unitary_refused_for_an_unwritten_rule(
    context: Any, failure: Any, case: Any, response: Any
) -> bool:
    """Keep every failure but a 400 whose every error is one of the two rules."""
    if failure.code != "ST202" or response.status_code != 400:
        return True
    try:
        errors = json.loads(response.content)["errors"]
        details = {error["detail"] for error in errors}
    except (ValueError, KeyError, TypeError):
        return True
    return not (details and details <= UNWRITTEN_RULES)
