"""`python -m tests.bench [names] [--quick] [--reps N] [--rebuild] [--json FILE]`.

Runs the named benchmarks (all by default) for N repetitions. Before every repetition of every
benchmark the bare append+fdatasync loop runs again, so each figure is paired with a baseline
measured moments before on the same disk; the table shows medians and the median of the
per-repetition ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

from tests.bench import (
    bench_baseline,
    bench_bigbody,
    bench_capture,
    bench_cli,
    bench_doctor,
    bench_export,
    bench_foreign,
    bench_mcp,
    bench_pii,
    bench_pii_put,
    bench_proofs,
    bench_proposals,
    bench_puts,
    bench_reads,
    bench_search_quality,
    bench_semantic,
    bench_sync,
    bench_tiers,
    bench_tui,
)
from tests.bench.common import Bench, Ctx, bench_dir, cleanup, log

ALL: list[Bench] = [
    *bench_puts.BENCHES,
    *bench_baseline.BENCHES,
    *bench_reads.BENCHES,
    *bench_bigbody.BENCHES,
    *bench_doctor.BENCHES,
    *bench_proofs.BENCHES,
    *bench_tiers.BENCHES,
    *bench_export.BENCHES,
    *bench_foreign.BENCHES,
    *bench_pii.BENCHES,
    *bench_pii_put.BENCHES,
    *bench_proposals.BENCHES,
    *bench_search_quality.BENCHES,
    *bench_semantic.BENCHES,
    *bench_tui.BENCHES,
    *bench_capture.BENCHES,
    *bench_cli.BENCHES,
    *bench_mcp.BENCHES,
    *bench_sync.BENCHES,
]
BY_NAME = {b.name: b for b in ALL}
GROUPS: dict[str, list[str]] = {**bench_sync.GROUPS}  # a name that runs several benchmarks


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__.split("\n")[0])
    ap.add_argument(
        "names",
        nargs="*",
        help=f"benchmarks to run: {', '.join([*BY_NAME, *GROUPS])} (default: all)",
    )
    ap.add_argument("--quick", action="store_true", help="fewer operations per run and 3 reps")
    ap.add_argument("--reps", type=int, default=None, help="repetitions (default 5, --quick 3)")
    ap.add_argument("--rebuild", action="store_true", help="rebuild the cached search corpora")
    ap.add_argument("--json", metavar="FILE", help="also write every raw figure as JSON")
    args = ap.parse_args(argv)
    args.names = [n for name in args.names for n in GROUPS.get(name, [name])]
    unknown = [n for n in args.names if n not in BY_NAME and n != "baseline"]
    if unknown:
        ap.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BY_NAME)}")
    benches = [BY_NAME[n] for n in args.names if n in BY_NAME] if args.names else ALL
    reps = args.reps or (3 if args.quick else 5)
    ctx = Ctx(quick=args.quick, rebuild=args.rebuild)
    log(f"bench dir {bench_dir()}; {reps} repetitions{' (quick)' if args.quick else ''}")

    started = time.monotonic()
    load_before = os.getloadavg()[0]
    raw: dict[str, list[tuple[dict, dict]]] = {b.name: [] for b in benches}
    baselines: list[dict] = []
    try:
        for b in benches:
            if b.setup:
                b.setup(ctx)
        if not benches:  # `baseline` alone
            for _ in range(reps):
                baselines.append(bench_baseline.baseline(ctx))
        for rep in range(reps):
            ctx.rep = rep
            for b in benches:
                base = bench_baseline.baseline(ctx)
                baselines.append(base)
                res = b.run(ctx)
                raw[b.name].append((base, res))
                log(
                    f"rep {rep + 1}/{reps} {b.name}: {_fmt_res(res)} (baseline {base['ops']:,.0f} ops/s)"
                )
    finally:
        for b in benches:
            if b.teardown:
                b.teardown(ctx)
        cleanup()
    load = (load_before, os.getloadavg()[0])
    print(render(benches, raw, baselines, reps, ctx.quick, load))
    for note in ctx.shared.get("notes", []):  # what a benchmark could not measure, and why
        print(f"note: {note}")
    log(f"total {time.monotonic() - started:.0f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"baselines": baselines, "runs": raw}, f, indent=1)
    return 0


def _fmt_res(res: dict) -> str:
    return ", ".join(f"{k}={v:,.1f}" for k, v in res.items())


def _num(x: float) -> str:
    if x >= 1000:
        return f"{x:,.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def render(benches, raw, baselines, reps, quick, load=(0.0, 0.0)) -> str:
    head = ("benchmark", "median", "unit", "baseline", "ratio", "goal", "met?")
    rows = [
        (
            "baseline: append 200 B + fdatasync",
            _num(statistics.median(b["ops"] for b in baselines)),
            "ops/s",
            "",
            "",
            "",
            "",
        ),
        (
            "baseline: p50 latency",
            _num(statistics.median(b["p50"] for b in baselines)),
            "µs",
            "",
            "",
            "",
            "",
        ),
    ]
    for b in benches:
        for m in b.metrics:
            runs = [(bs, r) for bs, r in raw[b.name] if m.key in r]
            if not runs:  # not measured here (a tool or strace missing): see the notes
                continue
            med = statistics.median(r[m.key] for _base, r in runs)
            base = ratio = None
            unit = ""
            if m.base:
                base = statistics.median(bs[m.base] for bs, _r in runs)
                ratio = statistics.median(r[m.key] / bs[m.base] for bs, r in runs)
                unit = "ops/s" if m.base == "ops" else "µs"
            elif m.pair and (paired := [r for _bs, r in runs if r.get(m.pair)]):
                base = statistics.median(r[m.pair] for r in paired)
                ratio = statistics.median(r[m.key] / r[m.pair] for r in paired)
                unit = f"{m.unit} {m.pair_label}".rstrip()
            met = "" if m.check is None else ("yes" if m.check(med, ratio) else "NO")
            rows.append(
                (
                    m.label,
                    _num(med),
                    m.unit,
                    "" if base is None else f"{_num(base)} {unit}",
                    "" if ratio is None else f"{ratio:.2f}×",
                    m.goal,
                    met,
                )
            )
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    right = {1, 3, 4}

    def line(r) -> str:
        cells = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        return "| " + " | ".join(cells) + " |"

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    note = (
        f"medians of {reps} repetitions{' (--quick)' if quick else ''}; each repetition ran right"
        " after its own baseline loop; ratio = median of per-repetition ratios (to the paired\n"
        "tool's figure of the same repetition where the baseline column names one).\n"
        f"{os.cpu_count()} CPUs, load average {load[0]:.1f} at the start and {load[1]:.1f} at the"
        f" end; bench dir {bench_dir()}"
    )
    return "\n".join([line(head), sep, *(line(r) for r in rows), "", note])


if __name__ == "__main__":
    sys.exit(main())
