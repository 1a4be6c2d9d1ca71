"""The memory browser's list: a virtual list that pages by key as it scrolls.

Rows come from a `fetch(after_path, limit)` callable run in thread workers (the screen binds it to
`queries.memory_page` with the tree's filter). Only what is scrolled to is ever fetched: the list
grows a page at a time when the cursor or the viewport nears the end of what is loaded, and
`render_line` draws only the visible lines. Search results replace the rows with a fixed list.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from functools import partial

from rich.segment import Segment
from textual import events
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import get_current_worker

from core.read_types import MemoryRow
from widgets.list_keys import list_bindings
from widgets.memory_format import columns, header_cells, row_cells
from widgets.status import WorkFailed

Fetch = Callable[[str, int], list[MemoryRow]]
PAGE = 200
PREFETCH = 50  # rows from the end of what is loaded at which the next page is fetched


class MemoryList(ScrollView, can_focus=True):
    BINDINGS = list_bindings("memories", "journals an access")
    COMPONENT_CLASSES = {
        "memory-list--header",
        "memory-list--cursor",
        "memory-list--title",
        "memory-list--dim",
        "memory-list--sync",
        "memory-list--time",
        "memory-list--tier-hot",
        "memory-list--tier-warm",
        "memory-list--tier-cold",
        "memory-list--state-active",
        "memory-list--state-tombstoned",
        "memory-list--state-purged",
        "memory-list--pending",
    }

    cursor: reactive[int] = reactive(0, repaint=False)

    class Highlighted(Message):
        """The cursor rests on a row (or on none: row is None)."""

        def __init__(self, row: MemoryRow | None) -> None:
            super().__init__()
            self.row = row

    class Opened(Message):
        def __init__(self, row: MemoryRow) -> None:
            super().__init__()
            self.row = row

    class PageLoaded(Message):
        def __init__(self, gen: int, after: str, rows: list[MemoryRow] | None, more: bool) -> None:
            super().__init__()
            self.gen, self.after, self.rows, self.more = gen, after, rows, more

    def __init__(self, *, now: Callable[[], int], id: str | None = None) -> None:
        super().__init__(id=id)
        self._now = now
        self._fetch: Fetch | None = None
        self.rows: list[MemoryRow] = []
        self.more = False
        self.fetching = False
        self._gen = 0
        self._want: str | None = None  # a path to put the cursor on once it is loaded
        self._want_end = False
        self._last_highlight: str | None = None

    # -- sources ------------------------------------------------------------------------------

    def set_source(self, fetch: Fetch, *, select: str | None = None) -> None:
        """Page rows from fetch, starting over; `select` puts the cursor on that path."""
        self._gen += 1
        self._fetch = fetch
        self.rows, self.more, self.fetching = [], True, False
        self._want, self._want_end = select, False
        self._last_highlight = None
        self.cursor = 0
        self._changed()
        self._load_more()

    def set_rows(self, rows: list[MemoryRow]) -> None:
        """A fixed list (search results): no paging."""
        self._gen += 1
        self._fetch = None
        self.rows, self.more, self.fetching = list(rows), False, False
        self._want = None
        self._last_highlight = None
        self.cursor = 0
        self._changed()
        self._announce()

    def reload_from(self, path: str, select: str | None = None) -> None:
        """Re-fetch from `path` on (after a write there), keeping the rows before it."""
        if self._fetch is None:
            return
        keys = [r.path for r in self.rows]
        i = bisect.bisect_left(keys, path)
        self._gen += 1
        self._last_highlight = None  # the row under the cursor may have changed: re-announce
        keep = max(PAGE, len(self.rows) - i + 1)
        self.rows = self.rows[:i]
        self.more, self.fetching = True, False
        self._want = select
        self._changed()
        self._load_more(limit=keep)

    def current(self) -> MemoryRow | None:
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    # -- paging (thread workers) ------------------------------------------------------------

    def _load_more(self, limit: int | None = None) -> None:
        if self._fetch is None or not self.more or self.fetching:
            return
        limit = limit or PAGE
        self.fetching = True
        after = self.rows[-1].path if self.rows else ""
        job = partial(self._load, self._gen, self._fetch, after, limit)
        self.run_worker(job, thread=True, group="memory-pages", exit_on_error=False)

    def _load(self, gen: int, fetch: Fetch, after: str, limit: int) -> None:
        rows: list[MemoryRow] | None = None
        try:
            if not get_current_worker().is_cancelled:
                rows = fetch(after, limit)
        except Exception as e:  # noqa: BLE001 - reported; the list keeps what it has
            self.post_message(WorkFailed("loading memories", e))
        self.post_message(
            self.PageLoaded(gen, after, rows, rows is not None and len(rows) >= limit)
        )

    def on_memory_list_page_loaded(self, message: PageLoaded) -> None:
        message.stop()
        if message.gen != self._gen:
            return
        self.fetching = False
        if message.rows is None:
            self.more = False
        else:
            self.rows.extend(message.rows)
            self.more = message.more
        self._changed()
        self._settle()

    def _settle(self) -> None:
        """After a page: honour a pending select or `G`, else prefetch if near the end."""
        if self._want is not None:
            keys = [r.path for r in self.rows]
            i = bisect.bisect_left(keys, self._want)
            if i < len(keys) and keys[i] == self._want:
                self._want = None
                self.cursor = i
            elif not self.more or (keys and keys[-1] > self._want):
                self._want = None  # gone (purged, say): stay where the list has it
                self.cursor = min(i, max(0, len(keys) - 1))
            else:
                self._load_more()
                return
        if self._want_end:
            if self.more:
                self._load_more(limit=PAGE * 5)
                return
            self._want_end = False
            self.cursor = max(0, len(self.rows) - 1)
        self._maybe_prefetch()
        self._announce()

    def _maybe_prefetch(self) -> None:
        bottom = max(self.cursor, int(self.scroll_offset.y) + self.size.height)
        if self.more and bottom + PREFETCH >= len(self.rows):
            self._load_more()

    # -- drawing ------------------------------------------------------------------------------

    def _changed(self) -> None:
        extra = 1 if self.more else 0
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.rows) + 1 + extra)
        if self.cursor >= len(self.rows):
            self.cursor = max(0, len(self.rows) - 1)
        self.refresh()

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        cols = columns(width)
        if y == 0:
            return self._strip(header_cells(cols), width, False)
        index = int(self.scroll_offset.y) + y - 1
        if index < len(self.rows):
            cells = row_cells(self.rows[index], cols, self._now())
            return self._strip(cells, width, index == self.cursor)
        if index == len(self.rows) and (self.more or self.fetching):
            return self._strip([("  loading…", "memory-list--pending")], width, False)
        if index == 0 and not self.rows:
            return self._strip([("  no memories here", "memory-list--pending")], width, False)
        return Strip.blank(width, self.rich_style)

    def _strip(self, cells: list[tuple[str, str]], width: int, cursor: bool) -> Strip:
        base = self.rich_style
        style_of = self.get_component_rich_style
        extra = style_of("memory-list--cursor", partial=True) if cursor else None
        segments = []
        for text, cls in cells:
            style = base + style_of(cls, partial=True) if cls else base
            segments.append(Segment(text, style + extra if extra else style))
        fill = base + extra if extra else base
        return Strip(segments).adjust_cell_length(width, fill)

    def on_resize(self) -> None:
        self._changed()
        self._scroll_to_cursor()

    # -- cursor -------------------------------------------------------------------------------

    def watch_cursor(self) -> None:
        self._scroll_to_cursor()
        self.refresh()
        if self._want is None and not self._want_end:
            self._maybe_prefetch()
            self._announce()

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._maybe_prefetch()

    def _announce(self) -> None:
        row = self.current()
        key = row.path if row is not None else None
        if key != self._last_highlight or row is None:
            self._last_highlight = key
            self.post_message(self.Highlighted(row))

    def _scroll_to_cursor(self) -> None:
        visible = max(1, self.scrollable_content_region.height - 1)
        top = int(self.scroll_offset.y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor > top + visible - 1:
            self.scroll_to(y=self.cursor - visible + 1, animate=False, immediate=True)

    def _set_cursor(self, index: int) -> None:
        self.cursor = max(0, min(index, len(self.rows) - 1))

    def action_move(self, delta: int) -> None:
        self._set_cursor(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self._set_cursor(
            self.cursor + direction * max(1, self.scrollable_content_region.height - 2)
        )

    def action_first(self) -> None:
        self._set_cursor(0)

    def action_last(self) -> None:
        if self.more:
            self._want_end = True
            self._load_more(limit=PAGE * 5)
        else:
            self._set_cursor(len(self.rows) - 1)

    def action_open(self) -> None:
        row = self.current()
        if row is not None:
            self.post_message(self.Opened(row))

    def on_click(self, event: events.Click) -> None:
        if event.y < 1:
            return
        index = int(self.scroll_offset.y) + event.y - 1
        if index >= len(self.rows):
            return
        if index == self.cursor:
            self.action_open()
        else:
            self._set_cursor(index)
