"""Purge (legal erasure): after it, not one byte under the store root holds the purged text, in
the files, versions, index, FTS shadow tables, SQLite WAL or the journal; the fact of erasure
stays in the chain. A purge interrupted by a crash is finished at the next open."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.errors import NotFound
from core.log.binlog import Binlog
from core.log.hashing import commitment
from core.log.tip import Tip, scan_current
from core.store import Store
from core.store_state import READY

REPO = Path(__file__).resolve().parents[2]
ANA = "human:ana@laptop"
BOT = "agent:claude-code@laptop"
TOKEN = b"zebracorn-7731"
SENTENCE = "zebracorn-7731 reveals the secret plan"
BODIES = [
    f"{SENTENCE}\nFirst draft: meet at the old mill.\n",
    f"{SENTENCE}\nSecond draft: meet at the harbour, bring the zebracorn maps.\n",
    f"# {SENTENCE}\nFinal: the plan is off; zebracorn-7731 is retired.\n",
]
NEEDLES = [TOKEN, b"zebracorn", SENTENCE.encode(), b"secret plan", b"old mill", b"harbour"]
SRC, DST = "memories/projects/plan-a.md", "memories/projects/archive/plan-a.md"


@pytest.fixture(autouse=True)
def _own_witness_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))


def leaks(root: Path, needles: list[bytes]) -> list[str]:
    """Every (file, needle) where the raw bytes of a file under root contain the needle."""
    found = []
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            p = Path(dirpath) / name
            data = p.read_bytes()
            for n in needles:
                if n in data:
                    found.append(f"{p.relative_to(root)}: {n!r}")
    return found


def _b64_needles() -> list[bytes]:
    # Bodies travel base64-encoded in journal records.
    return [base64.b64encode(b.encode()) for b in BODIES]


def build(root: Path) -> tuple[Store, list[str]]:
    """A memory with two overwrites (versions), a move, a search and a view, plus a bystander."""
    s = Store.init(root, allow_temp=True)
    commits = [s.put(SRC, BODIES[0], actor=BOT, tags=["plan"]).commit]
    s.put("memories/facts/bystander.md", "The bystander note about mills stays.\n", actor=ANA)
    commits.append(s.put(SRC, BODIES[1], actor=BOT).commit)
    commits.append(s.put(SRC, BODIES[2], actor=BOT).commit)
    s.move(SRC, DST, actor=ANA)
    assert [h.path for h in s.search("zebracorn")] == [DST]
    assert s.view(DST, actor=ANA).text == BODIES[2]
    assert len(s.history(DST)) == 4
    return s, commits


def check_purged(s: Store, root: Path, commits: list[str]) -> None:
    st = s.state()
    assert st.state == READY and st.pending_purges == 0, st
    assert not (root / "audit" / "purge.pending").exists()
    side = json.loads((root / "memories/projects/archive/plan-a.meta.json").read_bytes())
    rows = s.history(DST)
    assert side == {"kind": "projects", "state": "purged", "seq": rows[-1].seq}
    assert not (root / DST).exists() and not (root / SRC).exists()
    assert not (root / "versions/projects/plan-a").exists()
    assert not (root / "versions/projects/archive/plan-a").exists()
    assert s.search("zebracorn") == [] and s.search("secret plan") == []
    with pytest.raises(NotFound, match="purged"):
        s.view(DST)
    with pytest.raises(NotFound):
        s.view(SRC)
    # The fact of erasure stays: every row, and the purge row names what it destroyed.
    assert [r.op for r in rows] == ["put", "put", "put", "move", "delete"]
    purge = rows[-1]
    assert purge.commit == "" and purge.extra["mode"] == "purge"
    assert purge.extra["reason"] == "legal-erasure" and purge.extra["destroyed"] == commits[-1]
    scan = scan_current(Binlog(root / "audit"), Tip())
    assert scan.bad is None and scan.broken is None and scan.tip.seq >= purge.seq
    # The bystander is untouched and still searchable.
    assert [h.path for h in s.search("bystander")] == ["memories/facts/bystander.md"]
    m = s.view("memories/facts/bystander.md")
    assert commitment(bytes.fromhex(m.sidecar.salt), m.body) == m.sidecar.commit


def test_purge_leaves_no_byte_behind(tmp_path: Path) -> None:
    root = tmp_path / "store"
    s, commits = build(root)
    try:
        assert leaks(root, [TOKEN]), "the test must see the token before the purge"
        r = s.delete(DST, actor=ANA, mode="purge", reason="legal-erasure", ticket="LEGAL-42")
        assert r.row is not None and r.row.extra["ticket"] == "LEGAL-42"
        check_purged(s, root, commits)
        assert leaks(root, NEEDLES + _b64_needles()) == []  # while the store is open
        # Writing after the purge must not bring anything back (WAL, journal, FTS merges).
        for i in range(30):
            s.put(f"memories/facts/after-{i}.md", f"after the purge {i}\n", actor=ANA)
        s.search("after purge")
    finally:
        s.close()
    assert leaks(root, NEEDLES + _b64_needles()) == []
    with Store.open(root, allow_temp=True) as s2:
        check_purged(s2, root, commits)


def test_purge_survives_reindex(tmp_path: Path) -> None:
    root = tmp_path / "store"
    s, commits = build(root)
    with s:
        s.delete(DST, actor=ANA, mode="purge", reason="user-request")
        s.reindex()
        assert s.search("zebracorn") == []
    assert leaks(root, NEEDLES) == []


def test_interrupted_purge_is_finished_at_open(tmp_path: Path) -> None:
    """Simulated: the purge row is applied but one version file was left behind and the seq is
    still listed in audit/purge.pending (the crash came before every artefact was gone)."""
    root = tmp_path / "store"
    s, commits = build(root)
    vdir = root / "versions/projects/archive/plan-a"
    kept = {p.name: p.read_bytes() for p in vdir.iterdir()}
    r = s.delete(DST, actor=ANA, mode="purge", reason="legal-erasure")
    s.close()
    assert not vdir.exists()
    vdir.mkdir(parents=True)
    for name, data in kept.items():
        (vdir / name).write_bytes(data)
    (root / "audit" / "purge.pending").write_text(f"{r.seq}\n")
    assert leaks(root, [TOKEN])
    with Store.open(root, allow_temp=True) as s2:
        assert any(f"purge seq {r.seq}" in n for n in s2.notes), s2.notes
        check_purged(s2, root, commits)
    assert leaks(root, NEEDLES) == []


def test_purge_committed_but_not_applied_is_finished_at_open(tmp_path: Path) -> None:
    """A real crash: the writer process dies right after the purge's journal fdatasync."""
    root = tmp_path / "store"
    s, commits = build(root)
    s.close()
    script = (
        "from core.store import Store\n"
        f"s = Store.open({str(root)!r}, allow_temp=True)\n"
        f"s.delete({DST!r}, actor={ANA!r}, mode='purge', reason='legal-erasure')\n"
    )
    env = dict(
        os.environ,
        PYTHONPATH=str(REPO),
        XDG_STATE_HOME=str(tmp_path / "xdg-state"),
        BRAIN_TEST_CRASH_AFTER_COMMIT="1",
    )
    p = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=REPO, capture_output=True, timeout=60
    )
    assert p.returncode == 9, p.stderr
    assert (root / DST).exists()  # committed, not applied: the body is still there
    with Store.open(root, allow_temp=True) as s2:
        assert any("replayed 1 journal record" in n for n in s2.notes), s2.notes
        check_purged(s2, root, commits)
    assert leaks(root, NEEDLES + _b64_needles()) == []


