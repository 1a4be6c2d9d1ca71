"""Running the registry: timing, progress, cancel, the overall state, repair and re-check."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from core import verdict
from core.doctor import anchor
from core.doctor.context import Cancelled, Ctx, Progress
from core.doctor.model import FAIL, PASS, WARN, DoctorReport, InvariantResult, fail
from core.doctor.registry import REGISTRY
from core.errors import ReadOnly
from core.store_state import FROZEN_HUMAN, FROZEN_RECOVERABLE, READY

if TYPE_CHECKING:
    from core.store import Store

DEFAULT_ACTOR = "system:doctor"
# Derived state that, while wrong, would make the next checkpoint sign a wrong root or a proof
# fail: writes wait for `--repair`. An index that lags is caught up by the next open instead.
FREEZES_WHEN_DERIVED_FAILS = frozenset({"merkle.nodes", "chain.head"})


def run(
    store: Store,
    *,
    repair: bool = False,
    reason: str | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    full: bool = True,
    actor: str = DEFAULT_ACTOR,
) -> DoctorReport:
    """Check every invariant; with repair=True fix what can be fixed, then check again."""
    t0 = time.perf_counter()
    if repair and store.read_only:
        raise ReadOnly(f"{store.root} was opened read-only; reopen it for writing to repair")
    report = check(store, full=full, progress=progress, cancel=cancel)
    if repair and not report.cancelled:
        from core.doctor.repair import repair as do_repair

        outcome = do_repair(store, report, reason, actor)
        final = check(store, full=full, progress=progress, cancel=cancel)
        final.repaired = outcome.repaired
        final.notes = outcome.notes + final.notes
        for r in final.results:
            # A stray journal.wal is no damage to the store: its finding says to move it out.
            if r.id in outcome.blocked and r.status == FAIL and r.id != "chain.journal":
                r.detail += "; cannot be repaired in place: restore the store from a backup"
        report = final
    _verdict(store, report, repaired=repair)
    report.elapsed_ms = _ms(t0)
    return report


def check(
    store: Store,
    *,
    full: bool = True,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> DoctorReport:
    t0 = time.perf_counter()
    try:
        store.refresh()
    except Exception:  # noqa: BLE001 - a damaged log is what the walk below reports
        pass
    ctx = Ctx(store, full, progress, cancel, total=len(REGISTRY))
    cancelled = False
    for i, inv in enumerate(REGISTRY):
        ctx.done, ctx.current = i, inv.id
        if progress is not None:
            progress(i, ctx.total, inv.id)
        t = time.perf_counter()
        try:
            ctx.check_cancel()
            found = inv.fn(ctx)
        except Cancelled:
            cancelled = True
            break
        except Exception as e:  # noqa: BLE001 - a check that cannot run is a finding, not a crash
            found = fail(f"the check could not run: {type(e).__name__}: {e}")
        recoverable = inv.recoverable if found.recoverable is None else found.recoverable
        ctx.results.append(
            InvariantResult(
                id=inv.id,
                level=inv.level,
                scope=inv.scope,
                status=found.status,
                detail=" ".join(found.detail.split()),
                path=found.paths[0] if found.paths else "",
                elapsed_ms=_ms(t),
                recoverable=recoverable,
                paths=found.paths[:100],
            )
        )
    notes: list[str] = []
    if cancelled:
        notes.append(f"cancelled after {len(ctx.results)} of {ctx.total} invariants")
    elif progress is not None:
        progress(ctx.total, ctx.total, "done")
    lf = ctx.cache.get("log")
    if lf is not None and lf.anchor_note:
        notes.append(lf.anchor_note)
    if lf is not None and lf.in_flight:
        notes.append(lf.in_flight)
    if not cancelled:
        _remember_anchor(ctx)
    return DoctorReport(
        state=state_of(ctx.results),
        results=ctx.results,
        repaired=[],
        head_seq=lf.head if lf is not None else store.tip.seq,
        elapsed_ms=_ms(t0),
        full=full,
        cancelled=cancelled,
        notes=notes + list(store.notes),
    )


def state_of(results: list[InvariantResult]) -> str:
    if any(r.status == FAIL and not r.recoverable for r in results):
        return FROZEN_HUMAN
    if any(r.status in (FAIL, WARN) and r.recoverable for r in results):
        return FROZEN_RECOVERABLE
    return READY


def _verdict(store: Store, report: DoctorReport, *, repaired: bool) -> None:
    """What the walk found freezes the store for every process until `--repair` clears it.

    Only failures freeze (warnings never do), and a cancelled run decides nothing. A repair
    that ends READY removes the verdict; one that does not leaves (or records) it.
    """
    if report.cancelled:
        return
    failing = [r for r in report.results if r.status == FAIL and r.id != "engine.frozen"]
    human = [r.id for r in failing if not r.recoverable]
    derived = [r.id for r in failing if r.recoverable and r.id in FREEZES_WHEN_DERIVED_FAILS]
    if human:
        state, ids = FROZEN_HUMAN, human
    elif derived:
        state, ids = FROZEN_RECOVERABLE, derived
    else:
        if repaired and report.state == READY and not store.read_only:
            verdict.clear(store.layout)
        return
    # The first finding whole (every process reports this reason until a repair): a stray
    # journal's or a broken chain's own words say what to do, where an id alone did not.
    first = next(r for r in failing if r.id == ids[0])
    detail = " ".join(first.detail.split())
    more = f" ({len(ids) - 1} more failing)" if len(ids) > 1 else ""
    why = f"`brain doctor` found {first.id} failing: {detail}{more}; run `brain doctor` for all"
    if state == FROZEN_HUMAN and store.problem is None:
        store.problem = why
    if store.read_only:
        return  # read-only media: this process refuses writes; nothing can be recorded
    try:
        verdict.record(store.layout, state, why, store.program)
    except OSError as e:
        report.notes.append(f"could not record the verdict in local/: {e.strerror or e}")


def _remember_anchor(ctx: Ctx) -> None:
    """Leave a mark at the newest checkpoint walked cleanly, for the next quick run."""
    lf = ctx.cache.get("log")
    if lf is None or lf.damaged or lf.problems:
        return
    clean = all(r.status == PASS for r in ctx.results if r.id.startswith(("chain.", "merkle.")))
    if not clean or not lf.frame_at:
        return
    size = max(lf.frame_at)
    rel, start, end = lf.frame_at[size]
    if rel == "audit/current.binlog":
        anchor.set_mark(ctx.store, size, start, end)


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 3)
