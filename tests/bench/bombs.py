"""Hostile imports for the bound checks (issue 10 item 9): a real export with one entry
swapped for a decompression bomb. Built without ever holding the bomb's expanded bytes."""

from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path

_ZEROS = bytes(1 << 20)


def deflate_zeros(mib: int) -> tuple[bytes, int]:
    """(raw DEFLATE stream of `mib` MiB of zeros, its CRC-32), fast: after a full flush the
    compressor starts afresh, so every 1 MiB piece compresses to the same bytes."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece = c.compress(_ZEROS) + c.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(mib):
        crc = zlib.crc32(_ZEROS, crc)
    return piece * mib + c.flush(zlib.Z_FINISH), crc


def zstd_zeros(size: int) -> bytes:
    """One zstd frame of `size` zero bytes that declares its size in the header."""
    import io

    import zstandard

    buf = io.BytesIO()
    w = zstandard.ZstdCompressor(level=3).stream_writer(buf, size=size, closefd=False)
    for _ in range(size // len(_ZEROS)):
        w.write(_ZEROS)
    w.write(bytes(size % len(_ZEROS)))
    w.flush(zstandard.FLUSH_FRAME)
    return buf.getvalue()


def raw_zip(entries: list[tuple[str, bytes, int, int]]) -> bytes:
    """A zip of (name, raw deflate data, uncompressed size, crc32) entries, written by hand so
    the data can be pre-compressed (and the declared size can lie, for the tests)."""
    out, central = bytearray(), bytearray()
    for name, data, usize, crc in entries:
        n = name.encode()
        off = len(out)
        out += struct.pack(
            "<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(data), usize, len(n), 0
        )
        out += n + data
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(data), usize,
            len(n), 0, 0, 0, 0, 0, off,
        )  # fmt: skip
        central += n
    end = struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), len(out), 0
    )
    return bytes(out + central + end)


def _deflated(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def with_entry(export: Path, out: Path, name: str, data: bytes, usize: int, crc: int) -> Path:
    """`export` with entry `name` replaced (or added) by pre-deflated `data`."""
    entries = []
    with zipfile.ZipFile(export) as zf:
        for zi in zf.infolist():
            if zi.filename != name:
                raw = zf.read(zi)
                entries.append((zi.filename, _deflated(raw), len(raw), zlib.crc32(raw)))
    entries.append((name, data, usize, crc))
    entries.sort()
    out.write_bytes(raw_zip(entries))
    return out


def body_bomb(export: Path, out: Path, body: str, mib: int = 1024) -> Path:
    """A memory body of `mib` MiB of zeros (1 GiB: a ~1 MB zip)."""
    data, crc = deflate_zeros(mib)
    return with_entry(export, out, body, data, mib << 20, crc)


def segment_bomb(export: Path, out: Path, size: int = 2 << 30) -> Path:
    """A sealed segment `audit/00000000000000000001.binlog.zst` of `size` zero bytes (2 GiB:
    a zip of a few KB)."""
    zst = zstd_zeros(size)
    name = "audit/00000000000000000001.binlog.zst"
    return with_entry(export, out, name, _deflated(zst), len(zst), zlib.crc32(zst))
