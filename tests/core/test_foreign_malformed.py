"""Malformed foreign data is refused by name (ImportRefused naming the file and seq or entry),
never surfaced as a raw KeyError, ValidationError, NotImplementedError or RuntimeError."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path
from typing import Any

import pytest

from core.log import canonical, frame_header, frames
from core.log.hashing import chain_hash
from core.log.tip import decode_row
from core.portable.foreign import ImportRefused
from core.store import Store

ANA = "human:ana@laptop"


@pytest.fixture(autouse=True)
def _own_witness_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))


@pytest.fixture
def zipped(tmp_path: Path) -> Path:
    with Store.init(tmp_path / "a", allow_temp=True) as a:
        a.put("memories/facts/t.md", "team fact\n", actor=ANA, sync_class="shareable")
        a.export(tmp_path / "a.zip")
    return tmp_path / "a.zip"


def _unpacked(zipped: Path) -> Path:
    folder = zipped.parent / "unpacked"
    with zipfile.ZipFile(zipped) as z:
        z.extractall(folder)
    return folder


def _append(folder: Path, fields: dict[str, Any], *, chained: bool = True) -> int:
    """Append one frame after the last row; `chained`: with a correct prev_chain and chain."""
    log = folder / "audit/current.binlog"
    last = decode_row(list(frames.iter_frames(log.read_bytes()))[-1].payload)
    row = {
        "seq": last.seq + 1,
        "ts_ns": last.ts_ns + 1,
        "op": "put",
        "path": "",
        "actor": "someone",
        "commit": "",
        "prev_chain": last.chain,
        "chain": "",
        **fields,
    }
    if chained:
        row["chain"] = chain_hash(canonical.encode(row), last.chain)
    with open(log, "ab") as f:
        f.write(frame_header.encode(row["seq"], row["ts_ns"], canonical.encode(row)))
    return row["seq"]


def _refused(tmp_path: Path, src: Path, match: str) -> None:
    with Store.init(tmp_path / "b", allow_temp=True) as b:
        with pytest.raises(ImportRefused, match=match):
            b.import_(src, filter="all", actor=ANA)
        assert b.tip.seq == 0


@pytest.mark.parametrize("size", [-1, 0, True, "1", None, 10**6])
def test_a_checkpoint_row_with_a_bad_size_is_refused(
    zipped: Path, tmp_path: Path, size: object
) -> None:
    folder = _unpacked(zipped)
    seq = _append(folder, {"op": "checkpoint", "extra": {"size": size, "root": "00"}})
    _refused(tmp_path, folder, rf"checkpoint row {seq} names size {size!r}, not a count")


def test_a_frame_that_is_not_a_whole_row_is_refused(zipped: Path, tmp_path: Path) -> None:
    folder = _unpacked(zipped)
    log = folder / "audit/current.binlog"
    last = decode_row(list(frames.iter_frames(log.read_bytes()))[-1].payload)
    seq, ts = last.seq + 1, last.ts_ns + 1
    with open(log, "ab") as f:
        f.write(frame_header.encode(seq, ts, canonical.encode({"seq": seq, "ts_ns": ts})))
    _refused(
        tmp_path,
        folder,
        rf"current\.binlog: the frame of seq {seq} \(after seq {last.seq}\) is not a valid row"
        r" \(Object missing required field",
    )


def test_a_row_whose_extra_is_not_an_object_is_refused(zipped: Path, tmp_path: Path) -> None:
    folder = _unpacked(zipped)
    seq = _append(folder, {"extra": []}, chained=False)
    _refused(tmp_path, folder, rf"the frame of seq {seq} .* is not a valid row \(Expected `object`")


def _patched(zipped: Path, name: str, patch) -> Path:
    """A copy of the zip with every local and central header changed by `patch(raw, at, central)`."""
    raw = bytearray(zipped.read_bytes())
    for sig, central in ((b"PK\x03\x04", False), (b"PK\x01\x02", True)):
        at = raw.find(sig)
        while at >= 0:
            patch(raw, at, central)
            at = raw.find(sig, at + 4)
    out = zipped.parent / name
    out.write_bytes(bytes(raw))
    return out


def test_an_unknown_compression_method_is_refused(zipped: Path, tmp_path: Path) -> None:
    def method_99(raw: bytearray, at: int, central: bool) -> None:
        struct.pack_into("<H", raw, at + (10 if central else 8), 99)

    src = _patched(zipped, "m99.zip", method_99)
    _refused(tmp_path, src, r"m99\.zip: entry \S+ uses compression method 99; only stored")


def test_an_encrypted_entry_is_refused(zipped: Path, tmp_path: Path) -> None:
    def encrypted(raw: bytearray, at: int, central: bool) -> None:
        off = at + (8 if central else 6)
        struct.pack_into("<H", raw, off, struct.unpack_from("<H", raw, off)[0] | 1)

    src = _patched(zipped, "enc.zip", encrypted)
    _refused(tmp_path, src, r"enc\.zip: entry \S+ is encrypted")
