"""The demo store: every kind, moves, tombstones, exactly one purge, versions, accesses."""

from __future__ import annotations

import json
import random
import time
from collections import Counter

import pytest

from brain_tui.demo import build_demo
from brain_tui.demo_plan import ACTORS
from core.errors import BrainError, NotFound
from core.models import CATEGORIES, CLASSIFICATIONS, KINDS, SYNC_CLASSES
from core.store import Store

NOW = 1_780_000_000 * 10**9  # 2026-05-28


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))
        root = tmp_path_factory.mktemp("demo") / "store"
        started = time.monotonic()
        seen: list[tuple[int, int]] = []
        build_demo(
            root,
            size="small",
            clock=lambda: NOW,
            rng=random.Random(7),
            progress=lambda done, total: seen.append((done, total)),
            allow_temp=True,
        )
        took = time.monotonic() - started
        store = Store.open(root, allow_temp=True, read_only=True)
        try:
            yield store, took, seen
        finally:
            store.close()


def _conn(store: Store):
    store.wait_index()
    return store.reader.conn


def test_small_demo_is_quick_and_reports_progress(demo):
    _store, took, seen = demo
    assert took < 20
    assert seen and seen[-1][0] >= 900
    assert [d for d, _t in seen] == sorted(d for d, _t in seen)


def test_rows_and_memories_are_about_the_small_size(demo):
    store, _took, _seen = demo
    c = _conn(store)
    head = c.execute("SELECT MAX(seq) FROM audit").fetchone()[0]
    assert 800 <= head <= 1300
    assert store.state().state == "READY"
    n = c.execute("SELECT COUNT(*) FROM memories").fetchone()[0]
    assert 180 <= n <= 220


def test_every_kind_category_class_and_actor(demo):
    store, _took, _seen = demo
    c = _conn(store)
    active = "FROM memories WHERE state = 'active'"
    assert {k for (k,) in c.execute(f"SELECT DISTINCT kind {active}")} == set(KINDS)
    assert {k for (k,) in c.execute(f"SELECT DISTINCT category {active}")} == set(CATEGORIES)
    assert {k for (k,) in c.execute(f"SELECT DISTINCT sync_class {active}")} == set(SYNC_CLASSES)
    got = {k for (k,) in c.execute(f"SELECT DISTINCT classification {active}")}
    assert got == set(CLASSIFICATIONS)
    writers = {a for (a,) in c.execute("SELECT DISTINCT actor FROM audit WHERE op = 'put'")}
    assert {a for a, *_ in ACTORS} <= writers


def test_moves_tombstones_and_exactly_one_purge(demo):
    store, _took, _seen = demo
    c = _conn(store)
    ops = Counter(op for (op,) in c.execute("SELECT op FROM audit"))
    assert ops["move"] >= 1
    assert ops["session.start"] == ops["session.end"] >= 10
    deletes = [json.loads(e) for (e,) in c.execute("SELECT extra FROM audit WHERE op='delete'")]
    modes = Counter(d["mode"] for d in deletes)
    assert modes["tombstone"] >= 1
    assert modes["purge"] == 1
    (purge,) = [d for d in deletes if d["mode"] == "purge"]
    assert purge["reason"] == "legal-erasure"
    assert purge["destroyed"]  # the commitment it destroyed, never the content
    assert c.execute("SELECT COUNT(*) FROM memories WHERE state='tombstoned'").fetchone()[0] >= 1


def test_a_person_finds_proposals_and_pii_holds_waiting(tmp_path, monkeypatch):
    """Panes 4 and 5 have work when the demo opens (the full size's default): the agents'
    pending proposals, filed through the gate, and shareable notes the PII gate held, each
    with its rows."""
    from brain_tui.demo_review import HELD, PROPOSALS

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    root = tmp_path / "store"
    build_demo(
        root, size="small", clock=lambda: NOW, rng=random.Random(7), allow_temp=True, review=True
    )
    store = Store.open(root, allow_temp=True, read_only=True)
    c = _conn(store)
    ops = Counter(op for (op,) in c.execute("SELECT op FROM audit"))
    assert ops["proposal.filed"] == len(PROPOSALS) and ops["pii.held"] == len(HELD)
    pending = store.proposals.items()
    assert sorted(p.title for p in pending) == sorted(t for _a, t, *_ in PROPOSALS)
    assert all(p.path.startswith("memories/refinements/proposals/") for p in pending)
    held = {p.path: p for p in store.pii.pending()}
    assert set(held) == {path for _a, path, _b in HELD}
    kinds = {f["type"] for p in held.values() for f in p.findings}
    assert {"email", "phone", "card"} <= kinds
    store.close()


def test_purged_content_is_gone(demo):
    store, _took, _seen = demo
    c = _conn(store)
    (path,) = c.execute(
        "SELECT path FROM audit WHERE op='delete' AND extra LIKE '%\"purge\"%'"
    ).fetchone()
    with pytest.raises(NotFound):
        store.view(path)
    assert store.search("Jordan") == [] and store.search("7946") == []
    assert not list((store.root / "versions").rglob("contractor-contact*"))
    hist = store.history(path)
    assert [r.op for r in hist][-1] == "delete"


