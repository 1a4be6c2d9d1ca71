"""Lexical search on a store holding one huge memory vs the same store without it (issue 10
item 10: snippet time grew with the square of a body's size; 4 MB took 77 s).

Two stores of the same 2,000 corpus memories; one also holds a memory of BIG_BYTES (below the
put limit, core.limits.MAX_BODY_BYTES) made of the corpus' own text, so the queries' words
occur in it as often as real prose would hold them. Each query runs on both stores, one after
the other; the ratio is the huge store's p95 over the plain store's p95 (goal ≤ 2×).
"""

from __future__ import annotations

import random

from core.limits import MAX_BODY_BYTES
from core.store import Store
from tests.bench.common import ACTOR, Bench, Ctx, Metric, log, now, pct, scratch
from tests.bench.corpus import Corpus

BIG_BYTES = 50_000_000
N = 2_000
BATCH = 500


def _store(root, corpus_bodies: list, big: bytes | None) -> Store:
    with Store.init(root, allow_temp=True) as store:
        for start in range(0, len(corpus_bodies), BATCH):
            store.batch(
                [
                    Store.put_intent(m.path, m.body, tags=m.tags, category=m.category)
                    for m in corpus_bodies[start : start + BATCH]
                ],
                ACTOR,
            )
        if big is not None:
            store.put("memories/facts/huge-notes.md", big, actor=ACTOR)
    return Store.open(root, allow_temp=True, read_only=True)


def setup(ctx: Ctx) -> None:
    assert BIG_BYTES <= MAX_BODY_BYTES
    corpus = Corpus(seed=7)
    mems = corpus.memories(N)
    text = "\n\n".join(m.body for m in mems).encode()
    big = (text * (BIG_BYTES // len(text) + 1))[:BIG_BYTES]
    big = big[: big.rfind(b" ")] + b"\n"  # end on a whole word
    t0 = now()
    with scratch("bigbody-plain") as plain_root, scratch("bigbody-huge") as huge_root:
        ctx.shared["bigbody"] = (_store(plain_root, mems, None), _store(huge_root, mems, big))
    log(f"bigbody: built both stores ({len(big):,}-byte memory) in {now() - t0:.1f} s")
    qs = corpus.queries(300)
    ctx.shared["bigbody-queries"] = qs
    plain, huge = ctx.shared["bigbody"]
    for q in qs[:50]:  # warm the page cache of both
        plain.search(q)
        huge.search(q)


def run(ctx: Ctx) -> dict[str, float]:
    plain, huge = ctx.shared["bigbody"]
    qs = list(ctx.shared["bigbody-queries"])[: ctx.n(300, 100)]
    random.Random(ctx.rep).shuffle(qs)
    a_lat, b_lat, hit = [], [], 0
    for q in qs:  # interleaved: both stores see the same machine moments
        t = now()
        plain.search(q, limit=10)
        a_lat.append(now() - t)
        t = now()
        res = huge.search(q, limit=10)
        b_lat.append(now() - t)
        hit += any(h.path == "memories/facts/huge-notes.md" for h in res)
    a_lat.sort()
    b_lat.sort()
    return {
        "plain_p50": pct(a_lat, 50) * 1e3,
        "plain_p95": pct(a_lat, 95) * 1e3,
        "huge_p50": pct(b_lat, 50) * 1e3,
        "huge_p95": pct(b_lat, 95) * 1e3,
        "huge_hits": 100.0 * hit / len(qs),
    }


def teardown(ctx: Ctx) -> None:
    for store in ctx.shared.pop("bigbody", ()):
        store.close()


BENCHES = [
    Bench(
        "bigbody",
        run,
        [
            Metric("plain_p50", f"lexical search p50, {N:,} memories", "ms"),
            Metric("plain_p95", f"lexical search p95, {N:,} memories", "ms"),
            Metric("huge_p50", f"... plus one {BIG_BYTES // 10**6} MB memory, p50", "ms"),
            Metric(
                "huge_p95",
                f"... plus one {BIG_BYTES // 10**6} MB memory, p95",
                "ms",
                goal="≤ 2× without it",
                check=lambda _med, ratio: ratio is not None and ratio <= 2.0,
                pair="plain_p95",
                pair_label="(p95 without it)",
            ),
            Metric("huge_hits", "queries whose top 10 hold the huge memory", "%"),
        ],
        setup=setup,
        teardown=teardown,
    ),
]
