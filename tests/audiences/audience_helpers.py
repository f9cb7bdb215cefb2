"""Profiles with known attributes, consent and identities, for the audience tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from audiences.models import Consent, Identity, IdentityNamespace, Profile

PEOPLE: dict[str, dict[str, Any]] = {
    "ana": {
        "attributes": {
            "age": 30,
            "city": "Paris",
            "tags": ["vip", "beta"],
            "vip": True,
            "plan": {"tier": "gold", "since": "2023-04-01"},
            "score": 7.5,
        },
        "locale": "fr-CA",
        "time_zone": "America/Toronto",
        "consent": {"email": "opted_in"},
        "identities": {"email": "ana@example.com", "crm_id": "C-1"},
        "created": "2024-01-01T00:00:00+00:00",
    },
    "ben": {
        "attributes": {
            "age": "30",
            "city": "paris",
            "tags": ["beta"],
            "vip": False,
            "plan": {"tier": "silver", "since": "2024-01-15T10:00:00Z"},
            "score": 12,
        },
        "locale": "en",
        "consent": {"email": "opted_out", "sms": "opted_in"},
        "identities": {"email": "ben@example.com", "phone": "+14165550100"},
        "created": "2024-02-01T00:00:00+00:00",
    },
    "cy": {
        "attributes": {"age": 45, "city": "Lyon", "tags": "vip", "vip": 1, "plan": "basic"},
        "consent": {"email": "unknown"},
        "identities": {"crm_id": "C-2"},
        "created": "2024-03-01T12:00:00+00:00",
    },
    "dee": {"attributes": {"age": None, "city": None}, "created": "2024-04-01T00:00:00+00:00"},
    "eve": {"attributes": {}, "created": "2024-05-01T00:00:00+00:00"},
    "fay": {
        "attributes": {
            "age": 30.0,
            "city": "Paris Nord",
            "tags": [30, True],
            "score": -1,
            "plan": {"since": "2023-12-31"},
        },
        "locale": "fr",
        "consent": {"push": "opted_in"},
        "created": "2024-06-01T00:00:00+00:00",
    },
}


def make_people() -> dict[str, Profile]:
    """Create ``PEOPLE``; returns name -> profile."""
    namespaces = {ns.code: ns for ns in IdentityNamespace.objects.all()}
    people: dict[str, Profile] = {}
    for name, spec in PEOPLE.items():
        profile = Profile.objects.create(
            attributes=spec["attributes"],
            locale=spec.get("locale", ""),
            time_zone=spec.get("time_zone", ""),
        )
        created = dt.datetime.fromisoformat(spec["created"])
        Profile.objects.filter(pk=profile.pk).update(
            created_at=created, updated_at=created + dt.timedelta(days=10)
        )
        for channel, status in spec.get("consent", {}).items():
            Consent.objects.create(
                profile=profile, channel=channel, status=status, updated_at=timezone.now()
            )
        for code, value in spec.get("identities", {}).items():
            Identity.objects.create(profile=profile, namespace=namespaces[code], value=value)
        people[name] = profile
    return people


def names(profiles: Any, people: dict[str, Profile]) -> set[str]:
    by_pk = {profile.pk: name for name, profile in people.items()}
    return {by_pk[profile.pk] for profile in profiles}
