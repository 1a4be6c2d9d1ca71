"""The single writer: lock, group commit, the journal's commit point, apply, recovery.

Producers (threads) submit requests; one commit loop groups what is queued, makes the group
durable with one fdatasync of the journal, applies it without further syncs and wakes the
callers. Flushing (syncfs, then emptying the journal) happens only under the lock, before the
lock is released and when the journal grows past a few MB.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from core import fsio, verdict
from core.errors import BrainError, CorruptLog, Frozen, PreconditionFailed
from core.layout import Layout
from core.log import frames
from core.log.binlog import Binlog
from core.log.head import read_head, write_head
from core.log.tip import Tip, decode_row, scan_from
from core.models import Row
from core.verify.mmr import HEADER_BYTES as _NODES_HEADER
from core.verify.mmr import MMR, leaf_hash
from core.write import purge_list
from core.write.apply_files import apply_files
from core.write.file_view import StateView
from core.write.intents import Delete, Intent, Move, Put
from core.write.journal import Journal, Record
from core.write.lock import WriterLock
from core.write.planner import Plan, Planner, Result
from core.write.seal import finish_seal
from core.write.sequencer import Sequencer

IDLE_RELEASE_S = 0.2
_NOT_ACTIVITY = frozenset({"checkpoint", "session.start", "session.end"})
MAX_HOLD_S = 0.1
JOURNAL_FLUSH_BYTES = 4 << 20
MAX_GROUP_ROWS = 4096
# Crash tests only: exit right after the journal fdatasync, leaving a committed record that
# was never applied (tests/core/test_recovery.py). Read once at import; never set it otherwise.
_CRASH_AFTER_COMMIT = os.environ.get("BRAIN_TEST_CRASH_AFTER_COMMIT") == "1"


@dataclass(eq=False)
class Request:
    intents: Sequence[Intent]
    actor: str
    done: threading.Event = field(default_factory=threading.Event)
    results: list[Result] | None = None
    error: BaseException | None = None
    task: Callable[[], object] | None = None  # runs on the commit loop, under the lock
    value: object = None


# The hand-off: rows made durable, with the plan that wrote them (None for rows read back
# from the log: replayed, or another process's).
Listener = Callable[[list[Row], Plan | None], None]


class Writer:
    """Owns the commit loop thread. `submit` blocks until the request is durable and applied."""

    def __init__(
        self,
        layout: Layout,
        tip: Tip,
        *,
        clock: Callable[[], int],
        rng: Callable[[int], bytes],
        program: str,
        lock_timeout_s: float,
        on_rows: Listener,
        on_acquire: Callable[[], None],
        after_group: Callable[[list[Row], Plan], None],
    ) -> None:
        self.layout = layout
        self.tip = tip
        # Opened at the first acquisition, under the lock: opening for writing may create the
        # file or cut a torn tail, which must never race another process's appends.
        self.mmr: MMR | None = None
        self.clock = clock
        self.rng = rng
        self.binlog = Binlog(layout.audit)
        self.lock = WriterLock(layout.root, program, lock_timeout_s)
        self.journal: Journal | None = None
        self.view = StateView(layout.root)
        self.dirs: set[str] = set()
        self.frozen: str | None = None
        self._tip_before: Tip | None = None  # the tip before a group that failed to apply
        self.allow_frozen = False  # `brain doctor --repair` writes while a verdict stands
        self.notes: list[str] = []  # what recovery repaired (the store reports them as info)
        self.activity = 0  # rows since the last checkpoint that count as activity
        self.activity_since = 0.0
        self.checkpoint_every_rows = 1000
        self.checkpoint_every_s: float | None = None  # time-based only in long-running hosts
        self.checkpoint_hook: Callable[[], None] | None = None
        self.checkpoint_error: str | None = None
        self._on_rows = on_rows
        self._on_acquire = on_acquire
        self._after_group = after_group
        self._q: queue.Queue[Request | None] = queue.Queue()
        self._stopped = False  # the loop has ended: set under _gate, so no request is stranded
        self._gate = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="brain-writer", daemon=True)
        self._thread.start()

    # -- producer side ------------------------------------------------------------------

    def submit(self, intents: Sequence[Intent], actor: str) -> list[Result]:
        req = Request(intents, actor)
        self._enqueue(req)
        req.done.wait()
        if req.error is not None:
            raise req.error
        assert req.results is not None
        return req.results

    def run_locked(self, task: Callable[[], object]) -> object:
        """Run task on the commit loop with the lock held (checkpoints, repairs)."""
        req = Request((), "system", task=task)
        self._enqueue(req)
        req.done.wait()
        if req.error is not None:
            raise req.error
        return req.value

    def write_now(self, intents: Sequence[Intent], actor: str) -> list[Result]:
        """From inside a task: commit intents as their own group right away."""
        req = Request(intents, actor)
        self._group([req])
        if req.error is not None:
            raise req.error
        assert req.results is not None
        return req.results

    def _enqueue(self, req: Request) -> None:
        with self._gate:
            if self._stopped:
                raise BrainError("the store is closed")
            self._q.put(req)

    def close(self) -> None:
        if self._thread.is_alive():
            self._q.put(None)
            self._thread.join()

    # -- the commit loop ----------------------------------------------------------------

    def _loop(self) -> None:
        try:
            while True:
                try:
                    first = self._q.get(timeout=self._wait_s())
                except queue.Empty:
                    if self._checkpoint_due():
                        self._run([Request((), "system", task=self._checkpoint)])
                    else:
                        self._release()
                    continue
                if first is None:
                    break
                batch, stop = self._drain(first)
                self._run(batch)
                if stop:
                    break
                if self.lock.held and time.monotonic() - self.lock.acquired_at > MAX_HOLD_S:
                    if self.lock.contended():
                        self._release()  # flock is not fair: let the waiting process in
                        time.sleep(0.002)
                    else:
                        self.lock.acquired_at = time.monotonic()  # nobody waits: keep going
        finally:
            try:
                self._release()
            finally:
                self._stop()

    def _stop(self) -> None:
        """The loop is ending (close, or an error escaped it, e.g. from a flush): wake every
        request still queued, or its caller would wait forever."""
        with self._gate:
            self._stopped = True
        while True:
            try:
                req = self._q.get_nowait()
            except queue.Empty:
                break
            if req is not None and not req.done.is_set():
                req.error = BrainError("the store's writer stopped before this request ran")
                req.done.set()
        if self.journal is not None:
            self.journal.close()
            self.journal = None

    def _wait_s(self) -> float | None:
        waits = []
        if self.lock.held:
            waits.append(IDLE_RELEASE_S)
        if self.activity and self.checkpoint_every_s is not None:
            waits.append(max(0.0, self.activity_since + self.checkpoint_every_s - time.monotonic()))
        return min(waits) if waits else None

    def _checkpoint_due(self) -> bool:
        return bool(
            self.activity
            and self.checkpoint_every_s is not None
            and time.monotonic() >= self.activity_since + self.checkpoint_every_s
        )

    def _checkpoint(self) -> None:
        # A checkpoint that cannot be made (locked key, full disk) must not fail the writes
        # that triggered it: the hook records why, and the next trigger tries again.
        if self.checkpoint_hook is not None:
            try:
                self.checkpoint_hook()
            except Exception as e:  # noqa: BLE001
                self.checkpoint_error = str(e)
            else:
                self.checkpoint_error = None
        self.activity = 0

    def _drain(self, first: Request) -> tuple[list[Request], bool]:
        batch, rows = [first], len(first.intents)
        while rows < MAX_GROUP_ROWS:
            try:
                nxt = self._q.get_nowait()
            except queue.Empty:
                break
            if nxt is None:
                return batch, True
            batch.append(nxt)
            rows += len(nxt.intents)
        return batch, False

    def _run(self, batch: list[Request]) -> None:
        try:
            if self.frozen:
                self._thaw()
            self._acquire()
            writes = [r for r in batch if r.task is None]
            while writes:
                writes = self._group(writes)  # returns what must wait for the next group
            for req in batch:
                if req.task is not None:
                    try:
                        req.value = req.task()
                    except BaseException as e:  # noqa: BLE001 - handed back to the caller
                        req.error = e
                    req.done.set()
        except BaseException as e:  # noqa: BLE001 - every waiter must wake, whatever happened
            for req in batch:
                if not req.done.is_set():
                    req.error = e if isinstance(e, BrainError) else _wrap(e)
                    req.done.set()

    def _acquire(self) -> None:
        if self.lock.held:
            return
        self.lock.acquire()
        try:
            self._fence()
            self.notes.extend(self.recover())
            self._on_acquire()
        except BaseException:
            self.lock.release()
            raise

    def _fence(self) -> None:
        """Forget what another process may have changed since the lock was last ours, and
        refuse to write on a store that some process found frozen (PROTOCOL, Writers)."""
        v = verdict.read(self.layout)
        if v is not None and not self.allow_frozen:
            raise Frozen(f"writes are refused: the store is {v.state}: {v.reason}")
        if self.journal is None:
            self.journal = Journal(self.layout.journal)
        else:
            self.journal.reload()
        if self.mmr is None:
            self.mmr = self._open_nodes()
        else:
            try:
                self.mmr.reload()
            except CorruptLog as e:
                self.mmr.close()
                self.mmr = self._open_nodes(str(e))
        self.dirs.clear()  # another process's purge may have removed folders we made
        self.view.forget_names()

    def _open_nodes(self, damaged: str | None = None):
        """The node file, under the lock; a damaged header means a fresh file that recovery
        extends from the log (it is derived state)."""
        if damaged is None:
            try:
                return MMR.open(self.layout.mmr_nodes)
            except CorruptLog as e:
                damaged = str(e)
        fsio.write_file(self.layout.mmr_nodes, _NODES_HEADER, durable=True)
        self.notes.append(f"rebuilt audit/mmr.nodes from the log ({damaged})")
        return MMR.open(self.layout.mmr_nodes)

    def _thaw(self) -> None:
        """A committed group failed to apply (disk full, I/O error): its record is still in
        the journal. Start again from the files, as after a crash: the next acquisition
        replays it. Failing again leaves the writer frozen with the new reason."""
        assert self._tip_before is not None
        self.tip = self._tip_before
        why, self.frozen = self.frozen, None
        try:
            self._acquire()
        except BaseException as e:
            self.frozen = why
            raise Frozen(f"{why} (retried: {e})") from e
        self._tip_before = None

    def _release(self) -> None:
        if not self.lock.held:
            return
        try:
            self.flush()
        finally:
            self.lock.release()

    def flush(self) -> None:
        """Make everything applied durable, then empty the journal (under the lock only)."""
        if self.journal is None or self.journal.size == 0:
            return
        fsio.syncfs(self.layout.root)
        self.journal.cut(0)

    # -- one group ----------------------------------------------------------------------

    def _group(self, batch: list[Request]) -> list[Request]:
        seqr = Sequencer(self.tip.seq, self.tip.ts_ns, self.tip.chain, self.clock)
        plan = Plan()
        self.view.reset()
        planner = Planner(self.view, seqr, plan, self.rng)
        later: list[Request] = []
        touched: set[str] = set()
        for n, req in enumerate(batch):
            # A record applies version moves, then writes, then removals: two requests on one
            # path in one group could undo each other (and a failed one could not be rolled
            # back cleanly), so the second waits for the next group.
            mine = _paths_of(req.intents)
            if touched & mine:
                batch, later = batch[:n], batch[n:]
                break
            touched |= mine
            mark = seqr.mark()
            marks = (len(plan.writes), len(plan.versions), len(plan.removes), len(plan.purges))
            self.view.begin()
            try:
                req.results = [planner.apply(it, req.actor) for it in req.intents]
                self.view.commit()
            except BaseException as e:  # noqa: BLE001 - a bad request fails alone
                self.view.rollback()
                seqr.reset(mark)
                _cut(plan, marks)
                req.error = e if isinstance(e, BrainError) else _wrap(e)
                if isinstance(e, PreconditionFailed):
                    # The intent that failed, not merely the request's first put_if.
                    it = getattr(e, "intent", None) or next(
                        i for i in req.intents if isinstance(i, Put) and i.expect is not None
                    )
                    seqr.row("put_if.rejected", it.path, req.actor, "", {"expected": it.expect})
        rows, payloads = seqr.take()
        if rows:
            record = Record(
                frames=[
                    frames.encode(r.seq, r.ts_ns, p) for r, p in zip(rows, payloads, strict=True)
                ],
                writes=plan.writes,
                versions=plan.versions,
                removes=plan.removes,
                first_seq=rows[0].seq,
                first_ts=rows[0].ts_ns,
                last_seq=rows[-1].seq,
            )
            assert self.journal is not None
            before = self.journal.size
            try:
                self.journal.commit(record)  # the commit point
            except OSError as e:
                self.journal.cut(before, durable=True)  # the caller hears: not written
                raise BrainError(
                    f"could not make the write durable ({e.strerror or e}); nothing was written."
                    " Free disk space and retry."
                ) from e
            if _CRASH_AFTER_COMMIT:
                os._exit(9)  # test hook: die between the commit point and applying it
            tip_before = self.tip
            try:
                self._apply(record, rows, payloads, plan)
            except OSError as e:
                self.frozen = (
                    f"a committed write could not be applied ({e.strerror or e}); it is safe"
                    " in the journal and is replayed by the next write once the cause is fixed"
                    " (or by `brain doctor --repair`)"
                )
                self._tip_before = tip_before
                # Without the flush: the journal must keep the record. Another process (or
                # our next request) replays it when it takes the lock, as after a crash.
                self.lock.release()
                raise Frozen(self.frozen) from e
            if self.journal.size > JOURNAL_FLUSH_BYTES:
                self.flush()
        for req in batch:
            req.done.set()
        return later

    def _apply(self, record: Record, rows: list[Row], payloads: list[bytes], plan: Plan) -> None:
        assert self.mmr is not None  # opened at the first acquisition
        apply_files(self.layout.root, record, self.dirs)
        blob = b"".join(record.frames)
        self.binlog.append(blob)
        self.mmr.append([leaf_hash(p) for p in payloads])
        self.tip = Tip(rows[-1].seq, rows[-1].ts_ns, rows[-1].chain, self.tip.offset + len(blob))
        write_head(self.layout, self.tip.seq)
        if plan.purges:
            add_pending_purges(self.layout, plan.purges)
        self._on_rows(rows, plan)
        self._after_group(rows, plan)
        active = sum(1 for r in rows if r.op not in _NOT_ACTIVITY)
        if active:
            if not self.activity:
                self.activity_since = time.monotonic()
            self.activity += active
            if self.activity >= self.checkpoint_every_rows:
                self._checkpoint()

    # -- recovery and fencing (every acquisition) ---------------------------------------

    def recover(self) -> list[str]:
        """Replay a crashed holder's journal, then catch up with rows other processes wrote."""
        assert self.journal is not None and self.mmr is not None
        notes: list[str] = []
        records, good_end = self.journal.read()
        if good_end < self.journal.size:
            notes.append(f"cut a torn journal record ({self.journal.size - good_end} bytes)")
            self.journal.cut(good_end, durable=True)
        first_j = records[0].first_seq if records else None
        sealed = None
        if self.binlog.sealed():  # only a consolidated log can hold an interrupted seal
            sealed = finish_seal(self.binlog)  # a consolidation a crash interrupted
        if sealed:
            notes.append(sealed)
            base = self.binlog.base_tip()
            self.tip = base if self.tip.seq >= base.seq else self.tip
        # From the tip across sealed segments (another process consolidated) or from genesis
        # (the log was rewritten under us: a restored backup).
        scan = scan_from(self.binlog, self.tip, stop_seq=first_j)
        synced_ok = first_j is None or scan.tip.seq >= first_j - 1
        if (scan.bad or scan.broken) and (first_j is None or not synced_ok):
            from core.log.tip import require_clean

            require_clean(scan, str(self.layout.root))
        if first_j is not None and not synced_ok:
            raise CorruptLog(
                f"{self.layout.root}: the journal starts at seq {first_j} but the log ends at"
                f" seq {scan.tip.seq}; rows are missing from the synced part. Run `brain doctor`."
            )
        foreign = [r for r, _p, _o in scan.rows]
        if scan.tip.offset < self.binlog.current_size() and first_j is not None:
            notes.append(
                f"rebuilt the log after seq {scan.tip.seq} from the journal"
                f" ({self.binlog.current_size() - scan.tip.offset} bytes replaced)"
            )
            self.binlog.truncate(scan.tip.offset)
        self.tip = scan.tip
        if self.mmr.size != self.tip.seq:
            self._resync_mmr()
        if not self._leaves_match(scan.rows):
            notes.append(
                "rebuilt audit/mmr.nodes: its leaves disagreed with rows another process wrote"
            )
            self.mmr.truncate(0)
            self._resync_mmr()
        if records:
            replayed = self._replay(records)
            foreign.extend(replayed)
            notes.append(f"replayed {len(records)} journal record(s), {len(replayed)} row(s)")
            self.flush()
        head = read_head(self.layout)
        if head is not None and head > self.tip.seq:
            # Under the lock HEAD is only written after the frames it counts, and replay has
            # restored every committed row: a larger HEAD means the log lost synced rows.
            raise CorruptLog(
                f"{self.layout.root}: HEAD says seq {head} but the log ends at seq"
                f" {self.tip.seq} after replay; rows are missing. Run `brain doctor`."
            )
        if foreign:
            self.view.forget_names()
            self._on_rows(foreign, None)
        write_head(self.layout, self.tip.seq)
        return notes

    def _replay(self, records: list[Record]) -> list[Row]:
        assert self.mmr is not None
        rows: list[Row] = []
        purges: list[int] = []
        for rec in records:
            apply_files(self.layout.root, rec, self.dirs, replay=True)
            payloads = []
            for fr in rec.frames:
                (item,) = frames.scan(fr)[0]
                row = decode_row(item.payload)
                if row.seq <= self.tip.seq:
                    continue
                if row.prev_chain != self.tip.chain:
                    raise CorruptLog(f"journal row {row.seq} does not chain onto the log")
                payloads.append(item.payload)
                rows.append(row)
                self.binlog.append(fr)
                self.tip = Tip(row.seq, row.ts_ns, row.chain, self.tip.offset + len(fr))
                if row.op == "delete" and row.extra.get("mode") == "purge":
                    purges.append(row.seq)
            self.mmr.append([leaf_hash(p) for p in payloads])
        if purges:
            add_pending_purges(self.layout, purges)
        return rows

    def _leaves_match(self, rows: list[tuple[Row, bytes, int]]) -> bool:
        """Do the node file's leaves for the rows read at this fence hash their payloads?
        (Cheap: one read per new row. A mismatch would have every later checkpoint sign a
        root the log does not have.)"""
        assert self.mmr is not None
        mmr = self.mmr
        return all(
            mmr.leaf(row.seq - 1) == leaf_hash(payload)
            for row, payload, _off in rows
            if row.seq <= mmr.size
        )

    def _resync_mmr(self) -> None:
        """The node file is derived: cut it back or extend it from the log."""
        assert self.mmr is not None
        if self.mmr.size > self.tip.seq:
            self.mmr.truncate(self.tip.seq)
            return
        missing = [
            leaf_hash(f.payload)
            for f in self.binlog.iter_frames(self.mmr.size + 1)
            if isinstance(f, frames.Frame) and f.seq <= self.tip.seq
        ]
        self.mmr.append(missing)


def add_pending_purges(layout: Layout, seqs: list[int]) -> None:
    fsio.write_file(layout.purge_pending, purge_list.updated(layout.purge_pending, add=seqs))


def read_pending_purges(layout: Layout) -> list[int]:
    """Well-formed seqs only: junk in the file is named by core.purge and the doctor."""
    return purge_list.read(layout.purge_pending).seqs


def _paths_of(intents: Sequence[Intent]) -> set[str]:
    out: set[str] = set()
    for it in intents:
        if isinstance(it, Move):
            out.update((it.src, it.dst))
        elif isinstance(it, Put | Delete):
            out.add(it.path)
    return out


def _cut(plan: Plan, marks: tuple[int, int, int, int]) -> None:
    del plan.writes[marks[0] :]
    del plan.versions[marks[1] :]
    del plan.removes[marks[2] :]
    del plan.purges[marks[3] :]


def _wrap(e: BaseException) -> BrainError:
    if isinstance(e, OSError):
        return BrainError(f"{e.strerror or e} ({getattr(e, 'filename', '') or 'store I/O'})")
    return BrainError(f"internal error: {type(e).__name__}: {e}")


__all__ = ["Writer", "Request", "write_head", "read_head", "os"]
