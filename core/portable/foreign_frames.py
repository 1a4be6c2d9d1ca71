"""A foreign store's log segments, read a frame at a time and bounded (core.limits): a plain
segment streams from its source; a sealed one is a zstd frame that must declare its size, and
what it decompresses to must match that size exactly. Checked as `frames.iter_frames` checks a
buffer, so a stream and a file in memory agree on what is a bad or torn frame."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import IO, BinaryIO, cast

from core import limits
from core.log import frames
from core.portable.foreign_source import ImportRefused, Source


def segment_frames(src: Source, name: str) -> Iterator[frames.Frame | frames.BadFrame]:
    """The frames of one segment, read one at a time (a zstd segment decompressed as it
    streams): memory holds one frame, whatever the segment's size."""
    with src.stream(name, limits.MAX_SEGMENT_BYTES) as raw:
        if raw is None:
            return
        if not name.endswith(".zst"):
            yield from _read_frames(raw)
            return
        yield from _zstd_frames(src, name, raw)


def _zstd_frames(src: Source, name: str, raw: BinaryIO) -> Iterator[frames.Frame | frames.BadFrame]:
    """A sealed segment is one zstd frame that declares its size (consolidate writes it so):
    the size must be declared, within the cap, and what comes out must match it exactly."""
    import zstandard

    where = f"{src.label}: {name}"
    head = raw.read(18)  # the longest zstd frame header
    try:
        declared = zstandard.get_frame_parameters(head).content_size
    except zstandard.ZstdError as e:
        raise ImportRefused(f"{where}: not a valid zstd segment ({e})") from None
    if declared == zstandard.CONTENTSIZE_UNKNOWN:
        raise ImportRefused(f"{where}: the zstd frame does not declare its size; refused")
    if declared > limits.MAX_SEGMENT_BYTES:
        raise ImportRefused(
            f"{where}: declares {declared} bytes, over the {limits.MAX_SEGMENT_BYTES}-byte"
            " segment limit"
        )
    dctx = zstandard.ZstdDecompressor(max_window_size=limits.ZSTD_MAX_WINDOW)
    counted = _Counted(
        dctx.stream_reader(cast("IO[bytes]", _Prefixed(head, raw)), read_across_frames=False),
        declared,
    )
    try:
        yield from _read_frames(counted)
    except zstandard.ZstdError as e:
        raise ImportRefused(f"{where}: not a valid zstd segment ({e})") from None
    except _Overrun:
        raise ImportRefused(
            f"{where}: decompresses past the {declared} bytes its header declares"
        ) from None
    if counted.count != declared:
        raise ImportRefused(
            f"{where}: decompressed to {counted.count} bytes, not the {declared} it declares"
        )


class _Overrun(Exception):
    pass


class _Prefixed:
    """`head` (already read to parse the frame header) followed by the rest of `rest`."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self.head, self.rest = head, rest

    def read(self, n: int = -1) -> bytes:
        if self.head:
            out, self.head = (self.head, b"") if n < 0 else (self.head[:n], self.head[n:])
            return out
        return self.rest.read(n)


class _Counted:
    """Counts what a reader yields; past `cap` bytes it stops (a lying or endless stream)."""

    def __init__(self, inner, cap: int) -> None:
        self.inner, self.cap, self.count = inner, cap, 0

    def read(self, n: int) -> bytes:
        data = self.inner.read(n)
        self.count += len(data)
        if self.count > self.cap:
            raise _Overrun
        return data


def _read_exact(f, n: int) -> bytes:
    parts, got = [], 0
    while got < n:
        chunk = f.read(n - got)
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def _read_frames(f) -> Iterator[frames.Frame | frames.BadFrame]:
    """Frames from a stream, checked exactly as `frames.iter_frames` checks a buffer."""
    off = 0
    while True:
        head = _read_exact(f, frames.HEADER_SIZE)
        if not head:
            return
        if len(head) < frames.HEADER_SIZE:
            yield frames.BadFrame(off, "header cut short", True)
            return
        (length,) = struct.unpack_from(">I", head)
        if length > limits.MAX_FRAME_PAYLOAD:
            yield frames.BadFrame(off, f"length {length} exceeds the 1 MiB frame limit", False)
            return
        payload = _read_exact(f, length)
        if len(payload) < length:
            yield frames.BadFrame(off, "payload cut short", True)
            return
        for item in frames.iter_frames(head + payload):
            if isinstance(item, frames.BadFrame):
                yield frames.BadFrame(off + item.offset, item.reason, item.torn)
                return
            yield item
        off += frames.HEADER_SIZE + length
