"""Export ships only the layout's files, backup never writes into the store, and a failed
export leaves no hidden copy behind (review findings 1 and 5; docs/export-import-backup.md)."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from core import fsio
from core.doctor.exports import leaking, secret_entry
from core.errors import BrainError
from core.store import Store

ANA = "human:ana@laptop"


@pytest.fixture(autouse=True)
def _own_witness_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))


@pytest.fixture
def store(tmp_path: Path):
    s = Store.init(tmp_path / "s", allow_temp=True)
    s.put("memories/facts/a.md", "alpha\n", actor=ANA, sync_class="shareable")
    s.put("memories/facts/a.md", "alpha, revised\n", actor=ANA, sync_class="shareable")
    s.put("memories/facts/gone.md", "gone\n", actor=ANA)
    s.delete("memories/facts/gone.md", actor=ANA, mode="purge", reason="other")
    yield s
    s.close()


def _names(zpath: Path) -> list[str]:
    with zipfile.ZipFile(zpath) as z:
        return z.namelist()


def test_backup_through_a_link_into_the_store_is_refused(store: Store, tmp_path: Path) -> None:
    link = tmp_path / "lnk"
    link.symlink_to(store.root)
    for dest in (link / "versions" / "bk", link / "memories" / "facts" / "bk"):
        with pytest.raises(BrainError, match="inside the store"):
            store.backup(dest)
    assert not list((store.root / "versions").rglob("*.key"))
    assert not (store.root / "memories" / "facts" / "bk").exists()
    assert not [p for p in (store.root / "versions").iterdir() if p.name.startswith(".bk")]


def test_export_holds_only_memory_and_version_files(store: Store, tmp_path: Path) -> None:
    facts = store.root / "memories" / "facts"
    (facts / "stray.md").write_text("an editor's leftover\n")  # no sidecar
    (facts / "notes.txt").write_text("not a memory name\n")
    (facts / "a (conflicted copy).md").write_text("a sync tool's copy\n")
    (store.root / "versions" / "facts" / "a" / "readme.md").write_text("not a version name\n")
    r = store.export(tmp_path / "e.zip")
    names = _names(tmp_path / "e.zip")
    mem = sorted(n for n in names if n.startswith(("memories/", "versions/")))
    assert mem == [
        "memories/facts/a.md",
        "memories/facts/a.meta.json",
        "memories/facts/gone.meta.json",  # a purged memory keeps only its sidecar
        f"versions/facts/a/{1:020d}.md",
        f"versions/facts/a/{1:020d}.meta.json",
    ]
    assert any("left out 4 file(s)" in n and "a (conflicted copy).md" in n for n in r.notes)
    with Store.init(tmp_path / "b", allow_temp=True) as b:  # the export stays importable
        got = b.import_(tmp_path / "e.zip", actor=ANA)
    assert got.written == ["memories/facts/a.md"]


@pytest.mark.parametrize(
    "rel",
    [
        "versions/bk/keys/brain_0123456789abcdef0123456789abcdef.0a1b2c3d.key",
        "memories/facts/bk/local/origin-keys.json",
    ],
)
def test_a_private_key_or_local_state_among_the_memories_refuses_the_export(
    store: Store, tmp_path: Path, rel: str
) -> None:
    assert secret_entry(rel)  # what the doctor would flag in an export
    (store.root / rel).parent.mkdir(parents=True)
    (store.root / rel).write_text("secret\n")
    with pytest.raises(BrainError, match=f"export refused: {rel} is "):
        store.export(tmp_path / "e.zip")
    assert not (tmp_path / "e.zip").exists()


def test_export_to_a_folder_is_refused_up_front(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "out" / "e.zip"
    out.mkdir(parents=True)
    head = store.tip.seq
    with pytest.raises(BrainError, match="exists and is not a file"):
        store.export(out)
    assert os.listdir(out.parent) == ["e.zip"] and not os.listdir(out)
    assert store.tip.seq == head  # refused before the checkpoint an export may sign


@pytest.mark.parametrize("mode", [None, 0o600])
def test_write_file_removes_its_temp_when_the_rename_fails(tmp_path: Path, mode) -> None:
    """A temp holding a whole export (or a private key) must not outlive a failed write."""
    target = tmp_path / "e.zip"
    target.mkdir()  # a folder in the way: the rename fails after every byte was written
    with pytest.raises(IsADirectoryError):
        fsio.write_file(target, b"private bytes", durable=True, mode=mode)
    assert os.listdir(tmp_path) == ["e.zip"] and not os.listdir(target)


def test_a_memory_in_a_folder_named_local_is_exported_and_not_flagged(store: Store) -> None:
    """Only per-machine state under a `local` folder is a secret: a memory filed under
    `projects/local/` exports, and the doctor does not flag (and --repair delete) the export."""
    store.put("memories/projects/local/x.md", "a project called local\n", actor=ANA)
    store.export(store.root / "exports" / "e.zip")
    with zipfile.ZipFile(store.root / "exports" / "e.zip") as z:
        assert "memories/projects/local/x.md" in z.namelist()
    assert leaking(str(store.root)) == []
    assert secret_entry("local/exports.json") and secret_entry("versions/bk/local/state.db")
