"""`HEAD`: 8 bytes, little-endian u64, the last applied seq (PROTOCOL: a hint, not a source of
truth). Written by the writer after the frames it counts; watched by the TUI and `tail -f`."""

from __future__ import annotations

import os

from core import fsio
from core.layout import Layout


def write_head(layout: Layout, seq: int) -> None:
    # Overwritten in place, not temp + rename: HEAD is a hint (PROTOCOL), 8 bytes at offset 0
    # never tear, and a watcher on the root still sees one change per group. A rename cost a new
    # inode per group (~0.2 ms a put; far more on ext4 without a journal, which skips inodes
    # freed in the last minutes when it allocates one).
    data = seq.to_bytes(8, "little")
    try:
        fd = fsio.open_fd(layout.head, os.O_WRONLY)
    except FileNotFoundError:
        fsio.write_file(layout.head, data)
        return
    try:
        fsio.pwrite(fd, data, 0)
        if os.fstat(fd).st_size != 8:
            fsio.ftruncate(fd, 8)  # a damaged, longer HEAD
    finally:
        fsio.close(fd)


def read_head(layout: Layout) -> int | None:
    try:
        data = layout.head.read_bytes()
    except FileNotFoundError:
        return None
    return int.from_bytes(data, "little") if len(data) == 8 else None
