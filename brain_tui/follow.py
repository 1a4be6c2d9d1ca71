"""How the shell follows the store: the header's state and the audit tail's newest rows.

The watcher only says "HEAD moved" (`HeadMoved`), ~10 times a second while another process
appends. On every move the tail reads the index's newest row and the rows up to it from a
page boundary (one lookup and one page: `workers.load_index_head`), so the audit pane moves
with the rows in hand. The header's full state (a log rescan and memory counts, ~0.1 s of CPU
at 1M rows) is read at most once a second, with one trailing read for the end of a burst.
Both fold bursts into one read at a time and retry a bounded number of times while the index
is a moment behind HEAD: nothing polls when the store is idle.
"""

from __future__ import annotations

import time
from dataclasses import replace
from functools import partial
from typing import Any

from textual.timer import Timer

from brain_tui import messages, workers
from core.models import Row

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


class FollowMixin:
    """Mixed into BrainApp, which provides `store`, the Textual App API and the reactives
    `header_info` and `index_head` (the newest row in the index: the audit tail follows it)."""

    store: Any
    header_info: Any
    index_head: int

    def _init_follow(self) -> None:
        self._state_running = False
        self._state_dirty = False
        self._freeze_running = False
        self._lag_retries = 0
        self._state_started = float("-inf")
        self._state_timer: Timer | None = None
        self._tail_running = False
        self._tail_dirty = False
        self._tail_retries = 0
        self._tail_timer: Timer | None = None
        self._tail_started = float("-inf")
        self.index_tail: list[Row] = []  # the newest rows, from a page boundary to index_head
        self.tail_read = False  # index_head and index_tail have been read at least once

    def request_state(self) -> None:
        """Refresh the header; bursts of HEAD moves fold into one refresh at a time."""
        if self.store is None:
            return
        if self._state_running:
            self._state_dirty = True
            return
        self._state_running = True
        self._state_started = time.monotonic()
        job = partial(workers.load_state, self, self.store)
        self.run_worker(job, thread=True, group="state", exit_on_error=False)

    def on_state_loaded(self, message: messages.StateLoaded) -> None:
        self._state_running = False
        if message.info is not None:
            info, old = message.info, self.header_info
            if old is not None and old.root == info.root and old.head_seq > info.head_seq:
                # The tail moved the header's head while this state was being read.
                info = replace(info, head_seq=old.head_seq, index_seq=old.index_seq)
            self.header_info = info
            if message.info.index_seq > self.index_head:  # e.g. our own write: the tail too
                self.request_tail()
            self.request_embed()  # new rows (ours or another process's) may need vectors
        if self._state_dirty:
            self._state_dirty = False
            self.request_state()
        elif message.lagging:
            self._lag_retries += 1
            if self._lag_retries <= LAG_RETRIES:  # bounded: never a polling loop when idle
                self.set_timer(0.1 * self._lag_retries, self.request_state)
        else:
            self._lag_retries = 0

    def on_head_moved(self, _message: messages.HeadMoved) -> None:
        self.request_tail()
        wait = self._state_started + STATE_EVERY_S - time.monotonic()
        if wait <= 0:
            self.request_state()
        elif self._state_timer is None:  # one trailing refresh picks up the whole burst
            self._state_timer = self.set_timer(wait, self._state_timer_fired)

    def _state_timer_fired(self) -> None:
        self._state_timer = None
        self.request_state()

    def _tail_timer_fired(self) -> None:
        self._tail_timer = None
        self.request_tail()

    def request_tail(self) -> None:
        """Read the index's newest rows for the tail: bursts fold into one read at a time,
        at most TAIL_EVERY_S apart (each read moves the tail: a repaint of the whole list)."""
        if self.store is None:
            return
        if self._tail_running:
            self._tail_dirty = True
            return
        wait = self._tail_started + TAIL_EVERY_S - time.monotonic()
        if wait > 0:
            if self._tail_timer is None:
                self._tail_timer = self.set_timer(wait, self._tail_timer_fired)
            return
        self._tail_running = True
        self._tail_started = time.monotonic()
        job = partial(workers.load_index_head, self, self.store)
        self.run_worker(job, thread=True, group="tail-head", exit_on_error=False)

    def on_index_head_loaded(self, message: messages.IndexHeadLoaded) -> None:
        self._tail_running = False
        self.tail_read = self.tail_read or message.seq is not None
        if message.seq is not None and message.seq > self.index_head:
            self.index_tail = message.tail  # read by the audit pane as index_head moves
            self.index_head = message.seq
            info = self.header_info
            if info is not None and max(message.seq, message.head) > info.head_seq:
                # The header's head moves with the tail; its counts follow within a second.
                head = max(message.seq, message.head)
                self.header_info = replace(info, head_seq=head, index_seq=message.seq)
        if self._tail_dirty:
            self._tail_dirty = False
            self.request_tail()
        elif message.seq is not None and message.seq < message.head:
            self._tail_retries += 1
            # Bounded (never a polling loop when idle), and one timer at a time: while rows
            # keep coming the next HEAD move reads them anyway.
            if self._tail_retries <= TAIL_RETRIES and self._tail_timer is None:
                self._tail_timer = self.set_timer(TAIL_EVERY_S, self._tail_timer_fired)
        else:
            self._tail_retries = 0

    def on_store_changed(self, _message: messages.StoreChanged) -> None:
        self.request_state()

    # -- the recorded verdict ------------------------------------------------------------

    def start_freeze_poll(self) -> None:
        self.set_interval(FREEZE_EVERY_S, self._poll_freeze)

    def _poll_freeze(self) -> None:
        if self.store is None or self._freeze_running or self.header_info is None:
            return
        self._freeze_running = True
        job = partial(workers.check_frozen, self, self.store)
        self.run_worker(job, thread=True, group="freeze", exit_on_error=False)

    def on_freeze_checked(self, message: messages.FreezeChecked) -> None:
        self._freeze_running = False
        info = self.header_info
        if info is None:
            return
        state, problem = message.frozen or ("READY", None)
        if (state, problem) != (info.state, info.problem):
            self.request_state()  # the header shows store.state(), read again in full
