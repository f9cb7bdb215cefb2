"""The unitary body read without the serializer (delivery.api.unitary_input) agrees with
UnitaryInputSerializer: it takes only bodies the serializer takes, builds the same call,
and leaves every other body (so every error answer) to the serializer."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from delivery.api.serializers import UnitaryInputSerializer
from delivery.api.unitary_input import unitary_call_plain

CAMPAIGN = "0190b5c4-1d2e-7a3b-8c4d-5e6f7a8b9c0d"


def _serializer_call(body: Any) -> Any:
    serializer = UnitaryInputSerializer(data=body)
    return serializer.to_call() if serializer.is_valid() else None


def _agrees(body: Any) -> Any:
    plain = unitary_call_plain(body)
    expected = _serializer_call(body)
    if expected is None:
        assert plain is None, body
    elif plain is not None:
        assert plain == expected, body
    return plain


def _aep(user_id: str = "ana@example.com", **extra: Any) -> dict[str, Any]:
    return {"type": "aep", "namespace": "email", "userId": user_id, **extra}


@pytest.mark.parametrize(
    "body",
    [
        {"requestId": "r", "campaignId": CAMPAIGN, "recipients": [_aep()]},
        {
            "requestId": "r",
            "campaignId": CAMPAIGN.replace("-", "").upper(),
            "recipients": [_aep(), _aep("bo@example.com")],
            "context": {"a": [1, {"b": None}]},
            "mergePolicyName": "x",
        },
        {
            "requestId": "r" * 255,
            "campaignId": CAMPAIGN,
            "recipients": [
                {
                    "type": "external",
                    "userId": "order-1",
                    "channelData": {
                        "emailAddress": "a@example.com",
                        "mobilePhoneNumber": "+15555550100",
                        "pushInfo": {"appID": "app", "platform": "ios", "token": "t"},
                    },
                    "profile": {"name": "Ana"},
                    "context": {},
                    "mergePolicySchema": None,
                }
            ],
        },
    ],
)
def test_plainly_valid_bodies_are_read_without_the_serializer(body: dict[str, Any]) -> None:
    assert _agrees(body) is not None


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"requestId": "r", "campaignId": CAMPAIGN, "recipients": []},
        {"requestId": "", "campaignId": CAMPAIGN, "recipients": [_aep()]},
        {"requestId": "r" * 256, "campaignId": CAMPAIGN, "recipients": [_aep()]},
        {"requestId": 5, "campaignId": CAMPAIGN, "recipients": [_aep()]},
        {"requestId": "r\x00", "campaignId": CAMPAIGN, "recipients": [_aep()]},
        {"requestId": "r\ud800", "campaignId": CAMPAIGN, "recipients": [_aep()]},
        {"requestId": "r", "campaignId": "nope", "recipients": [_aep()]},
        {"requestId": "r", "campaignId": 5, "recipients": [_aep()]},
        {"requestId": "r", "campaignId": CAMPAIGN, "recipients": [_aep()], "extra": 1},
        {"requestId": "r", "campaignId": CAMPAIGN, "recipients": [_aep()] * 2},
        {
            "requestId": "r",
            "campaignId": CAMPAIGN,
            "recipients": [_aep(str(n)) for n in range(101)],
        },
        {"requestId": "r", "campaignId": CAMPAIGN, "recipients": [_aep()], "context": None},
        {"requestId": "r", "campaignId": CAMPAIGN, "recipients": [_aep()], "context": []},
        {
            "requestId": "r",
            "campaignId": CAMPAIGN,
            "recipients": [_aep()],
            "context": {"big": "x" * 210_000},
        },
        {"requestId": "r", "campaignId": CAMPAIGN, "recipients": [{"type": "aep", "userId": "a"}]},
        {"requestId": "r", "campaignId": CAMPAIGN, "recipients": [_aep(namespace="")]},
        {"requestId": "r", "campaignId": CAMPAIGN, "recipients": [_aep(type="other")]},
        {"requestId": "r", "campaignId": CAMPAIGN, "recipients": [_aep(userId="")]},
        {"requestId": "r", "campaignId": CAMPAIGN, "recipients": [_aep(profile=None)]},
        {"requestId": "r", "campaignId": CAMPAIGN, "recipients": [_aep(channelData={"x": "y"})]},
        {
            "requestId": "r",
            "campaignId": CAMPAIGN,
            "recipients": [_aep(channelData={"pushInfo": {"appID": "a", "platform": "ios"}})],
        },
        {
            "requestId": "r",
            "campaignId": CAMPAIGN,
            "recipients": [
                _aep(channelData={"pushInfo": {"appID": "a", "platform": "tv", "token": "t"}})
            ],
        },
    ],
)
def test_other_bodies_are_left_to_the_serializer(body: Any) -> None:
    assert _agrees(body) is None


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=5,
)
_strings = st.sampled_from(["", "a", "email", "ios", "web", "aep", "external", "x" * 65]) | _json


def _maybe(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return values | _json


_push_info = st.fixed_dictionaries(
    {},
    optional={
        "appID": _maybe(_strings),
        "platform": _maybe(st.sampled_from(["ios", "android", "web", "tv"])),
        "token": _maybe(_strings),
        "other": _json,
    },
)
_channel_data = st.fixed_dictionaries(
    {},
    optional={
        "emailAddress": _maybe(_strings),
        "mobilePhoneNumber": _maybe(_strings),
        "pushInfo": _maybe(_push_info),
        "other": _json,
    },
)
_recipient = st.fixed_dictionaries(
    {},
    optional={
        "type": _maybe(st.sampled_from(["aep", "external", "AEP"])),
        "namespace": _maybe(_strings),
        "userId": _maybe(st.sampled_from(["a", "b", "", "a\x00"])),
        "channelData": _maybe(_channel_data),
        "profile": _json,
        "context": _json,
        "mergePolicyName": _json,
        "other": _json,
    },
)
_body = st.fixed_dictionaries(
    {},
    optional={
        "requestId": _maybe(_strings),
        "campaignId": _maybe(st.sampled_from([CAMPAIGN, CAMPAIGN.upper(), CAMPAIGN[1:]])),
        "recipients": _maybe(st.lists(_maybe(_recipient), max_size=3)),
        "context": _json,
        "mergePolicySchema": _json,
        "other": _json,
    },
)


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(_body)
def test_any_body_gets_the_serializers_call_or_is_left_to_it(body: Any) -> None:
    _agrees(body)