def test_versions_and_history(demo):
    store, _took, _seen = demo
    c = _conn(store)
    path, puts = c.execute(
        "SELECT a.path, COUNT(*) n FROM audit a JOIN memories m ON m.path = a.path"
        " WHERE a.op='put' AND m.state='active' GROUP BY a.path ORDER BY n DESC, a.path LIMIT 1"
    ).fetchone()
    assert puts >= 3
    rows = [r for r in store.history(path) if r.op == "put"]
    first, last = store.version(path, rows[0].seq), store.version(path, rows[-1].seq)
    assert first.body != last.body
    assert len(list((store.root / "versions").rglob("*.md"))) >= 300


def test_accesses_are_journaled_and_skewed(demo):
    store, _took, _seen = demo
    c = _conn(store)
    counts = sorted((n for (n,) in c.execute("SELECT count FROM access")), reverse=True)
    assert sum(counts) >= 300
    assert counts[0] >= 10 * counts[len(counts) // 2]  # a few memories are hot


def test_rejected_stale_write_and_checkpoints(demo):
    store, _took, _seen = demo
    c = _conn(store)
    assert c.execute("SELECT COUNT(*) FROM audit WHERE op='put_if.rejected'").fetchone()[0] >= 1
    if hasattr(Store, "checkpoint"):
        assert c.execute("SELECT COUNT(*) FROM audit WHERE op='checkpoint'").fetchone()[0] >= 1


def test_bodies_read_like_memories(demo):
    store, _took, _seen = demo
    rows = store.memories(limit=50)
    bodies = [store.view(r.path).text for r in rows if r.state == "active"]
    assert all(b.startswith("# ") for b in bodies)
    text = " ".join(bodies).lower()
    assert "lorem" not in text and "{" not in text.replace("{}", "")


def test_same_clock_and_rng_give_the_same_ledger(demo, tmp_path, monkeypatch):
    store, _took, _seen = demo
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    again = tmp_path / "again"
    build_demo(again, size="small", clock=lambda: NOW, rng=random.Random(7), allow_temp=True)
    with Store.open(again, allow_temp=True, read_only=True) as other:
        assert other.manifest.store_id == store.manifest.store_id
        a, b = store.tail(1, limit=5000), other.tail(1, limit=5000)
        assert [(r.seq, r.op, r.path, r.actor) for r in a] == [
            (r.seq, r.op, r.path, r.actor) for r in b
        ]
        assert a[-1].chain == b[-1].chain


def test_refuses_to_build_over_an_existing_folder(tmp_path):
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "notes.txt").write_text("mine")
    with pytest.raises(BrainError, match="already exists"):
        build_demo(tmp_path / "demo", size="small", allow_temp=True)
    assert (tmp_path / "demo" / "notes.txt").read_text() == "mine"


def test_brain_demo_command_builds_once_and_prints_state(tmp_path, monkeypatch, capsys):
    from brain_tui.cli.main import main

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    argv = ["demo", "--no-tui", "--size", "small", "--allow-temp-store"]
    assert main(argv) == 0
    out = capsys.readouterr()
    root = tmp_path / "data" / "brain-tui" / "demo"
    assert "building the demo store" in out.err
    assert f"demo store: {root}" in out.out and "state:      READY" in out.out
    first_id = (root / "manifest.json").read_bytes()
    assert main(argv) == 0  # already there: opened, not rebuilt
    assert "building" not in capsys.readouterr().err
    assert main([*argv, "--rebuild"]) == 0
    assert "building the demo store" in capsys.readouterr().err
    assert (root / "manifest.json").read_bytes() != first_id
    assert not list(root.parent.glob(".*partial")) and not list(root.parent.glob(".*removing"))


def test_an_interrupted_rebuild_leaves_nothing_in_the_way(tmp_path, monkeypatch):
    """--rebuild renames the old demo aside before deleting it: a removal killed halfway
    leaves `.demo.removing` (deleted next time), never a half-deleted demo that the next
    --rebuild would refuse as a foreign folder."""
    from brain_tui.cli.cmd_demo import remove_demo

    root = tmp_path / "data" / "brain-tui" / "demo"
    aside = root.with_name(".demo.removing")
    (aside / "memories").mkdir(parents=True)  # what a killed removal left
    root.mkdir()
    (root / "manifest.json").write_text("{}")
    remove_demo(root)
    assert not root.exists() and not aside.exists()


def test_brain_demo_rebuild_leaves_foreign_folders_alone(tmp_path, monkeypatch):
    from brain_tui.cli.main import main

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    root = tmp_path / "data" / "brain-tui" / "demo"
    root.mkdir(parents=True)
    (root / "notes.txt").write_text("mine")
    assert main(["demo", "--no-tui", "--rebuild", "--allow-temp-store"]) == 2
    assert (root / "notes.txt").read_text() == "mine"


def test_the_first_run_screen_builds_the_demo_in_a_child_process(tmp_path, monkeypatch):
    """The workstation's demo builder runs the build as `brain demo` does, in a child
    process whose progress comes back through the callback; a failure is raised here."""
    from brain_tui.cli import cmd_tui
    from brain_tui.cli.cmd_demo import build_in_child

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    root, builder = cmd_tui.demo_parts()
    assert builder.func is build_in_child and builder.keywords == {"size": "full"}
    seen: list[tuple[int, int]] = []
    build_in_child(root, allow_temp=True, progress=lambda d, t: seen.append((d, t)), size="small")
    assert seen and seen[-1][0] == seen[-1][1] >= 900
    with Store.open(root, allow_temp=True, read_only=True) as store:
        assert store.state().state == "READY"
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    with pytest.raises(BrainError, match="already exists"):
        build_in_child(tmp_path / "taken", allow_temp=True, size="small")
