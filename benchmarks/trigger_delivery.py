"""The delivery side of the trigger benchmark: arrivals at the SMTP sink, the smoke call,
end-to-end latency at a steady rate, and the worker's send rate on a backlog."""

from __future__ import annotations

import argparse
import contextlib
import json
import secrets
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.trigger_report import percentile
from benchmarks.trigger_stack import CpuMeter, Stack

ROOT = Path(__file__).resolve().parent.parent
TRIGGER_PATH = "/api/v1/executions/unitary"


def arrivals_read(path: Path) -> tuple[dict[str, float], int]:
    """Message id -> first arrival time at the sink, and how many arrived more than once."""
    first: dict[str, float] = {}
    repeated = 0
    if path.exists():
        for line in path.read_text(encoding="ascii").splitlines():
            message_id, _, at = line.partition(" ")
            if message_id in first:
                repeated += 1
            else:
                first[message_id] = float(at)
    return first, repeated


def smoke(url: str, seed: dict[str, Any], sink: Path, timeout: float) -> None:
    """One call through the whole pipeline before anything is measured."""
    body = json.dumps(
        {
            "requestId": f"smoke-{secrets.token_hex(4)}",
            "campaignId": seed["campaignId"],
            "recipients": [{"type": "aep", "namespace": "email", "userId": "person0@example.com"}],
        }
    ).encode()
    request = urllib.request.Request(  # noqa: S310 (loopback)
        url + TRIGGER_PATH,
        data=body,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {seed['apiKey']}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        message_id = json.loads(response.read())["recipients"][0]["messageId"]
    deadline = time.monotonic() + timeout
    while message_id not in arrivals_read(sink)[0]:
        if time.monotonic() > deadline:
            raise TimeoutError("the smoke call's message never reached the SMTP sink")
        time.sleep(0.2)


def end_to_end(
    options: argparse.Namespace,
    rate: float,
    url: str,
    seed: dict[str, Any],
    sink: Path,
    stack: Stack,
) -> dict[str, Any]:
    out = sink.parent / "paced.json"
    command = [sys.executable, str(ROOT / "benchmarks" / "trigger_paced.py"), "--url", url]
    command += ["--campaign", seed["campaignId"], "--key", seed["apiKey"], "--out", str(out)]
    command += ["--rate", str(rate), "--duration", str(options.e2e_duration)]
    command += ["--profiles", str(seed["profiles"]), "--tag", f"paced-{secrets.token_hex(4)}"]
    subprocess.run(command, check=True, timeout=options.e2e_duration + 120, cwd=ROOT)
    calls = json.loads(out.read_text())["calls"]
    accepted = {call[0]: call for call in calls if call[3] == 202}
    deadline = time.monotonic() + options.e2e_wait
    while True:
        arrived, repeated = arrivals_read(sink)
        missing = [m for m in accepted if m not in arrived]
        if not missing or time.monotonic() > deadline:
            break
        stack.check()
        time.sleep(0.5)
    latencies = [arrived[m] - call[1] for m, call in accepted.items() if m in arrived]
    answers = [call[2] for call in accepted.values()]
    result: dict[str, Any] = {
        "rate": rate,
        "seconds": options.e2e_duration,
        "calls": len(calls),
        "accepted": len(accepted),
        "arrived": len(latencies),
        "arrived_twice": repeated,
        "statuses": dict(Counter(str(call[3]) for call in calls)),
        "most_late_send_ms": round(max(call[4] for call in calls) * 1000, 1),
    }
    if latencies:
        result |= {
            f"{name}_ms": round(value * 1000, 1)
            for name, value in (
                ("p50", percentile(latencies, 0.50)),
                ("p99", percentile(latencies, 0.99)),
                ("max", max(latencies)),
                ("accept_p50", percentile(answers, 0.50)),
                ("accept_p99", percentile(answers, 0.99)),
            )
        }
    return result


def drain(
    options: argparse.Namespace,
    sink: Path,
    stack: Stack,
    start_worker: Callable[[], subprocess.Popen[bytes]],
    meters_of: Callable[[int], dict[str, Callable[[], dict[int, float]]]],
) -> dict[str, Any]:
    """The worker's send rate on the backlog the wrk runs left: arrivals per second, and
    the CPU each party used per message sent (``meters_of(worker group)``: the Celery
    processes, PostgreSQL, Redis; the SMTP sink is left out, as a provider's cost)."""
    before = len(arrivals_read(sink)[0])
    worker = start_worker()
    deadline = time.monotonic() + 60
    while len(arrivals_read(sink)[0]) == before:  # wait for the worker's first message
        if time.monotonic() > deadline:
            return {"error": "the worker sent nothing of the backlog within 60 s"}
        stack.check()
        time.sleep(0.1)
    first = len(arrivals_read(sink)[0])
    with contextlib.ExitStack() as meters:
        cpu = {
            name: meters.enter_context(CpuMeter(select))
            for name, select in meters_of(worker.pid).items()
        }
        time.sleep(options.drain_seconds)
        sent = len(arrivals_read(sink)[0]) - first
    return {
        "seconds": options.drain_seconds,
        "sent": sent,
        "per_second": round(sent / options.drain_seconds, 1),
        "processes": options.concurrency,
        "cpu_ms_per_message": {
            name: round(1000 * meter.seconds / max(1, sent), 3) for name, meter in cpu.items()
        },
    }
