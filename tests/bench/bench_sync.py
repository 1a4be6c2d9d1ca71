"""Sync through a team hub (issue 16, "Targets"), on both hub backends: the embedded SQLite one
and PostgreSQL (a real, durable server: fsync and synchronous commits on).

Each backend's hub is a real `brain hub serve` process on loopback (tests/sync/conftest.py's
HubHandle), started once for the run; every repetition uses orgs of its own.

- synctransfer: user A's store writes 1,000 shareable memories (corpus bodies, untimed), then
  `store.sync.run(push only)` (what `brain sync --push-only` runs) and user B's store
  `run(pull only)`: push wall time, pull-and-import wall time, total (≤ 10 s); every push
  request timed at the client (batches of core.sync.push.PUSH_BATCH; p95 ≤ 50 ms). Baselines
  of the same repetition: the manual way sync replaces, `brain export` of the same 1,000 memories and
  `brain import` into a fresh store (the ratio column of the totals), and the bare
  append+fdatasync loop (memories moved a second against its ops/s; latencies against its p50).
- syncload: N client **processes** (tests/sync/load.py; each its own store and device token, two
  devices per user) write and sync against one hub for a while, then drain; the accounting
  checks that no request failed (429s counted apart; the hub's rate is set so the load is
  legitimate), every pushable memory is at the hub once, every member that may read it imported
  it once (counted by (origin, seq) over its put rows), nobody else did, and every doctor passes.
  `BRAIN_BENCH_SYNC_CLIENTS` (50) and `BRAIN_BENCH_SYNC_LOAD_S` (60; --quick 15) size it.

`./dev bench sync` runs both (`synctransfer`, `syncload` alone).
"""

from __future__ import annotations

import os
import statistics

from core.store import Store
from tests.bench.common import ACTOR, Bench, Ctx, Metric, log, now, pct, scratch
from tests.bench.corpus import Corpus

N = 1000
BACKENDS = ("sqlite", "postgres")
SHORT = {"sqlite": "sqlite", "postgres": "pg"}
LOAD_RATE = 1200  # requests a minute per user for the load run (two devices, ~2 requests/s each)


def _hubs(ctx: Ctx) -> dict:
    """One hub per backend for the whole run (started on first use)."""
    hubs = ctx.shared.get("sync-hubs")
    if hubs is not None:
        return hubs
    from core.sync.hub import admin
    from tests.bench.common import bench_dir
    from tests.sync.conftest import HubHandle, free_port
    from tests.sync.pg_server import PgServer

    os.environ["BRAIN_ALLOW_TEMP_STORE"] = "1"
    hubs = ctx.shared["sync-hubs"] = {}
    for backend in BACKENDS:
        db = None
        if backend == "postgres":
            pg = PgServer(durable=True).start()
            ctx.shared["sync-pg"] = pg
            db = pg.new_database()
        folder = bench_dir() / f"synchub-{os.getpid()}-{backend}"
        admin.init(folder, db)
        h = HubHandle(folder, db, free_port(), rate=LOAD_RATE)
        h.start()
        hubs[backend] = h
        log(f"sync: {backend} hub at {h.url}")
    return hubs


def teardown(ctx: Ctx) -> None:
    import shutil

    for h in ctx.shared.pop("sync-hubs", {}).values():
        h.stop()
        shutil.rmtree(h.folder, ignore_errors=True)
    pg = ctx.shared.pop("sync-pg", None)
    if pg is not None:
        pg.stop()


def _memories(ctx: Ctx) -> list:
    mems = ctx.shared.get("sync-corpus")
    if mems is None:
        mems = ctx.shared["sync-corpus"] = Corpus(seed=16).memories(N)
    return mems


def _write(store: Store, mems: list) -> None:
    for start in range(0, len(mems), 500):
        store.batch(
            [
                Store.put_intent(
                    m.path, m.body, tags=m.tags, category=m.category, sync_class="shareable"
                )
                for m in mems[start : start + 500]
            ],
            ACTOR,
        )


def _note(ctx: Ctx, msg: str) -> None:
    log(f"sync: {msg}")
    ctx.shared.setdefault("notes", []).append(msg)


# -- synctransfer ---------------------------------------------------------------------------


