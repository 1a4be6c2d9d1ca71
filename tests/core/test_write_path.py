"""The write path's own contract (docs/durability.md): the journal record layouts, the device
syncs of a one-shot put, group commit by the caller that holds the commit token, files staged
while the commit point syncs, and what an interrupted or failed group leaves behind."""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path

import pytest

from core import fsio
from core.errors import BrainError, CorruptLog
from core.log import frames
from core.log.binlog import Binlog
from core.log.tip import Tip, scan_current
from core.store import Store
from core.store_state import READY
from core.write import writer as writer_mod
from core.write.journal import BINARY_MAGIC, Journal, Record, VersionMove, Write

ANA = "human:ana@laptop"
F = "memories/facts"


@pytest.fixture(autouse=True)
def _own_witness_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))


def _record() -> Record:
    return Record(
        frames=[frames.encode(5, 70, b'{"seq":5}'), frames.encode(6, 80, b'{"seq":6}')],
        writes=[
            Write(f"{F}/caf\u00e9.md", b"body \xe2\x82\xac\n", {"seq": 5, "tags": ["x"], "a": 1}),
            Write(f"{F}/gone.md", None, {"kind": "facts", "state": "purged", "seq": 6}),
            Write(f"{F}/empty.md", b"", {}),
        ],
        versions=[VersionMove(f"{F}/a.md", f"versions/{F}/a/00000000000000000003.md", 3)],
        removes=[f"{F}/old.md"],
        first_seq=5,
        first_ts=70,
        last_seq=6,
    )


def _read_one(data: bytes, tmp_path: Path) -> tuple[list[Record], int]:
    path = tmp_path / "journal.wal"
    path.write_bytes(data)
    records, end, _torn = Journal.read_path(path)
    return records, end


@pytest.mark.parametrize("layout", ["binary", "json"])
def test_record_round_trip(layout: str, tmp_path: Path) -> None:
    rec = _record()
    data = rec.encode() if layout == "binary" else rec.encode_json()
    assert data[24:28] == BINARY_MAGIC if layout == "binary" else data[24:25] == b"{"
    (got,), end = _read_one(data, tmp_path)
    assert end == len(data)
    assert got == rec


def test_binary_record_is_smaller_than_json() -> None:
    rec = _record()
    rec.writes[0].body = os.urandom(600)
    assert len(rec.encode()) < len(rec.encode_json()) * 0.8


def test_torn_binary_record_is_left_out_at_every_cut(tmp_path: Path) -> None:
    one, two = _record(), _record()
    two.first_seq = 7
    a, b = one.encode(), two.encode()
    for cut in range(1, len(b)):
        records, end = _read_one(a + b[:cut], tmp_path)
        assert records == [one] and end == len(a), cut


def test_complete_record_that_does_not_decode_is_corruption(tmp_path: Path) -> None:
    """The CRC holds, so the record is not torn: cutting it could drop a committed group."""
    bad = frames.encode(5, 70, BINARY_MAGIC + b"\x00\x00\x00\x09short", limit=None)
    with pytest.raises(CorruptLog, match="does not decode"):
        _read_one(_record().encode() + bad, tmp_path)


class _CountingIO(fsio.RealIO):
    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def _n(self, name: str) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1

    def fdatasync(self, fd: int) -> None:
        self._n("fdatasync")
        super().fdatasync(fd)

    def fsync(self, fd: int) -> None:
        self._n("fsync")
        super().fsync(fd)

    def syncfs(self, root: str) -> None:
        self._n("syncfs")
        super().syncfs(root)

    def fsync_dir(self, path: str) -> None:
        self._n("fsync_dir")
        super().fsync_dir(path)


def test_a_one_shot_put_makes_two_device_syncs(tmp_path: Path, monkeypatch) -> None:
    """PROTOCOL: the commit point's fdatasync and the flush's syncfs; none after the truncate."""
    root = tmp_path / "s"
    with Store.init(root, allow_temp=True) as s:  # the journal file exists from here on
        s.put(f"{F}/z.md", "zero\n", actor=ANA)
    counting = _CountingIO()
    monkeypatch.setattr(fsio, "backend", counting)
    with Store.open(root, allow_temp=True) as s:
        s.put(f"{F}/a.md", "alpha\n", actor=ANA)
        s.put(f"{F}/a.md", "alpha two\n", actor=ANA)  # a version move, same lock tenure
    assert counting.counts == {"fdatasync": 2, "syncfs": 1}


