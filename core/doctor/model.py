"""What the doctor returns, and how an invariant is declared."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import msgspec

if TYPE_CHECKING:
    from core.doctor.context import Ctx

Level = Literal["error", "warning", "info"]
Status = Literal["PASS", "WARN", "FAIL"]
PASS: Status = "PASS"
WARN: Status = "WARN"
FAIL: Status = "FAIL"
MAX_PATHS = 100  # a report names at most this many offending paths per invariant


class InvariantResult(msgspec.Struct):
    id: str
    level: str  # error | warning | info
    scope: str  # what was looked at, e.g. "audit/current.binlog"
    status: str  # PASS | WARN | FAIL
    detail: str  # one line
    path: str = ""  # the first offending path (relative to the root where inside it)
    elapsed_ms: float = 0.0
    recoverable: bool = False  # fixable by `--repair` without a reason
    paths: list[str] = []  # every offending path (capped)


class DoctorReport(msgspec.Struct):
    state: str  # READY | FROZEN_RECOVERABLE | FROZEN_HUMAN
    results: list[InvariantResult]
    repaired: list[str]
    head_seq: int
    elapsed_ms: float
    full: bool = True
    cancelled: bool = False
    notes: list[str] = []

    def failing(self) -> list[InvariantResult]:
        return [r for r in self.results if r.status != PASS]

    def result(self, inv_id: str) -> InvariantResult | None:
        return next((r for r in self.results if r.id == inv_id), None)


@dataclass
class Finding:
    """What an invariant's check returns; turned into an InvariantResult by the runner."""

    status: Status
    detail: str
    paths: list[str] = field(default_factory=list)
    recoverable: bool | None = None  # None: the invariant's declared default


def ok(detail: str) -> Finding:
    return Finding(PASS, detail)


def warn(detail: str, paths: list[str] | None = None) -> Finding:
    return Finding(WARN, detail, list(paths or []))


def fail(
    detail: str, paths: list[str] | None = None, *, recoverable: bool | None = None
) -> Finding:
    return Finding(FAIL, detail, list(paths or []), recoverable)


Check = Callable[["Ctx"], Finding]


@dataclass(frozen=True)
class Invariant:
    """One declared invariant. `recoverable` says whether `--repair` may fix it without a
    human reason (derived state) or whether a failure freezes the store for a person."""

    id: str
    level: Level
    scope: str
    fn: Check
    recoverable: bool
    title: str = ""


def some(items: list[str], n: int = 3) -> str:
    """`a, b, c and 4 more` for one-line details."""
    shown = ", ".join(items[:n])
    return shown + (f" and {len(items) - n} more" if len(items) > n else "")
