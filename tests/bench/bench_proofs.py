"""Merkle proofs at 10^6 leaves and checkpoint signing (issue 3's targets).

The MMR node file is built once from synthetic leaves (proof cost does not depend on what the
leaves hash) and cached; signing is measured on a real store, durable note write included.
"""

from __future__ import annotations

import os
import random

from core.store import Store
from core.verify import proofs, signed_note
from core.verify.mmr import MMR
from tests.bench.common import ACTOR, Bench, Ctx, Metric, bench_dir, log, now, pct, scratch

LEAVES = 1_000_000


def setup(ctx: Ctx) -> None:
    path = bench_dir() / "mmr-1m.nodes"
    if ctx.rebuild or not path.exists():
        path.unlink(missing_ok=True)
        log(f"building a {LEAVES:,}-leaf node file (cached) ...")
        mmr = MMR.open(path)
        for start in range(0, LEAVES, 10_000):
            mmr.append([proofs.leaf_hash(b"row %d" % i) for i in range(start, start + 10_000)])
        mmr.close()
    ctx.shared["mmr"] = MMR.open(path, readonly=True)


def teardown(ctx: Ctx) -> None:
    mmr = ctx.shared.pop("mmr", None)
    if mmr is not None:
        mmr.close()


def run(ctx: Ctx) -> dict[str, float]:
    mmr: MMR = ctx.shared["mmr"]
    rnd = random.Random(ctx.rep)
    n = ctx.n(2000, 500)
    gen, ver, cgen, cver = [], [], [], []
    root = mmr.root(LEAVES)
    for _ in range(n):
        i = rnd.randrange(LEAVES)
        t = now()
        p = mmr.inclusion_proof(i, LEAVES)
        gen.append(now() - t)
        leaf = mmr.leaf(i)
        t = now()
        proofs.verify_inclusion(i, LEAVES, leaf, p, root)
        ver.append(now() - t)
        old = rnd.randrange(1, LEAVES)
        t = now()
        c = mmr.consistency_proof(old, LEAVES)
        cgen.append(now() - t)
        r1 = mmr.root(old)
        t = now()
        proofs.verify_consistency(old, LEAVES, c, r1, root)
        cver.append(now() - t)
    out = {}
    for key, xs in (("gen", gen), ("ver", ver), ("cgen", cgen), ("cver", cver)):
        xs.sort()
        out[key] = pct(xs, 50) * 1e6
    out["sign"] = _sign(ctx)
    return out


def _sign(ctx: Ctx) -> float:
    """p50 of store.checkpoint() after one put each: signing plus the durable note and row."""
    os.environ.setdefault("XDG_STATE_HOME", str(bench_dir() / "xdg-state"))
    with scratch("sign") as root, Store.init(root, allow_temp=True) as store:
        times = []
        for i in range(ctx.n(200, 50)):
            store.put(f"memories/facts/f{i}.md", f"fact {i}\n", actor=ACTOR)
            t = now()
            note = store.checkpoint()
            times.append(now() - t)
        assert signed_note.parse_note(note)[0].size > 0
    times.sort()
    return pct(times, 50) * 1e3


def _le(limit):
    return lambda med, _r: med <= limit


BENCHES = [
    Bench(
        "proofs",
        run,
        [
            Metric(
                "gen", "inclusion proof build p50, 10^6 leaves", "µs", None, "≤ 100 µs", _le(100)
            ),
            Metric(
                "ver", "inclusion proof verify p50, 10^6 leaves", "µs", None, "≤ 50 µs", _le(50)
            ),
            Metric(
                "cgen", "consistency proof build p50, 10^6 leaves", "µs", None, "≤ 100 µs", _le(100)
            ),
            Metric(
                "cver", "consistency proof verify p50, 10^6 leaves", "µs", None, "≤ 50 µs", _le(50)
            ),
            Metric(
                "sign", "checkpoint incl. durable note + row, p50", "ms", None, "≤ 1 ms", _le(1)
            ),
        ],
        setup=setup,
        teardown=teardown,
    )
]
