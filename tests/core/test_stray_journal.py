"""A `audit/journal.wal` that is not the log's own: restored from a backup of the audit/ folder, or
copied in by a sync tool from another copy of the store (PROTOCOL "Durability"). Recovery must
never replay it: no row of the log is cut or replaced, no memory file is written from it, and
the store freezes FROZEN_HUMAN with a message that names the file and what to do. A stale copy
of the log's own journal (every row already in the log, byte for byte) is skipped.

Journals are made the real way: a writer process puts, then dies right after the journal
fdatasync of its last put (the BRAIN_TEST_CRASH_AFTER_COMMIT hook, as a SIGKILL there would),
so its records were never flushed from the journal."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core import verdict
from core.errors import CorruptLog, Frozen
from core.log.binlog import Binlog
from core.log.tip import Tip, scan_current
from core.store import Store
from core.store_state import FROZEN_HUMAN, READY
from core.write.journal import Journal

REPO = Path(__file__).resolve().parents[2]
ANA = "human:ana@laptop"
A_MD = "memories/facts/a.md"
B_MD = "memories/facts/b.md"
X_MD = "memories/facts/x.md"
JOURNAL = "audit/journal.wal"


def crash_after_puts(tmp_path: Path, root: Path, puts: list[tuple[str, str]]) -> None:
    """Run the puts in a fresh writer process that dies right after the commit point of the
    last one: the ones before it were acknowledged and applied, none was flushed, so the
    journal keeps a record for each."""
    lines = [
        "from core.store import Store",
        f"s = Store.open({str(root)!r}, allow_temp=True)",
        *(f"s.put({path!r}, {body!r}, actor='agent:b@other')" for path, body in puts),
        "raise SystemExit('the crash hook did not fire')",
    ]
    run_until_crash(tmp_path, lines, after_commits=len(puts))


def run_until_crash(tmp_path: Path, lines: list[str], *, after_commits: int) -> None:
    """Run these lines in a process the writer kills right after its n-th commit point."""
    env = dict(
        os.environ,
        PYTHONPATH=str(REPO),
        XDG_STATE_HOME=str(tmp_path / "xdg-crash"),
        BRAIN_TEST_CRASH_AFTER_COMMIT=str(after_commits),
    )
    p = subprocess.run(
        [sys.executable, "-c", "\n".join(lines)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 9, p.stderr


def journal_seqs(root: Path) -> list[int]:
    records, _end, _torn = Journal.read_path(root / JOURNAL)
    return [r.first_seq for r in records]


def journal_records(root: Path) -> bytes:
    """The journal's complete records (recovery may cut the filler a writer reserved)."""
    _records, end, _torn = Journal.read_path(root / JOURNAL)
    return (root / JOURNAL).read_bytes()[:end]


def log_tip(root: Path) -> Tip:
    scan = scan_current(Binlog(root / "audit"), Tip())
    assert scan.bad is None and scan.broken is None, (scan.bad, scan.broken)
    return scan.tip


def snapshot(root: Path) -> dict[str, bytes]:
    """What a stray journal must not touch: the log and every memory, sidecar and version."""
    out = {
        str(p.relative_to(root)): p.read_bytes()
        for top in ("memories", "versions")
        for p in sorted((root / top).rglob("*"))
        if p.is_file()
    }
    out["audit/current.binlog"] = (root / "audit/current.binlog").read_bytes()
    out[JOURNAL] = journal_records(root)
    return out


def put_stray(src: Path, root: Path) -> None:
    shutil.copyfile(src / JOURNAL, root / JOURNAL)


def assert_refused(root: Path, before: dict[str, bytes]) -> None:
    """Open freezes with an actionable message, writes are refused, and nothing changed."""
    for _ in range(2):  # the freeze is recorded: a second open reports it too
        with Store.open(root, allow_temp=True) as s:
            st = s.state()
            assert st.state == FROZEN_HUMAN, st
            problem = " ".join((st.problem or "").split())
            assert JOURNAL in problem, problem
            assert "does not belong" in problem, problem
            assert "move audit/journal.wal out of the store" in problem, problem
            with pytest.raises(Frozen):
                s.put("memories/facts/new.md", "refused\n", actor=ANA)
        assert snapshot(root) == before
    assert not (root / X_MD).exists()


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """Store A, seqs 1..2; `copy` below makes the second copy of it."""
    root = tmp_path / "A"
    with Store.init(root, allow_temp=True) as s:
        s.put(A_MD, "alpha 1\n", actor=ANA)
        s.put(B_MD, "beta 1\n", actor=ANA)
    return root


