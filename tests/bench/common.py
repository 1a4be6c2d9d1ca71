"""Shared plumbing: where stores live, timing helpers, the benchmark and metric records."""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ACTOR = "agent:bench@localhost"


def bench_dir() -> Path:
    """On the repo's disk (fsync cost depends on the disk), ignored by git."""
    d = Path(os.environ.get("BRAIN_BENCH_DIR") or REPO / ".bench-tmp")
    d.mkdir(parents=True, exist_ok=True)
    return d


_counter = 0
_leftovers: list[Path] = []


@contextmanager
def scratch(name: str) -> Iterator[Path]:
    """A fresh, empty folder under the bench dir, removed only at the end of the whole run.

    Deleting thousands of files mid-run would slow every later file creation: ext4 without a
    journal (as on some VMs) skips inodes freed in the last minutes when it allocates one.
    """
    global _counter
    _counter += 1
    d = bench_dir() / f"run-{os.getpid()}-{_counter}-{name}"
    shutil.rmtree(d, ignore_errors=True)
    _leftovers.append(d)
    yield d


def discard(path: Path) -> Path:
    """A free name beside path to move it to; it is deleted at the end of the run."""
    d = path.with_name(f"{path.name}.old-{os.getpid()}-{len(_leftovers)}")
    _leftovers.append(d)
    return d


def cleanup() -> None:
    while _leftovers:
        shutil.rmtree(_leftovers.pop(), ignore_errors=True)


def pct(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    i = min(len(sorted_values) - 1, max(0, round(q / 100 * len(sorted_values)) - 1))
    return sorted_values[i]


def now() -> float:
    return time.perf_counter()


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


@dataclass
class Ctx:
    quick: bool = False
    rebuild: bool = False
    rep: int = 0
    shared: dict = field(default_factory=dict)  # objects set up once and reused by reps

    def n(self, full: int, quick: int) -> int:
        return quick if self.quick else full


@dataclass
class Metric:
    key: str
    label: str
    unit: str
    base: str | None = None  # "ops": figure / baseline ops/s; "p50": figure / baseline p50
    goal: str = ""  # shown in the table
    check: Callable[[float, float | None], bool] | None = None  # (median, ratio) -> met?
    # A figure of the same run to compare with instead of the baseline loop (another tool's
    # time for the same command): shown in the baseline column, ratio = figure / pair.
    pair: str | None = None
    pair_label: str = ""


@dataclass
class Bench:
    name: str
    run: Callable[[Ctx], dict[str, float]]
    metrics: list[Metric]
    setup: Callable[[Ctx], None] | None = None
    teardown: Callable[[Ctx], None] | None = None
