"""Opens and clicks arriving at once, each on its own database connection: counted once.

On PostgreSQL the requests really overlap: the partial unique index decides the
first event of each kind, and the conditional UPDATE of ``clicked_at`` the
message's first click. On SQLite the write transactions take turns.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from delivery.models import Message, MessageEvent
from tests.delivery.tracking_helpers import (
    TRACKED_CONTENT,
    engagement,
    html_of,
    last_email,
    paths,
    send_email,
)

pytestmark = pytest.mark.django_db(transaction=True)

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0"
THREADS = 8


def _at_once(requests: list[str]) -> list[Any]:
    """GET each path from its own thread and connection, all released together."""
    barrier = threading.Barrier(len(requests))
    results: list[Any] = []

    def run(path: str) -> None:
        try:
            barrier.wait(timeout=10)
            results.append(Client(HTTP_USER_AGENT=BROWSER).get(path).status_code)
        except BaseException as error:  # reported by the test, not lost in the thread
            results.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(path,)) for path in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_concurrent_opens_and_clicks_count_each_first_once(live_campaign, send_inline) -> None:
    # given a message sent a minute ago, with two tracked links
    campaign = live_campaign(create_new_profiles=True, content=TRACKED_CONTENT)
    message = send_email(campaign)
    Message.objects.filter(pk=message.pk).update(sent_at=timezone.now() - timedelta(minutes=1))
    html = html_of(last_email())
    first, second = paths(html, "/t/c/")
    [pixel] = paths(html, "/t/o/")

    # when 8 people click (4 on each link) and then 8 open, each at the same moment
    clicks = _at_once([first, second] * (THREADS // 2))
    opens = _at_once([pixel] * THREADS)

    # then every request was answered
    assert clicks == [302] * THREADS
    assert opens == [200] * THREADS
    # and each first was counted once: per link, per message, the unique open
    assert engagement(campaign) == {
        ("clicked", "1"): 4,
        ("clicked", "2"): 4,
        ("clicked_unique", "1"): 1,
        ("clicked_unique", "2"): 1,
        ("clicked_messages", ""): 1,
        ("opened", ""): 8,
        ("opened_unique", ""): 1,
    }
    assert MessageEvent.objects.filter(message=message, first=True).count() == 3
    assert MessageEvent.objects.filter(message=message).count() == 16
