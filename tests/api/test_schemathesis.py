"""Schemathesis fuzzes the live API against its own OpenAPI document: zero failures allowed.

Every check is on (``--checks all``): no 500, every status and body as the
document says, schema-valid requests accepted (never a 400; a 422 for values,
see schemathesis.toml), schema-violating ones refused, auth enforced, deleted
resources gone. The run is bounded by ``--max-time`` (the budget is spent on
coverage, then fuzzing and stateful cycles) plus a hard subprocess timeout.

Alone: ``python -m pytest -m schemathesis`` (docs/api.md, "Conformance").
``CLARION_SCHEMATHESIS_SECONDS`` changes the budget, ``CLARION_SCHEMATHESIS_SEED``
the seed (the report prints it, so a failure can be replayed).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from pytest_django.live_server_helper import LiveServer

from audiences.models import Audience
from audiences.profile_input import profile_input_parse
from audiences.services.audiences import audience_add_members, audience_create
from audiences.services.profiles import profile_upsert
from campaigns.models import Campaign
from campaigns.services import lifecycle
from core.actors import Actor
from core.apikeys import api_key_create
from core.scopes import SCOPES
from delivery.calls import AudienceCall, TriggerRecipient, UnitaryCall
from delivery.models import Execution
from delivery.services.accept import execution_accept_unitary
from delivery.services.audience import execution_accept_audience
from tests.factories import (
    CampaignFactory,
    ChannelConfigurationFactory,
    PushConfigurationFactory,
    SmsConfigurationFactory,
)

pytestmark = [pytest.mark.schemathesis, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
ST = Path(sys.executable).parent / "st"
BUDGET_SECONDS = int(os.environ.get("CLARION_SCHEMATHESIS_SECONDS", "120"))
SEED = int(os.environ.get("CLARION_SCHEMATHESIS_SEED", "20261128"))
MAX_EXAMPLES = 25  # per operation and cycle; cycles repeat until the budget is spent
# Path parameters take a seeded id this often, so requests reach past the 404 of a
# random id; the rest stay generated (malformed ids, unknown ones).
SEEDED_ID_PROBABILITY = 0.6


def _seed() -> tuple[str, dict[str, list[str]]]:
    """An API key with every scope, and ids that the paths can resolve to."""
    key, secret = api_key_create(name="schemathesis", scopes=tuple(SCOPES))
    system = Actor.system()
    configurations = [
        ChannelConfigurationFactory.create(),
        SmsConfigurationFactory.create(),
        PushConfigurationFactory.create(),
    ]
    draft = CampaignFactory.create(name="Draft", channel_configuration=configurations[0])
    live = lifecycle.campaign_activate(
        campaign=CampaignFactory.create(name="Live", channel_configuration=configurations[0]),
        actor=system,
    )
    editing = lifecycle.campaign_open_draft_version(
        campaign=lifecycle.campaign_activate(
            campaign=CampaignFactory.create(name="Editing"), actor=system
        ),
        actor=system,
    )
    for namespace, value, extra in (
        ("email", "ana@example.com", [{"namespace": "crm_id", "value": "C-1"}]),
        ("phone", "+14165550100", []),
    ):
        profile_upsert(
            data=profile_input_parse(
                namespace=namespace,
                value=value,
                data={"identities": extra, "attributes": {"city": "Paris"}},
            )
        )
    static = audience_create(name="Newsletter", kind=Audience.Kind.STATIC)
    audience_add_members(audience=static, identities=[("email", "ana@example.com")])
    rules = audience_create(
        name="Parisians",
        kind=Audience.Kind.RULES,
        rules={
            "combinator": "and",
            "conditions": [{"field": "attributes.city", "operator": "equals", "value": "Paris"}],
        },
    )
    promotion = lifecycle.campaign_activate(
        campaign=CampaignFactory.create(
            name="Promotion",
            category="marketing",
            audience=static,
            channel_configuration=configurations[0],
        ),
        actor=system,
    )
    execution_id, schedule_id = _seed_executions(Actor(api_key=key), live, promotion)
    ids = {
        "campaign-ids": [str(c.pk) for c in (draft, live, editing)],
        # Trigger calls name these: a transactional and a marketing campaign, both live,
        # and a draft (409).
        "trigger-campaign-ids": [str(c.pk) for c in (live, promotion, draft)],
        # Recipients of unitary calls (the hooks drop calls naming one twice).
        "recipient-ids": ["ana@example.com", "bo@example.com", "+14165550100"],
        "execution-ids": [execution_id],
        "schedule-ids": [schedule_id],
        "configuration-ids": [str(c.pk) for c in configurations],
        "audience-ids": [str(static.pk), str(rules.pk)],
        "namespaces": ["email", "phone", "crm_id"],
        "identity-values": ["ana@example.com", "+14165550100", "C-1"],
    }
    return secret, ids


def _seed_executions(actor: Actor, live: Campaign, promotion: Campaign) -> tuple[str, str]:
    """A unitary execution of ``live`` and a schedule of ``promotion``, as the API makes them."""
    call = UnitaryCall(
        campaign_id=live.pk,
        request_id="seed-1",
        recipients=(TriggerRecipient(type="external", user_id="bo@example.com"),),
    )
    accepted = execution_accept_unitary(
        actor=actor, call=call, fingerprint="seed-1", idempotency_key="seed-1"
    )
    later = AudienceCall(
        campaign_id=promotion.pk,
        request_id="seed-2",
        execute_at=timezone.now() + timedelta(days=30),
    )
    scheduled = execution_accept_audience(
        actor=actor, call=later, fingerprint="seed-2", idempotency_key="seed-2"
    )
    return accepted.body["executionId"], scheduled.body["scheduleId"]


def _config(ids: dict[str, list[str]]) -> str:
    """The project's schemathesis.toml plus this run's seeded ids (no cache between runs)."""
    bindings = {
        "path.campaign_id": "campaign-ids",
        "path.configuration_id": "configuration-ids",
        "path.audience_id": "audience-ids",
        "path.namespace": "namespaces",
        "path.value": "identity-values",
        "path.execution_id": "execution-ids",
        "path.schedule_id": "schedule-ids",
        "body.campaignId": "trigger-campaign-ids",
        "body.audience.id": "audience-ids",
        "body.recipients[*].namespace": "namespaces",
        "body.recipients[*].userId": "recipient-ids",
    }
    lines = [(ROOT / "schemathesis.toml").read_text(), "", "[cache]", "enabled = false", ""]
    for name, values in ids.items():
        lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values)}", ""]
    lines.append("[parameters]")
    for parameter, dictionary in bindings.items():
        lines.append(
            f'"{parameter}" = {{ dictionary = "{dictionary}", '
            f"probability = {SEEDED_ID_PROBABILITY} }}"
        )
    return "\n".join(lines) + "\n"


def test_the_api_matches_its_openapi_document(
    live_server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Accepted calls publish nothing: no worker runs here, and the broker is shared.
    monkeypatch.setattr("delivery.enqueue._publish", lambda message_ids: None)
    monkeypatch.setattr("delivery.enqueue._publish_fanout", lambda execution_id: None)
    if not ST.exists():
        pytest.fail(f"{ST} is missing: install the dev extra (pip install -e '.[dev]').")
    secret, ids = _seed()
    config = tmp_path / "schemathesis.toml"
    config.write_text(_config(ids))

    command = [
        str(ST),
        "--config-file",
        str(config),
        "--no-color",
        "run",
        f"{live_server.url}/api/schema/",
        "--checks",
        "all",
        "--header",
        f"Authorization: Bearer {secret}",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--max-time",
        str(BUDGET_SECONDS),
        "--seed",
        str(SEED),
        "--workers",
        "1",
        "--request-timeout",
        "30",
    ]
    # Hooks for the rules the document cannot state (tests/api/schemathesis_hooks.py).
    env = dict(os.environ)
    env["SCHEMATHESIS_HOOKS"] = "tests.api.schemathesis_hooks"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    result = subprocess.run(
        command,
        env=env,
        cwd=tmp_path,  # schemathesis writes its state beside the working directory
        capture_output=True,
        text=True,
        timeout=BUDGET_SECONDS + 180,  # start-up, the last cycle's tail, the report
        check=False,
    )

    report = result.stdout + result.stderr
    print(report)  # shown with -rP or -s; on failure pytest shows it anyway
    assert result.returncode == 0, report
    assert "generated" in report  # schemathesis really ran and summarised its cases
    assert Campaign.objects.filter(pk=ids["campaign-ids"][1]).exists()  # live: not deletable
    # The trigger endpoints were reached past their checks: calls were accepted.
    print("executions accepted:", Execution.objects.exclude(request_id="seed-1").count())
