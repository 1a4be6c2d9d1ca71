"""Timestamps of the frames a headless Textual app draws, and what the audit tail had drawn.

Textual calls `App.post_display_hook` right after every frame it hands to the driver (the
headless driver too), so a frame's time is taken there, with no Pilot in between: keys are
posted the way a terminal's input thread posts them (`driver.send_message`) and the clock stops
at the first frame that shows what the key asked for. For the audit tail that is the frame in
which every visible line holds its loaded row (no "…" placeholder) at the new scroll position,
with the cursor line highlighted: the rows a person was waiting for.

Only the bench's child processes use this: it patches `AuditList` methods at class level.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from textual import events
from textual.app import App

from widgets.audit_list import AuditList


def clock() -> float:
    """CLOCK_MONOTONIC: one clock for every process on the machine (the appender's too)."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


class FrameWatch:
    """Resolve waiters at the first frame where their condition holds."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.frames = 0
        self.last = clock()
        self.on_frame: list[Callable[[float], None]] = []
        self._waiters: list[tuple[Callable[[], bool], asyncio.Future[float]]] = []
        app.post_display_hook = self._displayed  # type: ignore[method-assign]

    def _displayed(self) -> None:
        t = clock()
        self.frames += 1
        self.last = t
        for cb in self.on_frame:
            cb(t)
        self._resolve(t)

    def _resolve(self, t: float) -> None:
        keep = []
        for pred, fut in self._waiters:
            if fut.done():
                continue
            if pred():
                fut.set_result(t)
            else:
                keep.append((pred, fut))
        self._waiters = keep

    def check_now(self) -> None:
        """The screen already shows the final state (nothing left to draw): resolve now."""
        self._resolve(clock())

    async def wait(
        self, pred: Callable[[], bool], timeout: float = 10.0, shown: bool = False
    ) -> float:
        """The time of the first frame where pred holds. `shown`: pred reads only what was
        drawn, so if it holds already, the last frame showed it."""
        if shown and pred():
            return self.last
        fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiters.append((pred, fut))
        return await asyncio.wait_for(fut, timeout)

    def press(self, key: str) -> float:
        """Post a key as the terminal driver does; returns when it was posted."""
        char = key if len(key) == 1 else None
        t = clock()
        self.app._driver.send_message(events.Key(key, char))  # type: ignore[union-attr]
        return t


class TailProbe:
    """What the audit tail last drew on each line, kept by patching AuditList (class-wide)."""

    def __init__(self) -> None:
        self.lst: AuditList | None = None
        self.drawn: dict[int, tuple[int, bool, bool]] = {}  # y -> (row index, loaded, cursor)
        self.seqs: dict[int, int] = {}  # y -> seq of the loaded row drawn there
        self.drawn_total = -1
        self.moves = 0  # cursor moves asked for by keys (every key action goes through here)
        probe = self
        render_line, set_cursor = AuditList.render_line, AuditList._set_cursor

        def traced_render_line(lst: AuditList, y: int):
            strip = render_line(lst, y)
            probe.lst = lst
            probe.drawn_total = lst.total
            if y > 0:
                # The top row render_lines noted for this frame (the scroll_offset property
                # costs more than the bookkeeping here should add to a measured frame).
                index = lst._frame_top + y - 1
                row = lst._row(index) if index < lst.total else None
                probe.drawn[y] = (index, row is not None or index >= lst.total, index == lst.cursor)
                if row is not None:
                    probe.seqs[y] = row.seq
                else:
                    probe.seqs.pop(y, None)
            return strip

        def traced_set_cursor(lst: AuditList, index: int, follow: bool | None = None) -> None:
            probe.moves += 1
            set_cursor(lst, index, follow)

        AuditList.render_line = traced_render_line  # type: ignore[method-assign]
        AuditList._set_cursor = traced_set_cursor  # type: ignore[method-assign]

    def complete(self) -> bool:
        """Every visible line shows its loaded row for the current scroll, cursor and count."""
        lst = self.lst
        if lst is None or self.drawn_total != lst.total or not lst.is_mounted:
            return False
        top = int(lst.scroll_offset.y)
        for y in range(1, lst.scrollable_content_region.height):
            index = top + y - 1
            if index >= lst.total:
                break
            if self.drawn.get(y) != (index, True, index == lst.cursor):
                return False
        return True

    def max_seq_shown(self) -> int:
        lst = self.lst
        if lst is None:
            return 0
        rows = lst.scrollable_content_region.height
        return max((s for y, s in self.seqs.items() if y < rows), default=0)
