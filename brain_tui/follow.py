"""How the shell follows the store: the header's state and the audit tail's newest rows.

`Follow` is a part of the App (composed, not mixed in): it owns the HEAD watcher
(brain_tui.watcher, the one `brain tail -f` uses too) and folds what it says into reads.
The watcher only says "HEAD moved" (`HeadMoved`), ~10 times a second while another process
appends. On every move the tail reads the index's newest row and the rows up to it from a
page boundary (one lookup and one page: `workers.load_index_head`), so the audit pane moves
with the rows in hand. The header's full state (a log rescan and memory counts, ~0.1 s of CPU
at 1M rows) is read at most once a second, with one trailing read for the end of a burst.
Both fold bursts into one read at a time and retry a bounded number of times while the index
is a moment behind HEAD: nothing polls when the store is idle.

One own write is one state read and one tail read: the pane posts `StoreChanged` as the write
returns (the header must not wait for the watcher); the HEAD move that write caused reaches
the watcher a moment later and reads the tail, which finds HEAD where the state read already
saw it, so the state is not read again. The state is read after a HEAD move only when the
tail saw a HEAD newer than the last state read did (another process wrote).
"""

from __future__ import annotations

import time
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

from textual.timer import Timer

from brain_tui import messages, workers
from brain_tui.watcher import HeadWatcher

if TYPE_CHECKING:
    from brain_tui.app import BrainApp

LAG_RETRIES = 20  # ~20 s in all, backing off: how long we wait for another writer's index
# While another process appends, HEAD moves ~10 times a second (the watcher's debounce). The
# tail follows the index's newest row on every move (one lookup); the header's full state
# (a log rescan and memory counts, ~0.1 s of CPU at 1M rows) at most once a second.
STATE_EVERY_S = 1.0
TAIL_EVERY_S = 0.1  # ten tail moves a second at most: smooth, and a frame's work each
TAIL_RETRIES = 20  # 2 s in all: HEAD is published a moment before the writer's index has it
# Another process may freeze the store (`brain doctor` records a verdict) without moving HEAD:
# the header asks the engine this often whether writes are refused (a small file read).
FREEZE_EVERY_S = 2.0


