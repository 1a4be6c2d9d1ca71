"""The index follower: the one way the derived SQLite index comes up to the log.

Every path that brings the index up to date goes through it: open's catch-up, a refresh after
another process wrote, the writer's hand-off of what it just made durable (rows with their
sidecars and bodies, so the process's own writes are indexed without reading the files again),
purge recovery, and rebuilds. It is also the one object that answers "is row N applied yet"
(`wait_for`) and "has every row this process's callers were acknowledged been applied"
(`wait_acked`), after tessera's Follower and PublicationAwaiter.

While a writer runs, rows are applied on the applier thread (`core.index.applier`); before that
(open's catch-up) and in read-only opens, on the calling thread.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from core.digest import blake2b_256
from core.errors import BrainError, ReadOnly
from core.index import schema
from core.index.applier import FORCE_CHECKPOINT_BYTES, Applier
from core.index.db import IndexReader, IndexWriter, Known
from core.index.schema import SCHEMA_VERSION
from core.layout import Layout
from core.log import frames
from core.log.binlog import Binlog
from core.log.tip import Scan, Tip, offset_valid
from core.models import Row

if TYPE_CHECKING:
    from core.digest import Hasher
    from core.write.journal import Write

T = TypeVar("T")
_LEFT_OPEN: list[IndexWriter] = []  # index connections kept open until a fast process exit
WAL_CHECKPOINT_BYTES = 2 << 20  # below SQLite's own 1,000-page auto-checkpoint
VERIFIED_KEY = "verified_checkpoint"
# The rows open verified past it: end tip, start, and their BLAKE2b-256 (a SHA-256 recorded by
# an older release matches nothing: that open walks the rows once and records anew).
VERIFIED_TAIL_KEY = "verified_tail"
# An open records a new digest once it walked this many rows (~0.6 ms): a one-shot command's
# open then writes the index once in ~64 commands, not at every one (each write is a WAL frame).
TAIL_RECORD_ROWS = 64


class Follower:
    def __init__(self, layout: Layout, binlog: Binlog, *, read_only: bool) -> None:
        self.layout = layout
        self.binlog = binlog
        self.index: IndexWriter | None = None  # the writing connection (writable opens)
        self.reader = IndexReader(layout.index_db, readonly=read_only)
        self._applier: Applier | None = None
        self._acked = 0  # the newest row this process's callers were acknowledged
        self._access_size = -1
        self._hold_s: float | None = None  # None: applier.HOLD_S
        self._writer_busy: Callable[[], bool] = lambda: False
        self._hashed: tuple[int, int, Hasher] | None = None  # verified_tip's digest

    # -- opening and closing ------------------------------------------------------------

    def open_writable(self) -> bool:
        """Open (create, or drop and recreate when damaged) the index for writing. True when
        it is fresh and must be rebuilt from the files and the log (`rebuild`)."""
        self.index = IndexWriter(self.layout.index_db, self.layout.root)
        return self.index.fresh

    @property
    def writable(self) -> bool:
        return self.index is not None

    @property
    def threaded(self) -> bool:
        return self._applier is not None

    def start_thread(self) -> None:
        """A writer is starting: from now on rows are applied on the applier thread."""
        if self._applier is None:
            if self.index is None:
                raise ReadOnly(f"{self.layout.root} was opened read-only")
            self._applier = Applier(
                self.index, self._backfill, hold_s=self._hold_s, writer_busy=self._writer_busy
            )

    def watch(self, busy: Callable[[], bool]) -> None:
        """busy(): our writer is writing a group. The applier holds rows back meanwhile (and
        for a short pause after): the commit path has the CPU first (applier.QUIET_S). Kept
        for an applier started later (reindex restarts it)."""
        self._writer_busy = busy
        if self._applier is not None:
            self._applier.writer_busy = busy

    def hold(self, seconds: float) -> None:
        """Let the applier gather rows this long before a transaction (default
        applier.HOLD_S). For a bulk load that nobody reads while it runs (the demo build):
        fewer, larger transactions, and a memory written twice in one is indexed once. A
        reader that waits (wait_for, call) still ends the hold at once."""
        self._hold_s = seconds
        if self._applier is not None:
            self._applier.hold_s = seconds

    def degrade(self) -> None:
        """The store cannot be written here: keep reads on a read-only connection."""
        if self._applier is not None:
            self._applier.close()
            self._applier = None
        if self.index is not None:
            self.index.close()
            self.index = None
        self.reader.close()
        self.reader = IndexReader(self.layout.index_db, readonly=True)

    def defer_text(self) -> None:
        """A bulk load starts: memories' text waits for fill_text (core.index.rebuild)."""
        from core.index.rebuild import defer_text

        self.call(defer_text)

    def fill_text(self) -> int:
        """The bulk load is done: index every memory's text from its files."""
        from core.index.rebuild import fill_text

        return self.call(lambda ix: fill_text(ix, self.layout))

    def close(self, *, fast_exit: bool = False) -> None:
        if self.index is not None and self.index.defer_text:
            try:
                self.fill_text()  # a bulk load that ended without it (a failed build)
            except Exception:  # noqa: BLE001 - the mark stays: the next open rebuilds the index
                pass
        if self._applier is not None:
            self._applier.close()
            self._applier = None
        self.reader.close()
        ix, self.index = self.index, None
        if ix is None:
            return
        if not fast_exit:
            ix.close()
            return
        # The process exits right after (a one-shot CLI command, through os._exit): closing
        # the last SQLite connection would checkpoint the WAL, two more device syncs than the
        # write needs. The index is derived; the next opener reads the WAL. A WAL grown past a
        # few MB was folded before the flush (fold_wal) and is cut here; one that commands
        # which write no rows grew past the applier's limit is checkpointed here, syncs and all.
        ix.release_fold()
        if _wal_bytes(self.layout) > FORCE_CHECKPOINT_BYTES:
            ix.checkpoint_wal()
        _LEFT_OPEN.append(ix)

    def fold_wal(self) -> float | None:
        """A one-shot command's close, before the flush that ends its writes: fold a WAL grown
        past a few MB into the database, unsynced (IndexWriter.fold_unsynced; `close` lets
        writers restart the WAL again). Returns the monotonic time the fold ended (the flush
        must start after it), or None when nothing was folded."""
        if self.index is None or _wal_bytes(self.layout) <= WAL_CHECKPOINT_BYTES:
            return None
        if not self.call(lambda ix: ix.fold_unsynced()):
            return None
        return time.monotonic()

    def probe(self) -> str | None:
        """Can a read-only open query the index? (A damaged or missing one cannot.)"""
        try:
            found = schema.meta(self.reader.conn, "schema")
        except sqlite3.Error as e:
            return f"the index cannot be read ({e}); a writable open rebuilds it (`brain reindex`)"
        if found != str(SCHEMA_VERSION):
            # An index an older build wrote lacks what this one queries (schema 3: the status
            # column and counts); the CLI then opens for writing, which rebuilds it.
            return (
                f"the index is schema {found}, this build reads schema {SCHEMA_VERSION};"
                " a writable open rebuilds it (`brain reindex`)"
            )
        return None

    # -- running work where the index is written ----------------------------------------

    def call(self, fn: Callable[[IndexWriter], T]) -> T:
        """Run fn(index_writer) where the index is written: on the applier thread if any,
        after everything queued before it."""
        if self._applier is not None:
            return self._applier.call(fn)
        if self.index is None:
            raise ReadOnly(f"{self.layout.root} was opened read-only")
        return fn(self.index)

    def hurry(self) -> None:
        """Start applying what the applier holds back, now; returns at once."""
        if self._applier is not None:
            self._applier.hurry()

    def drain(self) -> None:
        """Wait until everything queued so far is applied."""
        if self._applier is not None:
            self._applier.call(lambda ix: None)

    # -- following the log ----------------------------------------------------------------

    def hand_off(self, rows: list[Row], end_offset: int, known: Known | None = None) -> None:
        """The writer made rows durable (with `known`, what it wrote for them)."""
        if self._applier is not None:
            self._applier.enqueue(rows, end_offset, known)
        elif self.index is not None:
            self.index.apply(rows, end_offset, known)

    def follow(self, rows: list[Row], end_offset: int, tip_seq: int) -> None:
        """Rows another process appended (read by a refresh): apply them and wait."""
        if self._applier is not None:
            # Our writer re-reads these when it next takes the lock; the applier skips rows
            # it already has, so handing them over twice is harmless.
            self._applier.enqueue(rows, end_offset)
            self._applier.wait_for(tip_seq)
        elif self.index is not None:
            self._catch_up_on(self.index, tip_seq)  # from the index's own position (no gaps)

    def catch_up(self, tip_seq: int) -> None:
        """Bring the index up to tip_seq from the log (open's catch-up). With the applier
        running, on its thread: it must know what the index holds (waiters wait on it)."""
        if self.index is None:
            return
        self.call(lambda ix: self._catch_up_on(ix, tip_seq))

    def feed(self, seq: int) -> None:
        """Queue the log rows the index lacks up to seq and wait for them: after a crash (or
        with the index lost) recovery finishes purges, which read the index, before open
        catches it up."""
        if self._applier is None:
            self.catch_up(seq)
            return
        last, offset = self._applier.call(lambda ix: ix.last_applied())
        if last < seq:
            from core.index.rebuild import rows_after

            rows, end = rows_after(self.binlog, offset, seq, after=last)
            if rows:
                self._applier.enqueue(rows, end)
        self._applier.wait_for(seq)

    def rebuild(self) -> int:
        """Fill a fresh index from the files and the log. Returns memories indexed."""
        from core.index.rebuild import rebuild

        return self.call(lambda ix: rebuild(ix, self.layout, self.binlog))

    def reindex(self, tip_seq: int) -> int:
        """Drop the index and rebuild it from the files and the log."""
        threaded = self._applier is not None
        if self._applier is not None:
            self._applier.close()
            self._applier = None
        self.reader.close()
        if self.index is not None:
            self.index.close()
        import shutil  # here: only a rebuild needs it (~2 ms of every one-shot command's start-up)

        shutil.rmtree(self.layout.index_dir, ignore_errors=True)
        self.index = IndexWriter(self.layout.index_db, self.layout.root)
        self._access_size = -1  # the new index folds the read journal from its start
        n = self.rebuild()
        self.catch_up(tip_seq)
        if threaded:  # a running writer hands its rows to the applier
            self.start_thread()
        return n

    def _backfill(self, index: IndexWriter, up_to: int) -> list[Row]:
        from core.index.rebuild import rows_after

        last, offset = index.last_applied()
        return rows_after(self.binlog, offset, up_to, after=last)[0]

    def _catch_up_on(self, index: IndexWriter, tip_seq: int) -> None:
        last, offset = index.last_applied()
        if last >= tip_seq:
            return
        from core.index.rebuild import rows_after

        rows, end = rows_after(self.binlog, offset, tip_seq, after=last)
        if rows:
            index.apply(rows, end)

    # -- waiting ----------------------------------------------------------------------------

    def ack(self, seq: int) -> None:
        """Rows up to seq were acknowledged to a caller of this process: its reads see them."""
        self._acked = max(self._acked, seq)

    @property
    def acked(self) -> int:
        return self._acked

    def wait_for(self, seq: int, timeout: float = 30.0) -> None:
        """Return once the index holds row seq (rows are applied synchronously when no
        applier thread runs)."""
        if self._applier is not None:
            self._applier.wait_for(seq, timeout)

    def wait_acked(self) -> None:
        """Reads see at least every row this process's callers have had acknowledged
        (writes, and the rows of tasks such as checkpoints and rotations)."""
        if self._applier is not None and self._acked:
            self._applier.wait_for(self._acked)
        self.fold_access()

    def applied_seq(self) -> int:
        """The newest row the index has applied (from this process or another)."""
        cur = schema.last_applied(self.reader.conn)
        if self._applier is not None:
            cur = max(cur, self._applier.applied)
        return cur

    def wait_for_change(self, after_seq: int, timeout: float) -> int:
        """Wait until the index has applied a row beyond after_seq (from this process or
        another) or timeout passes; returns the index's applied seq."""
        deadline = time.monotonic() + timeout
        while True:
            cur = self.applied_seq()
            left = deadline - time.monotonic()
            if cur > after_seq or left <= 0:
                return cur
            if self._applier is not None:  # own writes wake us at once; others' within 50 ms
                self._applier.wait_past(after_seq, min(left, 0.05))
            else:
                time.sleep(min(left, 0.05))

    # -- derived bookkeeping ----------------------------------------------------------------

    def fold_access(self) -> None:
        if self.index is None:
            return
        try:
            size = self.layout.access_log.stat().st_size
        except FileNotFoundError:
            return
        if size == self._access_size:
            return
        self._access_size = size
        from core.index.access_fold import fold

        self.call(lambda ix: fold(ix, self.layout))

    def get_meta(self, key: str) -> str | None:
        if self.index is None:
            return None
        return self.call(lambda ix: ix.get_meta(key))

    def set_meta(self, key: str, value: str) -> None:
        self.call(lambda ix: ix.set_meta(key, value))

    def verified_tip(self) -> Tip:
        """Where open starts verifying (PROTOCOL: open is O(tail)): past the rows an earlier
        open verified when their bytes are unchanged since, else at the row of the newest
        checkpoint that open verified, else at genesis.

        The rows after the checkpoint are not covered by a signature, so a frame changed since
        an open read it must still be caught before it is written or signed on top: the first
        claim holds only while the BLAKE2b-256 of those bytes (one read, hashed in C) matches the
        digest that open recorded. Any changed byte falls back to walking them row by row."""
        base = self._verified_checkpoint()
        if not offset_valid(self.binlog, base):
            return base  # a stale point (the log was consolidated or replaced): scan_from copes
        tail = self._verified_tail(base)
        return tail if tail is not None else base

    def record_verified(self, scan: Scan, checkpoint_size: int) -> None:
        """After a clean open: remember the newest checkpoint's row, and the digest of the
        verified rows after it, as the next open's starting point."""
        if self.index is None:
            return
        for row, payload, off in scan.rows:
            if row.seq == checkpoint_size and off >= 0:
                end = off + frames.HEADER_SIZE + len(payload)
                self.set_meta(VERIFIED_KEY, f"{row.seq}:{row.ts_ns}:{row.chain}:{end}")
                break
        base, tip = self._verified_checkpoint(), scan.tip
        if tip.offset <= base.offset or tip.seq <= base.seq or len(scan.rows) < TAIL_RECORD_ROWS:
            return  # a few rows are cheaper to walk again than an index write at every open
        if not offset_valid(self.binlog, base):
            return  # its offset counts bytes of a file current.binlog no longer is
        h = self._verified_digest(base, scan)
        if h is None:
            return
        value = f"{tip.seq}:{tip.ts_ns}:{tip.chain}:{tip.offset}:{base.offset}:{h.hexdigest()}"
        # A hint: while another process writes the index, the next open walks these rows.
        self.call(lambda ix: ix.offer_meta(VERIFIED_TAIL_KEY, value))

    def restart_verified(self, base: Tip | None) -> None:
        """current.binlog started afresh at base (a consolidation sealed every row before it):
        the recorded starting points count bytes of the old file. Opens start verifying at
        base when a checkpoint covers it, else from genesis (base None)."""

        def reset(ix: IndexWriter) -> None:
            ix.delete_meta(VERIFIED_TAIL_KEY)
            if base is None:
                ix.delete_meta(VERIFIED_KEY)
            else:
                ix.set_meta(VERIFIED_KEY, f"{base.seq}:{base.ts_ns}:{base.chain}:{base.offset}")

        self.call(reset)

    def _verified_checkpoint(self) -> Tip:
        tip = _tip_of(self._meta(VERIFIED_KEY))
        return tip if tip is not None and tip.offset <= self.binlog.current_size() else Tip()

    def _verified_tail(self, base: Tip) -> Tip | None:
        raw = self._meta(VERIFIED_TAIL_KEY)
        if not raw:
            return None
        head, _, rest = raw.rpartition(":")  # digest
        head, _, start = head.rpartition(":")
        tip = _tip_of(head)
        if tip is None or start != str(base.offset) or tip.seq <= base.seq:
            return None  # recorded from another checkpoint: walk from this one
        if tip.offset > self.binlog.current_size():
            return None
        h = self._digest(base.offset, tip.offset)
        if h.hexdigest() != rest:
            return None
        self._hashed = (base.offset, tip.offset, h)
        return tip

    def _meta(self, key: str) -> str | None:
        try:
            if self.index is not None:  # no reader connection to open (a one-shot put has none)
                return self.get_meta(key)
            return schema.meta(self.reader.conn, key)
        except (sqlite3.Error, BrainError):  # a hint: without it, open verifies more rows
            return None

    def _digest(self, start: int, end: int) -> Hasher:
        """The digest of current.binlog's bytes [start, end) as they are on disk now."""
        return self.binlog.hash_current(blake2b_256(), start, end)

    def _verified_digest(self, base: Tip, scan: Scan) -> Hasher | None:
        """The digest of exactly the bytes this open verified from base to the scan's end, never
        of the file as it is later: those the digest that matched vouched for, then the frames
        the scan walked, encoded again (a frame's bytes follow from its seq, ts_ns and
        payload, which the scan checked against them). None if they do not start at base."""
        walked = [(row, payload, off) for row, payload, off in scan.rows if off >= base.offset]
        if not walked:
            return None
        start = walked[0][2]
        if start == base.offset:
            h = blake2b_256()
        elif self._hashed is not None and self._hashed[:2] == (base.offset, start):
            h = self._hashed[2].copy()
        else:
            return None
        for row, payload, _off in walked:
            h.update(frames.encode(row.seq, row.ts_ns, payload, limit=None))
        return h


def _tip_of(raw: str | None) -> Tip | None:
    """A "seq:ts_ns:chain:offset" meta value, or None."""
    if not raw:
        return None
    try:
        seq, ts, chain, off = raw.split(":")
        return Tip(int(seq), int(ts), chain, int(off))
    except ValueError:
        return None


def _wal_bytes(layout: Layout) -> int:
    try:
        return (layout.index_db.parent / f"{layout.index_db.name}-wal").stat().st_size
    except FileNotFoundError:
        return 0


def known_of(writes: list[Write]) -> Known:
    """(path, seq of its row) -> (sidecar JSON, body) of what a commit group wrote."""
    return {(w.path, w.sidecar.get("seq", 0)): (w.sidecar_json(), w.body) for w in writes}
