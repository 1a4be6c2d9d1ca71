"""`brain consolidate`: seal current.binlog into a zstd segment and start it afresh.

Runs on the commit loop with the writer lock held. The steps are ordered so that a crash
between any two leaves a store that opens with every row:

1. flush (the journal is empty, every applied row is durable);
2. write `audit/<first-seq:020d>.binlog.zst` durably (temp, fsync, rename, folder fsync);
3. write `audit/sealed.tip` (seq, ts_ns and chain of the last sealed row) durably;
4. cut current.binlog to 0 bytes and fsync it;
5. move the index's byte offsets to the new, empty current.binlog; sign a checkpoint.

After a crash between 2 and 4 the rows sit in both the segment and current.binlog. Readers
skip the overlap (`ledger_state.start_tip`, `Binlog.iter_frames`) and the next writer finishes
the cut (`core.write.seal.finish_seal`, called from `Writer.recover` on every lock acquisition).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from core import fsio
from core.errors import BrainError
from core.log.tip import Tip, require_clean, scan_current, start_tip
from core.verify import checkpoints

if TYPE_CHECKING:
    from core.store import Store
    from core.write.writer import Writer

ZSTD_LEVEL = 3
# Crash tests only: exit right after a step ("segment" or "tip"), as a power cut would.
_CRASH_AT = os.environ.get("BRAIN_TEST_CRASH_CONSOLIDATE", "")


@dataclass
class ConsolidateResult:
    sealed: str | None  # the new segment's name under audit/, None when nothing was sealed
    # Rows sealed; when nothing was sealed, the rows in current.binlog other than checkpoints
    # (fewer than --min-rows).
    rows: int
    first_seq: int = 0
    last_seq: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    checkpoint: int | None = None  # size of the newest signed checkpoint afterwards
    notes: list[str] = field(default_factory=list)


def consolidate(store: Store, min_rows: int = 1) -> ConsolidateResult:
    if min_rows < 1:
        raise BrainError("--min-rows must be at least 1")
    return store.session.run(lambda w: _consolidate_locked(store, w, min_rows))


def _consolidate_locked(store: Store, w: Writer, min_rows: int) -> ConsolidateResult:
    import zstandard

    binlog = w.binlog
    w.flush()
    start = start_tip(binlog)
    data = binlog.current_bytes(start.offset)
    scan = scan_current(binlog, start)
    require_clean(scan, str(store.root))
    if scan.tip.seq != w.tip.seq or scan.tip.offset != start.offset + len(data):
        raise BrainError(
            f"current.binlog ends at seq {scan.tip.seq} but the writer is at seq {w.tip.seq};"
            " run `brain doctor` before consolidating"
        )
    n = len(scan.rows)
    # A consolidation leaves its own checkpoint row behind in the new current.binlog: sealing
    # only checkpoint rows would make each repeated run a one-row segment and one more row.
    new = sum(1 for row, _payload, _off in scan.rows if row.op != "checkpoint")
    if new < min_rows:
        return ConsolidateResult(None, new, checkpoint=_newest(store))
    first, last = scan.rows[0][0].seq, scan.tip
    blob = zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(data)
    if zstandard.ZstdDecompressor().decompress(blob) != data:
        raise BrainError("zstd round trip failed; nothing was changed")
    name = f"{first:020d}.binlog.zst"
    fsio.write_file(binlog.dir / name, blob, durable=True)
    _crash_point("segment")
    base = Tip(last.seq, last.ts_ns, last.chain, 0)
    binlog.write_sealed_tip(base, name, first)
    _crash_point("tip")
    binlog.truncate(0, durable=True)
    w.tip = base
    store.tip = base
    # Every sealed row is in the index; its byte offsets now count the new, empty file.
    store.follower.wait_for(last.seq)
    store.follower.call(lambda ix: _reset_offsets(ix, base))
    result = ConsolidateResult(name, n, first, last.seq, len(data), len(blob))
    newest = _newest(store)
    if newest is None or newest < last.seq:
        try:
            store.session.checkpointer.sign(w)
        except BrainError as e:  # the seal stands; the next checkpoint covers it
            result.notes.append(f"no checkpoint was signed: {e}")
    result.checkpoint = _newest(store)
    # Where opens start verifying: the seal's end when a checkpoint covers it (as any row
    # before a checkpoint, the sealed rows are `brain doctor`'s to walk), else genesis.
    covered = result.checkpoint is not None and result.checkpoint >= last.seq
    store.follower.restart_verified(base if covered else None)
    return result


def _reset_offsets(ix, base: Tip) -> None:
    applied, _offset = ix.last_applied()
    if applied <= base.seq:
        ix.set_meta("last_applied_offset", "0")


def _newest(store: Store) -> int | None:
    sizes = checkpoints.sizes(store.layout)
    return sizes[-1] if sizes else None


def _crash_point(step: str) -> None:
    if _CRASH_AT == step:
        os._exit(9)
