"""Reading and appending the audit binlog (sealed segments plus `current.binlog`)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

from core import canonical, frames, fsio
from core.models import Row

_SEGMENT = re.compile(r"^(\d{20})\.binlog(\.zst)?$")


def decode_row(payload: bytes) -> Row:
    import msgspec

    return msgspec.json.decode(payload, type=Row)


def row_payload(row: Row) -> bytes:
    return canonical.encode(row, check=False)


class Binlog:
    """The chained log on disk. Appends go to `current.binlog` only."""

    def __init__(self, audit_dir: Path) -> None:
        self.dir = audit_dir
        self.current = audit_dir / "current.binlog"

    def sealed(self) -> list[tuple[int, Path]]:
        out = []
        if self.dir.is_dir():
            for p in self.dir.iterdir():
                m = _SEGMENT.match(p.name)
                if m:
                    out.append((int(m.group(1)), p))
        return sorted(out)

    def read_segment(self, path: Path) -> bytes:
        data = path.read_bytes()
        if path.suffix == ".zst":
            import zstandard

            data = zstandard.ZstdDecompressor().decompress(data)
        return data

    def current_bytes(self, start: int = 0) -> bytes:
        try:
            with open(self.current, "rb") as f:
                f.seek(start)
                return f.read()
        except FileNotFoundError:
            return b""

    def current_size(self) -> int:
        try:
            return os.stat(self.current).st_size
        except FileNotFoundError:
            return 0

    def iter_frames(self, from_seq: int = 1) -> Iterator[frames.Frame | frames.BadFrame]:
        """Every frame of every segment in order; stops after yielding a BadFrame."""
        sealed = self.sealed()
        for i, (_first, path) in enumerate(sealed):
            nxt = sealed[i + 1][0] if i + 1 < len(sealed) else None
            if nxt is not None and nxt <= from_seq:
                continue
            for item in frames.iter_frames(self.read_segment(path)):
                if isinstance(item, frames.BadFrame):
                    yield frames.BadFrame(item.offset, f"{path.name}: {item.reason}", item.torn)
                    return
                if item.seq >= from_seq:
                    yield item
        for item in frames.iter_frames(self.current_bytes()):
            if isinstance(item, frames.BadFrame):
                yield item
                return
            if item.seq >= from_seq:
                yield item

    def append(self, data: bytes) -> None:
        fsio.append(self.current, data)

    def truncate(self, size: int) -> None:
        fd = fsio.open_fd(self.current, os.O_WRONLY | os.O_CREAT)
        try:
            fsio.ftruncate(fd, size)
        finally:
            fsio.close(fd)