class Follow:
    def __init__(self, app: BrainApp) -> None:
        self.app = app
        self.watcher: HeadWatcher | None = None
        self.state_reads = 0  # state reads started (a test counts them per own write)
        self._state_running = False
        self._state_dirty = False
        self._freeze_running = False
        self._door_text: str | None = None
        self._lag_retries = 0
        self._state_started = float("-inf")
        self._state_timer: Timer | None = None
        self._state_head = -1  # HEAD's seq as the last state read saw it
        self._seen_head = -1  # HEAD's seq as the newest tail read saw it
        self._tail_running = False
        self._tail_dirty = False
        self._tail_retries = 0
        self._tail_timer: Timer | None = None
        self._tail_started = float("-inf")

    # -- the watcher ---------------------------------------------------------------------

    def start_watcher(self) -> None:
        app = self.app
        assert app.store is not None

        def moved() -> None:
            app.post_message(messages.HeadMoved())

        def failed(error: BaseException) -> None:
            app.post_message(messages.WatchFailed(error))

        self.watcher = HeadWatcher(app.store.root, on_change=moved, on_error=failed)
        self.watcher.start()

    def stop_watcher(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None

    # -- the header's state --------------------------------------------------------------

    def request_state(self) -> None:
        """Refresh the header; bursts of HEAD moves fold into one refresh at a time."""
        app = self.app
        if app.store is None:
            return
        if self._state_running:
            self._state_dirty = True
            return
        self._state_running = True
        self._state_started = time.monotonic()
        self.state_reads += 1
        job = partial(workers.load_state, app, app.store)
        app.run_worker(job, thread=True, group="state", exit_on_error=False)

    def state_loaded(self, message: messages.StateLoaded) -> None:
        app = self.app
        self._state_running = False
        if message.info is not None:
            info, old = message.info, app.header_info
            if old is not None and old.root == info.root and old.head_seq > info.head_seq:
                # The tail moved the header's head while this state was being read.
                info = replace(info, head_seq=old.head_seq, index_seq=old.index_seq)
            app.header_info = info
            self._state_head = max(self._state_head, message.info.head_seq)
            if message.info.index_seq > app.index_head and self.watcher is None:
                # Rows the tail lacks (our own write), and no watcher to say HEAD moved: read
                # them from here. With a watcher, its HEAD move reads them (once).
                self.request_tail()
            app.background.request_embed()  # new rows (ours or another's) may need vectors
        if self._state_dirty:
            self._state_dirty = False
            self.request_state()
        elif message.lagging:
            self._lag_retries += 1
            if self._lag_retries <= LAG_RETRIES:  # bounded: never a polling loop when idle
                app.set_timer(0.1 * self._lag_retries, self.request_state)
        else:
            self._lag_retries = 0
            if self._seen_head > self._state_head:  # the tail saw a newer HEAD meanwhile
                self._state_soon()

    def head_moved(self) -> None:
        """HEAD moved: read the tail; the tail says whether the state needs a read too."""
        self.request_tail()

    def _head_seen(self, head: int) -> None:
        self._seen_head = max(self._seen_head, head)
        if not self._state_running and self._seen_head > self._state_head:
            self._state_soon()

    def _state_soon(self) -> None:
        """Read the state now, or once at the end of this second (a burst of HEAD moves)."""
        wait = self._state_started + STATE_EVERY_S - time.monotonic()
        if wait <= 0:
            self.request_state()
        elif self._state_timer is None:  # one trailing refresh picks up the whole burst
            self._state_timer = self.app.set_timer(wait, self._state_timer_fired)

    def store_changed(self) -> None:
        """A pane changed the store: read the state now. If that read is running or just
        ran, the trailing timer of a HEAD burst or the dirty flag picks the change up."""
        if self._state_timer is not None:
            self._state_timer.stop()  # this read covers what the trailing one would read
            self._state_timer = None
        self.request_state()

    def _state_timer_fired(self) -> None:
        self._state_timer = None
        self.request_state()

    # -- the audit tail's newest rows ----------------------------------------------------

    def _tail_timer_fired(self) -> None:
        self._tail_timer = None
        self.request_tail()

    def request_tail(self) -> None:
        """Read the index's newest rows for the tail: bursts fold into one read at a time,
        at most TAIL_EVERY_S apart (each read moves the tail: a repaint of the whole list)."""
        app = self.app
        if app.store is None:
            return
        if self._tail_running:
            self._tail_dirty = True
            return
        wait = self._tail_started + TAIL_EVERY_S - time.monotonic()
        if wait > 0:
            if self._tail_timer is None:
                self._tail_timer = app.set_timer(wait, self._tail_timer_fired)
            return
        self._tail_running = True
        self._tail_started = time.monotonic()
        job = partial(workers.load_index_head, app, app.store)
        app.run_worker(job, thread=True, group="tail-head", exit_on_error=False)

    def index_head_loaded(self, message: messages.IndexHeadLoaded) -> None:
        app = self.app
        self._tail_running = False
        app.tail_read = app.tail_read or message.seq is not None
        self._head_seen(message.head)
        if message.seq is not None and message.seq > app.index_head:
            app.index_tail = message.tail  # read by the audit pane as index_head moves
            app.index_head = message.seq
            info = app.header_info
            if info is not None and max(message.seq, message.head) > info.head_seq:
                # The header's head moves with the tail; its counts follow within a second.
                head = max(message.seq, message.head)
                app.header_info = replace(info, head_seq=head, index_seq=message.seq)
        if self._tail_dirty:
            self._tail_dirty = False
            self.request_tail()
        elif message.seq is not None and message.seq < message.head:
            self._tail_retries += 1
            # Bounded (never a polling loop when idle), and one timer at a time: while rows
            # keep coming the next HEAD move reads them anyway.
            if self._tail_retries <= TAIL_RETRIES and self._tail_timer is None:
                self._tail_timer = app.set_timer(TAIL_EVERY_S, self._tail_timer_fired)
        else:
            self._tail_retries = 0

    # -- the recorded verdict ------------------------------------------------------------

    def start_freeze_poll(self) -> None:
        self.app.set_interval(FREEZE_EVERY_S, self._poll)

    def _poll(self) -> None:
        self._poll_freeze()
        self._show_door()

    def _show_door(self) -> None:
        """The status line says when this workstation writes other processes' puts (`brain
        put` through its door, core/door.py), and how many; nothing while another serves."""
        store = self.app.store
        served = store.door_served() if store is not None else None
        text = short = None
        if served is not None:
            text = f"door: {served} put{'s' if served != 1 else ''}" if served else "door open"
            short = f"door {served}" if served else "door"
        if text != self._door_text:
            self._door_text = text
            self.app.post_message(messages.ActivityChanged("door", text, short))

    def _poll_freeze(self) -> None:
        app = self.app
        if app.store is None or self._freeze_running or app.header_info is None:
            return
        self._freeze_running = True
        job = partial(workers.check_frozen, app, app.store)
        app.run_worker(job, thread=True, group="freeze", exit_on_error=False)

    def freeze_checked(self, message: messages.FreezeChecked) -> None:
        self._freeze_running = False
        info = self.app.header_info
        if info is None:
            return
        state, problem = message.frozen or ("READY", None)
        if (state, problem) != (info.state, info.problem):
            self.request_state()  # the header shows store.state(), read again in full
