"""Many clients syncing against one hub at once, and the accounting that proves nothing was lost
or doubled (issue 16, "Targets"; `./dev bench sync` and tests/sync/test_sync_load.py).

Each client is its own **process** (`python -m tests.sync.load client …`) with its own store and
device token: devices `d00`, `d01`, … belong to users `u00`, `u00`, `u01`, `u01`, … (two devices a
user, so `personal` memories have somewhere to go). Until the deadline a client loops: write one
memory (classes cycle shareable, shareable, personal, private), run a full pass (push, then
pull), sleep `pause_s` ±50 %. Then it drains: push-only passes until its outbox holds nothing
pending; it says so (a `pushed` file) and waits for the driver's `go` file (every client has
pushed), then pulls until a pass brings nothing, runs the doctor and writes what it saw as JSON.

The driver (`run_load`) starts the clients, waits, and checks (`account`):
- the hub holds every pushable memory each client wrote exactly once (read straight from the
  hub's storage), and no private one;
- every store imported exactly the memories it may read (shareable from everyone else, personal
  from its sibling device), each once, counted by `(origin, seq)` over its put rows;
- no request failed other than 429s (counted apart), every store's doctor passes.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
ORG = "loadorg"
ACTOR = "human:load@bench"
CLASSES = ("shareable", "shareable", "personal", "private")
PUSHABLE = ("shareable", "personal")


def device_name(i: int) -> str:
    return f"d{i:02d}"


def user_of(i: int) -> str:
    return f"u{i // 2:02d}"


# -- one client (a process of its own) ------------------------------------------------------


class Timed:
    """Wraps HubClient.request in this process: every request's wall time, route and outcome."""

    def __init__(self) -> None:
        self.records: list[tuple[str, float, int]] = []  # (route, seconds, 200 | 429 | -1)
        self._orig: Any = None
        self._name = "request"

    def uninstall(self) -> None:
        from core.sync import client

        if self._orig is not None:
            setattr(client.HubClient, self._name, self._orig)
            self._orig = None

    def install(self) -> None:
        from core.sync import client

        # One HTTP exchange: the client waits out short 429s around it (HubClient.request).
        self._name = "_request_once" if hasattr(client.HubClient, "_request_once") else "request"
        orig = self._orig = getattr(client.HubClient, self._name)
        records = self.records

        def request(self_, method: str, route: str, body: bytes | None = None) -> bytes:
            name = route.split("?", 1)[0]
            t0 = time.perf_counter()
            try:
                data = orig(self_, method, route, body)
            except client.RateLimited:
                records.append((name, time.perf_counter() - t0, 429))
                raise
            except client.SyncError:
                records.append((name, time.perf_counter() - t0, -1))
                raise
            records.append((name, time.perf_counter() - t0, 200))
            return data

        setattr(client.HubClient, self._name, request)


