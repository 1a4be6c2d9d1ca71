"""Where an incremental (`--quick`) doctor run starts: the newest verified checkpoint.

The anchor is row C, C being the newest checkpoint's size. It is trusted only after three
checks, all O(log n): the note's signature by a store key, the node file's peaks at C folding
to the note's root, and row C's payload being included in that tree (an RFC 6962 inclusion
proof). Its frame is found through a mark the previous doctor run left in the index
(offsets in `current.binlog`), else by hopping frame headers. When anything fails, the walk
falls back to the full log and says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.errors import BrainError
from core.index import schema
from core.log.binlog import Binlog
from core.log.crc import crc32c
from core.log.frames import HEADER, HEADER_SIZE
from core.log.tip import decode_row
from core.verify import checkpoints, keys, signed_note
from core.verify.proofs import leaf_hash, verify_inclusion

MARK_KEY = "doctor_mark"


@dataclass
class Anchor:
    size: int
    ts: int
    chain: str
    file: Path  # current.binlog, or the sealed segment holding row `size`
    start: int  # where row `size`'s frame starts in that file
    offset: int  # first byte after it
    peaks: list[bytes]
    root: bytes


def find_anchor(ctx, facts) -> Anchor | None:
    store = ctx.store
    layout = ctx.layout
    binlog = Binlog(layout.audit)
    try:
        head = store.refresh()
        sizes = [s for s in checkpoints.sizes(layout) if s <= head]
        if not sizes:
            facts.anchor_note = "no checkpoint yet: walked the whole log"
            return None
        size = sizes[-1]
        text = checkpoints.read_note(layout, size)
        cp, _signers = signed_note.verify_note(
            text,
            keys.load_verifiers(layout.keys),
            origin=checkpoints.origin_of(store.manifest.store_id),
        )
        if cp.size != size:
            raise BrainError(f"note {size} says size {cp.size}")
        file, frame, start, end = _locate(ctx, binlog, size)
        length, crc, seq, _ts = HEADER.unpack_from(frame, 0)
        payload = frame[HEADER_SIZE : HEADER_SIZE + length]
        if seq != size or crc32c(payload) != crc:
            raise BrainError(f"the frame of row {size} is damaged")
        mmr = store.mmr
        if mmr.size < size:
            raise BrainError(f"the node file holds {mmr.size} leaves, fewer than {size}")
        peaks = mmr.peaks(size)
        if mmr.root(size) != cp.root:
            raise BrainError(f"the node file's peaks at {size} do not fold to the signed root")
        proof = mmr.inclusion_proof(size - 1, size)
        verify_inclusion(size - 1, size, leaf_hash(payload), proof, cp.root)
        row = decode_row(payload)
    except (BrainError, OSError, ValueError) as e:
        facts.anchor_note = f"could not start at the newest checkpoint ({e}): walked the whole log"
        return None
    return Anchor(size, row.ts_ns, row.chain, file, start, end, peaks, cp.root)


def _locate(ctx, binlog: Binlog, size: int) -> tuple[Path, bytes, int, int]:
    """The file, frame bytes and offsets of row `size`: the mark, else a header hop through
    current.binlog, else through the sealed segment that holds it."""
    where = _from_mark(ctx, binlog, size) or _by_headers(binlog.current_bytes(), size)
    if where is not None:
        start, end = where
        return binlog.current, binlog.current_bytes(start, end - start), start, end
    for first, path in reversed(binlog.sealed()):
        if first <= size:
            data = binlog.read_segment(path)
            where = _by_headers(data, size)
            if where is None:
                break
            return path, data[where[0] : where[1]], where[0], where[1]
    raise BrainError(f"row {size} was not found in the log")


def _from_mark(ctx, binlog: Binlog, size: int) -> tuple[int, int] | None:
    raw = get_mark(ctx.store)
    if not raw:
        return None
    try:
        msize, start, end = (int(x) for x in raw.split(":"))
    except ValueError:
        return None
    if msize != size or end > binlog.current_size() or end - start < HEADER_SIZE:
        return None
    return start, end


def _by_headers(data: bytes, size: int) -> tuple[int, int] | None:
    """Hop from header to header (no payload is read or hashed)."""
    off, n = 0, len(data)
    while n - off >= HEADER_SIZE:
        length, _crc, seq, _ts = HEADER.unpack_from(data, off)
        end = off + HEADER_SIZE + length
        if seq == size:
            return off, end
        if seq > size or end > n:
            return None
        off = end
    return None


def get_mark(store) -> str | None:
    try:
        return schema.meta(store.reader.conn, MARK_KEY)
    except Exception:  # noqa: BLE001 - a missing or broken index only means no mark
        return None


def set_mark(store, size: int, start: int, end: int) -> None:
    """Remember where row `size` sits, for the next quick run (derived, like the index)."""
    if store.read_only or not store.follower.writable:
        return
    value = f"{size}:{start}:{end}"
    try:
        store.follower.set_meta(MARK_KEY, value)
    except Exception:  # noqa: BLE001 - the mark is an optimisation only
        pass
