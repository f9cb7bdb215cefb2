"""Steady load for the trigger benchmark's end-to-end figure: RATE calls per second, open loop.

Run by benchmarks/bench_trigger.py in its own process (wrk2 is not at hand, and
wrk keeps its connections busy rather than holding a pace):
``python benchmarks/trigger_paced.py --url http://127.0.0.1:8931 --campaign ID --key SECRET
--rate 100 --duration 20 --profiles 10000 --out calls.json``.

Call ``i`` is due at ``start + i / rate``; a pool of threads sends the calls as they
fall due, each thread on its own keep-alive connection, so a slow answer does not
delay the next call (open loop). Each call names one known profile, has its own
requestId, and its send time is stamped with ``time.time()`` just before the request
goes out. Writes ``--out``: one entry per call, ``[messageId or null, sent at, seconds
to the answer, HTTP status, seconds late against the schedule]``. Standard library only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import queue
import threading
import time
from typing import Any
from urllib.parse import urlsplit

Call = list[Any]  # [message id | None, sent at (epoch s), answer seconds, status, late seconds]


def _body(tag: str, index: int, campaign: str, profiles: int) -> str:
    return json.dumps(
        {
            "requestId": f"{tag}-{index}",
            "campaignId": campaign,
            "recipients": [
                {
                    "type": "aep",
                    "namespace": "email",
                    "userId": f"person{(index * 7919) % profiles}@example.com",
                    "context": {"product": {"name": "Jackets"}, "orderId": str(index)},
                }
            ],
        }
    )


def _sender(
    options: argparse.Namespace, jobs: queue.SimpleQueue[tuple[int, float] | None], out: list[Call]
) -> None:
    url = urlsplit(options.url)
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {options.key}"}
    while (job := jobs.get()) is not None:
        index, due = job
        body = _body(options.tag, index, options.campaign, options.profiles)
        late = time.monotonic() - due
        sent = time.time()
        message_id, status = None, 0
        # An idle keep-alive connection may have been closed by the server (gunicorn's
        # keep-alive is 2 s): one more try on a new connection, with the same requestId,
        # as any client would (the call is idempotent).
        for _attempt in range(2):
            try:
                connection.request("POST", "/api/v1/executions/unitary", body, headers)
                response = connection.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException):
                connection.close()  # the next request opens a new connection
                continue
            status = response.status
            if status == 202:
                message_id = json.loads(data)["recipients"][0]["messageId"]
            break
        out.append([message_id, sent, time.time() - sent, status, late])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--campaign", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--profiles", type=int, required=True)
    # Enough for calls to stay on schedule while the server is slow: at 100 calls/s and
    # 2 s per answer, 200 calls are in flight.
    parser.add_argument("--threads", type=int, default=200)
    parser.add_argument("--tag", default="paced")
    parser.add_argument("--out", required=True)
    options = parser.parse_args()

    jobs: queue.SimpleQueue[tuple[int, float] | None] = queue.SimpleQueue()
    calls: list[Call] = []  # list.append is atomic under the GIL
    threads = [
        threading.Thread(target=_sender, args=(options, jobs, calls), daemon=True)
        for _ in range(options.threads)
    ]
    for thread in threads:
        thread.start()
    total = int(options.rate * options.duration)
    start = time.monotonic() + 0.1
    for index in range(total):
        due = start + index / options.rate
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        jobs.put((index, due))
    for _thread in threads:
        jobs.put(None)
    for thread in threads:
        thread.join(timeout=60)
    with open(options.out, "w", encoding="utf-8") as handle:
        json.dump({"rate": options.rate, "duration": options.duration, "calls": calls}, handle)
    accepted = sum(1 for call in calls if call[3] == 202)
    print(f"paced: {len(calls)} calls sent, {accepted} accepted", flush=True)


if __name__ == "__main__":
    main()
