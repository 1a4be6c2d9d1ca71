"""Power-loss tests: crash the engine at a chosen fsio call and check what survives.

The simulator (tests/core/powerloss.py) replaces `core.fsio.backend`, counts every durable-I/O
call and at call K raises `SimulatedCrash` (harness and checker: tests/core/crashcheck.py); the tree a power loss would leave is written to a
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

import os
import random
import threading
import time

import pytest

from core import fsio
from core.errors import BrainError
from core.store import Store
from core.write import writer as writer_mod
from core.write.journal import Journal
from tests.core.crashcheck import (
    ACTOR,
    CLOSE_TIMEOUT_S,
    F,
    close_dead,
    crash_points,
    crash_run,
    open_kw,
    recover_and_check,
    simulated_store,
    single_thread_workload,
    total_calls,
    two_thread_workload,
)
from tests.core.powerloss import PowerLossIO, SimulatedCrash

N_STRICT = 150  # crash points sampled over the single-thread workload, drop-all-unsynced model
N_PARTIAL = 50  # the same workload, partial-writeback model
N_THREADS = 12  # two writer threads (timing-dependent call order)
N_DOUBLE = 16  # a second power loss during recovery


@pytest.fixture(autouse=True)
def volatile_index(monkeypatch):
    """index/ is volatile in this model (dropped at every crash), so its SQLite need not sync;
    its fsyncs would only slow the sweep down on a busy disk."""
    import core.index.db

    real = core.index.db.connect

    def connect(path: str, **kw):
        conn = real(path, **kw)
        conn.execute("PRAGMA synchronous = OFF")
        return conn

    monkeypatch.setattr(core.index.db, "connect", connect)


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


@pytest.fixture(scope="module")
def single_points(tmp_path_factory) -> list[int]:
    total = total_calls(tmp_path_factory, single_thread_workload)
    ks = list(range(1, total + 2))  # total + 1: no crash at all
    return sorted(random.Random(20240607).sample(ks, min(N_STRICT, len(ks))))


def test_workload_is_deterministic(tmp_path_factory, single_points):
    """Same call count twice: a failing K reproduces."""
    a = total_calls(tmp_path_factory, single_thread_workload)
    b = total_calls(tmp_path_factory, single_thread_workload)
    assert a == b and a > 300


@pytest.mark.parametrize("i", crash_points(N_STRICT))
def test_crash_drop_unsynced(
    i, single_points, tmp_path, monkeypatch, deterministic_writer, quiet_crash_threads
):
    run = crash_run(tmp_path, monkeypatch, single_thread_workload, single_points[i])
    recover_and_check(tmp_path, monkeypatch, run)


@pytest.mark.parametrize("i", crash_points(N_PARTIAL))
def test_crash_partial_writeback(
    i, single_points, tmp_path, monkeypatch, deterministic_writer, quiet_crash_threads
):
    k = random.Random(1000).sample(single_points, N_PARTIAL)[i]
    run = crash_run(tmp_path, monkeypatch, single_thread_workload, k)
    recover_and_check(tmp_path, monkeypatch, run, rng=random.Random(i))


@pytest.fixture(scope="module")
def two_thread_total(tmp_path_factory) -> int:
    return total_calls(tmp_path_factory, two_thread_workload, max_hold_s=0.005)


@pytest.mark.parametrize("i", crash_points(N_THREADS))
def test_crash_two_threads(i, two_thread_total, tmp_path, monkeypatch, quiet_crash_threads):
    """Real idle timer, a short hold limit (releases and flushes mid-run, where an error that
    ends the commit loop can strand the other thread's request: see the regression test), two
    producers grouped together. The call order varies, so K is spread over a dry run's count."""
    monkeypatch.setattr(writer_mod, "JOURNAL_FLUSH_BYTES", 3000)
    monkeypatch.setattr(writer_mod, "MAX_HOLD_S", 0.005)
    k = 1 + int((i + random.Random(i).random()) / N_THREADS * two_thread_total)
    run = crash_run(tmp_path, monkeypatch, two_thread_workload, k)
    recover_and_check(tmp_path, monkeypatch, run)


@pytest.mark.parametrize("i", crash_points(N_DOUBLE))
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
    opened = Store.open(dry, **open_kw(9))
    n_open = counter.calls  # the open, recovery included: crash somewhere in there
    opened.close()
    sim = PowerLossIO(first)  # what the first crash left is what is on disk now
    monkeypatch.setattr(fsio, "backend", sim)
    sim.arm(r.randint(1, max(1, n_open)))
    store = None
    try:
        store = Store.open(first, **open_kw(9))
        run.ack([store.put(f"{F}/recovered.md", "after the first recovery\n", actor=ACTOR)])
        store.close()
    except (SimulatedCrash, BrainError):
        if not sim.crashed:
            raise
    close_dead(store, sim)
    run.sim = sim
    recover_and_check(tmp_path, monkeypatch, run, rng=random.Random(i) if i % 3 == 0 else None)


def test_dead_commit_loop_wakes_queued_callers(tmp_path, monkeypatch, quiet_crash_threads):
    """Engine regression: when an error escapes the commit loop (here the power goes out in
    the flush that releases the lock after a group), a request queued meanwhile must fail,
    not leave its caller waiting forever."""
    monkeypatch.setattr(writer_mod, "MAX_HOLD_S", 0.0)  # flush and release after every group
    _root, sim, store = simulated_store(tmp_path, monkeypatch)
    outcome: list[object] = []

    def put_b() -> None:
        try:
            outcome.append(store.put(f"{F}/b.md", "bee\n", actor=ACTOR))
        except BrainError as e:
            outcome.append(e)

    other = threading.Thread(target=put_b, daemon=True)

    def queue_another_request() -> None:  # in the writer thread, just before the crash
        writer = store.session.writer
        assert writer is not None
        other.start()
        deadline = time.monotonic() + CLOSE_TIMEOUT_S
        while writer.pending() == 0 and time.monotonic() < deadline:
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
    close_dead(store, sim)


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

    def commit_without_sync(self, record, during=None):
        with pytest.MonkeyPatch.context() as m:  # only the commit's own sync is skipped
            m.setattr(fsio, "fdatasync", lambda fd: None)
            real_commit(self, record, during)

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
