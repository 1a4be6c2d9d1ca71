"""Workstation latency, headless: first frame, scroll anywhere in the tail, idle CPU.

Targets (issue 4): first frame <= 500 ms on a big store and within 20% of an empty one;
key press to rendered frame <= 30 ms p95 anywhere in the tail; idle CPU <= 1% of a core.
Figures come from Textual's headless driver (`run_test`), so they include the Pilot's own
overhead: an upper bound on what a terminal sees.

Run alone with `python -m tests.bench.bench_tui [--quick]`, or add `bench_tui.BENCHES` to the
suite in `tests/bench/__main__.py`.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time

from brain_tui.app import BrainApp
from core.store import Store
from tests.bench.bench_reads import corpus_store
from tests.bench.common import Bench, Ctx, Metric, log, now, pct, scratch
from widgets.audit_list import AuditList

SIZE = (120, 40)


def _app(store: Store) -> BrainApp:
    app = BrainApp(store=store, watch=False, timings=False, services=False)
    app.animation_level = "none"
    return app


async def _wait(pilot, predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the audit tail never drew its rows")
        await asyncio.sleep(0.0005)  # the app's loop runs meanwhile: workers' messages land


def _visible_loaded(lst: AuditList) -> bool:
    return lst.total == 0 or lst.current_row() is not None


async def _first_frame(store: Store) -> float:
    t0 = now()
    app = _app(store)
    async with app.run_test(size=SIZE) as pilot:
        await _wait(pilot, lambda: isinstance(app.screen.focused, AuditList))
        lst = app.screen.query_one(AuditList)
        await _wait(pilot, lambda: getattr(app.screen, "probed", False) and _visible_loaded(lst))
        await pilot.pause()  # and drawn
        return (now() - t0) * 1000


async def _scroll(store: Store, presses: int) -> tuple[list[float], float]:
    """Key to drawn rows, minus what the Pilot itself costs per key (measured on an unbound
    key, ~40 ms of fixed waits); returns (sorted latencies, that overhead)."""
    app = _app(store)
    rng = random.Random(3)
    out: list[float] = []
    async with app.run_test(size=SIZE) as pilot:
        lst = app.screen.query_one(AuditList)
        await _wait(pilot, lambda: app.header_info is not None and _visible_loaded(lst))
        noop = []
        for _ in range(20):
            t0 = now()
            await pilot.press("f12")
            noop.append((now() - t0) * 1000)
        overhead = sorted(noop)[len(noop) // 2]
        for i in range(presses):
            if i % 10 == 0:  # jump somewhere cold in the tail, then page from there
                lst.cursor = rng.randrange(lst.total)
            t0 = now()
            await pilot.press(rng.choice(["pagedown", "pageup", "j", "k"]))
            await _wait(pilot, lambda: _visible_loaded(lst))
            out.append(max(0.0, (now() - t0) * 1000 - overhead))
    return sorted(out), overhead


async def _idle_cpu(store: Store, seconds: float) -> float:
    app = _app(store)
    async with app.run_test(size=SIZE) as pilot:
        lst = app.screen.query_one(AuditList)
        await _wait(pilot, lambda: app.header_info is not None and _visible_loaded(lst))
        await pilot.pause(0.5)
        c0, t0 = time.process_time(), now()
        await asyncio.sleep(seconds)
        return (time.process_time() - c0) / (now() - t0) * 100


def run(ctx: Ctx) -> dict[str, float]:
    big = corpus_store(ctx, ctx.n(100_000, 10_000))
    with scratch("tui-empty") as root, Store.init(root, allow_temp=True) as empty:
        empty_ms = asyncio.run(_first_frame(empty))
    big_ms = asyncio.run(_first_frame(big))
    lat, overhead = asyncio.run(_scroll(big, ctx.n(300, 60)))
    cpu = asyncio.run(_idle_cpu(big, ctx.n(5.0, 2.0)))
    log(f"tui: rows {big.state().head_seq:,}, first frame {big_ms:.0f} ms (empty {empty_ms:.0f})")
    return {
        "first_frame_ms": big_ms,
        "first_frame_ratio": big_ms / empty_ms,
        "scroll_p50_ms": pct(lat, 50),
        "scroll_p95_ms": pct(lat, 95),
        "idle_cpu_pct": cpu,
        "pilot_overhead_ms": overhead,
    }


BENCHES = [
    Bench(
        "tui",
        run,
        [
            Metric(
                "first_frame_ms",
                "first frame, big store",
                "ms",
                goal="<= 500",
                check=lambda m, _r: m <= 500,
            ),
            Metric(
                "first_frame_ratio",
                "first frame vs empty store",
                "x",
                goal="<= 1.2",
                check=lambda m, _r: m <= 1.2,
            ),
            Metric("scroll_p50_ms", "key to frame p50", "ms"),
            Metric(
                "scroll_p95_ms", "key to frame p95", "ms", goal="<= 30", check=lambda m, _r: m <= 30
            ),
            Metric("idle_cpu_pct", "idle CPU", "% core", goal="<= 1", check=lambda m, _r: m <= 1),
            Metric("pilot_overhead_ms", "Pilot cost per key (subtracted)", "ms"),
        ],
    )
]


def main(argv: list[str]) -> int:
    ctx = Ctx(quick="--quick" in argv)
    res = run(ctx)
    for m in BENCHES[0].metrics:
        ok = "" if m.check is None else ("  ok" if m.check(res[m.key], None) else "  MISSED")
        print(f"{m.label:<30} {res[m.key]:>10.2f} {m.unit:<7} {m.goal}{ok}")
    for store in list(ctx.shared.values()):
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
