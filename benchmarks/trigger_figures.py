"""The trigger benchmark's figures against issue 9's goals (benchmarks/harness.py's Figure).

Read from the result that ``bench_trigger.run`` returns: the wrk runs of the bare view
and of the unitary call (paired: run *i* of each came one after the other, so their
ratio is taken per pair), the end-to-end runs at a steady rate and the worker's drain.
"""

from __future__ import annotations

from typing import Any

from benchmarks.harness import Figure

SCENARIO = "trigger"
# Issue 9's goals for one 2-core machine with everything on it.
ACCEPTED_PER_SECOND_GOAL = 1_000
ACCEPT_P99_MS_GOAL = 50
SHARE_OF_CEILING_PERCENT_GOAL = 40
E2E_P50_MS_GOAL = 250
E2E_P99_MS_GOAL = 1_000
# The web tier's parties: what a trigger call costs the machines that accept it.
ACCEPT_PARTIES = ("web", "postgresql", "redis")


def trigger_figures(result: dict[str, Any]) -> list[Figure]:
    trigger_runs = result["trigger"]["runs"]
    ceiling_runs = result["ceiling"]["runs"]
    seconds = result["setup"]["run_seconds"]

    def figure(name: str, unit: str, values: list[float], **kwargs: Any) -> Figure:
        return Figure(SCENARIO, name, unit, values, **kwargs)

    figures = [
        figure(
            "unitary calls accepted",
            "/s",
            [run["per_second"] for run in trigger_runs],
            goal=ACCEPTED_PER_SECOND_GOAL,
            note=f"1 recipient, durable, idempotency and rate limit on; {seconds} s runs",
        ),
        figure(
            "acceptance latency p99",
            "ms",
            [run["p99_ms"] for run in trigger_runs],
            better="lower",
            goal=ACCEPT_P99_MS_GOAL,
        ),
        figure(
            "errors",
            "",
            [run["errors"] for run in trigger_runs],
            better="lower",
            goal=0,
            note="answers other than 202, socket errors, timeouts",
        ),
        figure(
            "bare Django JSON view",
            "/s",
            [run["per_second"] for run in ceiling_runs],
            note="the ceiling: same server, same run",
        ),
        figure(
            "accepted calls as a share of the ceiling",
            "%",
            [
                round(100 * t["per_second"] / c["per_second"], 1)
                for t, c in zip(trigger_runs, ceiling_runs, strict=True)
                if c["per_second"]
            ],
            goal=SHARE_OF_CEILING_PERCENT_GOAL,
        ),
        figure(
            "CPU per accepted call",
            "ms",
            [
                round(sum(run["cpu_ms_per_request"][p] for p in ACCEPT_PARTIES), 2)
                for run in trigger_runs
            ],
            better="lower",
            note="web + PostgreSQL + Redis; by party in details",
        ),
    ]
    figures += _end_to_end_figures(result["end_to_end"])
    drained = result["worker_drain"]
    if "per_second" in drained:
        cpu = drained["cpu_ms_per_message"]
        figures += [
            figure(
                "worker send rate, email to the SMTP sink",
                "/s",
                [drained["per_second"]],
                note=f"{drained['processes']} Celery processes on a backlog, 1 run",
            ),
            figure(
                "CPU per email sent",
                "ms",
                [round(sum(cpu.values()), 2)],
                better="lower",
                note="worker + PostgreSQL + Redis; by party in details",
            ),
        ]
    return figures


def _end_to_end_figures(e2e: list[dict[str, Any]]) -> list[Figure]:
    """p50 and p99 from each run at the highest rate (the goal's rate), and how many of
    the accepted messages arrived: a percentile over the arrivals alone would flatter
    a run whose slowest messages never came within the wait."""
    if not e2e:
        return []
    rate = max(run["rate"] for run in e2e)
    runs = [run for run in e2e if run["rate"] == rate]
    note = f"steady {rate:g} calls/s, call to SMTP server on loopback"
    figures = [
        Figure(
            SCENARIO,
            "end to end: messages arrived",
            "%",
            [round(100 * run["arrived"] / max(1, run["accepted"]), 1) for run in runs],
            goal=100,
            note=note,
        )
    ]
    arrived = [run for run in runs if "p50_ms" in run]
    if arrived:
        figures += [
            Figure(
                SCENARIO,
                "end to end p50",
                "ms",
                [run["p50_ms"] for run in arrived],
                better="lower",
                goal=E2E_P50_MS_GOAL,
                note=note,
            ),
            Figure(
                SCENARIO,
                "end to end p99",
                "ms",
                [run["p99_ms"] for run in arrived],
                better="lower",
                goal=E2E_P99_MS_GOAL,
                note=note,
            ),
        ]
    return figures
