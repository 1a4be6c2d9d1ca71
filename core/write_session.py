"""A Store's write session: it starts and owns the process's Writer, hands what the writer
made durable to the index follower, finishes purges at every acquisition, and records the rows
a caller caused as that caller's (acknowledged: its reads wait for them).

`submit` commits intents; `run` runs a task on the commit loop with the lock held (checkpoints,
rotations, exports, imports, consolidation, repairs). Both record the rows as acknowledged.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from core.errors import PreconditionFailed
from core.index.follower import Follower, known_of
from core.layout import Layout
from core.log.tip import Tip
from core.models import Manifest, Row
from core.write import purge_list

if TYPE_CHECKING:
    # The write path and the signing keys (cryptography) are imported when a write starts: a
    # read-only command never loads them.
    from core.verifiable import Checkpointer
    from core.verify.mmr import MMR
    from core.write.intents import Intent
    from core.write.planner import Plan, Result
    from core.write.writer import Prepare, Writer

T = TypeVar("T")


class WriteSession:
    def __init__(
        self,
        layout: Layout,
        manifest: Manifest,
        follower: Follower,
        checkpointer: Callable[[], Checkpointer],
        *,
        clock: Callable[[], int],
        rng: Callable[[int], bytes],
        program: str,
        lock_timeout_s: float,
        service: bool,
        tip: Callable[[], Tip],
        guard: Callable[[], None],
        on_rows: Callable[[list[Row], Writer], None],
        on_purged: Callable[[list[str]], None],
    ) -> None:
        self.layout = layout
        self.manifest = manifest
        self.follower = follower
        self._make_checkpointer = checkpointer
        self._checkpointer: Checkpointer | None = None
        self.clock = clock
        self.rng = rng
        self.program = program
        self.lock_timeout_s = lock_timeout_s
        self.service = service  # a long-running host: time-based checkpoints
        self._tip = tip  # the store's tip: where a new writer starts
        self._guard = guard  # raises when writes are refused (frozen, read-only)
        self._on_rows = on_rows
        self._on_purged = on_purged
        self._writer: Writer | None = None
        self._start_lock = threading.Lock()  # two first writes on two threads: one writer
        self._purge_notes: dict[int, list[str]] = {}

    # -- the writer ---------------------------------------------------------------------

    @property
    def checkpointer(self) -> Checkpointer:
        """Signs tree heads for our writer (made on first use: it loads the keys)."""
        if self._checkpointer is None:
            self._checkpointer = self._make_checkpointer()
        return self._checkpointer

    @property
    def writer(self) -> Writer | None:
        """The running writer, if a write has started one."""
        return self._writer

    def start(self) -> Writer:
        """Start the writer (and the index's applier thread) unless running; no checks."""
        with self._start_lock:
            if self._writer is None:
                self._writer = self._new_writer()
            return self._writer

    def checked(self) -> Writer:
        """The writer, after the store's refusal checks (frozen, read-only)."""
        self._guard()
        return self.start()

    def _new_writer(self) -> Writer:
        from core.write.lock import refuse_network_fs
        from core.write.writer import Writer

        refuse_network_fs(self.layout.root)
        self.follower.start_thread()
        rng = self.rng
        if rng is os.urandom:
            from core.write import entropy

            rng = entropy.urandom  # the same bytes, read ahead (see core/write/entropy.py)
        w = Writer(
            self.layout,
            self._tip(),
            clock=self.clock,
            rng=rng,
            program=self.program,
            lock_timeout_s=self.lock_timeout_s,
            on_rows=self._hand_off,
            on_acquire=self._on_acquire,
            after_group=self._after_group,
        )
        settings = self.manifest.settings
        w.checkpoint_every_rows = settings.checkpoint_every_rows
        if self.service:
            w.checkpoint_every_s = settings.checkpoint_every_ms / 1000

        def checkpoint() -> None:
            self.checkpointer.sign(w)

        w.checkpoint_hook = checkpoint
        self.follower.watch(w.busy)
        return w

    def restart_for_repair(self) -> Writer:
        """The writer `brain doctor --repair` writes with while a verdict stands. A writer
        that froze itself only thaws by starting afresh (and replaying)."""
        w = self._writer
        if w is not None and w.frozen:
            w.close()
            self._writer = None
        w = self.start()
        w.allow_frozen = True
        return w

    def end_repair(self) -> None:
        if self._writer is not None:
            self._writer.allow_frozen = False

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    # -- the one way callers write ------------------------------------------------------

    def submit(
        self, intents: Sequence[Intent], actor: str, prepare: Prepare | None = None
    ) -> list[Result]:
        """Commit intents (or those `prepare` builds on the writer's thread) as one request;
        their rows are the caller's."""
        w = self.checked()
        try:
            results = w.submit(intents, actor, prepare)
        except PreconditionFailed:
            # The rejection is itself a durable row (put_if.rejected): a history or tail that
            # follows must wait for the index to hold it, as for any row this caller caused.
            self.follower.ack(w.tip.seq)
            raise
        if results:
            self.follower.ack(max(r.seq for r in results))
        return results

    def run(self, task: Callable[[Writer], T], *, checked: bool = True) -> T:
        """Run task(writer) on the commit loop with the lock held; every row it wrote is
        recorded as the caller's (reads that follow wait for the index to hold them)."""
        w = self.checked() if checked else self.start()
        value = w.run_locked(lambda: task(w))
        self.follower.ack(w.tip.seq)
        return value  # type: ignore[return-value]

    def take_purge_notes(self, seq: int) -> list[str]:
        """What the caller of the purge at seq must be told (Result.notes)."""
        return self._purge_notes.pop(seq, [])

    # -- what the store asks about its writer -------------------------------------------

    @property
    def held(self) -> bool:
        """Our writer holds the lock (nobody else can append)."""
        return self._writer is not None and self._writer.lock.held

    @property
    def frozen(self) -> str | None:
        return self._writer.frozen if self._writer is not None else None

    @property
    def allow_frozen(self) -> bool:
        return self._writer is not None and self._writer.allow_frozen

    @property
    def checkpoint_error(self) -> str | None:
        return self._writer.checkpoint_error if self._writer is not None else None

    def writer_mmr(self) -> MMR | None:
        return self._writer.mmr if self._writer is not None else None

    def locked_mmr(self) -> MMR | None:
        """The writer's node file while it holds the lock, else None."""
        w = self._writer
        return w.mmr if w is not None and w.mmr is not None and w.lock.held else None

    def take_notes(self) -> list[str]:
        """What recovery repaired (reported as info), once."""
        if self._writer is None:
            return []
        notes = list(self._writer.notes)
        self._writer.notes.clear()
        return notes

    def notes(self) -> list[str]:
        return list(self._writer.notes) if self._writer is not None else []

    # -- the writer's callbacks (on the commit loop) ------------------------------------

    def _hand_off(self, rows: list[Row], plan: Plan | None) -> None:
        w = self._writer
        assert w is not None
        self._on_rows(rows, w)
        self.follower.hand_off(rows, w.tip.offset, known_of(plan.writes) if plan else None)

    def _after_group(self, rows: list[Row], plan: Plan) -> None:
        if plan.purges:
            news = self._finish_purges()
            for s in plan.purges:  # handed to the caller of delete() (Result.notes)
                self._purge_notes[s] = news

    def _on_acquire(self) -> None:
        self._finish_purges()

    def _finish_purges(self) -> list[str]:
        if not purge_list.read(self.layout.purge_pending).seqs:
            return []
        w = self._writer
        assert w is not None
        self.follower.feed(w.tip.seq)
        from core.purge import finish_purges

        news = finish_purges(self.layout, self.follower, w)
        self._on_purged(news)
        return news
