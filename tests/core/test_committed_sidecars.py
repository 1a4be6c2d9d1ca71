"""Committed sidecars (PROTOCOL "Rows": `extra.meta`): an edited sync_class, title or tag is
tampering to the doctor and refused by export; deleted version files and folders and a missing
private key are found; sidecars of rows written before the rule are reported as unprotected."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from core.errors import BrainError
from core.log.hashing import meta_commitment, meta_fields
from core.models import Sidecar
from core.store import Store
from core.write.sequencer import Sequencer

ANA = "human:ana@laptop"
P = "memories/facts/secret.md"
Q = "memories/facts/moved.md"


@pytest.fixture(autouse=True)
def _own_witness_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))


def _build(root: Path) -> list[int]:
    with Store.init(root, allow_temp=True) as s:
        v1 = s.put(P, "first\n", actor=ANA, title="Secret", tags=["plan"])
        v2 = s.put(P, "second\n", actor=ANA)
        s.put("memories/facts/other.md", "other\n", actor=ANA)
        return [v1.seq, v2.seq]


def _edit(path: Path, **changes) -> None:
    doc = json.loads(path.read_bytes())
    doc.update(changes)
    path.write_text(json.dumps(doc))


def _doctor(root: Path):
    with Store.open(root, allow_temp=True) as s:
        return s.doctor()


def _side(root: Path, rel: str) -> Path:
    return root / (rel[:-3] + ".meta.json")


def test_put_row_commits_the_sidecar_fields(tmp_path: Path) -> None:
    root = tmp_path / "s"
    _build(root)
    with Store.open(root, allow_temp=True) as s:
        side = s.view(P).sidecar
        row = s.history(P)[-1]
        want = meta_commitment(bytes.fromhex(side.salt), meta_fields(side))
        assert row.extra["meta"] == want


@pytest.mark.parametrize(
    "changes", [{"sync_class": "team-public"}, {"title": "Not secret"}, {"tags": ["public"]}]
)
def test_edited_sidecar_field_is_tampering(tmp_path: Path, changes: dict) -> None:
    root = tmp_path / "s"
    _build(root)
    _edit(_side(root, P), **changes)
    report = _doctor(root)
    r = report.result("sidecars.meta")
    assert r.status == "FAIL" and "extra.meta" in r.detail, r.detail
    assert r.path == _side(root, P).relative_to(root).as_posix()
    assert report.state == "FROZEN_HUMAN"


def test_edited_version_sidecar_is_tampering(tmp_path: Path) -> None:
    root = tmp_path / "s"
    v1, _v2 = _build(root)
    vside = root / f"versions/facts/secret/{v1:020d}.meta.json"
    _edit(vside, sync_class="shareable")
    r = _doctor(root).result("sidecars.meta")
    assert r.status == "FAIL" and r.path == vside.relative_to(root).as_posix()


def test_edit_then_move_does_not_launder(tmp_path: Path) -> None:
    root = tmp_path / "s"
    _build(root)
    _edit(_side(root, P), sync_class="team-public")
    with Store.open(root, allow_temp=True) as s:
        s.move(P, Q, actor=ANA)  # the move commits what the edited sidecar says
        report = s.doctor()
    r = report.result("sidecars.meta")
    assert r.status == "FAIL" and "edited before the move" in r.detail, r.detail


def test_export_refuses_an_edited_sync_class(tmp_path: Path) -> None:
    root = tmp_path / "s"
    _build(root)
    _edit(_side(root, P), sync_class="team-public")
    with Store.open(root, allow_temp=True) as s:
        with pytest.raises(BrainError, match="export refused.*secret.meta.json"):
            s.export(tmp_path / "out.zip")
    assert not (tmp_path / "out.zip").exists()


def test_deleted_version_file_and_folder_are_found(tmp_path: Path) -> None:
    root = tmp_path / "s"
    v1, _v2 = _build(root)
    base = root / "versions/facts/secret"
    (base / f"{v1:020d}.md").unlink()
    r = _doctor(root).result("versions.kept")
    assert r.status == "FAIL" and r.path == f"versions/facts/secret/{v1:020d}.md"
    shutil.rmtree(base)
    report = _doctor(root)
    r = report.result("versions.kept")
    assert r.status == "FAIL" and "versions folder versions/facts/secret is gone" in r.detail
    assert report.state == "FROZEN_HUMAN"


def test_missing_private_key_is_reported(tmp_path: Path) -> None:
    root = tmp_path / "s"
    _build(root)
    (key,) = (root / "keys").glob("*.key")
    key.unlink()
    with Store.open(root, allow_temp=True, read_only=True) as s:
        r = s.doctor().result("merkle.signing_key")
    assert r.status == "WARN" and r.path == f"keys/{key.name}", r


def _without_meta(monkeypatch: pytest.MonkeyPatch) -> None:
    """Write rows as a store made before committed sidecars did (no extra.meta)."""
    real = Sequencer.row

    def row(self, op, path, actor, commit, extra):
        return real(self, op, path, actor, commit, {k: v for k, v in extra.items() if k != "meta"})

    monkeypatch.setattr(Sequencer, "row", row)


def test_rows_before_the_rule_are_unprotected_not_tampered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "s"
    with monkeypatch.context() as m:
        _without_meta(m)
        _build(root)
    _edit(_side(root, P), sync_class="team-public")  # undetectable for such a row
    with Store.open(root, allow_temp=True) as s:
        report = s.doctor()
        assert report.state == "READY", report.failing()
        r = report.result("sidecars.unprotected")
        assert (r.level, r.status) == ("info", "PASS") and "cannot be detected" in r.detail
        assert _side(root, P).relative_to(root).as_posix() in r.paths
        res = s.export(tmp_path / "out.zip")
        assert any("unchecked" in n for n in res.notes)
        s.put(P, "third\n", actor=ANA)  # a new put protects it from now on
        side = Sidecar(**json.loads(_side(root, P).read_bytes()))
        assert s.history(P)[-1].extra["meta"] == meta_commitment(
            bytes.fromhex(side.salt), meta_fields(side)
        )


def test_import_refuses_an_edited_sync_class_in_a_foreign_store(tmp_path: Path) -> None:
    """A crafted source (a store folder here; an export zip is read the same way) whose
    sidecar says team-public where the row committed private is refused, nothing imported."""
    src = tmp_path / "src"
    _build(src)
    with Store.open(src, allow_temp=True) as s:
        s.checkpoint()
    _edit(_side(src, P), sync_class="team-public")
    with Store.init(tmp_path / "dst", allow_temp=True) as dst:
        before = dst.state().head_seq
        with pytest.raises(BrainError, match="sidecar was altered"):
            dst.import_(src, filter="all", actor=ANA)
        assert dst.state().head_seq == before
