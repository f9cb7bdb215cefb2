"""A process remembers a version's access labels for a few seconds: every trigger call
asks, and the shared cache need not answer each time."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from campaigns import triggering
from campaigns.triggering import version_label_ids
from tests.factories import AccessLabelFactory

pytestmark = pytest.mark.django_db


def test_the_labels_are_read_from_the_shared_cache_once_in_the_memo_window(
    live_campaign, monkeypatch
) -> None:
    # given a live campaign with a label, and the shared cache's reads counted
    campaign = live_campaign()
    label = AccessLabelFactory.create(name="vip")
    campaign.live_version.access_labels.add(label)
    reads: list[str] = []
    real_get = triggering.cache.get

    def get(key: str, default: object = None) -> object:
        reads.append(key)
        return real_get(key, default)

    monkeypatch.setattr(triggering.cache, "get", get)
    monkeypatch.setattr(triggering, "_version_labels_memo", {})
    clock = iter([100.0, 101.0, 102.0, 106.0])
    # Only the module's clock: the global time.monotonic is also read by the Redis client.
    monkeypatch.setattr(triggering, "time", SimpleNamespace(monotonic=lambda: next(clock)))

    # when four calls ask within 6 seconds
    answers = [version_label_ids(campaign.live_version_id) for _ in range(4)]

    # then all know the label; the shared cache was read at first and after 5 seconds
    assert answers == [frozenset({label.pk})] * 4
    assert len(reads) == 2
