"""The doctor: a full walk over 100k rows and 10k memories, and a quick run on the live tail.

The store is built once through the batch API and cached in the bench dir: 10k memories
created, 20k updates (so 20k version files), 500 moves, 500 tombstones, 100 purges and the
rest session / tier rows, with automatic checkpoints every 1,000 rows (about 100 notes).
Each repetition then appends a small live tail (50 puts) and times a quick run on it.
"""

from __future__ import annotations

import os
import random
import shutil

from core.store import Store
from core.write.intents import Delete, Move, Note
from tests.bench.common import ACTOR, Bench, Ctx, Metric, bench_dir, log, now
from tests.bench.corpus import Corpus

STORE_VERSION = "2"  # bump when the mix below changes so the cached store is rebuilt
ROWS, MEMORIES, UPDATES = 100_000, 10_000, 20_000
BATCH = 500
TAIL = 50


def _root():
    return bench_dir() / "doctor-100k"


def setup(ctx: Ctx) -> None:
    os.environ.setdefault("XDG_STATE_HOME", str(bench_dir() / "xdg-state"))  # the witness
    root, stamp = _root(), bench_dir() / "doctor-100k.ok"
    if ctx.rebuild or not stamp.exists() or stamp.read_text() != STORE_VERSION:
        _build(root, stamp)
    store = Store.open(root, allow_temp=True)
    ctx.shared["doctor-store"] = store
    ctx.shared["doctor-tail"] = 0
    rep = store.doctor()  # warm the page cache once; the figures are warm-cache walks
    if rep.state != "READY":
        bad = [f"{r.id}: {r.detail}" for r in rep.results if r.status != "PASS"]
        raise SystemExit(f"the cached doctor store is not READY ({bad}); run with --rebuild")


def _build(root, stamp) -> None:
    stamp.unlink(missing_ok=True)
    shutil.rmtree(root, ignore_errors=True)
    log(f"building a {ROWS:,}-row, {MEMORIES:,}-memory store in {root} (cached) ...")
    t0 = now()
    rnd = random.Random(11)
    corpus = Corpus(seed=11)
    mems = corpus.memories(MEMORIES, 0)
    paths = [m.path for m in mems]
    with Store.init(root, allow_temp=True) as store:
        for i in range(0, MEMORIES, BATCH):
            store.batch([Store.put_intent(m.path, m.body, tags=m.tags, category=m.category)
                         for m in mems[i : i + BATCH]], ACTOR)  # fmt: skip
        for i in range(0, UPDATES, BATCH):
            picks = rnd.sample(range(MEMORIES), BATCH)
            store.batch([Store.put_intent(paths[k], mems[k].body + f"\nupdate {i + j}\n")
                         for j, k in enumerate(picks)], ACTOR)  # fmt: skip
        live = list(range(MEMORIES))
        rnd.shuffle(live)
        movers, tombs, purges = live[:500], live[500:1000], live[1000:1100]
        store.batch([Move(paths[k], paths[k][:-3] + "-moved.md") for k in movers], ACTOR)
        store.batch([Delete(paths[k]) for k in tombs], ACTOR)
        store.batch([Delete(paths[k], "purge", "user-request") for k in purges], ACTOR)
        while store.tip.seq < ROWS:
            n = min(BATCH, ROWS - store.tip.seq)
            store.batch(
                [
                    Note("session.start", "", "", {"session": f"s{store.tip.seq}-{j}"}) if j % 3 == 0
                    else Note("tier.changed", paths[rnd.randrange(MEMORIES)], "", {"tier": "warm"})
                    for j in range(n)
                ],
                ACTOR,
            )  # fmt: skip
        store.checkpoint()
        store.wait_index()
        log(f"  built {store.tip.seq:,} rows in {now() - t0:.1f} s")
    stamp.write_text(STORE_VERSION)


def run(ctx: Ctx) -> dict[str, float]:
    store: Store = ctx.shared["doctor-store"]
    a = now()
    full = store.doctor()
    full_s = now() - a
    base = store.tip.seq
    store.batch(
        [Store.put_intent(f"memories/facts/bench-tail/r{ctx.rep}-{base}-{i}.md", f"tail {i}\n")
         for i in range(TAIL)],
        ACTOR,
    )  # fmt: skip
    a = now()
    quick = store.doctor(full=False)
    quick_ms = (now() - a) * 1000
    for rep in (full, quick):
        if rep.state != "READY":
            bad = [f"{r.id}: {r.detail}" for r in rep.results if r.status != "PASS"]
            raise SystemExit(f"doctor on the bench store is not READY: {bad}")
    tail = quick.head_seq - max(int(n) for n in _sizes(store) if int(n) <= quick.head_seq)
    return {"full_s": full_s, "quick_ms": quick_ms, "tail_rows": float(tail), "rows": float(base)}


def _sizes(store: Store) -> list[int]:
    from core.verify import checkpoints

    return checkpoints.sizes(store.layout)


def teardown(ctx: Ctx) -> None:
    store = ctx.shared.pop("doctor-store", None)
    if store is not None:
        store.close()


BENCHES = [
    Bench(
        "doctor",
        run,
        [
            Metric(
                "full_s",
                "doctor full walk, 100k rows / 10k memories",
                "s",
                None,
                "≤ 10 s",
                lambda med, _r: med <= 10,
            ),
            Metric(
                "quick_ms",
                "doctor --quick on the live tail",
                "ms",
                None,
                "≤ 200 ms",
                lambda med, _r: med <= 200,
            ),
            Metric("tail_rows", "  rows in that tail (since the newest checkpoint)", "rows"),
        ],
        setup=setup,
        teardown=teardown,
    ),
]
