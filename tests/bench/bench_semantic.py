"""Semantic search at scale: query latency at 100k memories, embedding throughput, and how soon
a put is findable by meaning while a host runs the embedder.

The 100k store is bench_reads' realistic corpus with synthetic vectors (random unit vectors
under the packaged model's name): embedding 100k texts would take most of an hour on a laptop
CPU, and the cost of a query does not depend on what the stored vectors say. Queries are the
natural-language queries of the evaluation set, so query encoding (a real model call) is
included in every figure. The store is built once and cached in the bench dir (its own copy:
the time-to-findable run writes into it).
"""

from __future__ import annotations

import random
import threading

from core.index.vectors import ensure_schema, write
from core.store import Store
from tests.bench import bench_reads
from tests.bench.common import ACTOR, Bench, Ctx, Metric, bench_dir, log, now, pct
from tests.bench.eval_store import load

N = 100_000
VERSION = f"{bench_reads.CORPUS_VERSION}+vectors1"


def big_store(ctx: Ctx) -> Store:
    if "semantic-100k" in ctx.shared:
        return ctx.shared["semantic-100k"]
    root, stamp = bench_dir() / f"semantic-{N}", bench_dir() / f"semantic-{N}.ok"
    if ctx.rebuild or not stamp.exists() or stamp.read_text() != VERSION:
        stamp.unlink(missing_ok=True)
        bench_reads._build(root, bench_dir() / f"semantic-{N}.corpus", N)
        with Store.open(root, allow_temp=True) as store:
            _synthetic_vectors(store)
        stamp.write_text(VERSION)
    store = Store.open(root, allow_temp=True)
    t0 = now()
    store.warm_semantic()
    t1 = now()
    store.search("warm up", mode="semantic")  # loads the vector matrix
    ctx.shared["load"] = {"model_s": t1 - t0, "matrix_s": now() - t1}
    ctx.shared["semantic-100k"] = store
    ctx.shared["queries"] = [q["query"] for q in load()[1]]
    return store


def _synthetic_vectors(store: Store) -> None:
    import numpy as np

    log(f"writing {N:,} synthetic unit vectors ...")
    model = store.semantic.model
    rng = np.random.default_rng(7)
    rows = store.reader.conn.execute(
        "SELECT id, seq FROM memories WHERE state = 'active' ORDER BY id"
    ).fetchall()
    store.follower.call(lambda ix: ensure_schema(ix.conn))
    for start in range(0, len(rows), 10_000):
        chunk = rows[start : start + 10_000]
        v = rng.standard_normal((len(chunk), 384)).astype(np.float32)
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        items = [(i, s, v[k].tobytes()) for k, (i, s) in enumerate(chunk)]
        store.follower.call(lambda ix, it=items: write(ix.conn, model, it, 384))


def _close(ctx: Ctx) -> None:
    store = ctx.shared.pop("semantic-100k", None)
    if store is not None:
        store.close()


def latency(ctx: Ctx) -> dict[str, float]:
    store = big_store(ctx)
    qs = list(ctx.shared["queries"]) * 3
    random.Random(ctx.rep).shuffle(qs)
    qs = qs[: ctx.n(200, 60)]
    enc = store.semantic.encoder()
    qv = enc.encode(["a fixed query vector"])[0]
    cache = store.semantic.cache
    fns = {
        "encode": lambda q: enc.encode([q]),
        "topk": lambda q: cache.top(qv, 10),
        "semantic": lambda q: store.search(q, mode="semantic", limit=10),
        "hybrid": lambda q: store.search(q, mode="hybrid", limit=10),
        "lexical": lambda q: store.search(q, mode="lexical", limit=10),
    }
    lat: dict[str, list[float]] = {name: [] for name in fns}
    order = list(fns)
    for k, q in enumerate(qs):  # interleaved and rotated: a burst of load hits every mode
        for name in order[k % len(order) :] + order[: k % len(order)]:
            a = now()
            fns[name](q)
            lat[name].append(now() - a)
    out = {}
    for name, xs in lat.items():
        xs.sort()
        out[f"{name}_p50"], out[f"{name}_p95"] = pct(xs, 50) * 1e3, pct(xs, 95) * 1e3
    out["model_s"] = ctx.shared["load"]["model_s"]
    out["matrix_s"] = ctx.shared["load"]["matrix_s"]
    return out


def throughput(ctx: Ctx) -> dict[str, float]:
    store = big_store(ctx)
    corpus = load()[0]
    texts = [f"{m['title']}\n{m['body']}" for m in corpus][: ctx.n(512, 128)]
    enc = store.semantic.encoder()
    a = now()
    enc.encode(texts, batch_size=64)
    return {"texts_s": len(texts) / (now() - a)}


def findable(ctx: Ctx) -> dict[str, float]:
    """Put, then poll semantic search for the new text until it ranks in the top 10, while
    the host's embedder loop runs (as in the TUI or `brain mcp`)."""
    store = big_store(ctx)
    stop = threading.Event()
    worker = threading.Thread(target=store.start_embedder, args=(stop,), daemon=True)
    worker.start()
    lat = []
    try:
        while not store.semantic.hosted:
            threading.Event().wait(0.01)
        words = ["heron", "quartz", "lantern", "meadow", "glacier", "violin", "saffron", "comet"]
        r = random.Random(ctx.rep)
        for i in range(ctx.n(10, 4)):
            text = f"Bench note {ctx.rep}.{i}: the {' '.join(r.sample(words, 4))} memo."
            path = f"memories/facts/bench-semantic/note-{i}.md"  # rewritten each repetition
            t0 = now()
            store.put(path, text, actor=ACTOR)
            while now() - t0 < 30:
                if path in [h.path for h in store.search(text, mode="semantic", limit=10)]:
                    break
                threading.Event().wait(0.005)
            lat.append(now() - t0)
    finally:
        stop.set()
        worker.join(timeout=30)
    lat.sort()
    return {"p50": pct(lat, 50) * 1e3, "max": lat[-1] * 1e3}


def _ms(key: str, label: str, goal: str = "", limit: float | None = None) -> Metric:
    check = None if limit is None else (lambda med, _r, lim=limit: med <= lim)
    return Metric(key, label, "ms", None, goal, check)


BENCHES = [
    Bench(
        "semantic100k",
        latency,
        [
            _ms("encode_p50", "query encoding alone p50"),
            _ms("topk_p50", "cosine top-10 over 100k × 384 alone p50"),
            _ms("semantic_p50", "semantic search p50, 100k memories"),
            _ms("semantic_p95", "semantic search p95, 100k (encoding included)", "≤ 30 ms", 30),
            _ms("hybrid_p50", "hybrid search p50, 100k memories"),
            _ms("hybrid_p95", "hybrid search p95, 100k (encoding included)", "≤ 40 ms", 40),
            _ms("lexical_p95", "lexical search p95, 100k, same queries"),
            Metric("model_s", "model load (first use in a process)", "s"),
            Metric("matrix_s", "100k vectors loaded into memory (first query)", "s"),
        ],
        setup=big_store,
        teardown=_close,
    ),
    Bench(
        "embed-throughput",
        throughput,
        [Metric("texts_s", "embedding throughput, packaged MiniLM, batch 64", "texts/s")],
        setup=big_store,
        teardown=_close,
    ),
    Bench(
        "findable",
        findable,
        [
            _ms(
                "p50",
                "put → findable by semantic search p50 (embedder running, 100k)",
                "≤ 1,000 ms",
                1000,
            ),
            _ms("max", "put → findable, worst of the run"),
        ],
        setup=big_store,
        teardown=_close,
    ),
]
