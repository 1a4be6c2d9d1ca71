"""View latency and lexical search over cached corpora of 10k and 100k realistic memories."""

from __future__ import annotations

import random

from core.index.schema import SCHEMA_VERSION
from core.models import PROTOCOL_VERSION
from core.store import Store
from tests.bench.common import ACTOR, Bench, Ctx, Metric, bench_dir, discard, log, now, pct
from tests.bench.corpus import Corpus

# Part of the cache key: a new generator, index schema or protocol rebuilds the cached stores.
CORPUS_VERSION = f"corpus 3, index schema {SCHEMA_VERSION}, protocol {PROTOCOL_VERSION}"
BATCH = 500


def corpus_store(ctx: Ctx, n: int) -> Store:
    """A store of n memories, built once via the batch API and cached in the bench dir."""
    key = ("corpus", n)
    if key in ctx.shared:
        return ctx.shared[key]
    root = bench_dir() / f"corpus-{n}"
    stamp = bench_dir() / f"corpus-{n}.ok"
    if ctx.rebuild or not stamp.exists() or stamp.read_text() != CORPUS_VERSION:
        _build(root, stamp, n)
    store = Store.open(root, allow_temp=True, read_only=True)
    ctx.shared[key] = store
    return store


def _build(root, stamp, n: int) -> None:
    stamp.unlink(missing_ok=True)
    if root.exists():  # deleted at the end of the run, not now (see common.scratch)
        root.rename(discard(root))
    log(f"building a {n:,}-memory corpus in {root} (cached for later runs) ...")
    corpus = Corpus(seed=7)
    t0 = now()
    with Store.init(root, allow_temp=True) as store:
        for start in range(0, n, BATCH):
            store.batch(
                [
                    Store.put_intent(m.path, m.body, tags=m.tags, category=m.category)
                    for m in corpus.memories(min(BATCH, n - start), start)
                ],
                ACTOR,
            )
            if start and start % 20000 == 0:
                log(f"  {start:,} memories, {start / (now() - t0):,.0f}/s")
        store.wait_index()
    log(f"  built in {now() - t0:.1f} s")
    stamp.write_text(CORPUS_VERSION)


def _close_corpora(ctx: Ctx) -> None:
    for key in [k for k in ctx.shared if k[0] == "corpus"]:
        ctx.shared.pop(key).close()


def _paths(store: Store, count: int) -> list[str]:
    out, after = [], ""
    while True:
        page = store.memories(after=after, limit=1000)
        if not page:
            break
        out.extend(m.path for m in page)
        after = page[-1].path
    return random.Random(5).sample(out, min(count, len(out)))


def view_setup(ctx: Ctx) -> None:
    store = corpus_store(ctx, 10_000)
    ctx.shared["view-paths"] = _paths(store, 2000)
    for p in ctx.shared["view-paths"]:  # validate once, cache metadata
        store.view(p)


def view(ctx: Ctx) -> dict[str, float]:
    store = corpus_store(ctx, 10_000)
    paths = list(ctx.shared["view-paths"])
    random.Random(ctx.rep).shuffle(paths)
    lat = []
    for _ in range(ctx.n(5, 2)):
        for p in paths:
            a = now()
            store.view(p)
            lat.append(now() - a)
    lat.sort()
    return {"p50": pct(lat, 50) * 1e6, "p95": pct(lat, 95) * 1e6}


def _search(n: int):
    def setup(ctx: Ctx) -> None:
        store = corpus_store(ctx, n)
        qs = Corpus(seed=7).queries(300)
        ctx.shared[("queries", n)] = qs
        for q in qs:  # warm the page cache: a cold first pass measures the disk, not FTS5
            store.search(q)

    def run(ctx: Ctx) -> dict[str, float]:
        store = corpus_store(ctx, n)
        qs = list(ctx.shared[("queries", n)])[: ctx.n(300, 100)]
        random.Random(ctx.rep).shuffle(qs)
        lat = []
        for q in qs:
            a = now()
            store.search(q, limit=10)
            lat.append(now() - a)
        lat.sort()
        return {"p50": pct(lat, 50) * 1e3, "p95": pct(lat, 95) * 1e3}

    return setup, run


_s10, _r10 = _search(10_000)
_s100, _r100 = _search(100_000)

BENCHES = [
    Bench(
        "view",
        view,
        [
            Metric(
                "p50",
                "view p50 (no actor, metadata cached)",
                "µs",
                None,
                "≤ 20 µs",
                lambda med, _r: med <= 20,
            ),
            Metric("p95", "view p95", "µs"),
        ],
        setup=view_setup,
        teardown=_close_corpora,
    ),
    Bench(
        "search10k",
        _r10,
        [
            Metric("p50", "lexical search p50, 10k memories", "ms"),
            Metric(
                "p95",
                "lexical search p95, 10k memories",
                "ms",
                None,
                "≤ 10 ms",
                lambda med, _r: med <= 10,
            ),
        ],
        setup=_s10,
        teardown=_close_corpora,
    ),
    Bench(
        "search100k",
        _r100,
        [
            Metric("p50", "lexical search p50, 100k memories", "ms"),
            Metric(
                "p95",
                "lexical search p95, 100k memories",
                "ms",
                None,
                "≤ 10 ms",
                lambda med, _r: med <= 10,
            ),
        ],
        setup=_s100,
        teardown=_close_corpora,
    ),
]