def copy(root: Path, name: str) -> Path:
    dst = root.parent / name
    shutil.copytree(root, dst)
    return dst


def write_a(root: Path, n: int, path: str = A_MD) -> None:
    with Store.open(root, allow_temp=True) as s:
        for i in range(n):
            s.put(path, f"written in A {i}\n", actor=ANA)


# -- 1. a journal older than the log ------------------------------------------------------------


def test_an_older_journal_with_other_rows_at_the_logs_seqs_freezes(
    tmp_path: Path, store: Path
) -> None:
    """A copy of the store (a backup) where a writer died with rows 3..4 in its journal; the
    real store went on to seq 6 with other rows. That journal put back must not write its
    bodies over the memories (the old code did) nor cut the log back."""
    b = copy(store, "B")
    crash_after_puts(tmp_path, b, [(A_MD, "alpha from B\n"), (X_MD, "x from B\n")])
    assert journal_seqs(b) == [3, 4]
    write_a(store, 4)
    put_stray(b, store)
    assert_refused(store, snapshot(store))
    assert log_tip(store).seq == 6


def test_a_stale_copy_of_the_logs_own_journal_is_skipped(tmp_path: Path, store: Path) -> None:
    """The log's own journal, saved before it was replayed and flushed, put back after the log
    went on: every row is the log's, byte for byte. It is skipped, not replayed (replaying it
    wrote the old body of a.md over the newest one)."""
    crash_after_puts(tmp_path, store, [(A_MD, "alpha 2\n"), (X_MD, "x 1\n")])
    assert journal_seqs(store) == [3, 4]
    saved = (store / JOURNAL).read_bytes()
    write_a(store, 3)  # replays seq 4 at open, then seqs 5..7
    log = (store / "audit/current.binlog").read_bytes()
    (store / JOURNAL).write_bytes(saved)
    (store / X_MD).write_text("x edited by hand\n")  # must not be rewritten from the journal
    with Store.open(store, allow_temp=True) as s:
        st = s.state()
        assert st.state == READY, st.problem
        assert any("skipped audit/journal.wal" in n for n in st.notes), st.notes
        assert s.view(A_MD).body == b"written in A 2\n"
        s.put(B_MD, "beta 2\n", actor=ANA)
    assert (store / X_MD).read_text() == "x edited by hand\n"
    assert (store / "audit/current.binlog").read_bytes().startswith(log)
    assert log_tip(store).seq == 8
    assert journal_seqs(store) == []


@pytest.mark.parametrize("same", [True, False], ids=["own-rows", "other-rows"])
def test_a_long_running_writer_never_cuts_the_log_back_to_a_stray_journal(
    tmp_path: Path, store: Path, same: bool
) -> None:
    """A long-running writer (it last saw seq 4, or seq 2) takes the lock after another
    process wrote up to seq 6 and an older journal (seqs 3..4) appeared. Recovery starts from
    the writer's own tip: the old code cut the log back to it and rebuilt the rest from the
    journal, losing rows 5..6 (or 3..6)."""
    if same:
        crash_after_puts(tmp_path, store, [(A_MD, "alpha 2\n"), (X_MD, "x 1\n")])
        saved = (store / JOURNAL).read_bytes()
    else:
        b = copy(store, "B")
        crash_after_puts(tmp_path, b, [(A_MD, "alpha from B\n"), (X_MD, "x from B\n")])
        saved = (b / JOURNAL).read_bytes()
    tui = Store.open(store, allow_temp=True)  # own rows: it replays seq 4, empties the journal
    try:
        wait_released(tui)
        write_a(store, 2 if same else 4)  # another process: the log ends at seq 6
        assert log_tip(store).seq == 6
        (store / JOURNAL).write_bytes(saved)
        before = snapshot(store)
        if same:
            tui.put(B_MD, "beta from the long-running writer\n", actor=ANA)
            assert tui.view(A_MD).body == b"written in A 1\n"
        else:
            with pytest.raises(CorruptLog, match="audit/journal.wal does not belong"):
                tui.put(B_MD, "beta from the long-running writer\n", actor=ANA)
            assert snapshot(store) == before
    finally:
        tui.close()
    if same:
        log = (store / "audit/current.binlog").read_bytes()
        assert log.startswith(before["audit/current.binlog"])
        assert log_tip(store).seq == 7
        assert journal_seqs(store) == []
    else:
        assert_refused(store, before)
        assert log_tip(store).seq == 6


