"""Binlog frames: [u32 len BE][u32 CRC-32C BE][u64 seq BE][u64 ts_ns BE][payload]."""

from __future__ import annotations

from collections.abc import Iterator

import msgspec

from core.log import canonical
from core.log.crc import crc32c

# Writing a frame lives in core.log.frame_header (no msgspec there); this module re-exports it.
from core.log.frame_header import (  # noqa: F401
    HEADER,
    HEADER_SIZE,
    MAX_PAYLOAD,
    encode,
)


class Frame(msgspec.Struct, frozen=True):
    offset: int
    seq: int
    ts_ns: int
    payload: bytes

    @property
    def end(self) -> int:
        return self.offset + HEADER_SIZE + len(self.payload)


class BadFrame(msgspec.Struct, frozen=True):
    """Where and why reading stopped. `torn` means the bytes simply ran out."""

    offset: int
    reason: str
    torn: bool


def scan(
    buf: bytes | memoryview,
    start: int = 0,
    *,
    check_rows: bool = True,
    limit: int | None = MAX_PAYLOAD,
) -> tuple[list[Frame], BadFrame | None]:
    """Read every good frame from start; stop at the first bad or torn one."""
    frames: list[Frame] = []
    bad = None
    for item in iter_frames(buf, start, check_rows=check_rows, limit=limit):
        if isinstance(item, BadFrame):
            bad = item
            break
        frames.append(item)
    return frames, bad


def iter_frames(
    buf: bytes | memoryview,
    start: int = 0,
    *,
    check_rows: bool = True,
    limit: int | None = MAX_PAYLOAD,
) -> Iterator[Frame | BadFrame]:
    mv = memoryview(buf)
    n = len(mv)
    off = start
    while off < n:
        if n - off < HEADER_SIZE:
            yield BadFrame(off, "header cut short", True)
            return
        length, crc, seq, ts = HEADER.unpack_from(mv, off)
        if limit is not None and length > limit:
            yield BadFrame(off, f"length {length} exceeds the 1 MiB frame limit", False)
            return
        end = off + HEADER_SIZE + length
        if end > n:
            yield BadFrame(off, "payload cut short", True)
            return
        payload = bytes(mv[off + HEADER_SIZE : end])
        if crc32c(payload) != crc:
            yield BadFrame(off, "CRC-32C mismatch", False)
            return
        if check_rows:
            reason = _check_row_payload(payload, seq, ts)
            if reason:
                yield BadFrame(off, reason, False)
                return
        yield Frame(off, seq, ts, payload)
        off = end


def _check_row_payload(payload: bytes, seq: int, ts: int) -> str | None:
    try:
        obj = canonical.decode(payload)
    except msgspec.DecodeError:
        return "payload is not JSON"
    if not isinstance(obj, dict):
        return "payload is not a JSON object"
    if obj.get("seq") != seq or obj.get("ts_ns") != ts:
        return "header seq/ts_ns differ from the payload's"
    if not canonical.is_canonical(payload):
        return "payload is not canonical JSON"
    return None
