"""Foreign data is bounded before it is trusted (PROTOCOL "Import and sync identity"; issue 10
item 9): sizes are checked as entries stream, only regular files are read, nothing is held
whole. The bombs are built by tests/bench/bombs.py, which the `zipbomb` benchmark also uses."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest

from core import limits
from core.portable.foreign import ImportRefused
from core.portable.importer import import_store
from core.store import Store
from tests.bench.bench_foreign import BODY, make_bombs, measure
from tests.bench.bombs import deflate_zeros, with_entry, zstd_zeros

REPO = Path(__file__).resolve().parents[2]
ANA = "human:ana@laptop"


@pytest.fixture(autouse=True)
def _own_witness_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("bombs")
    os.environ.setdefault("XDG_STATE_HOME", str(d / "xdg-state"))
    return make_bombs(d)


def _import(target: Path, src: Path) -> None:
    with Store.open(target, allow_temp=True) as s:
        try:
            import_store(s, src, filter="all", actor=ANA)
        finally:
            assert s.tip.seq == 0  # nothing written


@pytest.mark.parametrize("which", ["body", "segment"])
def test_bombs_are_refused_fast_and_small(bombs: dict[str, Path], which: str) -> None:
    """The issue's targets: each refused within 1 s and 100 MB of RSS (a child process)."""
    m = measure(bombs["target"], bombs[which])
    assert m["refused"] and m["head"] == 0, m
    assert m["s"] < 1.0, m
    assert m["rss_mb"] < 100, m
    if which == "body":
        assert "over the 67108864-byte limit" in m["why"]
    assert bombs["body"].stat().st_size < 2 << 20 and bombs["segment"].stat().st_size < 16 << 10


def test_a_zip_entry_lying_about_its_size_is_cut_at_the_declared_size(
    bombs: dict[str, Path], tmp_path: Path
) -> None:
    data, _crc = deflate_zeros(256)  # 256 MiB of zeros that declare 10 bytes
    src = with_entry(
        bombs["target"].parent / "origin.zip", tmp_path / "liar.zip", BODY, data, 10, 0
    )
    t0 = time.perf_counter()
    with pytest.raises(ImportRefused, match="damaged|commitment"):
        _import(bombs["target"], src)
    assert time.perf_counter() - t0 < 5


def test_zstd_segment_must_declare_its_size(bombs: dict[str, Path], tmp_path: Path) -> None:
    import zstandard

    undeclared = zstandard.ZstdCompressor(write_content_size=False).compress(bytes(1 << 20))
    name = "audit/00000000000000000001.binlog.zst"
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    src = with_entry(
        bombs["target"].parent / "origin.zip",
        tmp_path / "undeclared.zip",
        name,
        c.compress(undeclared) + c.flush(),
        len(undeclared),
        zlib.crc32(undeclared),
    )
    with pytest.raises(ImportRefused, match="does not declare its size"):
        _import(bombs["target"], src)
    assert zstandard.get_frame_parameters(zstd_zeros(1000)[:18]).content_size == 1000


def _folder_copy(tmp_path: Path) -> tuple[Path, Path]:
    """A store folder to import from (its memory BODY shareable) and an empty target."""
    src = tmp_path / "origin"
    with Store.init(src, allow_temp=True) as s:
        s.put(BODY, "the victim's fact\n", actor=ANA, sync_class="shareable")
        s.checkpoint()
    target = tmp_path / "target"
    Store.init(target, allow_temp=True).close()
    return src, target


def test_folder_entries_over_their_limit_are_refused_unread(tmp_path: Path) -> None:
    src, target = _folder_copy(tmp_path)
    body = src / BODY
    with open(body, "r+b") as f:  # sparse: 1 byte over the put limit, nothing to read
        f.truncate(limits.MAX_BODY_BYTES + 1)
    with pytest.raises(ImportRefused, match="over the 67108864-byte limit"):
        _import(target, src)


def test_a_fifo_in_an_imported_folder_is_refused_not_waited_on(tmp_path: Path) -> None:
    src, target = _folder_copy(tmp_path)
    (src / BODY).unlink()
    os.mkfifo(src / BODY)  # nobody will ever write to it
    env = dict(os.environ, PYTHONPATH=str(REPO), BRAIN_ALLOW_TEMP_STORE="1")
    cmd = [sys.executable, "-m", "brain_tui.cli.main", "--store", str(target), "import", str(src)]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode != 0 and "not a regular file" in p.stderr, p.stderr
    assert "Traceback" not in p.stderr
    # A FIFO named as the source itself is refused too, without opening it for a read.
    fifo = tmp_path / "src.zip"
    os.mkfifo(fifo)
    p = subprocess.run(cmd[:-1] + [str(fifo)], capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode != 0 and "not a regular file" in p.stderr, p.stderr
    shutil.rmtree(src)


def test_a_store_id_with_a_trailing_newline_is_refused(tmp_path: Path) -> None:
    """`$` matches before a final newline: the id check matches the whole string."""
    import json

    src, target = _folder_copy(tmp_path)
    manifest = src / "manifest.json"
    doc = json.loads(manifest.read_text())
    doc["store_id"] += "\n"
    manifest.write_text(json.dumps(doc))
    with pytest.raises(ImportRefused, match="store id is not 32 lowercase hex"):
        _import(target, src)