def wait_released(s: Store) -> None:
    deadline = time.monotonic() + 5
    while s.session.held and time.monotonic() < deadline:
        time.sleep(0.02)


# -- 2. a journal from a diverged copy -----------------------------------------------------------


@pytest.mark.parametrize("shape", ["beyond", "same-seqs", "across"])
def test_a_diverged_copys_journal_freezes_and_changes_nothing(
    tmp_path: Path, store: Path, shape: str
) -> None:
    """The store was copied to B at seq 2; A wrote seqs 3..4, B wrote its own rows and died
    with records in its journal. beyond: B's journal holds seq 5 only (its 3..4 were flushed),
    past A's head (the old code wrote its body over A's a.md); same-seqs: seqs 3..4, which A
    holds with other rows (the old code wrote its bodies over A's); across: seqs 3..5 (the
    old code replaced A's rows 3..4 with B's and reported READY)."""
    b = copy(store, "B")
    write_a(store, 2)
    if shape == "beyond":
        write_a(b, 2, path=B_MD)
        crash_after_puts(tmp_path, b, [(A_MD, "alpha from B\n")])
        assert journal_seqs(b) == [5]
    elif shape == "same-seqs":
        crash_after_puts(tmp_path, b, [(B_MD, "beta from B\n"), (A_MD, "alpha from B\n")])
        assert journal_seqs(b) == [3, 4]
    else:
        crash_after_puts(tmp_path, b, [(B_MD, f"beta from B {i}\n") for i in range(3)])
        assert journal_seqs(b) == [3, 4, 5]
    put_stray(b, store)
    before = snapshot(store)
    assert_refused(store, before)
    tip = log_tip(store)
    assert tip.seq == 4
    with Store.open(store, allow_temp=True, read_only=True) as s:
        assert s.view(A_MD).body == b"written in A 1\n"
        assert s.view(B_MD).body == b"beta 1\n"


def test_a_journal_that_chains_onto_the_log_is_replayed(tmp_path: Path, store: Path) -> None:
    """The rule is the chain, not the file's origin: B's journal whose rows follow A's head
    (A wrote nothing since the copy) is what a crash of A itself would have left."""
    b = copy(store, "B")
    crash_after_puts(tmp_path, b, [(A_MD, "alpha from B\n")])
    put_stray(b, store)
    with Store.open(store, allow_temp=True) as s:
        st = s.state()
        assert st.state == READY, st.problem
        assert s.view(A_MD).body == b"alpha from B\n"
    assert log_tip(store).seq == 3


# -- 3. a journal from another store -------------------------------------------------------------


@pytest.mark.parametrize("rows_in_c", [0, 2, 4], ids=["below-head", "next-seq", "gap"])
def test_another_stores_journal_freezes_and_changes_nothing(
    tmp_path: Path, store: Path, rows_in_c: int
) -> None:
    """Store C (another store id) with rows_in_c rows, its writer dead with one record in its
    journal: at seq 1 (A holds seq 1: the old code wrote C's body over A's a.md), at seq 3
    (A's next seq: it does not chain), or at seq 5 (past a gap)."""
    c = tmp_path / "C"
    with Store.init(c, allow_temp=True) as s:
        for i in range(rows_in_c):
            s.put("memories/facts/c.md", f"c {i}\n", actor=ANA)
    crash_after_puts(tmp_path, c, [(A_MD, "alpha from C\n")])
    assert journal_seqs(c) == [rows_in_c + 1]
    put_stray(c, store)
    assert_refused(store, snapshot(store))
    assert log_tip(store).seq == 2


