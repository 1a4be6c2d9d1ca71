"""The sync orchestrator: a pass every mode interval, retries with backoff (docs/sync.md,
"Modes"). `brain capture-daemon` and the TUI run it in a thread; one per store, whichever
program runs it (an flock on local/sync.lock: the kernel drops it when the holder dies).

A failed pass is retried after 2 s, doubling per failure, capped at the mode's interval, with
±20 % jitter (so a fleet of devices that lost the hub together does not come back in step);
the next try time is recorded for `brain sync status`. Each loop writes a heartbeat to the
queue, which the doctor invariant `sync.orchestrator` reads. Clock, wall clock and RNG are
injectable: `step(now)` is one deterministic turn of the loop, for tests.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from core.errors import BrainError
from core.sync import config
from core.write import lock as write_lock

if TYPE_CHECKING:
    from core.layout import Layout
    from core.store import Store
    from core.sync.api import SyncReport

LOCK = "sync.lock"  # under local/
FIRST_RETRY_S = 2.0
JITTER = 0.2
BEAT_S = 30.0  # the longest the loop sleeps: the heartbeat is never older than this (+ a pass)
IDLE_S = 10.0  # manual mode or not joined: how often the config is re-read


class SyncBusy(BrainError):
    """Another orchestrator already runs for this store."""


def lock_path(layout: Layout):
    return layout.root / "local" / LOCK


def is_running(layout: Layout) -> bool:
    return write_lock.is_locked(lock_path(layout))


def backoff(failures: int, interval: float, rng: Callable[[], float] = random.random) -> float:
    """Seconds to wait after `failures` (≥ 1) failed passes in a row."""
    base = min(FIRST_RETRY_S * 2 ** min(failures - 1, 30), interval)
    return base * (1 - JITTER + 2 * JITTER * rng())


class SyncLock(write_lock.ProgramLock):
    def __init__(self, layout: Layout, program: str) -> None:
        self.layout = layout
        super().__init__(
            lock_path(layout),
            program,
            lambda who: SyncBusy(
                f"a sync orchestrator already runs for the store at {layout.root}"
                f" ({who}); one per store: the TUI or `brain capture-daemon`, not both"
            ),
        )


class Orchestrator:
    def __init__(
        self,
        store: Store,
        *,
        program: str = "brain",
        clock: Callable[[], float] = time.monotonic,
        wall_ns: Callable[[], int] = time.time_ns,
        rng: Callable[[], float] = random.random,
        on_pass: Callable[[SyncReport], None] | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.wall_ns = wall_ns
        self.rng = rng
        self.on_pass = on_pass
        self.lock = SyncLock(store.layout, program)
        self.stop_event = threading.Event()
        self.wake = threading.Event()  # "sync now"
        self.failures = 0
        self.due: float | None = None  # monotonic time of the next pass (None: now)
        self.asked = False  # "sync now" (the only way a pass runs in manual mode)
        self.problem = ""  # why the last turn could not even start a pass
        self.last_ok: float | None = None  # monotonic time of the last good pass
        self._thread: threading.Thread | None = None

    # -- running --------------------------------------------------------------------------

    def start(self) -> threading.Thread:
        """In a thread; the lock is taken here, in the caller's thread (SyncBusy raises)."""
        self.lock.acquire()
        t = threading.Thread(target=self._serve_locked, name="brain-sync", daemon=True)
        self._thread = t
        t.start()
        return t

    def run(self) -> None:
        """In the foreground until stop()."""
        self.lock.acquire()
        self._serve_locked()

    def stop(self, timeout: float | None = 10.0) -> None:
        self.stop_event.set()
        self.wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def sync_now(self) -> None:
        self.asked = True
        self.wake.set()

    def _serve_locked(self) -> None:
        try:
            while not self.stop_event.is_set():
                try:
                    wait = self.step(self.clock())
                except Exception as e:  # noqa: BLE001 - a damaged config or queue: try later
                    self.problem = f"{type(e).__name__}: {e}"
                    wait = IDLE_S
                self.wake.wait(wait)
                self.wake.clear()
        finally:
            self.lock.release()

    # -- one turn ----------------------------------------------------------------------------

    def step(self, now: float) -> float:
        """Beat, run a pass when one is due, and return the seconds to sleep."""
        api = self.store.sync
        cfg = api.config()
        if cfg is None:
            return IDLE_S
        api.queue.set(heartbeat_ns=self.wall_ns(), heartbeat_pid=os.getpid())
        interval = config.interval_s(cfg.mode)
        asked, self.asked = self.asked, False
        if interval is None and not asked:
            return IDLE_S  # manual: only "sync now" runs a pass
        if interval is not None and self.failures == 0 and self.last_ok is not None:
            self.due = self.last_ok + interval  # follows a mode changed since the last pass
        if not asked and self.due is not None and now < self.due:
            return min(self.due - now, BEAT_S)
        try:
            report = api.run()
            error, retry_after = "; ".join(report.errors), report.retry_after_s
        except Exception as e:  # noqa: BLE001 - the thread must outlive any failed pass
            report, error, retry_after = None, str(e) or type(e).__name__, 0.0
        span = float(interval or config.MODES[config.DEFAULT_MODE] or 300)
        if not error:
            self.failures = 0
            self.last_ok = now
            delay = span
        else:
            self.failures += 1
            delay = max(backoff(self.failures, span, self.rng), retry_after)
            # Written before on_pass: the pane's reload on that pass must see the retry time.
            api.queue.set(last_error=error, next_retry_ns=self.wall_ns() + int(delay * 1e9))
        self.due = now + delay
        if self.on_pass is not None and report is not None:
            self.on_pass(report)
        return IDLE_S if interval is None else min(delay, BEAT_S)


__all__ = ["Orchestrator", "SyncBusy", "SyncLock", "backoff", "is_running", "lock_path"]
