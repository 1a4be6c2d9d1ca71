"""How a Store keeps its derived index in step with the log: refresh, catch-up, rebuild."""

from __future__ import annotations

import shutil
import sqlite3

from core.errors import ReadOnly
from core.index.db import IndexWriter
from core.log import frames
from core.log.tip import Tip, offset_valid, scan_from


class StoreIndex:
    def refresh(self) -> int:
        """Pick up rows other processes appended; returns the head seq."""
        w = self._writer
        if w is not None and w.lock.held:
            return self.tip.seq  # nobody else can append while our writer holds the lock
        if self.binlog.current_size() == self.tip.offset and offset_valid(self.binlog, self.tip):
            return self.tip.seq
        scan = scan_from(self.binlog, self.tip)  # another process may have consolidated
        if scan.rows and scan.tip.seq > self.tip.seq:
            self.tip = scan.tip
            rows = [r for r, _p, _o in scan.rows]
            if self._applier is not None:
                # Our writer re-reads these when it next takes the lock; the applier skips
                # rows it already has, so handing them over twice is harmless.
                self._applier.enqueue(rows, scan.tip.offset)
                self._applier.wait_for(scan.tip.seq)
            elif self._index is not None:
                self._catch_up_on(self._index)  # from the index's own position (no gaps)
        return self.tip.seq

    def wait_index(self) -> None:
        """Reads see at least every row this process's callers have had acknowledged
        (writes, and the rows of tasks such as checkpoints and rotations)."""
        target = self._acked
        if self._applier is not None and target:
            self._applier.wait_for(target)
        self._fold_access()

    # -- index maintenance --------------------------------------------------------------

    def reindex(self) -> int:
        """Drop and rebuild the index from the files and the log. Returns memories indexed."""
        if self.read_only:
            raise ReadOnly(f"{self.root} was opened read-only")
        if self._applier is not None:
            self._applier.close()
            self._applier = None
        self.reader.close()
        if self._index is not None:
            self._index.close()
        shutil.rmtree(self.layout.index_dir, ignore_errors=True)
        self._index = IndexWriter(self.layout.index_db, self.root)
        n = self._rebuild_index()
        self._catch_up_index()
        if self._writer is not None:  # a running writer hands its rows to an applier
            from core.index.applier import Applier

            self._applier = Applier(self._index, self._backfill)
        return n

    def _rebuild_index(self) -> int:
        from core.index.rebuild import rebuild

        assert self._index is not None
        return rebuild(self._index, self.layout, self.binlog)

    def _feed_index(self, seq: int) -> None:
        """Queue the log rows the index lacks up to seq: after a crash (or with the index
        lost) recovery finishes purges, which wait on the index, before open catches it up."""
        assert self._applier is not None
        last, offset = self._applier.call(lambda ix: ix.last_applied())
        if last >= seq:
            return
        from core.index.rebuild import rows_after

        rows, end = rows_after(self.binlog, offset, seq, after=last)
        if rows:
            self._applier.enqueue(rows, end)

    def _backfill(self, index: IndexWriter, up_to: int) -> list:
        from core.index.rebuild import rows_after

        last, offset = index.last_applied()
        return rows_after(self.binlog, offset, up_to, after=last)[0]

    def _catch_up_index(self) -> None:
        """Bring the index up to the tip from the log. With an applier running, on its thread:
        it must know what the index holds (waiters wait on it)."""
        if self._index is None:
            return
        if self._applier is not None:
            self._applier.call(self._catch_up_on)
        else:
            self._catch_up_on(self._index)

    def _catch_up_on(self, index: IndexWriter) -> None:
        last, offset = index.last_applied()
        if last >= self.tip.seq:
            return
        from core.index.rebuild import rows_after

        rows, end = rows_after(self.binlog, offset, self.tip.seq, after=last)
        if rows:
            index.apply(rows, end)

    def _fold_access(self) -> None:
        if self._index is None:
            return
        try:
            size = self.layout.access_log.stat().st_size
        except FileNotFoundError:
            return
        if size == self._access_size:
            return
        self._access_size = size
        from core.index.access_fold import fold

        if self._applier is not None:
            self._applier.call(lambda ix: fold(ix, self.layout))
        else:
            fold(self._index, self.layout)

    def _verified_tip(self) -> Tip:
        """Where open starts verifying: the row of the newest checkpoint that open verified
        (PROTOCOL: open is O(tail)). Anything after it, even rows a previous open already
        read, is verified again, so a frame changed since then is caught before it is
        written or signed on top."""
        raw = None
        try:
            raw = self.reader.conn.execute(
                "SELECT value FROM meta WHERE key = 'verified_checkpoint'"
            ).fetchone()
        except sqlite3.Error:
            return Tip()
        if not raw:
            return Tip()
        try:
            seq, ts, chain, off = raw[0].split(":")
            tip = Tip(int(seq), int(ts), chain, int(off))
        except ValueError:
            return Tip()
        return tip if tip.offset <= self.binlog.current_size() else Tip()

    def _record_verified(self, scan) -> None:
        """Remember the newest checkpoint's row as the next open's starting point."""
        cp = self.last_checkpoint
        if self._index is None or self.problem is not None or cp is None:
            return
        for row, payload, off in scan.rows:
            if row.seq == cp.size and off >= 0:
                end = off + frames.HEADER_SIZE + len(payload)
                self._index.set_meta(
                    "verified_checkpoint", f"{row.seq}:{row.ts_ns}:{row.chain}:{end}"
                )
                return
