"""The crash-test harness: workloads, running them under `PowerLossIO`, and the checker.

`crash_run` runs a workload on a fresh store with the power cut at call K; `recover_and_check`
writes what the disk would hold, opens the store there with the real backend (minus syncs)
and checks it with `check_store`. Used by tests/core/test_power_loss.py.
"""

from __future__ import annotations

import itertools
import random
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from core import fsio
from core.errors import BrainError, PreconditionFailed
from core.log.hashing import commitment
from core.log.tip import Tip, scan_current
from core.models import TOMBSTONE_STUB, Row
from core.paths import version_paths
from core.store import Store
from core.store_state import READY
from core.verify.mmr import MMR, leaf_hash
from core.write import purge_list
from core.write import writer as writer_mod
from core.write.file_view import read_sidecar
from core.write.intents import Delete, Move
from core.write.planner import Result
from tests.core.powerloss import PowerLossIO, SimulatedCrash


def crash_points(n: int) -> list:
    """Parameters 0..n-1 for a power-loss matrix: the first runs in every lane, the rest are
    marked slow (`./dev test` runs them, `./dev test --fast` does not), so the fast lane still
    crashes each scenario once."""
    return [0, *(pytest.param(i, marks=pytest.mark.slow) for i in range(1, n))]


ACTOR = "human:test@host"
F = "memories/facts"
P = "memories/projects/alpha"
CLOSE_TIMEOUT_S = 20  # longer than any honest wait: past it, a call counts as hung


# -- running a workload under the simulator -------------------------------------------------


@dataclass
class Run:
    root: Path
    sim: PowerLossIO
    store: Store | None = None
    acked: list[Result] = field(default_factory=list)
    k: int | None = None  # the crash point, counted from the first call after init
    calls: int = 0  # backend calls the workload made (after init)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ack(self, results: list[Result]) -> None:
        with self.lock:
            self.acked.extend(r for r in results if r.row is not None)

    def put(self, path: str, body: str, **kw) -> Result:
        assert self.store is not None
        r = self.store.put(path, body, actor=ACTOR, **kw)
        self.ack([r])
        return r

    def move(self, src: str, dst: str) -> None:
        assert self.store is not None
        self.ack([self.store.move(src, dst, actor=ACTOR)])

    def delete(self, path: str, **kw) -> None:
        assert self.store is not None
        self.ack([self.store.delete(path, actor=ACTOR, **kw)])

    def batch(self, intents) -> None:
        assert self.store is not None
        self.ack(self.store.batch(intents, actor=ACTOR))


def _clock():
    c = itertools.count(1_700_000_000_000_000_000, 1_000)
    return lambda: next(c)


def _rng(seed: int):
    r = random.Random(seed)
    return r.randbytes


def open_kw(seed: int = 7) -> dict:
    return {"allow_temp": True, "clock": _clock(), "rng": _rng(seed)}


def single_thread_workload(run: Run) -> None:
    """Puts, overwrites, an idempotent put, moves, tombstones, a batch, put_if, a purge, a
    reopen in the middle, and the final close: all inside the crash range."""
    run.put(f"{F}/a.md", "alpha one\n")
    run.put(f"{F}/b.md", "bee one\n", title="Bee")
    run.put(f"{F}/a.md", "alpha two\n")  # overwrite: the old body moves to versions/
    run.put(f"{F}/a.md", "alpha two\n")  # idempotent: no row
    run.move(f"{F}/b.md", f"{F}/c.md")
    run.put(f"{F}/c.md", "sea two\n")
    run.delete(f"{F}/a.md")  # tombstone
    run.put(f"{F}/a.md", "alpha three\n")  # back after a tombstone
    run.batch(
        [
            Store.put_intent(f"{F}/d.md", "dee one\n"),
            Store.put_intent(f"{F}/e.md", "ee one\n"),
            Move(f"{F}/c.md", f"{F}/sub/c.md"),
            Delete(f"{F}/a.md"),
        ]
    )
    e = run.put(f"{F}/e.md", "ee two\n")
    run.put(f"{F}/e.md", "ee three\n", expect=e.commit)  # put_if that holds
    try:
        run.put(f"{F}/e.md", "ee four\n", expect=e.commit)  # put_if that fails: rejected row
        raise AssertionError("a stale put_if was accepted")
    except PreconditionFailed:
        pass
    assert run.store is not None
    run.ack([run.store.note("session.start", actor=ACTOR)])
    run.store.checkpoint()  # a durable signed note over rows that may not be flushed yet
    run.store.close()
    run.store = Store.open(run.root, **open_kw(8))
    for i in range(6):
        run.put(f"{P}/n{i % 3}.md", f"note {i}\n" * (i + 1))
    run.delete(f"{F}/d.md", mode="purge", reason="user-request")
    run.put(f"{F}/d.md", "dee again\n")
    run.move(f"{P}/n0.md", f"{P}/old/n0.md")
    run.put(f"{F}/sub/c.md", "sea three\n")
    run.store.close()


