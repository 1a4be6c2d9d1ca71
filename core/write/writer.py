"""The single writer: lock, group commit, the journal's commit point, apply, recovery.

Producers (threads) submit requests; the caller holding the commit token groups what is
queued, makes the group durable with one fdatasync of the journal, applies it without further
syncs and wakes the callers. Flushing (syncfs, then emptying the journal) happens only under
the lock, before the lock is released and when the journal grows past a few MB.
"""

from __future__ import annotations

import itertools
import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from functools import partial

import msgspec

from core import fsio, verdict
from core.errors import BrainError, CorruptLog, Frozen, PreconditionFailed
from core.layout import Layout
from core.log import frames
from core.log.binlog import Binlog
from core.log.head import write_head
from core.log.tip import Tip
from core.models import Row
from core.verify.mmr import HEADER_BYTES as _NODES_HEADER
from core.verify.mmr import MMR, leaf_hash
from core.write import purge_list
from core.write.apply_files import Staged, Stager, apply_files, drop_staged
from core.write.file_view import StateView
from core.write.intents import Delete, Intent, Move, Put
from core.write.journal import Helper, Journal, Record
from core.write.lock import WriterLock
from core.write.planner import Plan, Planner, Result, proposal_gate
from core.write.recovery import Recovery
from core.write.sequencer import Sequencer

IDLE_RELEASE_S = 0.2
_NOT_ACTIVITY = frozenset({"checkpoint", "session.start", "session.end"})
MAX_HOLD_S = 0.1
JOURNAL_FLUSH_BYTES = 4 << 20
# Past JOURNAL_FLUSH_BYTES a pre-sync (syncfs on a helper thread) writes back what the groups
# dirtied while commits go on; the flush proper (a syncfs that only finds what was written
# since, then the cut) runs on the commit path once the pre-sync is done and the journal grew
# by at most CATCH_UP_BYTES since it began, or at once past JOURNAL_FORCE_BYTES.
CATCH_UP_BYTES = 1 << 20
JOURNAL_FORCE_BYTES = 4 * JOURNAL_FLUSH_BYTES
MAX_GROUP_ROWS = 4096
# Crash tests only: exit right after the journal fdatasync of this process's Nth commit,
# leaving a committed record that was never applied (tests/core/test_recovery.py). Read once
# at import; never set it otherwise.
_CRASH_AFTER_COMMIT = int(os.environ.get("BRAIN_TEST_CRASH_AFTER_COMMIT") or 0)
_commits = itertools.count(1)


# Builds a request's intents on the thread leading its group (Store.put while threads crowd).
Prepare = Callable[[], Sequence[Intent]]


class Request(msgspec.Struct, eq=False):
    intents: Sequence[Intent]
    actor: str
    # Released when the request has run (finished) or when its caller is handed the commit
    # token (lead): one wake-up either way. A bare lock, made only for a caller that waits.
    wake: threading.Lock | None = None
    finished: bool = False
    lead: bool = False
    results: list[Result] | None = None
    error: BaseException | None = None
    task: Callable[[], object] | None = None  # runs under the lock, holding the commit token
    value: object = None
    # Builds the intents (validation included) on the thread leading the group, just before
    # they are planned; a failure fails this request alone, as a planning error does.
    prepare: Prepare | None = None

    def finish(self) -> None:
        self.finished = True
        self.signal()

    def signal(self) -> None:
        """Wake the caller if it waits (under the writer's _cv, or once it stopped waiting)."""
        if self.wake is not None:
            try:
                self.wake.release()
            except RuntimeError:
                pass  # woken already (handed the token, then finished by a stopping writer)


# The hand-off: rows made durable, with the plan that wrote them (None for rows read back
# from the log: replayed, or another process's).
Listener = Callable[[list[Row], Plan | None], None]


