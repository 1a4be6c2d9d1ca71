"""Export (deterministic, secret-free zip) and import (verify first, then idempotent local puts,
conflicts kept aside), PROTOCOL.md "Import and sync identity"."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from brain_tui.cli.main import main as brain
from core.errors import BrainError
from core.log.hashing import meta_commitment, meta_fields
from core.models import Sidecar
from core.portable.export import build_zip
from core.portable.foreign import ImportRefused
from core.store import Store

ANA = "human:ana@laptop"
BOB = "human:bob@desk"


@pytest.fixture(autouse=True)
def _own_witness_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))


def _origin(root: Path) -> Store:
    s = Store.init(root, allow_temp=True)
    s.put(
        "memories/decisions/atlas/db.md",
        "# Use postgres\n\nWe chose postgres.\n",
        actor=ANA,
        sync_class="shareable",
        tags=["postgres", "type:decision"],
        category="architecture",
        classification="internal",
        title="Use postgres",
    )
    s.put(
        "memories/facts/team.md",
        "The team meets on Mondays.\n",
        actor=ANA,
        sync_class="team-public",
    )
    s.put("memories/people/ana.md", "Ana prefers tea.\n", actor=ANA)  # private by default
    s.put("memories/facts/gone.md", "soon gone\n", actor=ANA, sync_class="shareable")
    s.delete("memories/facts/gone.md", actor=ANA)
    s.put("memories/decisions/atlas/db.md", "# Use postgres 16\n\nUpgraded.\n", actor=ANA)
    return s


@pytest.fixture
def a(tmp_path: Path):
    s = _origin(tmp_path / "a")
    yield s
    s.close()


@pytest.fixture
def b(tmp_path: Path):
    s = Store.init(tmp_path / "b", allow_temp=True)
    yield s
    s.close()


def _ops(store: Store, after: int = 0) -> list[str]:
    return [r.op for r in store.tail(after + 1)]


# -- export ---------------------------------------------------------------------------------


def test_export_is_byte_identical_across_runs(a: Store, tmp_path: Path) -> None:
    r1 = a.export(tmp_path / "one.zip")
    head = a.tip.seq
    r2 = a.export(tmp_path / "two.zip")
    r3 = a.export(a.root / "exports" / "three.zip")  # listed in the manifest: still the same
    r4 = a.export(a.root / "exports" / "four.zip")
    assert a.tip.seq == head, "a second export must not add rows"
    data = (tmp_path / "one.zip").read_bytes()
    assert data == (tmp_path / "two.zip").read_bytes()
    assert data == (a.root / "exports" / "three.zip").read_bytes()
    assert data == (a.root / "exports" / "four.zip").read_bytes()
    assert r1.sha256 == r2.sha256 == r3.sha256 == r4.sha256


def test_export_zip_is_normalised(a: Store, tmp_path: Path) -> None:
    a.export(tmp_path / "x.zip")
    with zipfile.ZipFile(tmp_path / "x.zip") as zf:
        infos = zf.infolist()
        names = [i.filename for i in infos]
        assert names == sorted(names)
        for i in infos:
            assert i.date_time == (1980, 1, 1, 0, 0, 0)
            assert i.external_attr >> 16 == 0o100644
            assert i.compress_type == zipfile.ZIP_DEFLATED
            assert i.extra == b""
            assert not i.is_dir()
        assert zf.comment == b""


def test_export_includes_the_verifiable_store_and_no_secrets(a: Store, tmp_path: Path) -> None:
    a.rotate_key()
    a.rotate_key(finish=True)  # a retired private key now sits in keys/retired/
    a.view("memories/facts/team.md", actor=ANA)  # an access entry
    (a.root / "local" / "hub-token").write_text("secret")
    a.export(a.root / "exports" / "first.zip")
    a.export(tmp_path / "x.zip")
    with zipfile.ZipFile(tmp_path / "x.zip") as zf:
        names = zf.namelist()
        manifest = json.loads(zf.read("manifest.json"))
    for bad in (".lock", "HEAD", "audit/journal.wal", "audit/purge.pending", "audit/access.binlog"):
        assert bad not in names
    for prefix in ("index/", "local/", "exports/", "conflicts/", "keys/retired/"):
        assert not any(n.startswith(prefix) for n in names), prefix
    assert not any(n.endswith(".key") for n in names)
    assert len([n for n in names if n.startswith("keys/") and n.endswith(".vkey")]) == 2
    for want in ("manifest.json", "audit/current.binlog", "audit/mmr.nodes"):
        assert want in names
    assert any(n.startswith("audit/checkpoints/") and n.endswith(".note") for n in names)
    assert "memories/decisions/atlas/db.md" in names
    assert any(n.startswith("versions/decisions/atlas/db/") for n in names)
    assert manifest["exports"] == [] and manifest["store_id"] == a.manifest.store_id


def test_export_records_where_it_went(a: Store, tmp_path: Path) -> None:
    r = a.export(a.root / "exports" / "in.zip")
    assert r.recorded == "manifest"
    assert json.loads((a.root / "manifest.json").read_bytes())["exports"] == ["exports/in.zip"]
    r = a.export(tmp_path / "out.zip")
    assert r.recorded == "local/exports.json"
    listed = json.loads((a.root / "local" / "exports.json").read_bytes())["exports"]
    assert [i["path"] for i in listed] == [str(tmp_path / "out.zip")]
    with pytest.raises(BrainError, match="not under exports/"):
        a.export(a.root / "memories" / "x.zip")


def test_purge_deletes_exports_inside_and_names_those_outside(a: Store, tmp_path: Path) -> None:
    a.export(a.root / "exports" / "in.zip")
    a.export(tmp_path / "out.zip")
    a.delete("memories/people/ana.md", actor=ANA, mode="purge", reason="user-request")
    assert not (a.root / "exports" / "in.zip").exists()
    assert json.loads((a.root / "manifest.json").read_bytes())["exports"] == []
    assert any(str(tmp_path / "out.zip") in n for n in a.notes)


def test_export_is_consistent_with_a_concurrent_writer(a: Store, b: Store, tmp_path: Path) -> None:
    import threading

    stop = threading.Event()

    def writer() -> None:
        i = 0
        while not stop.is_set():
            a.put(f"memories/facts/bg{i % 5}.md", f"bg {i}\n", actor=ANA, sync_class="shareable")
            i += 1

    t = threading.Thread(target=writer)
    t.start()
    try:
        outs = [a.export(tmp_path / f"c{i}.zip") for i in range(3)]
    finally:
        stop.set()
        t.join()
    for i, _res in enumerate(outs):  # each one verifies as a whole (files match the log)
        b.import_(tmp_path / f"c{i}.zip", actor=BOB)


# -- import ---------------------------------------------------------------------------------


def test_import_brings_only_shareable_and_team_public(a: Store, b: Store, tmp_path: Path) -> None:
    a.export(tmp_path / "a.zip")
    res = b.import_(tmp_path / "a.zip", actor=BOB)
    assert res.origin == a.manifest.store_id
    assert sorted(res.written) == ["memories/decisions/atlas/db.md", "memories/facts/team.md"]
    assert res.skipped == {"filtered": 1}  # the private one; the tombstoned one is not offered
    rows = b.tail()
    assert [r.op for r in rows] == ["session.start", "put", "put", "session.end"]
    assert rows[0].extra["origin"] == a.manifest.store_id and rows[-1].extra["written"] == 2
    origin_rows = {r.seq: r for r in a.tail()}
    mem = b.view("memories/decisions/atlas/db.md")
    assert mem.body == a.view("memories/decisions/atlas/db.md").body
    side, src = mem.sidecar, a.view("memories/decisions/atlas/db.md").sidecar
    assert (side.title, side.tags, side.category, side.classification, side.sync_class) == (
        src.title, src.tags, src.category, src.classification, src.sync_class,
    )  # fmt: skip
    put = next(r for r in rows if r.path == "memories/decisions/atlas/db.md")
    key = {"store": a.manifest.store_id, "seq": src.seq}
    assert put.extra == {
        "imported_from": key,
        "foreign_chain": origin_rows[src.seq].chain,
        "meta": meta_commitment(bytes.fromhex(side.salt), meta_fields(side)),
    }
    assert side.extra["imported_from"] == key
    with pytest.raises(BrainError):
        b.view("memories/people/ana.md")


def test_import_filter(a: Store, b: Store, tmp_path: Path) -> None:
    a.export(tmp_path / "a.zip")
    with pytest.raises(BrainError, match="unknown sync class 'secret'"):
        b.import_(tmp_path / "a.zip", filter="secret", actor=BOB)
    res = b.import_(tmp_path / "a.zip", filter="private", actor=BOB)
    assert res.written == ["memories/people/ana.md"]
    res = b.import_(tmp_path / "a.zip", filter="all", actor=BOB)
    assert sorted(res.written) == ["memories/decisions/atlas/db.md", "memories/facts/team.md"]
    assert res.skipped == {"already-imported": 1}


def test_reimport_writes_no_rows_at_all(a: Store, b: Store, tmp_path: Path) -> None:
    a.export(tmp_path / "a.zip")
    b.import_(tmp_path / "a.zip", actor=BOB)
    head = b.tip.seq
    res = b.import_(tmp_path / "a.zip", actor=BOB)
    assert (res.written, res.conflicts, res.first_seq) == ([], [], 0)
    assert res.skipped == {"filtered": 1, "already-imported": 2}
    assert b.tip.seq == head


def test_newer_version_from_the_same_origin_updates(a: Store, b: Store, tmp_path: Path) -> None:
    a.export(tmp_path / "v1.zip")
    b.import_(tmp_path / "v1.zip", actor=BOB)
    a.put("memories/facts/team.md", "The team meets on Tuesdays.\n", actor=ANA)
    a.export(tmp_path / "v2.zip")
    head = b.tip.seq
    res = b.import_(tmp_path / "v2.zip", actor=BOB)
    assert res.written == ["memories/facts/team.md"] and res.conflicts == []
    assert b.view("memories/facts/team.md").body == b"The team meets on Tuesdays.\n"
    assert _ops(b, head) == ["session.start", "put", "session.end"]
    # The older export again: nothing regresses.
    res = b.import_(tmp_path / "v1.zip", actor=BOB)
    assert res.written == [] and res.skipped.get("older-than-local") == 1


def test_conflicting_path_goes_to_conflicts(a: Store, b: Store, tmp_path: Path) -> None:
    b.put("memories/facts/team.md", "Our own team fact.\n", actor=BOB, sync_class="shareable")
    a.export(tmp_path / "a.zip")
    head = b.tip.seq
    res = b.import_(tmp_path / "a.zip", actor=BOB)
    origin = a.manifest.store_id
    copy = f"conflicts/{origin}/memories/facts/team.md"
    assert res.conflicts == [copy] and res.written == ["memories/decisions/atlas/db.md"]
    assert b.view("memories/facts/team.md").body == b"Our own team fact.\n"
    assert (b.root / copy).read_bytes() == b"The team meets on Mondays.\n"
    side = json.loads((b.root / copy.replace(".md", ".meta.json")).read_bytes())
    assert side["extra"]["imported_from"]["store"] == origin
    rows = b.tail(head + 1)
    assert [r.op for r in rows] == ["session.start", "put", "sync.conflict", "session.end"]
    conflict = rows[2]
    assert conflict.path == "memories/facts/team.md" and conflict.commit == ""
    assert conflict.extra["copy"] == copy and conflict.extra["imported_from"]["store"] == origin
    head = b.tip.seq
    assert b.import_(tmp_path / "a.zip", actor=BOB).skipped["conflict-recorded"] == 1
    assert b.tip.seq == head


def test_local_edit_of_an_imported_memory_is_not_overwritten(
    a: Store, b: Store, tmp_path: Path
) -> None:
    a.export(tmp_path / "v1.zip")
    b.import_(tmp_path / "v1.zip", actor=BOB)
    b.put("memories/facts/team.md", "Bob's own edit.\n", actor=BOB)
    a.put("memories/facts/team.md", "Origin's newer text.\n", actor=ANA)
    a.export(tmp_path / "v2.zip")
    res = b.import_(tmp_path / "v2.zip", actor=BOB)
    assert res.written == [] and len(res.conflicts) == 1
    assert b.view("memories/facts/team.md").body == b"Bob's own edit.\n"


def test_a_local_tombstone_of_the_imported_version_stays(
    a: Store, b: Store, tmp_path: Path
) -> None:
    a.export(tmp_path / "a.zip")
    b.import_(tmp_path / "a.zip", actor=BOB)
    b.delete("memories/facts/team.md", actor=BOB)
    head = b.tip.seq
    res = b.import_(tmp_path / "a.zip", actor=BOB)
    assert res.skipped.get("deleted-here") == 1 and b.tip.seq == head


def test_import_from_a_store_folder_and_after_consolidation(
    a: Store, b: Store, tmp_path: Path
) -> None:
    a.consolidate()
    a.put("memories/facts/late.md", "written after the seal\n", actor=ANA, sync_class="shareable")
    res = b.import_(a.root, actor=BOB)  # a live folder: its last put is not signed yet
    assert res.skipped.get("unsigned") == 1 and len(res.written) == 2
    a.export(tmp_path / "a.zip")  # signs a checkpoint first
    with zipfile.ZipFile(tmp_path / "a.zip") as zf:
        assert any(n.endswith(".binlog.zst") for n in zf.namelist())
    res = b.import_(tmp_path / "a.zip", actor=BOB)
    assert res.written == ["memories/facts/late.md"]


def test_import_refuses_its_own_store(a: Store, tmp_path: Path) -> None:
    a.export(tmp_path / "a.zip")
    with pytest.raises(BrainError, match="this very store"):
        a.import_(tmp_path / "a.zip", actor=ANA)


# -- tampering --------------------------------------------------------------------------------


def _entries(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def _rezip(tmp_path: Path, files: dict[str, bytes], name: str) -> Path:
    out = tmp_path / name
    out.write_bytes(build_zip(list(files.items())))
    return out


@pytest.fixture
def exported(a: Store, tmp_path: Path) -> dict[str, bytes]:
    a.export(tmp_path / "a.zip")
    return _entries(tmp_path / "a.zip")


def _refused(b: Store, src: Path, match: str) -> None:
    with pytest.raises(ImportRefused, match=match):
        b.import_(src, actor=BOB)
    assert b.tip.seq == 0, "a refused import writes nothing"


def test_untampered_rezip_imports(b: Store, exported: dict, tmp_path: Path) -> None:
    assert b.import_(_rezip(tmp_path, exported, "same.zip"), actor=BOB).written


def test_flipped_frame_byte_is_refused(b: Store, exported: dict, tmp_path: Path) -> None:
    files = dict(exported)
    files["audit/current.binlog"] = _flip(files["audit/current.binlog"], 24 + 10)
    _refused(
        b, _rezip(tmp_path, files, "t.zip"), r"audit/current.binlog: bad frame at byte 0 .*CRC"
    )


def test_flipped_body_byte_is_refused(b: Store, exported: dict, tmp_path: Path) -> None:
    files = dict(exported)
    files["memories/facts/team.md"] = _flip(files["memories/facts/team.md"], 4)
    _refused(
        b, _rezip(tmp_path, files, "t.zip"), r"memories/facts/team.md: the body does not match"
    )


def test_flipped_note_byte_is_refused(b: Store, exported: dict, tmp_path: Path) -> None:
    files = dict(exported)
    note = max(n for n in files if n.endswith(".note"))
    text = files[note].decode()
    sig_at = text.rindex(" ") + 10  # inside the base64 signature
    files[note] = (
        text[:sig_at] + ("A" if text[sig_at] != "A" else "B") + text[sig_at + 1 :]
    ).encode()
    _refused(b, _rezip(tmp_path, files, "t.zip"), rf"{note}: .*signature")
    files = dict(exported)
    root_line = files[note].decode().split("\n")[2]
    swapped = files[note].decode().replace(root_line, "A" * 43 + "=", 1)
    files[note] = swapped.encode()
    _refused(b, _rezip(tmp_path, files, "t2.zip"), rf"{note}: invalid signature")


def test_sidecar_swapped_and_missing_files_are_refused(
    b: Store, exported: dict, tmp_path: Path
) -> None:
    files = dict(exported)
    side = json.loads(files["memories/facts/team.meta.json"])
    side["seq"] = 1
    files["memories/facts/team.meta.json"] = json.dumps(side).encode()
    _refused(b, _rezip(tmp_path, files, "t.zip"), "the sidecar says seq 1 but the log's last row")
    files = dict(exported)
    del files["memories/facts/team.md"]
    _refused(b, _rezip(tmp_path, files, "t2.zip"), "team.md was written by row .* missing")


def test_truncated_log_and_missing_checkpoint_are_refused(
    a: Store, b: Store, exported: dict, tmp_path: Path
) -> None:
    files = dict(exported)
    log = files["audit/current.binlog"]
    files["audit/current.binlog"] = log[: len(log) // 2]
    _refused(b, _rezip(tmp_path, files, "t.zip"), "bad frame .*cut short")
    files = {n: d for n, d in exported.items() if not n.endswith(".note")}
    _refused(b, _rezip(tmp_path, files, "t2.zip"), "no signed checkpoint")


def test_raw_byte_flip_in_the_zip_is_refused(b: Store, tmp_path: Path, a: Store) -> None:
    a.export(tmp_path / "a.zip")
    raw = (tmp_path / "a.zip").read_bytes()
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        info = zf.getinfo("audit/current.binlog")
    # The local header is 30 bytes plus the name; flip a byte of the compressed data.
    at = info.header_offset + 30 + len(info.filename) + 5
    (tmp_path / "bad.zip").write_bytes(_flip(raw, at))
    _refused(b, tmp_path / "bad.zip", "audit/current.binlog")


def test_zip_with_traversal_names_is_refused(b: Store, tmp_path: Path) -> None:
    bad = tmp_path / "evil.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("manifest.json", b"{}")
        zf.writestr("../../etc/passwd", b"x")
    _refused(b, bad, "unsafe entry name")


def test_sidecar_of_import_is_a_valid_sidecar(a: Store, b: Store, tmp_path: Path) -> None:
    a.export(tmp_path / "a.zip")
    b.import_(tmp_path / "a.zip", actor=BOB)
    import msgspec

    raw = (b.root / "memories/facts/team.meta.json").read_bytes()
    assert msgspec.json.decode(raw, type=Sidecar).extra["foreign_chain"]


# -- CLI ----------------------------------------------------------------------------------------


def test_cli_export_import(a: Store, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    a.close()
    out = tmp_path / "cli.zip"
    assert brain(["--store", str(a.root), "--allow-temp-store", "export", str(out)]) == 0
    assert "exported" in capsys.readouterr().out
    c = tmp_path / "c"
    assert brain(["--store", str(c), "--allow-temp-store", "init"]) == 0
    capsys.readouterr()
    argv = ["--store", str(c), "--allow-temp-store", "--json", "import", str(out)]
    assert brain([*argv, "--filter", "all"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert len(res["written"]) == 3 and res["first_seq"] == 1
    assert brain(argv) == 0
    assert json.loads(capsys.readouterr().out)["first_seq"] == 0
    out.write_bytes(b"not a zip")
    assert brain(argv) == 1
    assert "not a readable zip" in capsys.readouterr().err
