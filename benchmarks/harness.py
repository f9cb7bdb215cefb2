"""What every benchmark scenario shares: the machine, figures against their goals, results.

A scenario (``benchmarks/bench_<name>.py``) measures some figures, each over several
runs, and calls ``results_write``: ``benchmarks/results/<scenario>.json`` holds the
machine, the figures (every run's value, median, min and max, the goal and whether
it is met) and whatever details the scenario adds. ``make bench``
(``benchmarks/bench.py``) runs the scenarios one after another and prints the
table of every figure from those files, so a single scenario can be run alone and
still lands in the table.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"


def memory_gib() -> float:
    """The machine's memory (``MemTotal``), in GiB."""
    with Path("/proc/meminfo").open() as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    return 0.0


def _version(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return ""
    return (done.stdout or done.stderr).strip().splitlines()[0] if done.returncode == 0 else ""


def machine_info() -> dict[str, Any]:
    """What the figures were measured on: they mean little without it."""
    return {
        "cores": os.cpu_count(),
        "memory_gib": memory_gib(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "postgresql": _version(["psql", "--version"]),
        "redis": _version(["redis-server", "--version"]),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "measured_at": datetime.now(tz=UTC).isoformat(timespec="seconds"),
    }


@dataclass
class Figure:
    """One measured figure of a scenario, against its goal (issue 9's table).

    ``values`` holds one value per run; ``better`` says which way is good, and
    ``goal`` is the threshold (None: reported, no goal). ``note`` says what the
    figure is compared with when it is a share (``"% of the bare loop"``).
    """

    scenario: str
    name: str
    unit: str
    values: list[float]
    better: Literal["higher", "lower"] = "higher"
    goal: float | None = None
    note: str = ""
    median: float = field(init=False)
    min: float = field(init=False)
    max: float = field(init=False)
    met: bool | None = field(init=False)

    def __post_init__(self) -> None:
        if not self.values:
            raise ValueError(f"{self.scenario}: {self.name} has no value")
        self.median = statistics.median(self.values)
        self.min, self.max = min(self.values), max(self.values)
        if self.goal is None:
            self.met = None
        elif self.better == "higher":
            self.met = self.median >= self.goal
        else:
            self.met = self.median <= self.goal

    @property
    def gap(self) -> str:
        """How far from the goal, in words: '' when met or when there is no goal."""
        if self.goal is None or self.met:
            return ""
        if self.better == "higher":
            return f"{self.median / self.goal:.0%} of the goal"
        return f"{self.median / self.goal:.1f}x the goal"


def results_write(
    scenario: str, figures: list[Figure], details: dict[str, Any] | None = None
) -> Path:
    """Write ``benchmarks/results/<scenario>.json``; returns its path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{scenario}.json"
    body = {
        "scenario": scenario,
        "machine": machine_info(),
        "figures": [asdict(f) | {"gap": f.gap} for f in figures],
        "details": details or {},
    }
    out.write_text(json.dumps(body, indent=2, default=str) + "\n")
    return out


def _number(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:,.1f}"
    return f"{value:,.2f}"


def figures_table(figures: list[dict[str, Any]]) -> str:
    """A Markdown table of figures read from results files (``results_write``'s shape)."""
    lines = [
        "| scenario | figure | median | min | max | goal | met |",
        "| --- | --- | ---: | ---: | ---: | --- | --- |",
    ]
    for f in figures:
        unit = f" {f['unit']}" if f["unit"] else ""
        goal = ""
        if f["goal"] is not None:
            goal = ("≥ " if f["better"] == "higher" else "≤ ") + _number(f["goal"]) + unit
        met = {True: "yes", False: f"no: {f['gap']}", None: ""}[f["met"]]
        name = f["name"] + (f" ({f['note']})" if f["note"] else "")
        lines.append(
            f"| {f['scenario']} | {name} | {_number(f['median'])}{unit} | {_number(f['min'])} "
            f"| {_number(f['max'])} | {goal} | {met} |"
        )
    return "\n".join(lines)


def print_figures(scenario: str, figures: list[Figure]) -> None:
    """Print one scenario's table (what each script shows when run alone)."""
    machine = machine_info()
    print(
        f"\n### {scenario} ({machine['cores']} cores, {machine['memory_gib']} GiB; "
        f"median of {len(figures[0].values) if figures else 0} runs)\n"
    )
    print(figures_table([asdict(f) | {"gap": f.gap} for f in figures]))
