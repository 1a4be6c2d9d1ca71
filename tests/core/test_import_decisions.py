"""Import decisions the review found wrong: a re-import after a local move, and a foreign
sidecar's uncommitted `extra` (docs/export-import-backup.md, "Decision per memory")."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from core.store import Store

ANA = "human:ana@laptop"
BOB = "human:bob@desk"
FACT = "memories/facts/alpha.md"
MOVED = "memories/facts/renamed.md"


@pytest.fixture(autouse=True)
def _own_witness_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))


@pytest.fixture
def a(tmp_path: Path):
    s = Store.init(tmp_path / "a", allow_temp=True)
    s.put(FACT, "alpha body\n", actor=ANA, sync_class="shareable", title="alpha")
    yield s
    s.close()


@pytest.fixture
def b(tmp_path: Path):
    s = Store.init(tmp_path / "b", allow_temp=True)
    yield s
    s.close()


def test_a_reimport_after_a_local_move_does_not_bring_the_memory_back(
    a: Store, b: Store, tmp_path: Path
) -> None:
    a.export(tmp_path / "one.zip")
    assert b.import_(tmp_path / "one.zip", actor=BOB).written == [FACT]
    b.move(FACT, MOVED, actor=BOB)
    head = b.tip.seq
    res = b.import_(tmp_path / "one.zip", actor=BOB)
    assert res.written == [] and res.skipped == {"moved-here": 1} and b.tip.seq == head
    assert not (b.root / FACT).exists() and (b.root / MOVED).exists()
    # The origin moves on: its newer version meets the local move, a conflict.
    a.put(FACT, "alpha body, revised at the origin\n", actor=ANA, sync_class="shareable")
    a.export(tmp_path / "two.zip")
    res = b.import_(tmp_path / "two.zip", actor=BOB)
    copy = f"conflicts/{a.manifest.store_id}/{FACT}"
    assert res.written == [] and res.conflicts == [copy]
    assert not (b.root / FACT).exists()
    assert (b.root / MOVED).read_bytes() == b"alpha body\n"
    assert (b.root / copy).read_bytes() == b"alpha body, revised at the origin\n"


def test_a_path_a_local_memory_moved_away_from_is_free(a: Store, b: Store, tmp_path: Path) -> None:
    b.put(FACT, "a local note\n", actor=BOB)
    b.move(FACT, MOVED, actor=BOB)
    a.export(tmp_path / "one.zip")
    res = b.import_(tmp_path / "one.zip", actor=BOB)
    assert res.written == [FACT] and res.conflicts == []
    assert (b.root / FACT).read_bytes() == b"alpha body\n"


def _tampered_extra(a: Store, tmp_path: Path) -> Path:
    """An unpacked export whose sidecar's `extra` (which no row commits) was rewritten."""
    a.export(tmp_path / "a.zip")
    folder = tmp_path / "unpacked"
    with zipfile.ZipFile(tmp_path / "a.zip") as z:
        z.extractall(folder)
    side = folder / "memories/facts/alpha.meta.json"
    doc = json.loads(side.read_bytes())
    doc["extra"] = {
        "imported_from": {"store": "0" * 32, "seq": 1},
        "merged_into": "memories/facts/other.md",
        "signature": "x",
        "injected": "A" * 500_000,
    }
    side.write_text(json.dumps(doc))
    return folder


def test_foreign_sidecar_extra_is_not_carried(a: Store, b: Store, tmp_path: Path) -> None:
    src = _tampered_extra(a, tmp_path)
    res = b.import_(src, actor=BOB)
    assert res.written == [FACT]
    side = json.loads((b.root / "memories/facts/alpha.meta.json").read_bytes())
    key = {"store": a.manifest.store_id, "seq": 1}
    assert set(side["extra"]) == {"imported_from", "foreign_chain"}
    assert side["extra"]["imported_from"] == key


def test_a_conflict_copy_carries_no_foreign_extra(a: Store, b: Store, tmp_path: Path) -> None:
    b.put(FACT, "a local memory at the same path\n", actor=BOB)
    src = _tampered_extra(a, tmp_path)
    res = b.import_(src, actor=BOB)
    assert len(res.conflicts) == 1
    side = json.loads((b.root / (res.conflicts[0][: -len(".md")] + ".meta.json")).read_bytes())
    assert set(side["extra"]) == {"imported_from", "foreign_chain"}
    assert side["extra"]["imported_from"]["store"] == a.manifest.store_id
