"""Tier rebalance and session context at 100k memories (issue 6's targets).

Reuses the cached 100k lexical-search corpus (tests/bench/bench_reads.py builds it) and adds
access history to a slice of it once, so every tier has members.
"""

from __future__ import annotations

import random

from core.store import Store
from tests.bench.common import ACTOR, Bench, Ctx, Metric, bench_dir, log, now

SIZE = 100_000


def setup(ctx: Ctx) -> None:
    from tests.bench.bench_reads import corpus_store

    corpus_store(ctx, SIZE)  # builds or reuses the cached 100k corpus (opened read-only there)
    root = bench_dir() / f"corpus-{SIZE}"
    store = Store.open(root, allow_temp=True)
    if not store.layout.access_log.exists():
        log("adding access history to the 100k corpus (once) ...")
        rnd = random.Random(5)
        paths = [m.path for m in store.memories(limit=SIZE)]
        for p in rnd.sample(paths, 5000):
            for _ in range(rnd.choice((1, 3, 3, 12))):
                store.view(p, actor=ACTOR)
    ctx.shared["tiers-store"] = store


def teardown(ctx: Ctx) -> None:
    store = ctx.shared.pop("tiers-store", None)
    if store is not None:
        store.close()


def run(ctx: Ctx) -> dict[str, float]:
    store: Store = ctx.shared["tiers-store"]
    t = now()
    plan = store.tiers.plan()
    planned = now() - t
    t = now()
    result = store.tiers.rebalance(actor="system:bench")
    rebalance = now() - t
    assert sum(result[k] for k in ("hot", "warm", "cold")) == len(plan)
    ctx_times = []
    for _ in range(ctx.n(20, 5)):
        t = now()
        items = store.context()
        ctx_times.append(now() - t)
    assert len(items) == 300
    ctx_times.sort()
    return {
        "plan": planned * 1e3,
        "rebalance": rebalance * 1e3,
        "context": ctx_times[len(ctx_times) // 2] * 1e3,
    }


BENCHES = [
    Bench(
        "tiers",
        run,
        [
            Metric("plan", "tier scores + placement, 100k memories", "ms"),
            Metric(
                "rebalance",
                "rebalance incl. tier.changed rows, 100k",
                "ms",
                None,
                "≤ 2,000 ms",
                lambda med, _r: med <= 2000,
            ),
            Metric(
                "context", "brain context p50, 100k", "ms", None, "≤ 50 ms", lambda m, _r: m <= 50
            ),
        ],
        setup=setup,
        teardown=teardown,
    )
]