def client_main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--hub", required=True)
    ap.add_argument("--token-file", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--start", required=True, help="file the driver writes the end time to")
    ap.add_argument("--pause", type=float, default=1.0)
    ap.add_argument("--go", required=True, help="file the driver creates when all have pushed")
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)

    from core.store import Store
    from tests.bench.corpus import Corpus

    timed = Timed()
    timed.install()
    rng = random.Random(a.name)
    corpus = Corpus(seed=int(a.name[1:]) + 100)
    store = Store.init(Path(a.root), allow_temp=True)
    store.sync.join(a.hub, Path(a.token_file).read_text().strip(), mode="manual")
    Path(a.out + ".ready").write_text("1")
    while not Path(a.start).exists():  # every client is up: the clock starts for all at once
        time.sleep(0.05)
    until = float(Path(a.start).read_text())
    written: list[tuple[int, str, str]] = []  # (seq, path, class)
    passes = {"full": 0, "push": 0, "pull": 0}
    errors: list[str] = []
    limited = 0

    def one_pass(push: bool, pull: bool) -> object:
        nonlocal limited
        rep = store.sync.run(push=push, pull=pull)
        key = "full" if push and pull else ("push" if push else "pull")
        passes[key] += 1
        for e in rep.errors:
            if "rate limiting" in e:
                limited += 1
            else:
                errors.append(e)
        if rep.retry_after_s:
            time.sleep(min(rep.retry_after_s, 5.0))
        return rep

    i = 0
    while time.time() < until:
        cls = CLASSES[i % len(CLASSES)]
        path = f"memories/facts/load-{a.name}/n{i:05d}.md"
        m = corpus.memory(i)
        res = store.put(path, m.body, actor=ACTOR, sync_class=cls, tags=m.tags)
        written.append((res.seq, path, cls))
        i += 1
        one_pass(True, True)
        time.sleep(a.pause * rng.uniform(0.5, 1.5))

    # Drain: push until nothing is left to send, then wait for everyone else's pushes.
    for _ in range(200):
        one_pass(True, False)
        out = store.sync.status().outbox
        if not out.get("pending-push") and not out.get("pushed"):
            break
    Path(a.out + ".pushed").write_text("1")
    while not Path(a.go).exists():
        time.sleep(0.1)
    for _ in range(200):
        rep = one_pass(False, True)
        if not rep.errors and not rep.pulled:  # type: ignore[attr-defined]
            break

    imported: Counter[tuple[str, int]] = Counter()
    seq = 1
    while True:
        rows = store.tail(seq, 1000)
        if not rows:
            break
        for r in rows:
            came = r.extra.get("imported_from") if r.op == "put" else None
            if isinstance(came, dict):
                imported[(str(came["store"]), int(came["seq"]))] += 1
        seq = rows[-1].seq + 1
    report = store.doctor()
    bad = [(r.id, r.status, r.detail) for r in report.failing()]
    status = store.sync.status()
    if status.outbox.get("refused"):
        errors.append(f"{status.outbox['refused']} memories refused by the hub")
    result = {
        "name": a.name,
        "store": store.manifest.store_id,
        "written": written,
        "imported": [[o, s, n] for (o, s), n in imported.items()],
        "passes": passes,
        "errors": errors,
        "limited": limited,
        "requests": timed.records,
        "doctor": report.state,
        "doctor_failing": bad,
        "outbox": status.outbox,
        "inbox": status.inbox,
    }
    store.close()
    tmp = Path(a.out + ".tmp")
    tmp.write_text(json.dumps(result))
    tmp.replace(a.out)
    return 0


# -- the driver -----------------------------------------------------------------------------


@dataclass
class LoadResult:
    clients: int
    duration_s: float  # the writing phase
    drain_s: float  # from the deadline until every client finished
    pushes: int = 0  # push requests answered
    pulls: int = 0  # pull requests answered
    memories_written: int = 0
    pushable: int = 0
    at_hub: int = 0
    moved: int = 0  # memories imported, all stores together
    errors: list[str] = field(default_factory=list)  # requests or passes that failed (not 429)
    limited: int = 0  # 429 answers (HTTP exchanges; the client waits short ones out)
    duplicates: int = 0  # (origin, seq) held twice: at the hub or in a store
    lost: int = 0  # pushable memories not at the hub, or not imported where they should be
    unexpected: int = 0  # imported where it should not be (private, another user's personal)
    doctor_failing: list[str] = field(default_factory=list)
    push_lat: list[float] = field(default_factory=list)  # seconds, every push request
    pull_lat: list[float] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (
            self.errors or self.duplicates or self.lost or self.unexpected or self.doctor_failing
        )


def _env() -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO), BRAIN_ALLOW_TEMP_STORE="1")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    for k in ("BRAIN_PASSPHRASE", "CYBEROS_BRAIN_HOME", "BRAIN_ACTOR"):
        env.pop(k, None)
    return env