def test_many_threads_commit_in_groups(tmp_path: Path) -> None:
    """Callers commit for each other: every put is acknowledged once, in one chain, and the
    housekeeping thread still releases the lock (and empties the journal) when idle."""
    root = tmp_path / "s"
    results: list = []
    errors: list[BaseException] = []
    with Store.init(root, allow_temp=True) as s:

        def producer(t: int) -> None:
            try:
                for i in range(25):
                    results.append(s.put(f"{F}/t{t}/m{i}.md", f"{t} {i}\n", actor=ANA))
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(e)

        threads = [threading.Thread(target=producer, args=(t,)) for t in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors, errors
        assert sorted(r.seq for r in results) == list(range(1, 151))
        writer = s.session.writer
        assert writer is not None
        for _ in range(200):
            if not writer.lock.held:
                break
            threading.Event().wait(0.02)
        assert not writer.lock.held, "the idle lock was never released"
        assert (root / "audit" / "journal.wal").stat().st_size == 0
        assert s.view(f"{F}/t5/m24.md").body == b"5 24\n"
    scan = scan_current(Binlog(root / "audit"), Tip())
    assert scan.bad is None and scan.broken is None and scan.tip.seq == 150


@pytest.mark.parametrize("parallel", [True, False])
def test_a_failed_commit_point_leaves_no_staged_file(
    parallel: bool, tmp_path: Path, monkeypatch
) -> None:
    """The journal's fdatasync fails (the staged temps were written meanwhile, on the helper
    thread with the real backend): the caller hears that nothing was written, the temps and
    the record are gone, the next put works."""
    root = tmp_path / "s"
    with Store.init(root, allow_temp=True) as s:
        s.put(f"{F}/a.md", "alpha\n", actor=ANA)
        fail = [1]
        real_sync = os.fdatasync

        def fdatasync(fd: int) -> None:
            if fail[0]:
                fail[0] -= 1
                raise OSError(errno.EIO, "Input/output error")
            real_sync(fd)

        if parallel:
            monkeypatch.setattr(os, "fdatasync", fdatasync)
        else:

            class FailingSync(fsio.RealIO):  # not the real backend: staged, then synced
                def fdatasync(self, fd: int) -> None:
                    fdatasync(fd)

            monkeypatch.setattr(fsio, "backend", FailingSync())
        with pytest.raises(BrainError, match="nothing was written"):
            s.put(f"{F}/new/b.md", "beta\n", actor=ANA)
        assert not [p for p in (root / F).rglob(".*") if ".tmp" in p.name]
        assert not (root / F / "new" / "b.md").exists()
        s.put(f"{F}/c.md", "gamma\n", actor=ANA)
        assert s.tip.seq == 2
    with Store.open(root, allow_temp=True) as s:
        assert s.state().state == READY
        assert [m.path for m in s.memories()] == [f"{F}/a.md", f"{F}/c.md"]


def test_an_interrupted_apply_is_replayed_by_the_next_put(tmp_path: Path, monkeypatch) -> None:
    """The caller holding the commit token gets KeyboardInterrupt after the commit point: it
    hears the interrupt, and the committed group is replayed before the next group."""
    root = tmp_path / "s"
    with Store.init(root, allow_temp=True) as s:
        s.put(f"{F}/a.md", "alpha\n", actor=ANA)
        real = writer_mod.apply_files
        calls = {"n": 0}

        def interrupted(*a, **kw):
            calls["n"] += 1
            if calls["n"] == 1:
                raise KeyboardInterrupt
            return real(*a, **kw)

        monkeypatch.setattr(writer_mod, "apply_files", interrupted)
        with pytest.raises(KeyboardInterrupt):
            s.put(f"{F}/b.md", "beta\n", actor=ANA)
        s.put(f"{F}/c.md", "gamma\n", actor=ANA)
        assert s.view(f"{F}/b.md").body == b"beta\n"
        assert s.tip.seq == 3
        assert s.state().state == READY
    scan = scan_current(Binlog(root / "audit"), Tip())
    assert scan.bad is None and scan.broken is None and scan.tip.seq == 3


def test_staged_writes_cover_a_path_written_twice_in_one_request(tmp_path: Path) -> None:
    """One request writing a path twice keeps one version: the first write is not staged (one
    temp name per path) and the group still applies in order."""
    root = tmp_path / "s"
    with Store.init(root, allow_temp=True) as s:
        s.batch(
            [Store.put_intent(f"{F}/a.md", "one\n"), Store.put_intent(f"{F}/a.md", "two\n")], ANA
        )
        assert s.view(f"{F}/a.md").body == b"two\n"
        assert [r.op for r in s.history(f"{F}/a.md")] == ["put", "put"]
    assert not [p for p in root.rglob(".*") if ".tmp" in p.name]


# -- puts built by the group's leader (Store.put while other threads write) ---------------------


def _built_in_plan(monkeypatch) -> list[bool]:
    """For every put_intent call: was it made by the writer while planning a group?"""
    import traceback

    seen: list[bool] = []
    real = Store.put_intent

    def spy(*args, **kw):
        seen.append(any(f.name == "_plan" for f in traceback.extract_stack()))
        return real(*args, **kw)

    monkeypatch.setattr(Store, "put_intent", staticmethod(spy))
    return seen


def _crowd(s: Store) -> None:
    """As if another thread's request had queued behind a busy leader."""
    w = s.session.writer
    assert w is not None
    w._crowded = True


def test_while_threads_crowd_the_leader_builds_a_put_and_its_errors_are_the_same(
    tmp_path: Path, monkeypatch
) -> None:
    from core.errors import InvalidPath, PreconditionFailed

    with Store.init(tmp_path / "s", allow_temp=True) as s:
        s.put(f"{F}/warm.md", "warm\n", actor=ANA)  # the writer runs
        built = _built_in_plan(monkeypatch)
        _crowd(s)
        res = s.put(f"{F}/a.md", "alpha\n", actor=ANA, tags=["x"])
        assert built == [True] and res.changed and s.view(f"{F}/a.md").body == b"alpha\n"
        _crowd(s)
        with pytest.raises(InvalidPath, match="must start with 'memories/'"):
            s.put("notes/a.md", "nope\n", actor=ANA)
        _crowd(s)
        with pytest.raises(PreconditionFailed):
            s.put(f"{F}/a.md", "beta\n", actor=ANA, expect="")
        assert s.tail(1)[-1].op == "put_if.rejected"
        with pytest.raises(BrainError, match="actor"):  # checked before anything is queued
            _crowd(s)
            s.put(f"{F}/b.md", "b\n", actor="not an actor")
        _crowd(s)
        assert s.put(f"{F}/a.md", "alpha\n", actor=ANA, tags=["x"]).changed is False
        assert built == [True, True, True, True]
        s.put(f"{F}/c.md", "gamma\n", actor=ANA)  # the last group ran alone: not crowded
        assert built[-1] is False


def test_a_put_that_may_widen_its_sync_class_is_scanned_by_its_caller(
    tmp_path: Path, monkeypatch
) -> None:
    """Its PII scan runs before the lock (pii_gate.prescan), so the caller builds it."""
    from core.store import _may_widen

    assert not _may_widen(b"plain body", True, {})
    assert not _may_widen("plain body", True, {"sync_class": "private"})
    assert _may_widen(b"plain", True, {"sync_class": "team-public"})
    assert _may_widen(b"---\nsync_class: shareable\n---\nbody", True, {})
    assert _may_widen("\ufeff---\ntitle: t\n---\nbody", True, {})
    assert not _may_widen(b"---\nnot parsed\n", False, {})
    with Store.init(tmp_path / "s", allow_temp=True) as s:
        s.put(f"{F}/warm.md", "warm\n", actor=ANA)
        built = _built_in_plan(monkeypatch)
        _crowd(s)
        res = s.put(f"{F}/mail.md", "write to ana@example.com\n", actor=ANA, sync_class="shareable")
        assert built == [False]
        assert any("held" in n for n in res.notes), res.notes  # scanned: held for review
