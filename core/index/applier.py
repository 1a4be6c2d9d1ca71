"""The index applier thread: the writer hands it rows; searches wait on its progress."""

from __future__ import annotations

import threading
import time
from _queue import Empty, SimpleQueue  # queue's own: that module (with heapq) is ~0.4 ms
from collections.abc import Callable
from typing import Any, cast

from core.errors import BrainError
from core.index.db import IndexGap, IndexWriter, Known
from core.models import Row

# (index, up_to) -> the log's rows after the index's last_applied, up to seq up_to.
Backfill = Callable[[IndexWriter, int], list[Row]]
_Rows = tuple[list[Row], int, Known | None, float]  # rows, end offset, known, handed over at
_Task = _Rows | Callable[[IndexWriter], Any] | object | None
_FLUSH = object()  # a reader is waiting: stop holding rows back and apply now
# Rows wait this long for company before they are applied: one transaction for many rows costs
# a fraction of one per row, and nobody is waiting for them (a waiter sends _FLUSH). The thread
# sleeps through the hold (rows queued meanwhile do not wake it: a wake-up per put costs CPU the
# writer needs) unless something urgent is queued: a flush, a call, close.
HOLD_S = 0.03
MAX_BATCH = 4096
# The index yields to the commit path: after the hold, rows wait for a pause in the writes
# (no group being written, none handed over for QUIET_S) before they are applied, so a burst
# of puts never shares the CPU and the GIL with an index transaction (measured: a 6 ms
# transaction of ~40 rows stalled the staging of every put it overlapped, by up to 5 ms; a
# batch ran at half speed beside its index). A writer that never pauses still has its rows
# applied once the oldest waited MAX_LAG_S or MAX_HELD_ROWS are held; a reader that waits
# (wait_for, call) and close end the wait at once.
QUIET_S = 0.005
MAX_LAG_S = 5.0
MAX_HELD_ROWS = 8192
# The WAL is checkpointed here instead of by SQLite's auto-checkpoint, whose two syncs (WAL,
# database) would compete with the journal's commit-point fdatasync for the device while puts
# flow: once writes pause for IDLE_CHECKPOINT_S with more than CHECKPOINT_BYTES of WAL, or at
# once past FORCE_CHECKPOINT_BYTES.
IDLE_CHECKPOINT_S = 0.25
CHECKPOINT_BYTES = 4 << 20
FORCE_CHECKPOINT_BYTES = 64 << 20


