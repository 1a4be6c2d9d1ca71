"""Power loss while another process shares the store (issue 9).

Our process holds a Store open for a long time (as the TUI does) under the power-loss simulator
(tests/core/powerloss.py). Between two of our groups, once our commit loop released the lock,
another process writes the store with the real backend: a `brain put` or `brain checkpoint`
that finishes (its flush is a syncfs, so everything on disk becomes durable), or a `brain put`
that dies right after its commit point (only its journal record is durable). Then our next
group, and the flush when our loop releases the lock, run with the power cut at call K.

Recovery (the real backend, on the tree the power loss left) must keep every write that was
acknowledged, by us or by the other process, leave the store READY with `brain doctor` finding
nothing, and the Merkle node file must match the log.
"""

from __future__ import annotations

import json
import random
import threading
import time
from pathlib import Path

import pytest

from core import fsio
from core.errors import BrainError
from core.store import Store
from tests.core.crashcheck import (
    ACTOR,
    F,
    _NoSyncIO,
    check_store,
    close_dead,
    crash_points,
    open_kw,
    simulated_store,
)
from tests.core.powerloss import PowerLossIO, SimulatedCrash
from tests.core.stress_harness import brain

OTHERS = ["put", "checkpoint", "put-died-after-commit"]
N_POINTS = 8  # crash points sampled per scenario


@pytest.fixture(autouse=True)
def quiet_crash_threads(monkeypatch):
    prev = threading.excepthook

    def hook(args):
        if not issubclass(args.exc_type, SimulatedCrash):
            prev(args)

    monkeypatch.setattr(threading, "excepthook", hook)


def _released(store: Store, sim: PowerLossIO) -> None:
    w = store.session.writer
    end = time.monotonic() + 10
    while w is not None and w.lock.held and not sim.crashed and time.monotonic() < end:
        time.sleep(0.005)


def _durable_now(sim: PowerLossIO, path: Path) -> None:
    """The other process fdatasynced this file (its journal): its bytes are durable."""
    import os

    with sim._lock:
        sim._node(os.lstat(path)).data = path.read_bytes()


def _scenario(tmp_path: Path, monkeypatch, other: str, k: int | None):
    root, sim, store = simulated_store(tmp_path, monkeypatch)
    acked, other_ack, calls = [], None, 0
    try:
        acked.append(store.put(f"{F}/a.md", "alpha one\n", actor=ACTOR))
        acked.append(store.put(f"{F}/b.md", "bee one\n", actor=ACTOR))
        _released(store, sim)  # flushed and unlocked: the other process may write now
        env = {}
        if other == "put-died-after-commit":
            env["BRAIN_TEST_CRASH_AFTER_COMMIT"] = "1"
        args = ("checkpoint",) if other == "checkpoint" else ("put", f"{F}/other.md")
        p = brain(root, "--json", *args, input=b"from another process\n", env_extra=env)
        if other == "put-died-after-commit":
            assert p.returncode == 9, p.stderr.decode()
            _durable_now(sim, root / "audit" / "journal.wal")
        else:
            assert p.returncode == 0, p.stderr.decode()
            other_ack = json.loads(p.stdout)
            with sim._lock:
                sim._sync_tree()  # its flush was a syncfs of the whole file system
        sim.arm(k)
        start = sim.calls
        try:
            acked.append(store.put(f"{F}/a.md", "alpha two\n", actor=ACTOR))
            acked.append(store.move(f"{F}/b.md", f"{F}/c.md", actor=ACTOR))
            acked.append(store.put(f"{F}/d.md", "dee one\n", actor=ACTOR))
            store.checkpoint()  # signs our idea of the tree head: it must be the log's
            _released(store, sim)  # the flush (syncfs, journal cut) is in the crash range
        except (SimulatedCrash, BrainError):
            if not sim.crashed:
                raise
        calls = sim.calls - start
    finally:
        close_dead(store, sim)
    return sim, acked, other_ack, calls


def _check_synced_nodes(root: Path, where: str) -> None:
    """mmr.nodes is derived, and entries at or after the journal's first seq may be rebuilt by
    recovery; every entry before that (rows a flush made durable) must already match the log,
    before any open repairs what it finds."""
    from core.log import frames
    from core.log.binlog import Binlog
    from core.verify.mmr import HEADER_SIZE, MMR, leaf_hash, node_count

    payloads = []
    for f in Binlog(root / "audit").iter_frames(1):
        if isinstance(f, frames.BadFrame):
            break
        payloads.append(f.payload)
    journal = (root / "audit" / "journal.wal").read_bytes()
    first = next(iter(frames.iter_frames(journal, check_rows=False, limit=None)), None)
    synced = len(payloads)
    if isinstance(first, frames.Frame):
        synced = min(synced, first.seq - 1)
    rebuilt_path = root.parent / "rebuilt.nodes"
    with MMR.open(rebuilt_path) as m:
        m.append([leaf_hash(p) for p in payloads[:synced]])
    want = rebuilt_path.read_bytes()[: HEADER_SIZE + node_count(synced) * 32]
    got = (root / "audit" / "mmr.nodes").read_bytes()[: len(want)]
    assert got == want[: len(got)], (
        f"{where}: mmr.nodes differs from the log within the first {synced} (synced) rows"
    )


@pytest.fixture(scope="module")
def points(tmp_path_factory) -> dict[str, list[int]]:
    out = {}
    for other in OTHERS:
        mp = pytest.MonkeyPatch()
        try:
            _, _, _, total = _scenario(tmp_path_factory.mktemp("dry"), mp, other, None)
        finally:
            mp.undo()
        # The last calls (the release's flush) and no crash at all are always in: what a
        # group got wrong only reaches the disk with the flush.
        ks = list(range(1, total - 1))
        picked = random.Random(9).sample(ks, min(N_POINTS - 3, len(ks)))
        out[other] = sorted({*picked, total - 1, total, total + 1})
    return out


@pytest.mark.parametrize("i", crash_points(N_POINTS))
@pytest.mark.parametrize("other", OTHERS)
def test_power_loss_after_another_process_wrote(tmp_path, monkeypatch, points, other, i):
    if i >= len(points[other]):
        pytest.skip("fewer crash points than samples")
    k = points[other][i]
    sim, acked, other_ack, _ = _scenario(tmp_path, monkeypatch, other, k)
    where = f"other={other} K={k} ({sim.crash_op or 'no crash'})"
    after = tmp_path / "after"
    sim.materialise(after)
    monkeypatch.setattr(fsio, "backend", _NoSyncIO())
    _check_synced_nodes(after, where)  # before any open repairs what it finds
    store = Store.open(after, **open_kw(9))
    try:
        if other_ack is not None and "row" in other_ack:
            row = store.tail(from_seq=other_ack["seq"], limit=1)[0]
            assert (row.seq, row.op, row.path, row.commit) == (
                other_ack["seq"],
                "put",
                other_ack["path"],
                other_ack["commit"],
            ), f"{where}: the other process's acknowledged put is lost"
        check_store(store, [r for r in acked if r.row is not None], where)
    finally:
        store.close()
    doc = json.loads(brain(after, "--json", "doctor").stdout)
    bad = [f"{r['id']}: {r['detail']}" for r in doc["results"] if r["status"] == "FAIL"]
    assert (doc["state"], bad) == ("READY", []), where
