"""Power-loss tests: crash the engine at a chosen fsio call and check what survives.

The simulator (tests/core/powerloss.py) replaces `core.fsio.backend`, counts every durable-I/O
call and at call K raises `SimulatedCrash`; the tree a power loss would leave is written to a
fresh folder, the real backend is restored and the store is opened there. Every acknowledged
write must be in the log with the same row (commitment and chain), the chain must verify from
genesis, the memory files must agree with the log (every put's body still checkable against
its commitment, current or as a version), the journal must end empty, and the store must be
READY and writable with a Merkle tree that matches its log.

Variants: K sampled over a deterministic single-thread workload with every unsynced write
dropped (the main sweep) and with a partial writeback; two producer threads with real release
timers; a second power loss during recovery; regression tests for engine bugs this found; the
simulator's own tests; and a meta-test proving the sweep fails without the commit point's sync.

Not modelled: `index/` (SQLite does its own I/O outside fsio, so it is treated as volatile:
left out of every post-crash tree and rebuilt by the engine; its syncs are turned off here),
the `.lock` file and the access journal (neither carries durability). Reads bypass fsio.

Determinism: for the single-thread workload the writer's idle/hold release timers are pushed
out of reach and the journal flushes by size every few groups, so its call sequence is the same
every run and a failing K reproduces (the message names K and the call it cut).
"""

from __future__ import annotations

import itertools
import os
import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from core import fsio
from core import writer as writer_mod
from core.errors import BrainError, PreconditionFailed
from core.hashing import commitment
from core.intents import Delete, Move
from core.journal import Journal
from core.ledger_state import Tip, scan_current
from core.mmr import MMR, leaf_hash
from core.models import TOMBSTONE_STUB, Row
from core.paths import version_paths
from core.planner import Result
from core.state_view import read_sidecar
from core.store import Store
from core.store_state import READY
from core.writer import read_pending_purges
from tests.core.powerloss import PowerLossIO, SimulatedCrash

ACTOR = "human:test@host"
F = "memories/facts"
P = "memories/projects/alpha"
N_STRICT = 150  # crash points sampled over the single-thread workload, drop-all-unsynced model
N_PARTIAL = 40  # the same workload, partial-writeback model
N_THREADS = 12  # two writer threads (timing-dependent call order)
N_DOUBLE = 16  # a second power loss during recovery
CLOSE_TIMEOUT_S = 20


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


def _open_kw(seed: int = 7) -> dict:
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
    run.store = Store.open(run.root, **_open_kw(8))
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


@pytest.fixture(autouse=True)
def volatile_index(monkeypatch):
    """index/ is volatile in this model (dropped at every crash), so its SQLite need not sync:
    on a busy disk its fsyncs were most of this module's run time."""
    import core.index

    real = core.index.connect

    def connect(path: str, **kw):
        conn = real(path, **kw)
        conn.execute("PRAGMA synchronous = OFF")
        return conn

    monkeypatch.setattr(core.index, "connect", connect)


@pytest.fixture
def deterministic_writer(monkeypatch):
    """Release timers out of reach; flush by journal size every few groups instead."""
    monkeypatch.setattr(writer_mod, "IDLE_RELEASE_S", 3600.0)
    monkeypatch.setattr(writer_mod, "MAX_HOLD_S", 3600.0)
    monkeypatch.setattr(writer_mod, "JOURNAL_FLUSH_BYTES", 3000)


@pytest.fixture
def quiet_crash_threads(monkeypatch):
    """A SimulatedCrash that ends the writer thread is expected: don't report it."""
    prev = threading.excepthook

    def hook(args):
        if not issubclass(args.exc_type, SimulatedCrash):
            prev(args)

    monkeypatch.setattr(threading, "excepthook", hook)


def crash_run(tmp_path: Path, monkeypatch, workload, k: int | None) -> Run:
    """Run workload with a crash at call k (counted after init), then tear the store down."""
    # The witness lives outside the store; each run is a different machine's history.
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    root = tmp_path / "store"
    root.mkdir()
    sim = PowerLossIO(root)
    monkeypatch.setattr(fsio, "backend", sim)
    run = Run(root, sim, k=k)
    run.store = Store.init(root, **_open_kw())
    sim.arm(k)
    start = sim.calls
    try:
        workload(run)
    except (SimulatedCrash, BrainError):
        if not sim.crashed:
            raise
    run.calls = sim.calls - start
    _close_dead(run.store, sim)
    return run


def _close_dead(store: Store | None, sim: PowerLossIO) -> None:
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
    store = Store.open(after, **_open_kw(9))
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
    pending = bool(read_pending_purges(store.layout))
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


# -- crash points ---------------------------------------------------------------------------


def _total_calls(tmp_path_factory, workload, max_hold_s: float = 3600.0) -> int:
    mp = pytest.MonkeyPatch()
    try:
        mp.setattr(writer_mod, "IDLE_RELEASE_S", 3600.0 if max_hold_s > 1 else 0.2)
        mp.setattr(writer_mod, "MAX_HOLD_S", max_hold_s)
        mp.setattr(writer_mod, "JOURNAL_FLUSH_BYTES", 3000)
        return crash_run(tmp_path_factory.mktemp("dry"), mp, workload, None).calls
    finally:
        mp.undo()