class Applier:
    def __init__(
        self,
        index: IndexWriter,
        backfill: Backfill,
        *,
        hold_s: float | None = None,
        writer_busy: Callable[[], bool] = lambda: False,
    ) -> None:
        self.index = index
        self.backfill = backfill
        self.applied, _ = index.last_applied()
        self.error: BaseException | None = None
        self._cond = threading.Condition()
        self._q: SimpleQueue[_Task] = SimpleQueue()  # C: cheaper put per group
        self._urgent = threading.Event()  # set with every urgent item: ends a hold early
        self._wal_grew = False  # rows applied since the last checkpoint
        # Longer for a bulk load nobody reads meanwhile (Follower.hold).
        self.hold_s = HOLD_S if hold_s is None else hold_s
        self.writer_busy = writer_busy  # our writer is writing a group (Follower.watch)
        self._last_in = 0.0  # monotonic time of the last hand-off (enqueue)
        self._held = 0  # rows handed over since the loop last gathered (a hint: races undercount)
        index.auto_checkpoint(False)
        self._thread = threading.Thread(target=self._loop, name="brain-index", daemon=True)
        self._thread.start()

    def enqueue(self, rows: list[Row], end_offset: int, known: Known | None = None) -> None:
        self._last_in = now = time.monotonic()
        self._held += len(rows)
        self._q.put((rows, end_offset, known, now))

    def call(self, fn: Callable[[IndexWriter], Any]) -> Any:
        """Run fn on the applier's connection, after everything queued before it."""
        box: dict[str, Any] = {}
        done = threading.Event()

        def task(ix: IndexWriter) -> None:
            try:
                box["value"] = fn(ix)
            except BaseException as e:  # noqa: BLE001 - handed back to the caller
                box["error"] = e
            finally:
                done.set()

        self._urgent_put(task)
        done.wait()
        if "error" in box:
            raise box["error"]
        return box.get("value")

    def wait_for(self, seq: int, timeout: float = 30.0) -> None:
        with self._cond:
            if self.applied >= seq and not self.error:
                return
        self._urgent_put(_FLUSH)
        with self._cond:
            ok = self._cond.wait_for(lambda: self.applied >= seq or self.error, timeout)
        if self.error is not None:
            raise BrainError(f"the search index could not be updated: {self.error}")
        if not ok:
            raise BrainError(
                f"the search index did not reach seq {seq} within {timeout:g} s"
                f" (it holds rows up to seq {self.applied}); `brain reindex` rebuilds it"
            )

    def wait_past(self, seq: int, timeout: float) -> int:
        """Wait until a row beyond seq is applied or timeout passes; returns the applied seq."""
        with self._cond:
            self._cond.wait_for(lambda: self.applied > seq or self.error, timeout)
            return self.applied

    def _sync_applied(self) -> None:
        """A task may have applied rows itself (open's catch-up, a rebuild): what the index
        holds, not what passed through this queue, is what waiters wait for."""
        try:
            last, _ = self.index.last_applied()
        except Exception:  # noqa: BLE001 - a task that closed or replaced the connection
            return
        with self._cond:
            if last > self.applied:
                self.applied = last
                self._cond.notify_all()

    def _apply(self, rows: list[Row], end: int, known: Known | None) -> int:
        try:
            return self.index.apply(rows, end, known)
        except IndexGap as gap:
            # Read what the index lacks from the log (the log wins) and apply it first.
            missing = self.backfill(self.index, gap.next_seq - 1)
            return self.index.apply(missing + rows, end, known)

    def hurry(self) -> None:
        """Apply what is held now, without waiting for it (a one-shot command about to flush:
        the rows go in while its syncfs waits on the device, the GIL released)."""
        self._urgent_put(_FLUSH)

    def close(self) -> None:
        if self._thread.is_alive():
            self._urgent_put(None)
            self._thread.join()
        try:
            self.index.auto_checkpoint(True)
        except Exception:  # noqa: BLE001 - a connection a task closed or replaced
            pass

    def _checkpoint(self, *, force: bool = False) -> None:
        wal = self.index.wal_bytes()
        if wal > (FORCE_CHECKPOINT_BYTES if force else CHECKPOINT_BYTES):
            self.index.checkpoint_passive()
        if not force:
            self._wal_grew = False

    def _await_quiet(self, since: float) -> None:
        """Until the writes pause, too much waits, or something urgent is queued. Sleeps by
        the clock: the hand-offs meanwhile wake nobody."""
        while not self._urgent.is_set():
            now = time.monotonic()
            if now - since >= MAX_LAG_S or self._held >= MAX_HELD_ROWS:
                return
            idle = 0.0 if self.writer_busy() else now - self._last_in
            if idle >= QUIET_S:
                return
            self._urgent.wait(QUIET_S - idle)

    def _urgent_put(self, task: _Task) -> None:
        self._q.put(task)
        self._urgent.set()

    def _loop(self) -> None:
        while True:
            try:
                task = self._q.get(timeout=IDLE_CHECKPOINT_S if self._wal_grew else None)
            except Empty:
                self._checkpoint()  # the writes paused
                continue
            if task is None:
                return
            if task is _FLUSH or callable(task):
                # Served: an urgent mark left set would apply the next rows at once, beside
                # the writes they came from (an urgent item queued after this one sets it again).
                self._urgent.clear()
                if callable(task):
                    task(self.index)
                    self._sync_applied()
                continue
            assert isinstance(task, tuple)
            rows, end = list(task[0]), task[1]
            known: dict[tuple[str, int], tuple[bytes, bytes | None]] = dict(task[2] or {})
            stop = False
            pending_call: Callable[[IndexWriter], Any] | None = None
            # Gather what follows into one transaction: sleep through the hold (an urgent item
            # ends it), then take what was queued meanwhile. Cleared before taking: an urgent
            # item queued after the clear is either taken below or ends the next hold.
            self._urgent.wait(self.hold_s)
            self._await_quiet(task[3])
            self._urgent.clear()
            self._held = 0
            while True:
                if len(rows) >= MAX_BATCH:
                    self._urgent.set()  # more may be queued: no hold for the next batch
                    break
                try:
                    nxt = self._q.get_nowait()
                except Empty:
                    break
                if nxt is _FLUSH:
                    break
                if nxt is None:
                    stop = True
                    break
                if callable(nxt):
                    pending_call = cast("Callable[[IndexWriter], Any]", nxt)
                    break
                assert isinstance(nxt, tuple)
                rows.extend(nxt[0])
                end = nxt[1]
                known.update(nxt[2] or {})
            try:
                last = self._apply(rows, end, known)
                with self._cond:
                    self.applied = max(self.applied, last)
                    self._cond.notify_all()
                self._wal_grew = True
                self._checkpoint(force=True)
            except BaseException as e:  # noqa: BLE001 - reported through wait_for and state
                with self._cond:
                    self.error = e
                    self._cond.notify_all()
            if pending_call is not None:
                pending_call(self.index)
                self._sync_applied()
            if stop:
                return