def _manual(ctx: Ctx) -> float:
    """export + import of the same memories: what a person did before sync."""
    mems = _memories(ctx)
    with scratch("sync-manual") as d:
        a = Store.init(d / "a", allow_temp=True)
        c = Store.init(d / "c", allow_temp=True)
        try:
            _write(a, mems)
            t0 = now()
            a.export(d / "a.zip")
            res = c.import_(d / "a.zip", actor=ACTOR)
            took = now() - t0
            if len(res.written) != N:
                _note(ctx, f"manual import wrote {len(res.written)} of {N}")
        finally:
            a.close()
            c.close()
    return took


def _transfer(ctx: Ctx, backend: str) -> dict[str, float]:
    from tests.sync.load import Timed

    hub = _hubs(ctx)[backend]
    org = f"xfer{ctx.rep}"
    mems = _memories(ctx)
    with scratch(f"sync-{backend}") as d:
        a = Store.init(d / "a", allow_temp=True)
        b = Store.init(d / "b", allow_temp=True)
        timed = Timed()
        try:
            _write(a, mems)
            a.sync.join(hub.url, hub.token(org, "ana", device=f"ana{ctx.rep}"), mode="manual")
            b.sync.join(hub.url, hub.token(org, "bob", device=f"bob{ctx.rep}"), mode="manual")
            timed.install()
            t0 = now()
            rp = a.sync.run(push=True, pull=False)
            t1 = now()
            rq = b.sync.run(push=False, pull=True)
            t2 = now()
        finally:
            timed.uninstall()
            a.close()
            b.close()
    if rp.errors or rq.errors or rp.pushed != N or rq.imported != N:
        _note(
            ctx,
            f"{backend} transfer rep {ctx.rep}: pushed {rp.pushed}, imported {rq.imported}"
            f" of {N}; errors {rp.errors + rq.errors}",
        )
    push = sorted(s for r, s, st in timed.records if r == "push" and st == 200)
    pull = sorted(s for r, s, st in timed.records if r == "pull" and st == 200)
    k = SHORT[backend]
    return {
        f"push_s_{k}": t1 - t0,
        f"pull_s_{k}": t2 - t1,
        f"total_s_{k}": t2 - t0,
        f"rate_{k}": N / (t2 - t0),
        f"push_p50_{k}": pct(push, 50) * 1e6,
        f"push_p95_{k}": pct(push, 95) * 1e6,
        f"push_n_{k}": float(len(push)),
        f"pull_p95_{k}": pct(pull, 95) * 1e6,
    }


def transfer_run(ctx: Ctx) -> dict[str, float]:
    _hubs(ctx)
    order = BACKENDS if ctx.rep % 2 == 0 else BACKENDS[::-1]  # neither always goes first
    res: dict[str, float] = {"manual_s": _manual(ctx)}
    for backend in order:
        res.update(_transfer(ctx, backend))
    return res


def _transfer_metrics() -> list[Metric]:
    out = [Metric("manual_s", "manual: export + import 1,000 memories", "s")]
    for b, k in SHORT.items():
        out += [
            Metric(f"push_s_{k}", f"{b}: push 1,000 (A)", "s"),
            Metric(f"pull_s_{k}", f"{b}: pull + import 1,000 (B)", "s"),
            Metric(
                f"total_s_{k}",
                f"{b}: A→B total",
                "s",
                goal="≤ 10 s",
                check=lambda m, _r: m <= 10.0,
                pair="manual_s",
                pair_label="(manual)",
            ),
            Metric(f"rate_{k}", f"{b}: memories moved a second", "ops/s", base="ops"),
            Metric(f"push_n_{k}", f"{b}: push requests", ""),
            Metric(f"push_p50_{k}", f"{b}: push request p50", "µs", base="p50"),
            Metric(
                f"push_p95_{k}",
                f"{b}: push request p95",
                "µs",
                base="p50",
                goal="≤ 50 ms",
                check=lambda m, _r: m <= 50_000,
            ),
            Metric(f"pull_p95_{k}", f"{b}: pull request p95", "µs", base="p50"),
        ]
    return out


# -- syncload -------------------------------------------------------------------------------