@pytest.fixture(scope="module")
def single_points(tmp_path_factory) -> list[int]:
    total = _total_calls(tmp_path_factory, single_thread_workload)
    ks = list(range(1, total + 2))  # total + 1: no crash at all
    return sorted(random.Random(20240607).sample(ks, min(N_STRICT, len(ks))))


def test_workload_is_deterministic(tmp_path_factory, single_points):
    """Same call count twice: a failing K reproduces."""
    a = _total_calls(tmp_path_factory, single_thread_workload)
    b = _total_calls(tmp_path_factory, single_thread_workload)
    assert a == b and a > 300


@pytest.mark.parametrize("i", range(N_STRICT))
def test_crash_drop_unsynced(
    i, single_points, tmp_path, monkeypatch, deterministic_writer, quiet_crash_threads
):
    run = crash_run(tmp_path, monkeypatch, single_thread_workload, single_points[i])
    recover_and_check(tmp_path, monkeypatch, run)


@pytest.mark.parametrize("i", range(N_PARTIAL))
def test_crash_partial_writeback(
    i, single_points, tmp_path, monkeypatch, deterministic_writer, quiet_crash_threads
):
    k = random.Random(1000).sample(single_points, N_PARTIAL)[i]
    run = crash_run(tmp_path, monkeypatch, single_thread_workload, k)
    recover_and_check(tmp_path, monkeypatch, run, rng=random.Random(i))


@pytest.fixture(scope="module")
def two_thread_total(tmp_path_factory) -> int:
    return _total_calls(tmp_path_factory, two_thread_workload, max_hold_s=0.005)


@pytest.mark.parametrize("i", range(N_THREADS))
def test_crash_two_threads(i, two_thread_total, tmp_path, monkeypatch, quiet_crash_threads):
    """Real idle timer, a short hold limit (releases and flushes mid-run, which is where a dead
    commit loop once stranded the other thread's request), two producers grouped together.
    The call order varies between runs, so K is spread over a dry run's call count."""
    monkeypatch.setattr(writer_mod, "JOURNAL_FLUSH_BYTES", 3000)
    monkeypatch.setattr(writer_mod, "MAX_HOLD_S", 0.005)
    k = 1 + int((i + random.Random(i).random()) / N_THREADS * two_thread_total)
    run = crash_run(tmp_path, monkeypatch, two_thread_workload, k)
    recover_and_check(tmp_path, monkeypatch, run)


@pytest.mark.parametrize("i", range(N_DOUBLE))
def test_crash_during_recovery(
    i, single_points, tmp_path, monkeypatch, deterministic_writer, quiet_crash_threads
):
    """The power goes out again while the store recovers: replay must be idempotent."""
    r = random.Random(5000 + i)
    run = crash_run(tmp_path, monkeypatch, single_thread_workload, r.choice(single_points[20:]))
    first, dry = tmp_path / "first", tmp_path / "dry"
    for d in (first, dry):  # the same tree twice: one to count the open's calls on
        run.sim.materialise(d, rng=random.Random(i) if i % 2 else None)
    counter = PowerLossIO(dry)
    monkeypatch.setattr(fsio, "backend", counter)
    opened = Store.open(dry, **_open_kw(9))
    n_open = counter.calls  # the open, recovery included: crash somewhere in there
    opened.close()
    sim = PowerLossIO(first)  # what the first crash left is what is on disk now
    monkeypatch.setattr(fsio, "backend", sim)
    sim.arm(r.randint(1, max(1, n_open)))
    store = None
    try:
        store = Store.open(first, **_open_kw(9))
        run.ack([store.put(f"{F}/recovered.md", "after the first recovery\n", actor=ACTOR)])
        store.close()
    except (SimulatedCrash, BrainError):
        if not sim.crashed:
            raise
    _close_dead(store, sim)
    run.sim = sim
    recover_and_check(tmp_path, monkeypatch, run, rng=random.Random(i) if i % 3 == 0 else None)


