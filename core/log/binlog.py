"""Reading and appending the audit binlog (sealed segments plus `current.binlog`)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from core import fsio
from core.log import canonical, frames
from core.models import Row

if TYPE_CHECKING:
    from core.digest import Hasher
    from core.log.tip import Tip

SEALED_TIP = "sealed.tip"
SEGMENT_NAME = re.compile(r"^(\d{20})\.binlog(\.zst)?$")


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
        self._base: tuple[tuple, Tip] | None = None

    def sealed(self) -> list[tuple[int, Path]]:
        out = []
        if self.dir.is_dir():
            for p in self.dir.iterdir():
                m = SEGMENT_NAME.match(p.name)
                if m:
                    out.append((int(m.group(1)), p))
        return sorted(out)

    def read_segment(self, path: Path) -> bytes:
        data = path.read_bytes()
        if path.suffix == ".zst":
            import zstandard

            data = zstandard.ZstdDecompressor().decompress(data)
        return data

    def current_bytes(self, start: int = 0, size: int = -1) -> bytes:
        try:
            with open(self.current, "rb") as f:
                f.seek(start)
                return f.read(size)
        except FileNotFoundError:
            return b""

    def hash_current(self, h: Hasher, start: int, end: int) -> Hasher:
        """h updated with current.binlog's bytes [start, end), read a MiB at a time (a tail
        that no checkpoint cut can be long)."""
        try:
            with open(self.current, "rb") as f:
                f.seek(start)
                left = end - start
                while left > 0 and (chunk := f.read(min(left, 1 << 20))):
                    h.update(chunk)
                    left -= len(chunk)
        except FileNotFoundError:
            pass
        return h

    def current_size(self) -> int:
        try:
            return os.stat(self.current).st_size
        except FileNotFoundError:
            return 0

    def iter_sealed(self, from_seq: int = 1) -> Iterator[frames.Frame | frames.BadFrame]:
        """Frames of the sealed segments only, in order; stops after yielding a BadFrame."""
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

    def iter_frames(self, from_seq: int = 1) -> Iterator[frames.Frame | frames.BadFrame]:
        """Every frame of every segment in order; stops after yielding a BadFrame."""
        last = 0
        for item in self.iter_sealed(from_seq):
            yield item
            if isinstance(item, frames.BadFrame):
                return
            last = item.seq
        # Rows a consolidation sealed but could not yet cut from current.binlog (a crash
        # between the two steps) are read once, from the segment.
        base = max(last, self.base_tip().seq) if self.sealed() else 0
        for item in frames.iter_frames(self.current_bytes()):
            if isinstance(item, frames.BadFrame):
                yield item
                return
            if item.seq >= from_seq and item.seq > base:
                yield item

    # -- the end of the sealed segments (consolidation) ------------------------------------

    @property
    def sealed_tip_path(self) -> Path:
        return self.dir / SEALED_TIP

    def base_tip(self) -> Tip:
        """The tip at the end of the sealed segments (offset 0): where current.binlog starts.

        Cached in `audit/sealed.tip`, written when a segment is sealed; recomputed from the
        newest segment when that file is missing or names an older segment (a crash between
        sealing and recording).
        """
        from core.log.tip import Tip

        sealed = self.sealed()
        if not sealed:
            return Tip()
        newest = sealed[-1][1]
        try:
            st = os.stat(self.sealed_tip_path)
            key: tuple = (newest.name, st.st_ino, st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            key = (newest.name, None)
        if self._base is not None and self._base[0] == key:
            return self._base[1]
        tip = self.read_sealed_tip(newest.name) if key[1] is not None else None
        if tip is None:
            tip = self._tip_of_segment(newest)
        self._base = (key, tip)
        return tip

    def read_sealed_tip(self, segment: str) -> Tip | None:
        from core.log.tip import Tip

        try:
            obj = canonical.decode(self.sealed_tip_path.read_bytes())
            if obj.get("segment") != segment:
                return None
            return Tip(int(obj["seq"]), int(obj["ts_ns"]), str(obj["chain"]), 0)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def _tip_of_segment(self, path: Path) -> Tip:
        from core.errors import CorruptLog
        from core.log.tip import Tip

        last = None
        for item in frames.iter_frames(self.read_segment(path)):
            if isinstance(item, frames.BadFrame):
                break
            last = item
        if last is None:
            raise CorruptLog(f"audit/{path.name}: a sealed segment with no readable frame")
        row = decode_row(last.payload)
        return Tip(row.seq, row.ts_ns, row.chain, 0)

    def write_sealed_tip(self, tip: Tip, segment: str, first_seq: int) -> None:
        doc = {
            "chain": tip.chain,
            "first_seq": first_seq,
            "segment": segment,
            "seq": tip.seq,
            "ts_ns": tip.ts_ns,
        }
        fsio.write_file(self.sealed_tip_path, canonical.encode(doc) + b"\n", durable=True)
        self._base = None

    def append(self, data: bytes) -> None:
        fsio.append(self.current, data)

    def truncate(self, size: int, *, durable: bool = False) -> None:
        fd = fsio.open_fd(self.current, os.O_WRONLY | os.O_CREAT)
        try:
            fsio.ftruncate(fd, size)
            if durable:
                fsio.fsync(fd)
        finally:
            fsio.close(fd)
