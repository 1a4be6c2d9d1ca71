"""The journal under faults: a purge's cut lost to a power cut, a sync that fails and then the
cut that undoes it, a journal write refused while the staging thread still writes, a full disk
for the filler, a flush that fails after a group was applied. Each case was found by review and
fails without its fix (the reproductions ran against the real engine before the fix)."""

from __future__ import annotations

import errno
import threading
import time

import pytest

from core import fsio
from core.errors import BrainError
from core.store import Store
from core.write import writer as writer_mod
from core.write.intents import Delete
from core.write.journal import RESERVE, Journal
from tests.core.crashcheck import _NoSyncIO, close_dead, open_kw, simulated_store

ACTOR = "human:test@host"
STAGER = "brain-journal-stage"  # the staging thread's name (core/write/journal.py Helper)


@pytest.fixture
def hold_lock(monkeypatch):
    """The writer keeps the lock and the journal's records (no idle release, no timed flush)."""
    monkeypatch.setattr(writer_mod, "IDLE_RELEASE_S", 3600.0)
    monkeypatch.setattr(writer_mod, "MAX_HOLD_S", 3600.0)


def _temps(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob(".*.tmp*"))


def test_a_purge_is_not_undone_by_a_power_cut_that_loses_the_flushs_cut(
    tmp_path, monkeypatch, hold_lock
):
    """Two purges in one batch; the power goes out while the second is finished. The first
    one's seq already left purge.pending (synced): its flush's cut must have reached the disk
    too, or replaying the journal's older records writes the purged version back."""
    _root, sim, store = simulated_store(tmp_path, monkeypatch)
    alice, bob = "memories/facts/alice.md", "memories/facts/bob.md"
    store.put(alice, "ALICE-SECRET-ONE\n", actor=ACTOR)
    store.put(alice, "ALICE-SECRET-TWO\n", actor=ACTOR)
    store.put(bob, "bob one\n", actor=ACTOR)
    sim.arm(op="unlink versions/facts/bob")
    with pytest.raises(BaseException):  # noqa: B017 - the simulated power cut, whatever wraps it
        store.batch(
            [
                Delete(alice, mode="purge", reason="user-request"),
                Delete(bob, mode="purge", reason="user-request"),
            ],
            actor=ACTOR,
        )
    assert sim.crashed
    close_dead(store, sim)
    after = tmp_path / "after"
    sim.materialise(after)
    assert b"ALICE-SECRET" not in (after / "audit" / "journal.wal").read_bytes()

    monkeypatch.setattr(fsio, "backend", _NoSyncIO())
    with Store.open(after, **open_kw(9)) as again:
        again.put("memories/facts/other.md", "x\n", actor=ACTOR)  # a writer: replay, purges
        assert again.doctor().state == "READY"
    leaks = [
        str(p.relative_to(after))
        for p in after.rglob("*")
        if p.is_file() and "index" not in p.parts and b"ALICE-SECRET" in p.read_bytes()
    ]
    assert leaks == []


def test_a_failed_sync_and_a_failed_undo_leave_the_next_record_readable(
    tmp_path, monkeypatch, hold_lock
):
    """The commit's fdatasync fails, and so does the sync of the cut that takes its record
    back: the next record must still go where the file ends, not past a hole of zeros that a
    reader takes for the end (cutting an acknowledged record as torn)."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    root = tmp_path / "store"
    store = Store.init(root, allow_temp=True)
    store.put("memories/facts/one.md", "one\n", actor=ACTOR)
    real = fsio.backend.fdatasync
    failures = [2]  # the commit's sync, then the undo cut's

    def flaky(fd: int) -> None:
        if failures[0]:
            failures[0] -= 1
            raise OSError(errno.EIO, "Input/output error")
        real(fd)

    monkeypatch.setattr(fsio.backend, "fdatasync", flaky)
    with pytest.raises(BrainError):
        store.put("memories/facts/two.md", "two\n", actor=ACTOR)
    three = store.put("memories/facts/three.md", "three\n", actor=ACTOR)
    records, _end, torn = Journal.read_path(store.layout.journal)
    assert torn == 0
    assert [r.last_seq for r in records] == [1, three.seq]
    store.close()


def _slow_staging(monkeypatch) -> None:
    real_open = fsio.backend.open

    def slow_open(path, flags, mode=0o644):
        if ".tmp" in str(path) and threading.current_thread().name == STAGER:
            time.sleep(0.3)  # a slow disk: still staging when the journal write fails
        return real_open(path, flags, mode)

    monkeypatch.setattr(fsio.backend, "open", slow_open)


def test_a_refused_journal_write_waits_for_staging_before_cleaning_up(tmp_path, monkeypatch):
    """The journal's pwrite fails (disk full) while the helper still creates the group's temp
    files: the put fails as not written and leaves none of them (they hold the body)."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    root = tmp_path / "store"
    store = Store.init(root, allow_temp=True)
    assert type(fsio.backend) is fsio.RealIO  # the staging thread runs on the real backend
    real_pwrite = fsio.backend.pwrite
    full = [True]

    def pwrite(fd, data, offset):
        if full[0]:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_pwrite(fd, data, offset)

    _slow_staging(monkeypatch)
    monkeypatch.setattr(fsio.backend, "pwrite", pwrite)
    with pytest.raises(BrainError, match="nothing was written"):
        store.put("memories/facts/a.md", "alpha\n", actor=ACTOR)
    assert _temps(root) == []  # at once: the failure waited for the helper
    time.sleep(0.4)
    assert _temps(root) == []
    full[0] = False
    store.put("memories/facts/b.md", "bee\n", actor=ACTOR)  # no stale error from staging
    store.close()
    assert _temps(root) == []