def two_thread_workload(run: Run) -> None:
    def worker(tag: str) -> None:
        for i in range(8):
            run.put(f"{F}/{tag}{i % 3}.md", f"{tag} {i}\n")
            if i == 4:
                run.delete(f"{F}/{tag}0.md")

    _threads([lambda: worker("x"), lambda: worker("y")])
    assert run.store is not None
    run.store.close()


def _threads(fns) -> None:
    errors: list[BaseException] = []

    def wrap(fn):
        try:
            fn()
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
            errors.append(e)

    ts = [threading.Thread(target=wrap, args=(fn,)) for fn in fns]
    for t in ts:
        t.start()
    for t in ts:
        t.join(CLOSE_TIMEOUT_S)
        assert not t.is_alive(), "a writer call hung after the crash"
    if errors:
        raise errors[0]


def simulated_store(tmp_path: Path, monkeypatch) -> tuple[Path, PowerLossIO, Store]:
    """A new store at tmp_path/store whose every durable call goes through the power-loss
    simulator (root, simulator, store)."""
    # The witness lives outside the store; each run is a different machine's history.
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    root = tmp_path / "store"
    root.mkdir()
    sim = PowerLossIO(root)
    monkeypatch.setattr(fsio, "backend", sim)
    return root, sim, Store.init(root, **open_kw())


def crash_run(tmp_path: Path, monkeypatch, workload, k: int | None) -> Run:
    """Run workload with a crash at call k (counted after init), then tear the store down."""
    root, sim, store = simulated_store(tmp_path, monkeypatch)
    run = Run(root, sim, k=k)
    run.store = store
    sim.arm(k)
    start = sim.calls
    try:
        workload(run)
    except (SimulatedCrash, BrainError):
        if not sim.crashed:
            raise
    run.calls = sim.calls - start
    close_dead(run.store, sim)
    return run


def close_dead(store: Store | None, sim: PowerLossIO) -> None:
    """Tear down a crashed store: close must not hang (it joins the engine's threads)."""
    if store is not None:
        t = threading.Thread(target=lambda: _swallow(store.close), daemon=True)
        t.start()
        t.join(CLOSE_TIMEOUT_S)
        assert not t.is_alive(), "closing a crashed store hung"
    sim.release_fds()


def _swallow(fn) -> None:
    try:
        fn()
    except (SimulatedCrash, BrainError):
        pass


class _NoSyncIO(fsio.RealIO):
    """The real backend minus the syncs: checking the recovered store needs no durability,
    and syncfs on a shared disk flushes everyone's writes."""

    def fdatasync(self, fd: int) -> None:
        pass

    def fsync(self, fd: int) -> None:
        pass

    def syncfs(self, root: str) -> None:
        pass

    def fsync_dir(self, path: str) -> None:
        pass


def _where(run: Run, mode: str) -> str:
    return f"K={run.k} ({run.sim.crash_op or 'no crash'}), {mode}"


def recover_and_check(
    tmp_path: Path, monkeypatch, run: Run, rng: random.Random | None = None
) -> None:
    after = tmp_path / "after"
    run.sim.materialise(after, rng=rng)
    monkeypatch.setattr(fsio, "backend", _NoSyncIO())
    where = _where(run, "partial writeback" if rng else "unsynced dropped")
    store = Store.open(after, **open_kw(9))
    try:
        check_store(store, run.acked, where)
    finally:
        store.close()
    assert (after / "audit" / "journal.wal").stat().st_size == 0, where


# -- the checker ----------------------------------------------------------------------------


@dataclass
class _Mem:
    state: str
    commit: str
    seq: int
    versions: dict[int, str]


