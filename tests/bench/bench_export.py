"""`brain export` of a 10k-memory store: wall time and byte-identity across repetitions."""

from __future__ import annotations

import hashlib
import shutil

from core.store import Store
from tests.bench.common import ACTOR, Bench, Ctx, Metric, bench_dir, log, now
from tests.bench.corpus import Corpus

CORPUS_VERSION = "2"  # bump when the generator or the build changes
BATCH = 500
N = 10_000
SYNC = ("private", "shareable", "team-public", "personal")


def _store(ctx: Ctx) -> Store:
    if "export-store" in ctx.shared:
        return ctx.shared["export-store"]
    root = bench_dir() / f"export-{N}"
    stamp = bench_dir() / f"export-{N}.ok"
    if ctx.rebuild or not stamp.exists() or stamp.read_text() != CORPUS_VERSION:
        _build(root, stamp)
    store = Store.open(root, allow_temp=True)
    ctx.shared["export-store"] = store
    return store


def _build(root, stamp) -> None:
    stamp.unlink(missing_ok=True)
    shutil.rmtree(root, ignore_errors=True)
    log(f"building a {N:,}-memory store for the export bench in {root} (cached) ...")
    corpus = Corpus(seed=11)
    t0 = now()
    revise = []
    with Store.init(root, allow_temp=True) as store:
        for start in range(0, N, BATCH):
            mems = corpus.memories(min(BATCH, N - start), start)
            revise += mems[:50]
            store.batch(
                [
                    Store.put_intent(
                        m.path, m.body, tags=m.tags, category=m.category, sync_class=SYNC[i % 4]
                    )
                    for i, m in enumerate(mems, start)
                ],
                ACTOR,
            )
        # Some history (1,000 revised memories), so versions/ is exported too.
        store.batch([Store.put_intent(m.path, m.body + "\nRevised.\n") for m in revise], ACTOR)
    log(f"  built in {now() - t0:.1f} s")
    stamp.write_text(CORPUS_VERSION)


def setup(ctx: Ctx) -> None:
    store = _store(ctx)
    out = bench_dir() / "export-warmup.zip"
    res = store.export(out)  # signs a checkpoint if the head is not covered yet
    ctx.shared["export-sha"] = res.sha256
    log(f"export: {res.files:,} files, {res.bytes / 1e6:.1f} MB zip")
    out.unlink()


def run(ctx: Ctx) -> dict[str, float]:
    store = _store(ctx)
    out = bench_dir() / f"export-run-{ctx.rep}.zip"
    t0 = now()
    res = store.export(out)
    took = now() - t0
    same = hashlib.sha256(out.read_bytes()).hexdigest() == ctx.shared["export-sha"] == res.sha256
    out.unlink()
    return {"s": took, "identical": 1.0 if same else 0.0, "mb": res.bytes / 1e6}


def teardown(ctx: Ctx) -> None:
    store = ctx.shared.pop("export-store", None)
    if store is not None:
        store.close()


BENCHES = [
    Bench(
        "export10k",
        run,
        [
            Metric(
                "s",
                "export of 10k memories (zip, deterministic)",
                "s",
                None,
                "≤ 5 s",
                lambda med, _r: med <= 5,
            ),
            Metric(
                "identical",
                "export byte-identical to the first (1 = yes)",
                "",
                None,
                "= 1",
                lambda med, _r: med == 1,
            ),
            Metric("mb", "export size", "MB"),
        ],
        setup=setup,
        teardown=teardown,
    ),
]
