"""The tip of the chained log as a writer or reader last saw it, and how to verify a stretch."""

from __future__ import annotations

import msgspec

from core.errors import CorruptLog
from core.log import frames
from core.log.binlog import Binlog
from core.log.hashing import GENESIS_CHAIN, chain_hash
from core.models import OPS, Row

_row_decoder = msgspec.json.Decoder(Row)


class Tip(msgspec.Struct):
    seq: int = 0
    ts_ns: int = 0
    chain: str = GENESIS_CHAIN
    offset: int = 0  # bytes of current.binlog covered


def verify_row(row: Row, payload: bytes, prev: Tip) -> str | None:
    """Why row cannot follow prev, or None when it chains."""
    if row.seq != prev.seq + 1:
        return f"seq {row.seq} follows seq {prev.seq} (expected {prev.seq + 1})"
    if row.prev_chain != prev.chain:
        return f"seq {row.seq}: prev_chain does not match the chain of seq {prev.seq}"
    if row.op not in OPS:
        return f"seq {row.seq}: op {row.op!r} is not in the closed op list"
    if row.ts_ns < prev.ts_ns:
        return f"seq {row.seq}: ts_ns goes backwards"
    body = payload.replace(f'"chain":"{row.chain}"'.encode(), b'"chain":""', 1)
    if chain_hash(body, row.prev_chain) != row.chain:
        return f"seq {row.seq}: chain hash does not match the row's bytes"
    return None


def decode_row(payload: bytes) -> Row:
    return _row_decoder.decode(payload)


class Scan(msgspec.Struct):
    tip: Tip
    rows: list[tuple[Row, bytes, int]]  # row, payload, frame offset
    bad: frames.BadFrame | None
    broken: str | None  # a chain break among CRC-good frames


def scan_current(binlog: Binlog, start: Tip, *, stop_seq: int | None = None) -> Scan:
    """Read current.binlog from start.offset, verifying frames and the chain as it goes."""
    data = binlog.current_bytes(start.offset)
    tip = Tip(start.seq, start.ts_ns, start.chain, start.offset)
    rows: list[tuple[Row, bytes, int]] = []
    for item in frames.iter_frames(data):
        if isinstance(item, frames.BadFrame):
            bad = frames.BadFrame(start.offset + item.offset, item.reason, item.torn)
            return Scan(tip, rows, bad, None)
        if stop_seq is not None and item.seq >= stop_seq:
            break
        row = decode_row(item.payload)
        why = verify_row(row, item.payload, tip)
        if why:
            return Scan(tip, rows, None, why)
        off = start.offset + item.offset
        rows.append((row, item.payload, off))
        tip = Tip(row.seq, row.ts_ns, row.chain, start.offset + item.end)
    return Scan(tip, rows, None, None)


def require_clean(scan: Scan, where: str) -> None:
    if scan.broken:
        raise CorruptLog(f"{where}: the chain is broken: {scan.broken}. Run `brain doctor`.")
    if scan.bad is not None:
        raise CorruptLog(
            f"{where}: bad frame at byte {scan.bad.offset} of audit/current.binlog"
            f" ({scan.bad.reason}) after seq {scan.tip.seq}, in the synced part of the log."
            " It is never truncated automatically; run `brain doctor`."
        )


# -- sealed segments: current.binlog starts where they end --------------------------------


def start_tip(binlog: Binlog) -> Tip:
    """The tip at the start of current.binlog's own rows.

    That is the end of the sealed segments (genesis when there are none), its offset past any
    rows a consolidation sealed but did not yet cut from current.binlog (a crash between the
    two steps; the next writer finishes the cut).
    """
    base = binlog.base_tip()
    if base.seq == 0:
        return base
    head = binlog.current_bytes(0, frames.HEADER_SIZE)
    if len(head) < frames.HEADER_SIZE or frames.HEADER.unpack(head)[2] > base.seq:
        return base
    skip = 0
    for item in frames.iter_frames(binlog.current_bytes()):
        if isinstance(item, frames.BadFrame) or item.seq > base.seq:
            break
        skip = item.end
    return Tip(base.seq, base.ts_ns, base.chain, skip)


def offset_valid(binlog: Binlog, tip: Tip) -> bool:
    """Whether tip.offset still points into the current.binlog that tip was read from.

    A consolidation seals every row of current.binlog and starts it afresh, so an offset
    taken before it is stale exactly when the sealed segments now reach tip.seq.
    """
    start = start_tip(binlog)
    if tip.seq > start.seq:
        return start.offset <= tip.offset <= binlog.current_size()
    return tip.seq == start.seq and tip.offset == start.offset and tip.chain == start.chain


def scan_from(binlog: Binlog, start: Tip, *, stop_seq: int | None = None) -> Scan:
    """`scan_current` from start, across sealed segments when the log was consolidated since.

    Rows read from sealed segments carry frame offset -1. A tip that the log no longer
    matches (a restored backup) makes the scan start again from genesis.
    """
    if offset_valid(binlog, start):
        return scan_current(binlog, start, stop_seq=stop_seq)
    base = start_tip(binlog)
    tip = start if start.seq <= base.seq else Tip()
    if tip.seq == base.seq and tip.chain != base.chain:
        tip = Tip()
    rows: list[tuple[Row, bytes, int]] = []
    for item in binlog.iter_sealed(tip.seq + 1):
        if isinstance(item, frames.BadFrame):
            return Scan(tip, rows, item, None)
        if item.seq > base.seq:
            break
        row = decode_row(item.payload)
        why = verify_row(row, item.payload, tip)
        if why:
            return Scan(tip, rows, None, why)
        rows.append((row, item.payload, -1))
        tip = Tip(row.seq, row.ts_ns, row.chain, base.offset)
    if tip.seq != base.seq or tip.chain != base.chain:
        why = (
            f"the sealed segments end at seq {tip.seq} but audit/sealed.tip says seq {base.seq}"
            if tip.chain == base.chain or tip.seq != base.seq
            else f"seq {base.seq}: the sealed segments and audit/sealed.tip disagree on its chain"
        )
        return Scan(tip, rows, None, why)
    rest = scan_current(binlog, base, stop_seq=stop_seq)
    return Scan(rest.tip, rows + rest.rows, rest.bad, rest.broken)