def _expected(rows: list[Row]) -> dict[str, _Mem]:
    """Replay the log into what the memory files must say."""
    mems: dict[str, _Mem] = {}
    for row in rows:
        cur = mems.get(row.path)
        if row.op == "put":
            versions = {} if cur is None or cur.state == "purged" else dict(cur.versions)
            if cur is not None and cur.state == "active":
                versions[cur.seq] = cur.commit
            mems[row.path] = _Mem("active", row.commit, row.seq, versions)
        elif row.op == "move":
            src = mems.pop(row.extra["from"])
            mems[row.path] = _Mem(src.state, src.commit, row.seq, src.versions)
        elif row.op == "delete" and row.extra.get("mode") == "tombstone":
            assert cur is not None
            cur.versions[cur.seq] = cur.commit
            mems[row.path] = _Mem("tombstoned", "", row.seq, cur.versions)
        elif row.op == "delete":
            mems[row.path] = _Mem("purged", "", row.seq, {})
    return mems


def check_store(store: Store, acked: list[Result], where: str) -> None:
    state = store.state()
    assert state.state == READY, f"{where}: store is {state.state}: {state.problem}"
    scan = scan_current(store.binlog, Tip())
    assert scan.bad is None and scan.broken is None, f"{where}: {scan.bad} {scan.broken}"
    assert scan.tip.seq == store.tip.seq, where
    rows = [r for r, _p, _o in scan.rows]
    for res in acked:
        assert res.row is not None
        seq = res.row.seq
        assert seq <= len(rows), f"{where}: acknowledged seq {seq} lost (log ends at {len(rows)})"
        assert rows[seq - 1] == res.row, f"{where}: seq {seq} differs from the acknowledged row"

    root = store.root
    pending = bool(purge_list.read(store.layout.purge_pending).seqs)
    mems = _expected(rows)
    for path, m in mems.items():
        side = read_sidecar(root, path)
        assert side is not None, f"{where}: {path} has no sidecar"
        assert (side.state, side.seq, side.commit) == (m.state, m.seq, m.commit), (
            f"{where}: {path}: sidecar says {(side.state, side.seq, side.commit)},"
            f" the log says {(m.state, m.seq, m.commit)}"
        )
        body = root / path
        if m.state == "active":
            assert commitment(bytes.fromhex(side.salt), body.read_bytes()) == m.commit, (
                f"{where}: {path}: body does not match its commitment"
            )
        elif m.state == "tombstoned":
            assert body.read_bytes() == TOMBSTONE_STUB, f"{where}: {path}"
        elif not pending:
            assert not body.exists(), f"{where}: purged {path} still has a body"
        for vseq, vcommit in m.versions.items():
            vbody, _ = version_paths(path, vseq)
            vside = read_sidecar(root, vbody)
            assert vside is not None, f"{where}: version {vseq} of {path} is missing"
            got = commitment(bytes.fromhex(vside.salt), (root / vbody).read_bytes())
            assert vside.commit == vcommit == got, f"{where}: version {vseq} of {path} differs"
    on_disk = {
        str(p.relative_to(root))[: -len(".meta.json")] + ".md"
        for p in (root / "memories").rglob("*.meta.json")
        if not p.name.startswith(".")
    }
    assert on_disk == set(mems), f"{where}: files {sorted(on_disk ^ set(mems))} disagree"
    listed = {m.path for m in store.memories(limit=10_000)}
    assert listed == {p for p, m in mems.items() if m.state != "purged"}, where

    # Still writable, and the derived MMR agrees with the log once a writer has taken over.
    store.put(f"{F}/after-crash.md", "still writable\n", actor=ACTOR)
    payloads = [p for _r, p in store.rows()]
    assert store.mmr.size == len(payloads), where
    assert store.mmr.root() == MMR.root_of([leaf_hash(p) for p in payloads]), where


# -- crash points -------------------------------------------------------------------------


def total_calls(tmp_path_factory, workload, max_hold_s: float = 3600.0) -> int:
    mp = pytest.MonkeyPatch()
    try:
        mp.setattr(writer_mod, "IDLE_RELEASE_S", 3600.0 if max_hold_s > 1 else 0.2)
        mp.setattr(writer_mod, "MAX_HOLD_S", max_hold_s)
        mp.setattr(writer_mod, "JOURNAL_FLUSH_BYTES", 3000)
        return crash_run(tmp_path_factory.mktemp("dry"), mp, workload, None).calls
    finally:
        mp.undo()
