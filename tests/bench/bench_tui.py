"""Workstation latency, headless, on a 100k-memory, 1M-row store (issue 4's targets).

- first frame <= 500 ms, and within 20% of an empty store's (the app opens the store itself);
- key press to the frame that shows the new rows <= 30 ms p95, anywhere in the tail;
- the tail follows another process appending 2,000 rows/s: commit-to-screen lag, and input
  latency <= 50 ms p95 meanwhile;
- idle CPU <= 1% of a core: the 1M-row store with the watcher on; and with the services on
  (model warm-up, embedding, tier rebalances) once their start-up work is done, on an empty
  store (on the big one the first embedding pass runs for an hour: work, not idling).

Every measurement runs the real app in a fresh child process (`tui_child`); frames are timed
inside the app (`tui_probe`), so no Pilot overhead is in any figure. Baselines measured in the
same repetition: an empty store's first frame, a bare Textual app's key-to-frame and idle CPU.
The big store is built once (`tui_store`, several minutes; `--rebuild` forces it). The live run
writes (the appender), so it uses a copy of it; nothing else writes to either.

`python -m tests.bench tui [--quick]` runs it with the others' table and baseline loop.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from core.store import Store
from tests.bench.common import REPO, Bench, Ctx, Metric, bench_dir, cleanup, log, pct, scratch
from tests.bench.tui_probe import clock
from tests.bench.tui_store import VERSION, big_store_root, build_info, folder

RATE = 2_000  # rows/s the appender offers
LIVE_MAX_ROWS = 1_300_000  # the live copy grows with every run; past this it is copied afresh


def _env() -> dict[str, str]:
    d = bench_dir()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env["XDG_STATE_HOME"] = str(d / "xdg-state")  # witnesses of the appender's checkpoints
    env["XDG_CONFIG_HOME"] = str(d / "xdg-config")  # no personal theme or key map
    env.pop("NO_COLOR", None)
    return env


def child(*args: object, timeout: float = 600) -> dict:
    cmd = [sys.executable, "-m", "tests.bench.tui_child", *map(str, args)]
    out = subprocess.run(cmd, cwd=REPO, env=_env(), capture_output=True, text=True, timeout=timeout)
    if out.returncode:
        raise RuntimeError(f"{' '.join(cmd[3:5])} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _live_copy(big: Path, rebuild: bool) -> Path:
    live, stamp = folder() / "live", folder() / "live.ok"
    head = 0
    if live.exists() and stamp.exists() and stamp.read_text() == VERSION and not rebuild:
        with Store.open(live, allow_temp=True, read_only=True) as s:
            head = s.state().head_seq
        if head <= LIVE_MAX_ROWS:
            return live
    stamp.unlink(missing_ok=True)
    shutil.rmtree(live, ignore_errors=True)
    log(f"copying the big store for the live run (it writes) to {live} ...")
    t0 = clock()
    subprocess.run(["cp", "-a", str(big), str(live)], check=True)
    log(f"  copied in {clock() - t0:.0f} s")
    stamp.write_text(VERSION)
    return live


def setup(ctx: Ctx) -> None:
    t0 = clock()
    big = big_store_root(ctx.rebuild)
    info = build_info()
    log(f"tui: big store {big} ({info.get('rows', 0):,} rows, built in {info.get('seconds')} s)")
    ctx.shared["tui-big"] = big
    ctx.shared["tui-live"] = _live_copy(big, ctx.rebuild)
    ctx.shared["tui-setup-s"] = clock() - t0
    with scratch("tui-empty") as root:
        Store.init(root, allow_temp=True).close()
        ctx.shared["tui-empty"] = root


def _first_frames(ctx: Ctx, pairs: int) -> tuple[list[float], list[float], list[float]]:
    big, empty = ctx.shared["tui-big"], ctx.shared["tui-empty"]
    bigs, empties, colds = [], [], []
    for i in range(pairs):
        order = [(empty, empties), (big, bigs)]
        if (ctx.rep + i) % 2:
            order.reverse()
        for root, out in order:
            res = child("first_frame", root, clock())
            out.append(res["ms"])
            if root == big:
                colds.append(res["cold_ms"])
    return bigs, empties, colds


def run(ctx: Ctx) -> dict[str, float]:
    res: dict[str, float] = {"load1": os.getloadavg()[0]}
    bigs, empties, colds = _first_frames(ctx, ctx.n(4, 2))
    med = statistics.median
    res |= {"ff_big_ms": med(bigs), "ff_empty_ms": med(empties), "ff_cold_ms": med(colds)}
    # Each pair ran back to back (under the same load): the median of the pairs' ratios.
    res["ff_ratio"] = med(b / e for b, e in zip(bigs, empties, strict=True))

    sc = child("scroll", ctx.shared["tui-big"], ctx.n(300, 100), ctx.rep + 1)
    keys = sorted(x for v in sc["keys"].values() for x in v)
    bare = sorted(sc["bare"])
    res |= {
        "key_p50_ms": pct(keys, 50),
        "key_p95_ms": pct(keys, 95),
        "key_max_ms": keys[-1],
        "bare_key_p95_ms": pct(bare, 95),
        "jump_p50_ms": pct(sorted(sc["jumps"]), 50),
    }
    res["key_p95_vs_bare"] = res["key_p95_ms"] / max(res["bare_key_p95_ms"], 0.001)

    lv = child("live", ctx.shared["tui-live"], ctx.n(10, 6), RATE)
    lags, inp = sorted(lv["lags"]), sorted(lv["keys"])
    res |= {
        "append_rate": lv["rate"],
        "lag_p50_ms": pct(lags, 50),
        "lag_p95_ms": pct(lags, 95),
        "live_key_p95_ms": pct(inp, 95),
        "catch_up_ms": lv["catch_up_ms"],
    }

    idle = child("idle", ctx.shared["tui-big"], ctx.n(10, 4))
    idle_sv = child("idle", ctx.shared["tui-empty"], ctx.n(10, 4), "services")
    bare_idle = child("idle_bare", ctx.n(5, 3))
    res |= {
        "idle_cpu_pct": idle["cpu_pct"],
        "idle_services_cpu_pct": idle_sv["cpu_pct"],
        "services_start_cpu_s": idle_sv["settle_cpu_s"],
        "bare_idle_cpu_pct": bare_idle["cpu_pct"],
    }
    log(
        f"tui rep {ctx.rep + 1}: first frame {res['ff_big_ms']:.0f} ms (empty"
        f" {res['ff_empty_ms']:.0f}); keys p95 {res['key_p95_ms']:.1f} ms by key"
        f" {_by_key(sc['keys'])}; live {lv['rate']:,.0f} rows/s, lag p50"
        f" {res['lag_p50_ms']:.0f} ms; idle {idle['cpu_pct']:.2f}% ({idle['frames']} frames);"
        f" load {res['load1']:.1f}"
    )
    return res


def _by_key(keys: dict[str, list[float]]) -> str:
    return ", ".join(f"{k} {pct(sorted(v), 95):.0f}" for k, v in sorted(keys.items()))


def _m(key: str, label: str, unit: str, at_most: float | None = None) -> Metric:
    if at_most is None:
        return Metric(key, f"tui: {label}", unit)
    return Metric(key, f"tui: {label}", unit, goal=f"<= {at_most:g}", check=_at_most(at_most))


def _at_most(limit: float):
    return lambda m, _r: m <= limit


METRICS = [
    _m("load1", "load average (1 min) at the start", ""),
    _m("ff_big_ms", "first frame, 1M rows", "ms", 500),
    _m("ff_empty_ms", "first frame, empty store (baseline)", "ms"),
    _m("ff_ratio", "first frame 1M / empty", "x", 1.2),
    _m("ff_cold_ms", "process start to first frame, 1M", "ms"),
    _m("key_p50_ms", "key to frame p50", "ms"),
    _m("key_p95_ms", "key to frame p95", "ms", 30),
    _m("key_max_ms", "key to frame max", "ms"),
    _m("bare_key_p95_ms", "bare Textual key to frame p95 (baseline)", "ms"),
    _m("key_p95_vs_bare", "key p95 / bare Textual p95", "x"),
    _m("jump_p50_ms", "jump to a cold row p50 (no key)", "ms"),
    Metric(
        "append_rate",
        "tui: rows/s the other process appended",
        "rows/s",
        goal=f">= {0.95 * RATE:,.0f}",
        check=lambda m, _r: m >= 0.95 * RATE,
    ),
    _m("lag_p50_ms", "commit to screen lag p50", "ms"),
    _m("lag_p95_ms", "commit to screen lag p95", "ms"),
    _m("catch_up_ms", "last row on screen after the appender stops", "ms"),
    _m("live_key_p95_ms", "key to frame p95 while appending", "ms", 50),
    _m("idle_cpu_pct", "idle CPU, 1M rows (watcher on)", "% core", 1),
    _m("idle_services_cpu_pct", "idle CPU, services on (empty store)", "% core", 1),
    _m("services_start_cpu_s", "services' one-off start work (model warm-up)", "s"),
    _m("bare_idle_cpu_pct", "bare Textual app idle CPU (baseline)", "% core"),
]
BENCHES = [Bench("tui", run, METRICS, setup=setup)]


def main(argv: list[str]) -> int:
    """Alone, without the disk baseline: `python -m tests.bench.bench_tui [--quick]`."""
    ctx = Ctx(quick="--quick" in argv, rebuild="--rebuild" in argv)
    setup(ctx)
    reps = 3 if ctx.quick else 5
    runs = []
    for rep in range(reps):
        ctx.rep = rep
        runs.append(run(ctx))
    cleanup()
    for m in BENCHES[0].metrics:
        med = statistics.median(r[m.key] for r in runs)
        ok = "" if m.check is None else ("  ok" if m.check(med, None) else "  MISSED")
        print(f"{m.label:<52} {med:>10.2f} {m.unit:<7} {m.goal}{ok}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
