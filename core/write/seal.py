"""Finishing a consolidation a crash interrupted (under the writer lock, at each acquisition).

A consolidation (core.portable.consolidate) seals current.binlog's rows into a zstd segment,
records audit/sealed.tip, then cuts the sealed rows from current.binlog. A crash between those
steps leaves work that the next writer finishes here, before it assigns a seq.
"""

from __future__ import annotations

import os

from core import fsio
from core.errors import CorruptLog
from core.log.binlog import Binlog
from core.log.tip import Tip, start_tip


def finish_seal(binlog: Binlog) -> str | None:
    """Under the lock: finish a consolidation a crash interrupted. Returns what it did."""
    sealed = binlog.sealed()
    if not sealed:
        return None
    done = []
    first, newest = sealed[-1]
    if binlog.read_sealed_tip(newest.name) is None:
        binlog.write_sealed_tip(binlog.base_tip(), newest.name, first)
        done.append("recorded audit/sealed.tip")
    start = start_tip(binlog)
    if start.offset:
        _check_overlap(binlog, start)
        rest = binlog.current_bytes(start.offset)
        if rest:
            fsio.write_file(binlog.current, rest, durable=True)
        else:
            binlog.truncate(0, durable=True)
        done.append(
            f"cut rows up to seq {start.seq} from current.binlog (already sealed in"
            f" audit/{newest.name})"
        )
    for entry in os.listdir(binlog.dir):
        if entry.startswith(".") and ".tmp" in entry and (".binlog" in entry or "sealed" in entry):
            fsio.unlink(binlog.dir / entry)
    if not done:
        return None
    return "finished an interrupted consolidation: " + "; ".join(done)


def _check_overlap(binlog: Binlog, start: Tip) -> None:
    """The rows to cut must be the sealed ones, byte for byte, or nothing is cut."""
    from core.log import frames

    head = frames.scan(binlog.current_bytes(0, start.offset))[0]
    sealed = {
        f.seq: f.payload
        for f in binlog.iter_sealed(head[0].seq if head else 1)
        if isinstance(f, frames.Frame) and f.seq <= start.seq
    }
    for f in head:
        if sealed.get(f.seq) != f.payload:
            raise CorruptLog(
                f"current.binlog row {f.seq} differs from the sealed copy in audit/; nothing"
                " was cut. Run `brain doctor`."
            )