# -- doctor and the way out ----------------------------------------------------------------------


def test_the_doctor_names_a_stray_journal_and_the_way_out_works(
    tmp_path: Path, store: Path
) -> None:
    b = copy(store, "B")
    crash_after_puts(tmp_path, b, [(A_MD, "alpha from B\n"), (X_MD, "x from B\n")])
    write_a(store, 3)
    put_stray(b, store)
    with Store.open(store, allow_temp=True) as s:
        report = s.doctor()
        assert report.state == FROZEN_HUMAN
        found = report.result("chain.journal")
        assert found is not None and found.status == "FAIL" and not found.recoverable
        assert "does not belong" in found.detail and found.paths == [JOURNAL]
        # Every process reports the finding's own words, with the way out (not an id alone).
        recorded = verdict.read(s.layout)
        assert recorded is not None and "chain.journal failing: " in recorded.reason
        assert "does not belong to this log" in recorded.reason
        # While it is there, a person's reason accepts nothing: the advice is to move it out.
        out = s.doctor(repair=True, reason="trying", actor=ANA)
        assert out.state == FROZEN_HUMAN
        assert "moved out of the store" in " ".join(out.notes)
        assert "restore the store from a backup" not in out.result("chain.journal").detail
    assert log_tip(store).seq == 5
    (store / JOURNAL).rename(tmp_path / "stray-journal.wal")
    with Store.open(store, allow_temp=True) as s:
        fixed = s.doctor(repair=True, reason="moved a stray journal.wal out", actor=ANA)
        assert fixed.state == READY, fixed.failing()
        assert s.view(A_MD).body == b"written in A 2\n"
        s.put(B_MD, "beta 2\n", actor=ANA)
    assert log_tip(store).seq == 7  # A's five rows, the repair row, the put
    assert not (store / X_MD).exists()


def test_the_doctor_reports_a_stale_journal_as_recoverable(tmp_path: Path, store: Path) -> None:
    crash_after_puts(tmp_path, store, [(A_MD, "alpha 2\n")])
    saved = (store / JOURNAL).read_bytes()
    write_a(store, 2)
    (store / JOURNAL).write_bytes(saved)
    with Store.open(store, allow_temp=True, read_only=True) as s:  # read-only: no replay
        found = s.doctor().result("chain.journal")
        assert found is not None and found.status == "WARN" and found.recoverable
        assert "stale copy" in found.detail


# -- a journal replaced under a live writer ------------------------------------------------------


def test_a_journal_replaced_while_a_writer_lives_is_the_one_it_commits_to(
    tmp_path: Path, store: Path
) -> None:
    """A sync tool renames a file over audit/journal.wal while a long-running writer holds the
    store open. The writer must commit to the file at the path, the one recovery reads: the
    old code kept committing to the unlinked file, so a write it had committed before dying
    was lost."""
    lines = [
        "import os, time",
        "from core.store import Store",
        f"s = Store.open({str(store)!r}, allow_temp=True)",
        f"s.put({B_MD!r}, 'beta 2\\n', actor='agent:b@other')",
        "deadline = time.monotonic() + 5",
        "while s.session.held and time.monotonic() < deadline:",
        "    time.sleep(0.02)",
        f"j = os.path.join({str(store)!r}, 'audit', 'journal.wal')",
        "open(j + '.synced', 'wb').close()",
        "os.replace(j + '.synced', j)",
        f"s.put({A_MD!r}, 'alpha 2\\n', actor='agent:b@other')",
        "raise SystemExit('the crash hook did not fire')",
    ]
    run_until_crash(tmp_path, lines, after_commits=2)
    assert journal_seqs(store) == [4]
    with Store.open(store, allow_temp=True) as s:
        st = s.state()
        assert st.state == READY, st.problem
        assert s.view(A_MD).body == b"alpha 2\n"
    assert log_tip(store).seq == 4