def test_purge_of_a_tombstoned_memory(tmp_path: Path) -> None:
    root = tmp_path / "store"
    with Store.init(root, allow_temp=True) as s:
        a = s.put(SRC, BODIES[0], actor=BOT)
        s.delete(SRC, actor=ANA)  # the body now lives only as a version
        r = s.delete(SRC, actor=ANA, mode="purge", reason="pii-leak")
        assert r.row is not None and r.row.extra["destroyed"] == a.commit
        with pytest.raises(NotFound, match="purged"):
            s.view(SRC)
    assert leaks(root, NEEDLES) == []


@pytest.mark.parametrize("readonly", [False, True])
def test_index_connections_leave_no_deleted_text_behind(tmp_path: Path, readonly: bool) -> None:
    """Freed pages are zeroed and SQLite's temporary files (sorts, statement journals) stay in
    memory: neither the index's free list nor a file in /var/tmp keeps a purged body's text."""
    from core.index import schema

    with Store.init(tmp_path / "s", allow_temp=True) as s:
        s.put("memories/facts/a.md", "text\n", actor="human:ana@laptop")
        s.wait_index()
        path = str(s.layout.index_db)
    conn = schema.connect(path, readonly=readonly)
    try:
        assert conn.execute("PRAGMA secure_delete").fetchone()[0] == 1
        assert conn.execute("PRAGMA temp_store").fetchone()[0] == 2  # MEMORY
    finally:
        conn.close()
