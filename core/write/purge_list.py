"""`audit/purge.pending`: the redo list of purges, one decimal seq a line.

The file is read from disk, so it is foreign input like any other: an entry that is not a
plain decimal seq in the u64 range (a word, a sign, a non-ASCII digit, 10^5000) is junk, kept
apart and named (by the doctor and in the notes of the writer that met it), never parsed into a
crash or acted on. Whether a well-formed seq really names a purge is for core.purge to judge
against the log.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import msgspec

from core import fsio

MAX_SEQ = 2**64 - 1
MAX_BYTES = 1 << 20  # far more than any real redo list; a bigger file is read this far only
_SHOWN = 40


class PendingList(msgspec.Struct):
    seqs: list[int] = msgspec.field(default_factory=list)  # well-formed, sorted, unique
    junk: list[str] = msgspec.field(default_factory=list)  # entries that are not a seq, as shown
    raw_junk: list[bytes] = msgspec.field(default_factory=list)  # the same entries, byte for byte
    truncated: bool = False  # the file is larger than MAX_BYTES


def parse(data: bytes) -> PendingList:
    out = PendingList()
    seen: set[int] = set()
    for token in data.split():
        text = token.decode("utf-8", "replace")
        if token.isdigit() and len(token) <= 20 and 1 <= int(token) <= MAX_SEQ:
            seen.add(int(token))
        else:
            shown = text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."
            out.junk.append(shown if shown.isprintable() else ascii(shown))
            out.raw_junk.append(token)
    out.seqs = sorted(seen)
    return out


def read(path: Path) -> PendingList:
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        return PendingList()
    except OSError as e:  # a folder in its place, unreadable: junk, not a crash
        return PendingList(junk=[f"(unreadable: {e.strerror or e})"])
    out = parse(data[:MAX_BYTES])
    out.truncated = len(data) > MAX_BYTES
    return out


def updated(
    path: Path,
    *,
    add: Iterable[int] = (),
    drop: int | None = None,
    keep_junk: bool = True,
    only: Iterable[int] | None = None,
) -> bytes:
    """The file's new content with seqs added or one dropped (or `only` these seqs); junk is
    kept for the doctor to name (its repair passes keep_junk=False). b"" means empty."""
    cur = read(path)
    seqs = set(only) if only is not None else {*cur.seqs, *add}
    seqs.discard(drop)
    junk = cur.raw_junk if keep_junk else []
    return "".join(f"{s}\n" for s in sorted(seqs)).encode() + b"".join(j + b"\n" for j in junk)


def add(path: Path, seqs: Iterable[int]) -> None:
    """Record purges to redo (committed or replayed, not yet carried out): written unsynced,
    as everything applied is; the flush makes it durable with them."""
    fsio.write_file(path, updated(path, add=seqs))
