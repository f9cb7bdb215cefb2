"""core.broker: kombu's Redis transport with one Redis client per pool, on the machine's Redis."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from typing import Any, cast

import pytest
from kombu import Connection

from core.broker import Channel, Transport

BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/2")
pytestmark = pytest.mark.skipif(
    not BROKER_URL.startswith("redis"), reason="needs a Redis broker (CELERY_BROKER_URL)"
)


@pytest.fixture
def connection() -> Iterator[Connection]:
    with Connection(BROKER_URL, transport=Transport) as conn:
        yield conn


@pytest.fixture
def queue_name(connection: Connection) -> Iterator[str]:
    # A queue of its own, so nothing else using this Redis database is touched.
    name = f"test-broker-{secrets.token_hex(4)}"
    yield name
    _channel(connection).queue_delete(name)


def _channel(connection: Connection) -> Any:
    """The connection's channel (kombu-stubs type it as the bare protocol)."""
    return cast(Any, connection.default_channel)


def _clients_made(channel: Any, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    made: list[Any] = []
    create = channel._create_client

    def counting(*args: Any, **kwargs: Any) -> Any:
        client = create(*args, **kwargs)
        made.append(client)
        return client

    monkeypatch.setattr(channel, "_create_client", counting)
    return made


def test_publishes_share_one_redis_client_and_arrive_in_order(
    connection: Connection, queue_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel = _channel(connection)
    assert isinstance(channel, Channel)
    made = _clients_made(channel, monkeypatch)
    queue = connection.SimpleQueue(queue_name)

    for number in range(5):
        queue.put({"number": number})
    received = [queue.get(timeout=5) for _ in range(5)]
    for message in received:
        message.ack()

    assert [message.payload for message in received] == [{"number": n} for n in range(5)]
    assert len(made) == 1
    with channel.conn_or_acquire() as client:
        assert client.llen(queue_name) == 0  # nothing left over
    queue.close()


def test_a_new_pool_gets_a_new_client(
    connection: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a channel whose pool was dropped (as kombu does when the connection is lost)
    channel = _channel(connection)
    made = _clients_made(channel, monkeypatch)
    with channel.conn_or_acquire() as first:
        first.ping()
    channel._pool = None

    # When it sends a command again
    with channel.conn_or_acquire() as second:
        second.ping()

    # Then the client is bound to the new pool
    assert len(made) == 2
    assert second is not first
    assert second.connection_pool is channel.pool


def test_a_given_client_is_used_as_is(connection: Connection) -> None:
    channel = _channel(connection)
    given = channel._create_client()

    with channel.conn_or_acquire(given) as client:
        assert client is given


def test_celery_publishes_through_this_transport_on_a_redis_broker() -> None:
    script = (
        "import django; django.setup()\n"
        "from config.celery import app\n"
        "with app.connection_for_write() as conn:\n"
        "    print(type(conn.default_channel).__module__, conn.transport.driver_type)\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "CELERY_BROKER_URL": BROKER_URL,
    }

    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["core.broker", "redis"]
