"""make bench's pure parts: which scenarios run, and the trigger figures against the goals."""

from __future__ import annotations

import argparse

from benchmarks.bench import scenarios_chosen
from benchmarks.trigger_figures import trigger_figures


def _options(only: str = "", with_report: bool = False) -> argparse.Namespace:
    return argparse.Namespace(only=only, with_report=with_report)


def test_scenarios_run_in_the_fixed_order_whatever_the_order_asked() -> None:
    # when
    chosen = scenarios_chosen(_options(only="profile-put,trigger"))
    # then
    assert [s.name for s in chosen] == ["trigger", "profile-put"]


def test_the_report_runs_only_when_asked() -> None:
    assert [s.name for s in scenarios_chosen(_options())] == [
        "trigger", "audience", "import", "profile-put"
    ]  # fmt: skip
    assert scenarios_chosen(_options(with_report=True))[-1].name == "report"


def test_trigger_figures_pair_each_run_with_its_ceiling_and_judge_the_goals() -> None:
    # given two paired runs and one end-to-end run at 200 calls/s
    def run(per_second: float, p99: float) -> dict[str, object]:
        cpu = {"web": 0.8, "postgresql": 0.3, "redis": 0.1, "wrk": 0.1}
        return {"per_second": per_second, "p99_ms": p99, "errors": 0, "cpu_ms_per_request": cpu}

    result = {
        "setup": {"run_seconds": 60},
        "trigger": {"runs": [run(1200, 40), run(900, 60)]},
        "ceiling": {"runs": [run(2000, 10), run(3000, 10)]},
        "end_to_end": [
            {"rate": 200.0, "accepted": 10, "arrived": 10, "p50_ms": 100.0, "p99_ms": 900.0}
        ],
        "worker_drain": {"error": "the worker sent nothing of the backlog within 60 s"},
    }
    # when
    figures = {f.name: f for f in trigger_figures(result)}
    # then
    assert figures["unitary calls accepted"].median == 1050
    assert figures["unitary calls accepted"].met is True
    assert figures["acceptance latency p99"].median == 50
    assert figures["acceptance latency p99"].met is True
    assert figures["accepted calls as a share of the ceiling"].values == [60.0, 30.0]
    assert figures["accepted calls as a share of the ceiling"].met is True
    assert figures["CPU per accepted call"].values == [1.2, 1.2]
    assert figures["end to end: messages arrived"].values == [100.0]
    assert figures["end to end p99"].met is True
    assert "worker send rate, email to the SMTP sink" not in figures
