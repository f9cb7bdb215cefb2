"""Figures of the trigger benchmark: medians over runs, percentiles, the Markdown tables."""

from __future__ import annotations

import statistics
from typing import Any


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"runs": runs, "errors": sum(r["errors"] for r in runs)}
    for key in ("per_second", "p50_ms", "p99_ms"):
        values = [r[key] for r in runs]
        out[key] = {"median": statistics.median(values), "min": min(values), "max": max(values)}
    parties = runs[0]["cpu_ms_per_request"] if runs else {}
    out["cpu_ms_per_request"] = {
        party: round(statistics.median(r["cpu_ms_per_request"][party] for r in runs), 3)
        for party in parties
    }
    return out


def cpu_bound(row: dict[str, Any], cores: int) -> float:
    """Requests per second if every core did only this work and nothing ever waited."""
    total = sum(row["cpu_ms_per_request"].values())
    return round(cores * 1000 / total) if total else 0.0


def _spread(figure: dict[str, float], digits: int = 0) -> str:
    def show(value: float) -> str:
        return f"{value:,.{digits}f}"

    return f"{show(figure['median'])} ({show(figure['min'])}–{show(figure['max'])})"


def report(result: dict[str, Any]) -> None:
    setup, machine = result["setup"], result["machine"]
    print(
        f"\n### Trigger API ({machine['cores']} cores, {machine['memory_gib']} GiB, "
        f"gunicorn {setup['gunicorn']['workers']} × {setup['gunicorn']['worker_class']}, "
        f"wrk {setup['wrk']['connections']} connections, {setup['runs']} × "
        f"{setup['run_seconds']} s; median (min–max))\n"
    )
    print("| endpoint | per second | p50 ms | p99 ms | errors |")
    print("| --- | --- | --- | --- | --- |")
    for label, key in (("bare Django JSON view (ceiling)", "ceiling"), ("POST unitary", "trigger")):
        row = result[key]
        print(
            f"| {label} | {_spread(row['per_second'])} | {_spread(row['p50_ms'], 1)} "
            f"| {_spread(row['p99_ms'], 1)} | {row['errors']} |"
        )
    print(f"\nTrigger rate: {result['trigger_share_of_ceiling_percent']} % of the ceiling.")
    print(
        "\nCPU per request (ms, median over the runs; Redis is a server shared with the rest"
        " of the machine):\n"
    )
    parties = list(result["trigger"]["cpu_ms_per_request"])
    print(
        f"| endpoint | {' | '.join(parties)} | total | CPU-bound rate on {machine['cores']} cores |"
    )
    print("| --- " * (len(parties) + 3) + "|")
    for label, key in (("bare view", "ceiling"), ("POST unitary", "trigger")):
        cpu = result[key]["cpu_ms_per_request"]
        cells = " | ".join(f"{cpu[p]:.2f}" for p in parties)
        bound = cpu_bound(result[key], machine["cores"])
        print(f"| {label} | {cells} | {sum(cpu.values()):.2f} | {bound:,.0f}/s |")
    e2e = result["end_to_end"]
    if e2e:
        seconds = e2e[0]["seconds"]
        print(
            f"\nEnd to end, {seconds:g} s of calls at each rate (ms from the call to the SMTP sink):\n"
        )
        print("| calls per second | " + " | ".join(f"{run['rate']:g}" for run in e2e) + " |")
        print("| --- " * (len(e2e) + 1) + "|")
        rows: tuple[tuple[str, str | None], ...] = (
            ("p50 ms", "p50_ms"),
            ("p99 ms", "p99_ms"),
            ("max ms", "max_ms"),
            ("acceptance p50 ms", "accept_p50_ms"),
            ("acceptance p99 ms", "accept_p99_ms"),
            ("sent / accepted / arrived", None),
            ("arrived twice", "arrived_twice"),
            ("latest send behind schedule ms", "most_late_send_ms"),
        )
        for label, field in rows:
            values = [
                f"{run['calls']} / {run['accepted']} / {run['arrived']}"
                if field is None
                else f"{run.get(field, '-'):,}"
                for run in e2e
            ]
            print(f"| {label} | " + " | ".join(values) + " |")
    drained = result["worker_drain"]
    if "error" in drained:
        print(f"\nWorker send rate: not measured, {drained['error']}.")
    elif drained:
        print(
            f"\nWorker send rate ({drained['processes']} Celery processes, backlog): "
            f"{drained['per_second']} messages/s ({drained['sent']} in {drained['seconds']:g} s); "
            f"CPU ms per message: {drained['cpu_ms_per_message']}."
        )  # fmt: skip