def test_a_staging_error_belongs_to_its_own_group(tmp_path, monkeypatch):
    """Staging and the journal both meet a full disk: the error is this put's, and the first
    put after space is freed succeeds (the helper's error is not handed to it)."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    store = Store.init(tmp_path / "store", allow_temp=True)
    real_open, real_pwrite = fsio.backend.open, fsio.backend.pwrite
    full = [True]

    def open_(path, flags, mode=0o644):
        if full[0] and ".tmp" in str(path) and threading.current_thread().name == STAGER:
            time.sleep(0.2)
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_open(path, flags, mode)

    def pwrite(fd, data, offset):
        if full[0]:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_pwrite(fd, data, offset)

    monkeypatch.setattr(fsio.backend, "open", open_)
    monkeypatch.setattr(fsio.backend, "pwrite", pwrite)
    with pytest.raises(BrainError):
        store.put("memories/facts/a.md", "alpha\n", actor=ACTOR)
    full[0] = False
    assert store.put("memories/facts/b.md", "bee\n", actor=ACTOR).changed
    store.close()


def test_a_full_disk_for_the_filler_does_not_fail_the_put(tmp_path, monkeypatch, hold_lock):
    """The filler past the records is a speed-up: a disk too full for it leaves the record
    standing (it was written and will be synced), and the journal reads whole."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    root = tmp_path / "store"
    store = Store.init(root, allow_temp=True)
    store.put("memories/facts/first.md", "first\n", actor=ACTOR)  # a tenure's first: no filler
    real_pwrite = fsio.backend.pwrite
    refused: list[int] = []

    def pwrite(fd, data, offset):
        if len(data) == RESERVE:
            refused.append(offset)
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_pwrite(fd, data, offset)

    monkeypatch.setattr(fsio.backend, "pwrite", pwrite)
    second = store.put("memories/facts/second.md", "second\n", actor=ACTOR)
    third = store.put("memories/facts/third.md", "third\n", actor=ACTOR)
    assert refused  # the filler was tried, and refused
    records, _end, torn = Journal.read_path(store.layout.journal)
    assert torn == 0 and [r.last_seq for r in records] == [1, second.seq, third.seq]
    store.close()
    assert _temps(root) == []


class _FlakySyncfs(fsio.RealIO):
    """A test backend (the size flush runs inline, after the group) whose syncfs fails once."""

    fail = False

    def syncfs(self, root) -> None:
        if _FlakySyncfs.fail:
            _FlakySyncfs.fail = False
            raise OSError(errno.EIO, "Input/output error")
        super().syncfs(root)


def test_a_flush_that_fails_after_the_apply_does_not_fail_the_group(
    tmp_path, monkeypatch, hold_lock
):
    """The group is committed and applied, then the flush the journal's size calls for fails:
    its callers are told it was written (it was: a retry of a move would fail, of a note
    would write it twice), and the journal keeps the records to replay."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setattr(fsio, "backend", _FlakySyncfs())
    root = tmp_path / "store"
    store = Store.init(root, allow_temp=True)
    store.put("memories/facts/a.md", "a1\n", actor=ACTOR)
    monkeypatch.setattr(writer_mod, "JOURNAL_FLUSH_BYTES", 100)  # the next group passes it
    _FlakySyncfs.fail = True
    moved = store.move("memories/facts/a.md", "memories/facts/b.md", actor=ACTOR)
    assert moved.path == "memories/facts/b.md" and moved.changed
    assert not _FlakySyncfs.fail  # the flush did run, and failed
    assert not (root / "memories/facts/a.md").exists()
    assert (root / "memories/facts/b.md").exists()
    store.put("memories/facts/c.md", "c\n", actor=ACTOR)  # the writer goes on (and flushes)
    store.close()
    with Store.open(root, allow_temp=True) as again:
        assert again.doctor().state == "READY"