class Writer:
    """Group commit without a hand-off: the caller that finds nobody committing commits its own
    request and whatever queued meanwhile (it holds the commit token), then hands the token to
    the first request still queued, whose caller wakes up to commit the next group. A
    housekeeping thread takes the token only to release the lock when idle, for time-based
    checkpoints and to drain at close. `submit` blocks until the request is durable and
    applied."""

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
        # A person accepting the store as it is (`brain doctor --repair --reason`): HEAD ahead
        # of the log (a rolled-back or mid-write copy) is rewritten instead of refused.
        self.accept_short_log = False
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
        # The commit token: whoever holds it (busy) is the only thread touching the lock, the
        # journal and the files. Everything below is guarded by _cv's lock.
        self._cv = threading.Condition(threading.Lock())
        self._pending: deque[Request] = deque()
        self._busy = False
        self._closing = False  # close() was called: no new requests, the loop drains
        self._stopped = False  # the loop has ended: no request is accepted or stranded
        self._loop_wants = False  # the housekeeping loop waits for the token
        self._loop_has = False  # ... and was handed it
        self._crowded = False  # a request had to queue since a group last ran alone
        # When the housekeeping loop's wait ends (inf: untimed). A group that takes or keeps the
        # lock wakes it if it would sleep past the idle release: asleep until a checkpoint is
        # due (up to checkpoint_every_s), it would hold the lock that long, and every other
        # process's write would wait for it (or give up after its lock timeout).
        self._loop_until = 0.0
        self._last_done = time.monotonic()
        # fds kept open between groups of one lock tenure (an open per group costs more than
        # the write): dropped at every fence, after tasks (a consolidation replaces
        # current.binlog) and at release.
        self._log_fd: int | None = None
        self._head_fd: int | None = None
        self._presync: threading.Thread | None = None
        self._presync_from = 0  # the journal's size when the running pre-sync began
        self.synced_at = 0.0  # monotonic time the last flush's syncfs began
        self._thread = threading.Thread(target=self._loop, name="brain-writer", daemon=True)
        self._thread.start()

    # -- producer side ------------------------------------------------------------------

    def submit(
        self,
        intents: Sequence[Intent],
        actor: str,
        prepare: Prepare | None = None,
    ) -> list[Result]:
        req = self._call(Request(intents, actor, prepare=prepare))
        assert req.results is not None
        return req.results

    @property
    def crowded(self) -> bool:
        """Other threads have been writing too: a request queued behind a busy leader since a
        group last ran alone. Read without the lock: a hint."""
        return self._crowded

    def run_locked(self, task: Callable[[], object]) -> object:
        """Run task with the lock held and the commit token (checkpoints, repairs)."""
        return self._call(Request((), "system", task=task)).value

    def write_now(self, intents: Sequence[Intent], actor: str) -> list[Result]:
        """From inside a task: commit intents as their own group right away."""
        req = Request(intents, actor)
        self._group([req])
        if req.error is not None:
            raise req.error
        assert req.results is not None
        return req.results

    def busy(self) -> bool:
        """Someone holds the commit token (a group or housekeeping is being written). Read
        without the lock: a stale answer only delays the index by one check."""
        return self._busy

    def pending(self) -> int:
        """Requests queued behind the group being committed (tests)."""
        with self._cv:
            return len(self._pending)

    def _call(self, req: Request) -> Request:
        with self._cv:
            if self._stopped or self._closing:
                raise BrainError("the store is closed")
            self._pending.append(req)
            if not self._busy:
                self._busy = req.lead = True
            else:
                self._crowded = True
                req.wake = threading.Lock()
                req.wake.acquire()
        if req.wake is not None:
            req.wake.acquire()
        if not req.finished:
            self._lead()  # nobody was committing, or the last leader handed us the token
        if req.error is not None:
            raise req.error
        return req

    def _lead(self) -> None:
        """Holding the token: commit what is queued (our own request first), then pass it on."""
        if self._crowded:
            # Other threads have been writing too: let the ones about to submit (woken by the
            # last group) queue first, so the group shares one sync instead of syncing alone.
            time.sleep(0)
        with self._cv:
            batch = self._take()
            if len(batch) == 1:
                self._crowded = False  # nobody came: a lone producer never yields again
        try:
            self._run(batch, leader=True)
        finally:
            try:
                self._after_run()
            except BaseException:  # noqa: BLE001 - as when an error ended the commit loop
                # Our rows are durable (the flush that failed comes after the commit point);
                # the writer stops: queued and later requests are refused, never stranded.
                self._stop()
            else:
                with self._cv:
                    self._last_done = time.monotonic()
                    if self.lock.held and self._loop_until > self._last_done + IDLE_RELEASE_S:
                        self._cv.notify_all()  # start the idle-release timer
                    self._pass_token()

    def _take(self) -> list[Request]:
        """Under _cv: the front of the queue, up to MAX_GROUP_ROWS rows (at least one)."""
        batch = [self._pending.popleft()]
        rows = len(batch[0].intents) or 1  # a request still to prepare counts as one
        while self._pending and rows < MAX_GROUP_ROWS:
            nxt = self._pending.popleft()
            batch.append(nxt)
            rows += len(nxt.intents) or 1
        return batch

    def _pass_token(self) -> None:
        """Under _cv: hand the token to the housekeeping loop if it asked, else to the first
        queued request's caller, else put it down."""
        if self._loop_wants:
            self._loop_has = True
            self._cv.notify_all()
        elif self._pending:
            nxt = self._pending[0]
            nxt.lead = True
            nxt.signal()
        else:
            self._busy = False

    def _get_token(self) -> bool:
        """Housekeeping loop, under _cv: take the token, waiting for the holder to pass it.
        False when a leader stopped the writer meanwhile (it keeps the token)."""
        if self._busy:
            self._loop_wants = True
            while not self._loop_has and not self._stopped:
                self._cv.wait()
            self._loop_wants = self._loop_has = False
        if self._stopped:
            return False
        self._busy = True
        return True

    def close(self) -> None:
        if self._thread.is_alive():
            with self._cv:
                self._closing = True
                self._cv.notify_all()
            self._thread.join()

    # -- housekeeping -------------------------------------------------------------------

    def _loop(self) -> None:
        """Sleeps until there is housekeeping to do, takes the token for it, passes it on."""
        try:
            if not self._housekeeping():
                return  # a leader stopped the writer (a failed flush) and keeps the token
        except BaseException:
            self._die()  # holding the token: every queued request fails
            raise
        try:  # holding the token, closing: drain what is queued, then stop
            while True:
                with self._cv:
                    if not self._pending:
                        break
                    batch = self._take()
                self._run(batch)
        finally:
            self._die()

    def _die(self) -> None:
        try:
            self._release()
        finally:
            self._stop()

    def _housekeeping(self) -> bool:
        """Until close: False if a leader stopped the writer, True holding the token."""
        with self._cv:
            while True:
                if self._stopped:
                    return False
                if self._closing:
                    return self._get_token()
                wait = self._wait_s()
                if wait is None or wait > 0:
                    self._loop_until = math.inf if wait is None else time.monotonic() + wait
                    self._cv.wait(wait)
                    self._loop_until = 0.0
                    continue
                if not self._get_token():
                    return False
                self._cv.release()
                try:
                    self._housekeep()
                finally:
                    self._cv.acquire()  # an error ends the loop holding the token
                self._last_done = time.monotonic()
                self._pass_token()

    def _housekeep(self) -> None:
        if self._checkpoint_due():
            self._run([Request((), "system", task=self._checkpoint)])
        elif self.lock.held and time.monotonic() - self._last_done >= IDLE_RELEASE_S:
            self._release()

    def _after_run(self) -> None:
        """Holding the token, after a group: flock is not fair, so after MAX_HOLD_S of holding
        the lock, let a waiting process in."""
        if self.lock.held and time.monotonic() - self.lock.acquired_at > MAX_HOLD_S:
            if self.lock.contended():
                self._release()
                time.sleep(0.002)
            else:
                self.lock.acquired_at = time.monotonic()  # nobody waits: keep going

    def _stop(self) -> None:
        """The loop is ending (close, or an error escaped it, e.g. from a flush): wake every
        request still queued, or its caller would wait forever."""
        with self._cv:
            self._stopped = True
            left = list(self._pending)
            self._pending.clear()
            self._cv.notify_all()
        for req in left:
            if not req.finished:
                req.error = BrainError("the store's writer stopped before this request ran")
                req.finish()
        self._end_presync()
        self._drop_fds()
        if self.journal is not None:
            self.journal.close()
            self.journal = None

    def _wait_s(self) -> float | None:
        """Under _cv: seconds until the loop has housekeeping to do (None: nothing planned)."""
        now = time.monotonic()
        waits = []
        if self.lock.held:
            waits.append(self._last_done + IDLE_RELEASE_S - now)
        if self.activity and self.checkpoint_every_s is not None:
            waits.append(self.activity_since + self.checkpoint_every_s - now)
        return max(0.0, min(waits)) if waits else None

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

    def _run(self, batch: list[Request], *, leader: bool = False) -> None:
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
                        self._drop_fds()  # the task may replace the files behind them
                        req.value = req.task()
                    except BaseException as e:  # noqa: BLE001 - handed back to the caller
                        req.error = e
                    finally:
                        self._drop_fds()
                        self.view.forget_names()  # it may have written files itself
                    req.finish()
        except BaseException as e:  # every waiter must wake, whatever happened
            for req in batch:
                if not req.finished:
                    req.error = e if isinstance(e, BrainError) else _wrap(e)
                    req.finish()
            if leader and not isinstance(e, Exception):
                raise  # KeyboardInterrupt, SystemExit: the caller's own thread hears it

    def _acquire(self) -> None:
        if self.lock.held:
            # Another process may have recorded a verdict since (the doctor, an open that found
            # corruption): checked once a group here, not once a put by every producer (a stat
            # that, with the GIL released around it, switched threads at every put).
            self._refuse_if_frozen(verdict.read_cached(self.layout))
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
        self._drop_fds()
        self._refuse_if_frozen(verdict.read(self.layout))
        if self.journal is not None and self.journal.replaced():
            # Recovery reads the file at the path: that is the one to commit to (and check).
            self.journal.close()
            self.journal = None
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

    def _refuse_if_frozen(self, v: verdict.Verdict | None) -> None:
        if v is not None and not self.allow_frozen:
            raise Frozen(f"writes are refused: the store is {v.state}: {v.reason}")

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

    def _drop_fds(self) -> None:
        # Forgotten before closing: a close that fails must never be retried (the number may
        # belong to another file by then).
        fds, self._log_fd, self._head_fd = (self._log_fd, self._head_fd), None, None
        for fd in fds:
            if fd is not None:
                try:
                    fsio.close(fd)
                except OSError:
                    pass

    def _append_log(self, blob: bytes) -> None:
        if self._log_fd is None:
            self._log_fd = fsio.open_fd(self.binlog.current, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        fsio.write(self._log_fd, blob)

    def _write_head(self, seq: int) -> None:
        """HEAD in place (as `write_head`, which recovery ran at this acquisition: the file
        exists and holds 8 bytes)."""
        if self._head_fd is None:
            try:
                self._head_fd = fsio.open_fd(self.layout.head, os.O_WRONLY)
            except FileNotFoundError:
                write_head(self.layout, seq)
                return
        fsio.pwrite(self._head_fd, seq.to_bytes(8, "little"), 0)

    def _release(self) -> None:
        self._end_presync()
        self._drop_fds()
        if not self.lock.held:
            return
        try:
            self.flush()
        finally:
            self.lock.release()

    def flush(self, *, durable: bool = False) -> None:
        """Make everything applied durable, then empty the journal (under the lock only).

        durable: the cut is synced too, even of an empty journal (an earlier cut may not have
        reached the disk). A purge's flush is: replaying a record older than the purge after a
        power cut would write the purged content back, with nothing left to destroy it again."""
        if self.journal is None:
            return
        if self.journal.size:
            self.synced_at = time.monotonic()  # what was written before this is durable after it
            fsio.syncfs(self.layout.root)
        elif not durable:
            return
        self.journal.cut(0, durable=durable)

    def unflushed(self) -> bool:
        """Rows in the journal: the writer's close will flush (read without the token: a
        hint; `synced_at` says whether a flush did start)."""
        return self.journal is not None and self.journal.size > 0

    def _flush_if_big(self) -> None:
        """Holding the token, after a group: flush once the journal passes a few MB, without
        stalling the commit path for the whole write-back (a syncfs of MBs takes tens of ms):
        a pre-sync writes most of it back meanwhile, so the flush's own syncfs finds little.
        Only the flush's syncfs, begun after every record in the journal was applied, lets
        the journal be cut; the pre-sync is a head start, never relied on."""
        assert self.journal is not None
        size = self.journal.size
        if size <= JOURNAL_FLUSH_BYTES:
            return
        if type(fsio.backend) is not fsio.RealIO:
            self.flush()  # under a test backend: the same calls, in a deterministic order
            return
        t = self._presync
        if t is not None and t.is_alive() and size < JOURNAL_FORCE_BYTES:
            return
        self._end_presync()
        if t is None or size - self._presync_from > CATCH_UP_BYTES and size < JOURNAL_FORCE_BYTES:
            self._presync_from = size
            root = os.fspath(self.layout.root)
            self._presync = threading.Thread(
                target=_presync, args=(root,), name="brain-presync", daemon=True
            )
            self._presync.start()
            return
        self.flush()

    def _end_presync(self) -> None:
        t, self._presync = self._presync, None
        if t is not None:
            t.join()

    # -- one group ----------------------------------------------------------------------

    def _group(self, batch: list[Request]) -> list[Request]:
        seqr = Sequencer(self.tip.seq, self.tip.ts_ns, self.tip.chain, self.clock)
        plan = Plan()
        self.view.reset()
        planner = Planner(self.view, seqr, plan, self.rng)
        assert self.journal is not None
        stager = Stager(self.layout.root, self.dirs)
        # The staging thread (None under a test backend: the files are staged at the commit,
        # inline). Every planned request's writes were queued on it: it has work if the plan
        # has writes.
        helper = self.journal.helper()
        try:
            batch, later = self._plan(batch, planner, plan, seqr, stager, helper)
            rows, payloads = seqr.take()
        except BaseException:
            if helper is not None:
                helper.wait(quiet=True)
            drop_staged(stager.made)
            raise
        staging = helper if plan.writes else None
        if not rows and staging is not None:  # never so: writes come with rows
            staging.wait(quiet=True)
            drop_staged(stager.made)
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
            before = self.journal.size

            def stage() -> None:
                stager.stage(record.writes)

            try:
                # The commit point; the files are staged under temp names meanwhile.
                if staging is not None:
                    self.journal.commit(record, staging=staging)
                else:
                    self.journal.commit(record, during=stage if record.writes else None)
            except BaseException as e:
                drop_staged(stager.made)
                self.journal.cut(before, durable=True)  # the caller hears: not written
                if not isinstance(e, OSError):
                    raise
                raise BrainError(
                    f"could not make the write durable ({e.strerror or e}); nothing was written."
                    " Free disk space and retry."
                ) from e
            staged = stager.staged
            if _CRASH_AFTER_COMMIT:
                _crash_hook()
            tip_before = self.tip
            try:
                self._apply(record, rows, payloads, plan, staged)
            except BaseException as e:
                # Whatever stopped the apply (a full disk, an I/O error, KeyboardInterrupt in
                # the caller that was committing), the group is committed and our state may
                # be half updated: start again from the files, as after a crash.
                why = e.strerror or e if isinstance(e, OSError) else type(e).__name__
                self.frozen = (
                    f"a committed write could not be applied ({why}); it is safe"
                    " in the journal and is replayed by the next write once the cause is fixed"
                    " (or by `brain doctor --repair`)"
                )
                self._tip_before = tip_before
                # Without the flush: the journal must keep the record. Another process (or
                # our next request) replays it when it takes the lock, as after a crash.
                self._drop_fds()
                self.lock.release()
                if isinstance(e, Exception):
                    raise Frozen(self.frozen) from e
                raise
        for req in batch:
            req.finish()
        if rows:
            # After the callers heard: their rows are durable whatever the flush meets (a
            # failed syncfs leaves the journal uncut, to replay; the requests still queued hear
            # the error).
            self._flush_if_big()
        return later

    def _plan(
        self,
        batch: list[Request],
        planner: Planner,
        plan: Plan,
        seqr: Sequencer,
        stager: Stager,
        helper: Helper | None,
    ) -> tuple[list[Request], list[Request]]:
        """Plan each request against the state the ones before it leave; a bad one fails
        alone. Returns (the requests in this group, those that wait for the next). Each
        planned request's writes are queued for staging on the helper right away."""
        later: list[Request] = []
        touched: set[str] = set()
        for n, req in enumerate(batch):
            if req.prepare is not None:
                prepare, req.prepare = req.prepare, None
                try:
                    req.intents = prepare()
                except BaseException as e:  # noqa: BLE001 - a bad request fails alone
                    req.error = e if isinstance(e, BrainError) else _wrap(e)
                    continue
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
                results = []
                for it in req.intents:
                    proposal_gate(it, req.intents, self.view)
                    results.append(planner.apply(it, req.actor))
                req.results = results
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
                continue
            if helper is not None and len(plan.writes) > marks[0]:
                helper.submit(partial(stager.stage, plan.writes[marks[0] :]))
        return batch, later

    def _apply(
        self, record: Record, rows: list[Row], payloads: list[bytes], plan: Plan, staged: Staged
    ) -> None:
        assert self.mmr is not None  # opened at the first acquisition
        apply_files(self.layout.root, record, self.dirs, staged=staged)
        blob = b"".join(record.frames)
        self._append_log(blob)
        self.mmr.append([leaf_hash(p) for p in payloads])
        self.tip = Tip(rows[-1].seq, rows[-1].ts_ns, rows[-1].chain, self.tip.offset + len(blob))
        self._write_head(self.tip.seq)
        if plan.purges:
            purge_list.add(self.layout.purge_pending, plan.purges)
        self._on_rows(rows, plan)
        self._after_group(rows, plan)
        active = sum(1 for r in rows if r.op not in _NOT_ACTIVITY)
        if active:
            if not self.activity:
                self.activity_since = time.monotonic()
            self.activity += active
            if self.activity >= self.checkpoint_every_rows:
                self._checkpoint()

    # -- recovery (every acquisition) ---------------------------------------------------

    def recover(self) -> list[str]:
        """Replay a crashed holder's journal, then catch up with rows other processes wrote."""
        assert self.journal is not None and self.mmr is not None
        rec = Recovery(self.layout, self.journal, self.binlog, self.mmr, self.tip, self.dirs)
        try:
            unseen = rec.run(flush=self.flush, accept_short_log=self.accept_short_log)
        finally:
            self.tip = rec.tip
        if unseen:
            self.view.forget_names()
            self._on_rows(unseen, None)
        write_head(self.layout, self.tip.seq)
        return rec.notes


def _crash_hook() -> None:
    if next(_commits) == _CRASH_AFTER_COMMIT:
        os._exit(9)  # test hook: die between the commit point and applying it


def _presync(root: str) -> None:
    try:
        fsio.syncfs(root)
    except OSError:
        pass  # a head start only: the flush's own syncfs reports the error


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


__all__ = ["Writer", "Request", "write_head", "os"]