def test_dead_commit_loop_wakes_queued_callers(tmp_path, monkeypatch, quiet_crash_threads):
    """Engine regression: when an error escapes the commit loop (here the power goes out in
    the flush that releases the lock after a group), a request queued meanwhile must fail,
    not leave its caller waiting forever."""
    monkeypatch.setattr(writer_mod, "MAX_HOLD_S", 0.0)  # flush and release after every group
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    root = tmp_path / "store"
    root.mkdir()
    sim = PowerLossIO(root)
    monkeypatch.setattr(fsio, "backend", sim)
    store = Store.init(root, **_open_kw())
    outcome: list[object] = []

    def put_b() -> None:
        try:
            outcome.append(store.put(f"{F}/b.md", "bee\n", actor=ACTOR))
        except BrainError as e:
            outcome.append(e)

    other = threading.Thread(target=put_b, daemon=True)

    def queue_another_request() -> None:  # in the writer thread, just before the crash
        writer = store._writer
        assert writer is not None
        other.start()
        deadline = time.monotonic() + CLOSE_TIMEOUT_S
        while writer._q.qsize() == 0 and time.monotonic() < deadline:
            time.sleep(0.001)

    sim.before_crash = queue_another_request
    sim.arm(op="syncfs")
    store.put(f"{F}/a.md", "alpha\n", actor=ACTOR)  # acknowledged before the flush
    deadline = time.monotonic() + CLOSE_TIMEOUT_S
    while not sim.crashed and time.monotonic() < deadline:
        time.sleep(0.001)
    assert sim.crashed, "the flush after the group never came"
    other.join(CLOSE_TIMEOUT_S)
    assert not other.is_alive(), "the queued request was stranded by the dead commit loop"
    assert len(outcome) == 1 and isinstance(outcome[0], BrainError), outcome
    with pytest.raises(BrainError):
        store.put(f"{F}/c.md", "sea\n", actor=ACTOR)  # the loop is gone: refused, not hung
    _close_dead(store, sim)


# -- the simulator itself -------------------------------------------------------------------


def test_simulator_drops_unsynced_write(tmp_path, monkeypatch):
    root = tmp_path / "r"
    sim = PowerLossIO(root)
    monkeypatch.setattr(fsio, "backend", sim)
    fsio.write_file(root / "safe", b"kept", durable=True)
    fsio.write_file(root / "lazy", b"gone")
    fsio.mkdirs(root / "d")
    fsio.write_file(root / "d" / "unnamed", b"synced data, unsynced name")
    fd = fsio.open_fd(root / "d" / "unnamed", os.O_RDONLY)
    fsio.fsync(fd)
    fsio.close(fd)
    sim.arm(1)
    with pytest.raises(SimulatedCrash):
        fsio.write_file(root / "late", b"x", durable=True)
    with pytest.raises(SimulatedCrash):
        fsio.syncfs(root)  # after the crash nothing more reaches the disk
    sim.materialise(tmp_path / "after")
    assert (root / "lazy").read_bytes() == b"gone"  # the running code saw a normal file
    assert sorted(os.listdir(tmp_path / "after")) == ["safe"]
    assert (tmp_path / "after" / "safe").read_bytes() == b"kept"


def test_simulator_models_renames_and_syncfs(tmp_path, monkeypatch):
    root = tmp_path / "r"
    sim = PowerLossIO(root)
    monkeypatch.setattr(fsio, "backend", sim)
    fsio.write_file(root / "f", b"v1", durable=True)
    fsio.write_file(root / "f", b"v2")  # rename over it, not dir-synced: v1 survives
    fsio.write_file(root / "g", b"g1")
    fsio.append(root / "log", b"one;")
    fsio.syncfs(root)
    fsio.append(root / "log", b"two;")  # unsynced append: dropped
    fsio.unlink(root / "g")  # unsynced unlink: g survives
    sim.materialise(tmp_path / "a1")
    assert (tmp_path / "a1" / "f").read_bytes() == b"v2"  # syncfs made the rename durable
    assert (tmp_path / "a1" / "log").read_bytes() == b"one;"
    assert (tmp_path / "a1" / "g").read_bytes() == b"g1"
    fsio.write_file(root / "f", b"v3")
    fsio.write_file(root / "h", b"named, never synced")
    fsio.fsync_dir(root)  # names durable, contents not: the classic zero-length file
    sim.materialise(tmp_path / "a2")
    assert (tmp_path / "a2" / "f").read_bytes() == b""
    assert (tmp_path / "a2" / "h").read_bytes() == b""
    assert not (tmp_path / "a2" / "g").exists()


# -- meta-test: the checker catches a missing commit-point sync -----------------------------


def test_meta_missing_journal_sync_is_caught(
    tmp_path, monkeypatch, single_points, deterministic_writer, quiet_crash_threads
):
    """META-TEST: with `Journal.commit` skipping its fdatasync (the commit point), some crash
    point must lose an acknowledged write and the checker must say so. If this fails, the
    crash tests above could not tell a durable engine from a broken one."""

    real_commit = Journal.commit

    def commit_without_sync(self, record):
        with pytest.MonkeyPatch.context() as m:  # only the commit's own sync is skipped
            m.setattr(fsio, "fdatasync", lambda fd: None)
            real_commit(self, record)

    monkeypatch.setattr(Journal, "commit", commit_without_sync)
    caught = []
    for j, k in enumerate(single_points[::5]):
        d = tmp_path / str(j)
        d.mkdir()
        run = crash_run(d, monkeypatch, single_thread_workload, k)
        try:
            recover_and_check(d, monkeypatch, run)
        except AssertionError as e:
            caught.append((k, str(e).splitlines()[0]))
        except BrainError as e:
            caught.append((k, f"{type(e).__name__}: {e}"))
        if any("lost" in msg for _k, msg in caught):
            break
    assert any("lost" in msg for _k, msg in caught), f"no lost write detected: {caught}"
