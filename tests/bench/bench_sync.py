"""`./dev bench sync`: 1,000 shareable memories from one user to another through a hub on
loopback (issue 16 targets: ≤ 10 s end to end; push p95 ≤ 50 ms per batched request).

One hub server process (embedded storage) for the whole run; every repetition makes two fresh
stores (ana's and bob's, new devices), writes the memories in ana's, then times ana's push
pass and bob's pull pass. Each push request's round trip is timed around the client's call.
"""

from __future__ import annotations

import shutil
import time

from core.store import Store
from core.sync import client
from core.sync.hub import admin
from core.write.intents import Put
from tests.bench.common import ACTOR, Bench, Ctx, Metric, bench_dir, log, now, pct
from tests.sync.conftest import HubHandle, free_port

N = 1000
ORG = "bench"


def setup(ctx: Ctx) -> None:
    folder = bench_dir() / "sync-hub"
    shutil.rmtree(folder, ignore_errors=True)
    admin.init(folder, None)
    hub = HubHandle(folder, None, free_port(), rate=100_000)
    hub.start()
    ctx.shared["sync-hub"] = hub
    log(f"sync: hub at {hub.url}")


def run(ctx: Ctx) -> dict[str, float]:
    hub: HubHandle = ctx.shared["sync-hub"]
    n = ctx.n(N, 300)
    base = bench_dir() / f"sync-{ctx.rep}"
    shutil.rmtree(base, ignore_errors=True)
    stores = []
    try:
        for user in ("ana", "bob"):
            s = Store.init(base / user, allow_temp=True)
            stores.append(s)
            device = f"{user}-{ctx.rep}-{time.time_ns()}"
            s.sync.join(hub.url, hub.token(ORG, user, device=device), mode="manual")
        ana, bob = stores
        for start in range(0, n, 500):
            ana.batch(
                [
                    Put(
                        f"memories/facts/m{i:05d}.md",
                        f"memory {i}\n".encode(),
                        sync_class="shareable",
                    )
                    for i in range(start, min(n, start + 500))
                ],
                ACTOR,
            )
        times: list[float] = []
        orig = client.HubClient.push

        def timed(self, req):
            t = now()
            try:
                return orig(self, req)
            finally:
                times.append(now() - t)

        client.HubClient.push = timed  # type: ignore[method-assign]
        try:
            t0 = now()
            pushed = ana.sync.run(pull=False)
            t1 = now()
            pulled = bob.sync.run(push=False)
            t2 = now()
        finally:
            client.HubClient.push = orig  # type: ignore[method-assign]
        assert pushed.ok and pulled.ok and pushed.pushed == n and pulled.imported == n
        times.sort()
        return {
            "s": t2 - t0,
            "push_s": t1 - t0,
            "pull_s": t2 - t1,
            "push_p95_ms": pct(times, 95) * 1000,
            "batches": float(len(times)),
        }
    finally:
        for s in stores:
            s.close()
        shutil.rmtree(base, ignore_errors=True)


def teardown(ctx: Ctx) -> None:
    hub = ctx.shared.pop("sync-hub", None)
    if hub is not None:
        hub.stop()


BENCHES = [
    Bench(
        "sync",
        run,
        [
            Metric(
                "s",
                "1,000 shareable memories user → user via the hub",
                "s",
                None,
                "≤ 10 s",
                lambda med, _r: med <= 10,
            ),
            Metric("push_s", "  of which the push pass", "s"),
            Metric("pull_s", "  of which the pull pass (verify + write)", "s"),
            Metric(
                "push_p95_ms",
                "push request p95 (500 envelopes a batch)",
                "ms",
                None,
                "≤ 50 ms",
                lambda med, _r: med <= 50,
            ),
            Metric("batches", "push requests", ""),
        ],
        setup=setup,
        teardown=teardown,
    ),
]
