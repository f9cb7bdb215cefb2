"""Inputs that once got a 500: one person named twice, and JSON no database stores."""

from __future__ import annotations

import json

from core.scopes import EXECUTIONS_TRIGGER
from delivery.models import Execution, Message
from tests.delivery.trigger_calls import UNITARY, aep, stored_profile, unitary

SAME = "The same person as recipient 0; name each person once per call."


def test_two_spellings_of_one_address_are_one_person(api_client, live_campaign, published) -> None:
    campaign = live_campaign(create_new_profiles=True)

    response = api_client(EXECUTIONS_TRIGGER).post(
        UNITARY, unitary(campaign, aep("bob@example.com"), aep("Bob@Example.com")), format="json"
    )

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "duplicate_recipient"
    assert body["errors"] == [{"pointer": "/recipients/1/userId", "detail": SAME}]
    assert (Execution.objects.count(), Message.objects.count(), published) == (0, 0, [])


def test_two_identities_of_one_profile_are_one_person(api_client, live_campaign, published) -> None:
    campaign = live_campaign()
    stored_profile(
        "ana@example.com", identities=[{"namespace": "email", "value": "ana.work@example.com"}]
    )

    response = api_client(EXECUTIONS_TRIGGER).post(
        UNITARY,
        unitary(campaign, aep("ana@example.com"), aep("ana.work@example.com")),
        format="json",
    )

    assert response.status_code == 422
    assert response.json()["errors"] == [{"pointer": "/recipients/1/userId", "detail": SAME}]
    assert (Execution.objects.count(), Message.objects.count(), published) == (0, 0, [])


def test_a_nul_character_in_the_call_data_is_a_422_at_its_place(
    api_client, live_campaign, published
) -> None:
    """The document allows any string; PostgreSQL's jsonb stores no NUL: a value refused."""
    campaign = live_campaign(create_new_profiles=True)

    response = api_client(EXECUTIONS_TRIGGER).post(
        UNITARY,
        unitary(
            campaign,
            aep(context={"order": {"note": "a\x00b"}}, profile={"tags": ["ok", "x\x00"]}),
        ),
        format="json",
    )

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert [e["pointer"] for e in body["errors"]] == [
        "/recipients/0/profile/tags/1",
        "/recipients/0/context/order/note",
    ]
    assert (Execution.objects.count(), published) == (0, [])


def test_a_number_too_large_for_a_float_is_malformed_json(
    api_client, live_campaign, published
) -> None:
    campaign = live_campaign(create_new_profiles=True)
    call = json.dumps(unitary(campaign, aep(context={"total": 1})))
    body = call.replace('"total": 1', '"total": 1e400')

    response = api_client(EXECUTIONS_TRIGGER).post(UNITARY, body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"
    assert (Execution.objects.count(), published) == (0, [])