def run_load(
    hub,
    work: Path,
    clients: int,
    duration_s: float,
    pause_s: float = 1.0,
    timeout_s: float = 900,
    org: str = ORG,
) -> LoadResult:
    """`hub`: a tests.sync.conftest.HubHandle, started. Returns the accounting."""
    work.mkdir(parents=True, exist_ok=True)
    go, start_file = work / "go", work / "start"
    procs = []
    outs = []
    for i in range(clients):
        name = device_name(i)
        tok = work / f"{name}.token"
        tok.write_text(hub.token(org, user_of(i), device=name))
        out = work / f"{name}.json"
        outs.append(out)
        cmd = [sys.executable, "-m", "tests.sync.load", "client", "--root", str(work / name)]
        cmd += ["--hub", hub.url, "--token-file", str(tok), "--name", name]
        cmd += ["--start", str(start_file), "--pause", str(pause_s), "--go", str(go)]
        cmd += ["--out", str(out)]
        log = (work / f"{name}.log").open("wb")
        procs.append(subprocess.Popen(cmd, env=_env(), cwd=REPO, stdout=log, stderr=log))
        log.close()
    deadline = time.time() + duration_s + timeout_s
    try:
        while not all(Path(str(o) + ".ready").exists() for o in outs):
            _check_alive(procs, work)
            if time.time() > deadline:
                raise RuntimeError("the clients did not start in time")
            time.sleep(0.1)
        until = time.time() + duration_s
        tmp = work / "start.tmp"
        tmp.write_text(repr(until))
        tmp.replace(start_file)
        while not all(Path(str(o) + ".pushed").exists() for o in outs):
            _check_alive(procs, work)
            if time.time() > deadline:
                raise RuntimeError("the clients did not finish pushing in time")
            time.sleep(0.2)
        go.write_text("1")
        for p in procs:
            p.wait(timeout=max(1.0, deadline - time.time()))
        _check_alive(procs, work)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    drain = time.time() - until
    results = [json.loads(o.read_text()) for o in outs]
    res = account(hub, results, org)
    res.duration_s = duration_s
    res.drain_s = drain
    return res


def _check_alive(procs, work: Path) -> None:
    for i, p in enumerate(procs):
        if p.poll() not in (None, 0):
            log = (work / f"{device_name(i)}.log").read_text()[-3000:]
            raise RuntimeError(f"client {device_name(i)} exited with {p.returncode}:\n{log}")


def hub_items(hub, org: str = ORG) -> Counter[tuple[str, int]]:
    """Every envelope the hub holds for ORG, counted by (origin, seq) over distinct cursors."""
    from core.sync.hub import admin
    from core.sync.hub.storage import Scope

    storage = admin.open_storage(hub.folder, hub.db_url)
    try:
        seen: dict[int, tuple[str, int]] = {}
        for u in storage.list_users(org):
            after = 0
            while True:
                items, cursor = storage.read(org, Scope(u.name, "", True), after, 1000)
                for it in items:
                    if it.kind == "envelope":
                        seen[it.cursor] = (it.origin, it.seq)
                if not items and cursor <= after:
                    break
                after = cursor
    finally:
        storage.close()
    return Counter(seen.values())


def account(hub, results: list[dict], org: str = ORG) -> LoadResult:
    res = LoadResult(clients=len(results), duration_s=0.0, drain_s=0.0)
    held = hub_items(hub, org)
    res.at_hub = sum(held.values())
    res.duplicates += sum(n - 1 for n in held.values() if n > 1)
    by_store = {r["store"]: r for r in results}
    owner = {r["store"]: user_of(int(r["name"][1:])) for r in results}
    for r in results:
        res.memories_written += len(r["written"])
        res.errors += [f"{r['name']}: {e}" for e in r["errors"]]
        for route, secs, status in r["requests"]:
            res.limited += status == 429
            if status == 200 and route == "push":
                res.pushes += 1
                res.push_lat.append(secs)
            elif status == 200 and route == "pull":
                res.pulls += 1
                res.pull_lat.append(secs)
        if r["doctor"] != "READY" or r["doctor_failing"]:
            res.doctor_failing.append(f"{r['name']}: {r['doctor']} {r['doctor_failing']}")
        for seq, _path, cls in r["written"]:
            key = (r["store"], seq)
            if cls in PUSHABLE:
                res.pushable += 1
                if held[key] == 0:
                    res.lost += 1
            elif held[key]:
                res.unexpected += 1  # a private memory at the hub
    for r in results:
        got = Counter({(o, s): n for o, s, n in r["imported"]})
        res.moved += sum(got.values())
        res.duplicates += sum(n - 1 for n in got.values() if n > 1)
        me = r["store"]
        for other in results:
            if other["store"] == me:
                continue
            same_user = owner[other["store"]] == owner[me]
            for seq, _path, cls in other["written"]:
                should = cls == "shareable" or (cls == "personal" and same_user)
                has = got.get((other["store"], seq), 0) > 0
                if should and not has:
                    res.lost += 1
                elif has and not should:
                    res.unexpected += 1
        for o, _s in got:
            if o not in by_store:
                res.unexpected += 1
    return res


if __name__ == "__main__":
    if sys.argv[1:2] == ["client"]:
        sys.exit(client_main(sys.argv[2:]))
    sys.exit("usage: python -m tests.sync.load client …")
