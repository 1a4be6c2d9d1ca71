"""Filing a proposal at 10k memories (issue 15 target: ≤ 50 ms p95, lexical, with the gate
and the duplicate search included).

One store of 10,000 memories (9,000 facts and 1,000 lessons under refinements/, bodies drawn
from one vocabulary so the duplicate search meets real competition). Then proposals with
distinct words are filed one per session (so the budget of 3 never refuses one): the figure
is the wall time of `store.proposals.propose(...)`, which runs the body checks, the
duplicate search (FTS5, then a word-overlap check of the top hits), the gate and the write
(the proposal and its `proposal.filed` row in one request). The duplicate search alone is
shown beside it.
"""

from __future__ import annotations

import random
import time

from core.store import Store
from tests.bench.common import ACTOR, Bench, Ctx, Metric, pct, scratch

WORDS = (
    "index segment writer reader cache page query tag sidecar chain proof checkpoint export"
    " import backup tier pin search vector embed lesson gate budget scope merge stale retire"
    " session actor agent human terminal confirm widget pane list detail history audit row"
    " body title path folder kind category status signal source commit salt seal zstd key"
).split()
ANSWERS = {
    "observed": "the pane froze two seconds on open",
    "evidence": "bench_tui p95 went to 2100 ms",
    "scope": "only the widget paging code",
    "reversible": "revert the single commit cleanly",
    "safety": "no, display only changes here",
}


def _text(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def _fill(store: Store, n: int, rng: random.Random) -> None:
    intents = []
    for i in range(n):
        if i % 10 == 0:
            path = f"memories/refinements/lessons/l{i:05d}.md"
            body = "".join(
                f"{k}: {_text(rng, 12)}\n" for k in ("FAILURE", "ROOT CAUSE", "FIX", "PREVENTION")
            )
            intents.append(Store.put_intent(path, body, tags=["type:lesson"]))
        else:
            path = f"memories/facts/f{i // 1000}/m{i:05d}.md"
            intents.append(Store.put_intent(path, f"# {_text(rng, 5)}\n\n{_text(rng, 60)}\n"))
        if len(intents) == 500:
            store.batch(intents, ACTOR)
            intents = []
    if intents:
        store.batch(intents, ACTOR)


def run(ctx: Ctx) -> dict[str, float]:
    size = ctx.n(10_000, 10_000)
    n = ctx.n(200, 60)
    rng = random.Random(ctx.rep)
    out: dict[str, float] = {}
    with scratch("proposals") as root, Store.init(root, allow_temp=True) as store:
        _fill(store, size, rng)
        props = store.proposals
        times: list[float] = []
        dup: list[float] = []
        for i in range(n):
            uniq = f"u{ctx.rep}x{i}"
            sections = {
                "PROPOSAL": f"{_text(rng, 6)} {uniq}",
                "PROBLEM": f"{_text(rng, 8)} {uniq}a",
                "SOLUTION": f"{_text(rng, 8)} {uniq}b",
                "BENEFIT": f"{_text(rng, 6)} {uniq}c",
                "CONTEXT": f"{_text(rng, 6)} {uniq}d",
            }
            title = f"{_text(rng, 3)} {uniq}"
            t0 = time.perf_counter_ns()
            props.find_duplicate(title, "".join(f"{k}: {v}\n" for k, v in sections.items()))
            dup.append((time.perf_counter_ns() - t0) / 1e6)
            t0 = time.perf_counter_ns()
            res = props.propose(
                title,
                sections,
                ANSWERS,
                actor=ACTOR,
                scope=["widgets/memory_list.py"],
                session=f"bench-{i}",
            )
            times.append((time.perf_counter_ns() - t0) / 1e6)
            assert res.filed, res.gate
        times.sort()
        dup.sort()
        for q in (50, 95):
            out[f"file.p{q}"] = pct(times, q)
            out[f"dup.p{q}"] = pct(dup, q)
        out["memories"] = float(store.memory_count())
    return out


def pane_open(ctx: Ctx) -> dict[str, float]:
    """What pane 5 reads when it opens, on a queue of 10 and of 10,000 (target: 10k opens as
    fast as 10): the pending count (the list's and the pane bar's) and the list's first read,
    a screenful (widgets.proposal_list.FIRST_PAGE rows; 10 when only 10 wait). Beside it, the
    page the list prefetches behind the screen once it is drawn (PAGE rows, by key after the
    first read), which must not grow with the queue either."""
    from tests.tui.test_proposals_pane import bulk_pending
    from widgets.proposal_list import FIRST_PAGE, PAGE

    out: dict[str, float] = {}
    for n in (10, ctx.n(10_000, 10_000)):
        name = "10" if n == 10 else "10k"
        with scratch(f"pane5-{n}") as root, Store.init(root, allow_temp=True) as store:
            bulk_pending(store, n)
            props = store.proposals
            opens, nexts = [], []
            for _ in range(50):
                t0 = time.perf_counter_ns()
                props.count("pending")
                props.count("pending")
                first = props.page("pending", 0, FIRST_PAGE)
                t1 = time.perf_counter_ns()
                props.page("pending", first[-1].seq, PAGE)
                t2 = time.perf_counter_ns()
                opens.append((t1 - t0) / 1e6)
                nexts.append((t2 - t1) / 1e6)
            assert props.count("pending") == n and len(first) == min(n, FIRST_PAGE)
            opens.sort()
            nexts.sort()
            out[f"open{name}"] = pct(opens, 50)
            out[f"next{name}.p50"] = pct(nexts, 50)
    out["open_ratio"] = out["open10k"] / max(out["open10"], 1e-6)
    return out


BENCHES = [
    Bench(
        "proposals",
        run,
        [
            Metric("file.p50", "file a proposal at 10k memories, p50", "ms"),
            Metric(
                "file.p95",
                "file a proposal at 10k memories (gate + duplicate search + write), p95",
                "ms",
                goal="≤ 50 ms",
                check=lambda m, _r: m <= 50.0,
            ),
            Metric("dup.p50", "duplicate search alone, p50", "ms"),
            Metric("dup.p95", "duplicate search alone, p95", "ms"),
            Metric("memories", "memories in the store", ""),
        ],
    ),
    Bench(
        "proposals-pane",
        pane_open,
        [
            Metric("open10", "pane 5 opens on 10 pending (2 counts + first read), p50", "ms"),
            Metric("open10k", "pane 5 opens on 10k pending (2 counts + first read), p50", "ms"),
            Metric(
                "open_ratio",
                "10k ÷ 10",
                "×",
                goal="as fast as 10 (≤ 1.5×)",
                check=lambda m, _r: m <= 1.5,
            ),
            Metric("next10k.p50", "the prefetched page behind it at 10k (200 rows), p50", "ms"),
        ],
    ),
]
