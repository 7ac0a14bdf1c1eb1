"""What every benchmark shares: timing by medians, result rows, the printed table."""

from __future__ import annotations

import gc
import os
import platform
import resource
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Size:
    """Problem sizes of one run; ``quick`` ones keep the smoke test under a minute."""

    rows: int = 1_000_000
    multilabel_classes: int = 50
    multiclass_classes: int = 20
    repeats: int = 5  # slow operations (sorts, scikit-learn, loads)
    moves: int = 300  # threshold changes timed per case
    browser_moves: int = 21  # per app and data set; odd: the median is one move
    first_view_rows: tuple[int, ...] = (1_000_000, 10_000_000)  # benchmark 5's first views
    quick: bool = False

    @classmethod
    def full(cls) -> "Size":
        return cls()

    @classmethod
    def tiny(cls) -> "Size":
        return cls(rows=20_000, multilabel_classes=6, multiclass_classes=4, repeats=2, moves=20,
                   browser_moves=3, first_view_rows=(20_000,), quick=True)


@dataclass
class Row:
    """One line of the results table.

    ``value`` is ThresholdLab's number, ``baseline`` the comparison's (same unit); ``ratio`` is
    value / baseline unless given. ``budget`` says what the line is held to, ``ok`` whether it
    is met (None: informational).
    """

    bench: str
    case: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    ratio: float | None = None
    budget: str = ""
    ok: bool | None = None
    note: str = ""
    ratio_label: str = ""  # shown instead of the ratio, e.g. "3,400x faster"

    def __post_init__(self):
        if self.ratio is None and self.baseline not in (None, 0) and self.value is not None:
            self.ratio = self.value / self.baseline


@dataclass
class Report:
    """Rows of one run. In a ``quick`` run (tiny sizes) no budget is judged: they hold at the
    sizes the budgets name, not at toy ones."""

    quick: bool = False
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, row: Row) -> Row:
        if self.quick:
            row.ok = None
        self.rows.append(row)
        print("  " + format_row(row), flush=True)
        return row


def median_seconds(fn: Callable[[], object], repeats: int, warmup: int = 1) -> tuple[float, list[float]]:
    """Median wall time of ``fn()`` over ``repeats`` calls (after ``warmup`` untimed ones)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        gc.collect()
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times


def interleaved(a: Callable[[], object], b: Callable[[], object], repeats: int, warmup: int = 1):
    """Median seconds of ``a`` and of ``b``, timed alternately so that load from other
    processes on the machine hits both alike. Returns (median_a, median_b, times_a, times_b)."""
    (ma, mb), (ta, tb) = round_robin([a, b], repeats, warmup)
    return ma, mb, ta, tb


def round_robin(fns: list[Callable[[], object]], repeats: int, warmup: int = 1,
                before: Callable[[], object] | None = None):
    """Medians and times of every function in ``fns``, timed in turn ``repeats`` times;
    ``before`` runs untimed before each timed call (to start every one from the same state)."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, out in zip(fns, times):
            gc.collect()
            if before is not None:
                before()
            started = time.perf_counter()
            fn()
            out.append(time.perf_counter() - started)
    return [statistics.median(t) for t in times], times


def peak_rss_bytes() -> int:
    """High-water mark of this process's resident memory.

    Read from ``VmHWM`` in /proc/self/status: ``getrusage``'s ``ru_maxrss`` survives ``exec``
    on Linux, so a fresh child would report its parent's peak.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def fmt_seconds(s: float) -> str:
    if s is None:
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.0f} us"
    if s < 1:
        return f"{s * 1e3:.1f} ms"
    return f"{s:.2f} s"


def fmt_value(x: float | None, unit: str) -> str:
    if x is None:
        return "-"
    if unit == "s":
        return fmt_seconds(x)
    if unit == "MB":
        return f"{x:.0f} MB"
    if unit == "points":
        return f"{x:,.0f}"
    if unit == "abs":
        return f"{x:.1e}"
    return f"{x:.3g} {unit}".strip()


def fmt_ratio(r: float | None) -> str:
    if r is None:
        return "-"
    if r < 0.01:
        return f"1/{1 / r:,.0f}" if r > 0 else "0"
    return f"{r:.2f}x"


HEADER = ("#", "case", "ThresholdLab", "baseline", "ratio", "budget", "met")


def cells(row: Row) -> tuple[str, ...]:
    baseline = "-" if row.baseline is None else f"{fmt_value(row.baseline, row.unit)} ({row.baseline_name})"
    met = {True: "yes", False: "NO", None: ""}[row.ok]
    ratio = row.ratio_label or fmt_ratio(row.ratio)
    return (row.bench, row.case, fmt_value(row.value, row.unit), baseline, ratio, row.budget, met)


def format_row(row: Row) -> str:
    return " | ".join(cells(row))


def markdown_table(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in cells(r)) + " |" for r in rows]
    return "\n".join(lines)


def machine() -> str:
    """CPU model, cores and memory, as lscpu and /proc/meminfo give them."""
    model = platform.processor() or platform.machine()
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except (OSError, subprocess.SubprocessError):
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kib = int(f.readline().split()[1])
        mem = f", {kib / 1024**2:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{model}, {os.cpu_count()} cores{mem}"


def versions() -> str:
    import pandas
    import pyarrow
    import sklearn

    parts = [f"Python {platform.python_version()}", f"numpy {np.__version__}",
             f"pandas {pandas.__version__}", f"pyarrow {pyarrow.__version__}",
             f"scikit-learn {sklearn.__version__}"]
    try:
        import streamlit

        parts.append(f"streamlit {streamlit.__version__}")
    except ImportError:
        pass
    return ", ".join(parts)
