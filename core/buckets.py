"""Token buckets shared by every process (Redis), or by the threads of one (embedded).

Two uses: the trigger API's rate limit per API key (``take``: a call gets a token
or is refused with how long to wait), and a campaign's throttle across all
workers (``reserve``: a sender books its slots and sleeps until they come, so
senders on every worker queue up behind each other at the campaign's rate).
With ``REDIS_URL`` set one Lua script makes each step atomic on the Redis
server, whose clock all processes share. Without it (a one-machine ``make run``)
the rate limit is kept per process, and a campaign's throttle in a small file
under ``CLARION_DATA_DIR/buckets/`` locked with ``flock``, so it still holds
across the worker's processes on that machine.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import math
import threading
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# A Redis that does not answer must not hang a request or a sender forever.
REDIS_TIMEOUT_SECONDS = 2.0

# KEYS[1] bucket; ARGV: rate per second, capacity, tokens wanted, mode (1 = reserve:
# always book, possibly into debt; 0 = take only when available).
# Returns {granted 0/1, tokens left (x1000), milliseconds to wait}.
_LUA = """
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local wanted = tonumber(ARGV[3])
local reserve = tonumber(ARGV[4])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil then
  tokens = capacity
  if reserve == 1 then tokens = 0 end
  at = now
end
tokens = math.min(capacity, tokens + (now - at) * rate / 1000)
local granted = 0
local wait = 0
if reserve == 1 then
  tokens = tokens - wanted
  granted = 1
  if tokens < 0 then wait = math.ceil(-tokens * 1000 / rate) end
elseif tokens >= wanted then
  tokens = tokens - wanted
  granted = 1
else
  wait = math.ceil((wanted - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) * 1000 / rate) + 60000)
return {granted, math.floor(tokens * 1000), wait}
"""


@dataclass(frozen=True)
class BucketAnswer:
    granted: bool
    tokens_left: float
    wait_seconds: float  # refused: until enough tokens; reserved: until the slot comes


@cache
def _script() -> Any:
    import redis

    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
    )
    return client.register_script(_LUA)


_local: dict[str, tuple[float, float]] = {}
_local_lock = threading.Lock()


def _local_step(
    key: str, rate: float, capacity: float, wanted: float, reserve: bool
) -> BucketAnswer:
    with _local_lock:
        now = time.monotonic()
        tokens, at = _local.get(key, (0.0 if reserve else capacity, now))
        tokens = min(capacity, tokens + (now - at) * rate)
        if reserve:
            tokens -= wanted
            answer = BucketAnswer(True, tokens, max(0.0, -tokens / rate))
        elif tokens >= wanted:
            tokens -= wanted
            answer = BucketAnswer(True, tokens, 0.0)
        else:
            answer = BucketAnswer(False, tokens, (wanted - tokens) / rate)
        _local[key] = (tokens, now)
        return answer


def _machine_folder() -> Path:
    return Path(settings.DATA_DIR) / "buckets"


def _machine_reserve(key: str, rate: float, count: int) -> float:
    """``bucket_reserve`` for every process of this machine: the bucket is a file
    (tokens and the wall-clock time they were counted), read and written under an
    exclusive ``flock``."""
    folder = _machine_folder()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / hashlib.sha256(key.encode()).hexdigest()[:32]
    with path.open("a+") as bucket:
        fcntl.flock(bucket, fcntl.LOCK_EX)  # released when the file is closed
        bucket.seek(0)
        now = time.time()
        try:
            tokens, at = (float(part) for part in bucket.read().split())
        except ValueError:  # a new (or damaged) bucket starts empty
            tokens, at = 0.0, now
        tokens = min(1.0, tokens + max(0.0, now - at) * rate) - count
        bucket.seek(0)
        bucket.truncate()
        bucket.write(f"{tokens!r} {now!r}")
    return max(0.0, -tokens / rate)


def _step(key: str, rate: float, capacity: float, wanted: float, reserve: bool) -> BucketAnswer:
    if rate <= 0:
        raise ValueError("rate must be positive")
    if not settings.REDIS_URL:
        return _local_step(key, rate, capacity, wanted, reserve)
    granted, left, wait = _script()(
        keys=[f"clarion:bucket:{key}"], args=[rate, capacity, wanted, 1 if reserve else 0]
    )
    return BucketAnswer(bool(granted), int(left) / 1000, int(wait) / 1000)


def bucket_take(key: str, *, rate: float, capacity: float) -> BucketAnswer:
    """Take one token if there is one (a rate limit): refused answers say how long to wait.

    When Redis does not answer, the process's own bucket decides: the limit then holds
    per process, and calls are still answered (never a 500 for a cache outage).
    """
    try:
        return _step(key, rate, capacity, 1, reserve=False)
    except RedisError:
        logger.warning("Redis did not answer; rate-limiting %s in this process only", key)
        return _local_step(key, rate, capacity, 1, reserve=False)


def bucket_reserve(key: str, *, rate: float, count: int) -> float:
    """Book ``count`` slots at ``rate`` per second; returns the seconds to wait before using them.

    The bucket starts empty and holds at most one token, so slots are spaced
    evenly: ``count`` messages at ``rate`` take ``count / rate`` seconds, whoever sends them.
    When Redis does not answer, the process's own bucket books the slots: the rate
    then holds per process instead of across workers, and sending goes on.
    """
    if rate <= 0:
        raise ValueError("rate must be positive")
    if not settings.REDIS_URL:
        return _machine_reserve(key, rate, count)
    try:
        return _step(key, rate, 1, count, reserve=True).wait_seconds
    except RedisError:
        logger.warning("Redis did not answer; throttling %s in this process only", key)
        return _local_step(key, rate, 1, count, reserve=True).wait_seconds


def bucket_reset_local() -> None:
    """Forget the in-process and on-machine buckets (tests)."""
    with _local_lock:
        _local.clear()
    for path in _machine_folder().glob("*"):
        path.unlink(missing_ok=True)


def seconds_until_full(answer: BucketAnswer, *, rate: float, capacity: float) -> int:
    """Whole seconds until the bucket is full again (``RateLimit-Reset``)."""
    return max(0, math.ceil((capacity - answer.tokens_left) / rate))