def load_run(ctx: Ctx) -> dict[str, float]:
    from tests.sync.load import run_load

    clients = int(os.environ.get("BRAIN_BENCH_SYNC_CLIENTS", "50"))
    secs = float(os.environ.get("BRAIN_BENCH_SYNC_LOAD_S", "15" if ctx.quick else "60"))
    hubs = _hubs(ctx)
    order = BACKENDS if ctx.rep % 2 == 0 else BACKENDS[::-1]
    res: dict[str, float] = {}
    for backend in order:
        k = SHORT[backend]
        with scratch(f"syncload-{backend}") as d:
            r = run_load(hubs[backend], d, clients, secs, org=f"load{ctx.rep}")
        push, pull = sorted(r.push_lat), sorted(r.pull_lat)
        log(
            f"sync load {backend}: {r.clients} clients {r.duration_s:.0f} s (+{r.drain_s:.0f} s"
            f" drain): {r.pushes} pushes, {r.pulls} pulls, {r.memories_written} written,"
            f" {r.at_hub} at the hub, {r.moved} imported; errors {len(r.errors)}, 429s"
            f" {r.limited}, duplicates {r.duplicates}, lost {r.lost}, unexpected {r.unexpected},"
            f" doctors failing {len(r.doctor_failing)}"
        )
        if not r.ok:
            _note(
                ctx,
                f"{backend} load rep {ctx.rep}: errors {r.errors[:3]}, duplicates"
                f" {r.duplicates}, lost {r.lost}, unexpected {r.unexpected}, doctors"
                f" {r.doctor_failing[:3]}",
            )
        res.update(
            {
                f"clients_{k}": float(r.clients),
                f"secs_{k}": r.duration_s,
                f"drain_{k}": r.drain_s,
                f"pushes_{k}": float(r.pushes),
                f"pulls_{k}": float(r.pulls),
                f"written_{k}": float(r.memories_written),
                f"moved_{k}": float(r.moved),
                f"errors_{k}": float(len(r.errors)),
                f"limited_{k}": float(r.limited),
                f"dups_{k}": float(r.duplicates),
                f"lost_{k}": float(r.lost + r.unexpected),
                f"doctor_{k}": float(len(r.doctor_failing)),
                f"lpush_p50_{k}": pct(push, 50) * 1e6,
                f"lpush_p95_{k}": pct(push, 95) * 1e6,
                f"lpull_p50_{k}": pct(pull, 50) * 1e6,
                f"lpull_p95_{k}": pct(pull, 95) * 1e6,
                f"passes_s_{k}": (r.pushes + r.pulls) / r.duration_s if r.duration_s else 0.0,
            }
        )
        if push:
            log(f"  push latency median {statistics.median(push) * 1e3:.1f} ms")
    return res


def _zero(m: float, _r: float | None) -> bool:
    return m == 0


def _load_metrics() -> list[Metric]:
    out = []
    for b, k in SHORT.items():
        out += [
            Metric(f"clients_{k}", f"{b} load: clients (processes)", ""),
            Metric(f"secs_{k}", f"{b} load: writing for", "s"),
            Metric(f"drain_{k}", f"{b} load: drain after it", "s"),
            Metric(f"pushes_{k}", f"{b} load: push requests", ""),
            Metric(f"pulls_{k}", f"{b} load: pull requests", ""),
            Metric(f"written_{k}", f"{b} load: memories written", ""),
            Metric(f"moved_{k}", f"{b} load: memories imported (all stores)", ""),
            Metric(
                f"errors_{k}",
                f"{b} load: failed requests/passes (not 429)",
                "",
                goal="0",
                check=_zero,
            ),
            Metric(f"limited_{k}", f"{b} load: 429 answers", ""),
            Metric(f"dups_{k}", f"{b} load: duplicates", "", goal="0", check=_zero),
            Metric(f"lost_{k}", f"{b} load: lost or misrouted", "", goal="0", check=_zero),
            Metric(f"doctor_{k}", f"{b} load: doctors failing", "", goal="0", check=_zero),
            Metric(f"passes_s_{k}", f"{b} load: requests answered a second", ""),
            Metric(f"lpush_p50_{k}", f"{b} load: push request p50", "µs", base="p50"),
            Metric(f"lpush_p95_{k}", f"{b} load: push request p95", "µs", base="p50"),
            Metric(f"lpull_p50_{k}", f"{b} load: pull request p50", "µs", base="p50"),
            Metric(f"lpull_p95_{k}", f"{b} load: pull request p95", "µs", base="p50"),
        ]
    return out


BENCHES = [
    Bench("synctransfer", transfer_run, _transfer_metrics(), teardown=teardown),
    Bench("syncload", load_run, _load_metrics(), teardown=teardown),
]
GROUPS = {"sync": ["synctransfer", "syncload"]}
