"""Search quality on the labelled set in tests/data/eval/: recall@10 and MRR for lexical,
semantic and hybrid search, per query type (keyword, paraphrase, question) and overall.

`python -m tests.bench search-quality` runs it with the other benchmarks (its figures do not
vary between repetitions). `python -m tests.bench.bench_search_quality [--compare]` prints the
quality table; --compare adds every fusion method of core/fusion.py over a grid of its
parameters, which is how the default was chosen.

Goals (issue 6): hybrid's recall@10 within 0.02 of the better single mode for every query type,
and hybrid's overall MRR above both.
"""

from __future__ import annotations

import argparse
import sys

from core.search import fusion, hybrid
from tests.bench.common import Bench, Ctx, Metric, log
from tests.bench.eval_store import TYPES, cached, evaluate, load, table

MODES = ("lexical", "semantic", "hybrid")


def _store(ctx: Ctx):
    if "eval-store" not in ctx.shared:
        corpus, queries = load()
        ctx.shared["eval-store"] = cached(ctx, corpus)
        ctx.shared["eval-queries"] = queries
    return ctx.shared["eval-store"], ctx.shared["eval-queries"]


def _teardown(ctx: Ctx) -> None:
    store = ctx.shared.pop("eval-store", None)
    if store is not None:
        store.close()


def modes(store, queries) -> dict[str, dict[str, float]]:
    out = {}
    for mode in MODES:
        out[mode] = evaluate(
            queries, lambda q, m=mode: [h.path for h in store.search(q, mode=m, limit=10)]
        )
    return out


def run(ctx: Ctx) -> dict[str, float]:
    store, queries = _store(ctx)
    res = modes(store, queries)
    flat = {f"{m}.{k}": v for m, r in res.items() for k, v in r.items()}
    for t in (*TYPES, "all"):
        best = max(res["lexical"][f"recall.{t}"], res["semantic"][f"recall.{t}"])
        flat[f"gap.recall.{t}"] = res["hybrid"][f"recall.{t}"] - best
    flat["gap.mrr.all"] = res["hybrid"]["mrr.all"] - max(
        res["lexical"]["mrr.all"], res["semantic"]["mrr.all"]
    )
    return flat


def _metrics() -> list[Metric]:
    out = []
    for m in MODES:
        for t in (*TYPES, "all"):
            out.append(Metric(f"{m}.recall.{t}", f"{m} recall@10, {t}", ""))
            out.append(Metric(f"{m}.mrr.{t}", f"{m} MRR, {t}", ""))
    for t in (*TYPES, "all"):
        out.append(
            Metric(
                f"gap.recall.{t}",
                f"hybrid recall@10 − best single mode, {t}",
                "",
                goal="≥ −0.02",
                check=lambda med, _r: med >= -0.02,
            )
        )
    out.append(
        Metric(
            "gap.mrr.all",
            "hybrid MRR − best single mode, overall",
            "",
            goal="> 0",
            check=lambda med, _r: med > 0,
        )
    )
    return out


BENCHES = [Bench("search-quality", run, _metrics(), setup=_store, teardown=_teardown)]

# -- choosing the fusion ----------------------------------------------------------------------

GRID: dict[str, list[dict]] = {
    "rrf": [{"k": k} for k in (10, 30, 60)],
    "gated_rrf": [{"k": k, "w_or": w} for k in (10, 60) for w in (0.0, 0.2, 0.5)],
    "minmax": [{"alpha": a} for a in (0.3, 0.5, 0.7, 0.8)],
    "zscore": [{"alpha": a} for a in (0.3, 0.5, 0.7, 0.8)],
    "boost": [{"w_and": a, "w_or": o} for a in (0.2, 0.3) for o in (0.0, 0.05, 0.1, 0.2)],
    "coverage": [
        {"w": w, "min_share": m} for w in (0.1, 0.2, 0.3, 0.5) for m in (0.0, 0.3, 0.5, 0.7)
    ],
}


def compare(store, queries) -> dict[str, dict[str, float]]:
    """Every fusion over the same evidence per query (lexical and cosine candidates)."""
    conn = store.reader.conn
    path_of = dict(conn.execute("SELECT id, path FROM memories"))
    evidence = {q["query"]: hybrid.evidence(store, q["query"]) for q in queries}
    rows = {}
    for method, grid in GRID.items():
        for params in grid:
            name = f"hybrid {method} " + ",".join(f"{k}={v}" for k, v in params.items())

            def rank(text, method=method, params=params):
                ev = evidence[text]
                fused = fusion.fuse(ev, method, **params)
                return [path_of[i] for i, _s in fused[:10]]

            rows[name] = evaluate(queries, rank)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.bench.bench_search_quality")
    ap.add_argument("--compare", action="store_true", help="also every fusion over a grid")
    args = ap.parse_args(argv)
    ctx = Ctx()
    try:
        store, queries = _store(ctx)
        rows = modes(store, queries)
        rows = {
            f"{k} (default: {fusion.DEFAULT})" if k == "hybrid" else k: v for k, v in rows.items()
        }
        if args.compare:
            rows.update(compare(store, queries))
        counts = {t: sum(q["type"] == t for q in queries) for t in TYPES}
        print(f"{len(queries)} queries ({counts}), top {10}")
        print(table(rows))
    finally:
        _teardown(ctx)
    return 0


if __name__ == "__main__":
    log("building the evaluation store (embedding takes a few seconds) ...")
    sys.exit(main())
