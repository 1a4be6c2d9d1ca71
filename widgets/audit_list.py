"""The audit tail: a virtual list drawn line by line over pages fetched by key.

Modelled on toolong's log view: a `ScrollView` whose `render_line` draws only what is on screen,
an LRU cache of pages, and workers that fetch missing pages in threads. The widget never knows
how big the ledger is beyond a row count, so a million rows open as fast as ten.

Line 0 of the viewport is the column header; viewport line y >= 1 shows row scroll_y + y - 1,
and the virtual height is rows + 1, so the last row is reachable and the header never scrolls.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import get_current_worker

from core.models import Row
from widgets.audit_format import columns, header_cells, pending_cells, row_cells
from widgets.audit_pager import SCAN_CHUNK, AuditFilter, PageCache, Pager
from widgets.list_keys import list_bindings
from widgets.status import ActivityChanged, WorkFailed

Fetch = Callable[[int, int, AuditFilter], list[Row]]
"""fetch(after_seq, limit, filter) -> rows with seq > after_seq, ascending (runs in a thread)."""


class AuditList(ScrollView, can_focus=True):
    BINDINGS = list_bindings("audit", unit="row")
    COMPONENT_CLASSES = {
        "audit-list--header",
        "audit-list--cursor",
        "audit-list--seq",
        "audit-list--time",
        "audit-list--actor",
        "audit-list--path",
        "audit-list--chain",
        "audit-list--pending",
        "audit-list--op-put",
        "audit-list--op-move",
        "audit-list--op-delete",
        "audit-list--op-alert",
        "audit-list--op-other",
    }

    cursor: reactive[int] = reactive(0, repaint=False)
    follow: reactive[bool] = reactive(True, repaint=False)
    total: reactive[int] = reactive(0, repaint=False)
    scanning: reactive[bool] = reactive(False, repaint=False)

    class PageLoaded(Message):
        def __init__(self, gen: int, page: int, rows: list[Row] | None, total: int) -> None:
            super().__init__()
            self.gen, self.page, self.rows, self.total = gen, page, rows, total

    class ScanChunk(Message):
        def __init__(self, gen: int, seqs: list[int], done: bool) -> None:
            super().__init__()
            self.gen, self.seqs, self.done = gen, seqs, done

    class Opened(Message):
        """Enter (or a click on the cursor row) on a loaded row."""

        def __init__(self, row: Row) -> None:
            super().__init__()
            self.row = row

    def __init__(self, fetch: Fetch, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._fetch = fetch
        self.pager = Pager(AuditFilter())
        self._gen = 0
        self._pages = PageCache(self.pager.size)
        self._pending: set[int] = set()
        self._failed: set[int] = set()
        self._head = 0
        self._rescan = False
        # Drawn rows, keyed by what changes their look; cleared when the theme or CSS does.
        self._strips: LRUCache[tuple[int, int, int, bool], Strip] = LRUCache(1024)
        self._cols = columns(80, 1)
        # Looked up once per frame (render_lines), not once per line or cell: Textual computes
        # each of these afresh on every access, and they were half of a frame's cost.
        self._styles: dict[tuple[str, bool], Style] = {}
        self._frame_top = 0
        self._frame_width = 80
        self._frame_style = Style()

    # -- data -------------------------------------------------------------------------------

    @property
    def filter(self) -> AuditFilter:
        return self.pager.filter

    def set_filter(self, filt: AuditFilter) -> None:
        self._gen += 1
        self.pager = Pager(filt)
        self._pages.clear()
        self._pending.clear()
        self._failed.clear()
        self._rescan = False
        self.scanning = False
        if filt.active:
            self._start_scan()
        else:
            self.pager.set_head(self._head)
        self._total_changed(reset=True)

    def set_head(self, head: int, tail: list[Row] | None = None) -> None:
        """The index holds rows 1..head now (the watcher saw HEAD move). `tail`: the newest
        rows from a page boundary up to head, when the caller read them already: the tail
        then draws in the frame that learns the new end, not one worker round trip later
        (with a frame of "…" placeholders between, many times a second while following)."""
        self._move_head(head)
        if tail:
            self._seed(head, tail)

    def _move_head(self, head: int) -> None:
        if head == self._head:
            return
        grew = head > self._head
        self._head = head
        self._failed.clear()
        if not grew:  # a reindex or a different store: start over
            self.set_filter(self.pager.filter)
            return
        if self.pager.filtered:
            if self.scanning:
                self._rescan = True
            else:
                self._start_scan()
            return
        self.pager.set_head(head)
        self._total_changed()

    def _seed(self, head: int, rows: list[Row]) -> None:
        if not self.pager.filtered and self._pages.seed(head, rows):
            self.refresh()

    def current_row(self) -> Row | None:
        return self._row(self.cursor) if self.total else None

    def _total_changed(self, reset: bool = False) -> None:
        self.total = self.pager.total
        self.virtual_size = Size(self.scrollable_content_region.width, self.total + 1)
        if self.follow:
            self.cursor = max(0, self.total - 1)
        elif reset or self.cursor >= self.total:
            self.cursor = max(0, min(self.cursor, self.total - 1))
        self.refresh()

    def _row(self, index: int) -> Row | None:
        return self._pages.row(index)

    # -- workers ----------------------------------------------------------------------------

    def _request_visible(self) -> None:
        if not self.total:
            return
        top = int(self.scroll_offset.y)
        height = self.scrollable_content_region.height
        first = self.pager.page_of(max(0, top - 1))
        last = self.pager.page_of(min(self.total - 1, top + height))
        waiting = [page for page in range(first, last + 1) if not self._request(page)]
        if waiting:
            return  # what is on screen first: prefetches would compete with it for the GIL
        # Then the neighbours (j/k and page keys cross into them) and both ends (g/G): a key
        # finds its rows already here and draws them in its first frame. Asking for a cached
        # page also keeps it at the front of the LRU, so the ends stay warm.
        end = self.pager.page_of(self.total - 1)
        for page in (first - 1, last + 1, 0, end):
            if 0 <= page <= end:
                self._request(page)

    def _request(self, page: int) -> bool:
        """Fetch the page unless it is here (True) or on its way."""
        hit = self._pages.get(page)
        if hit is not None:
            rows, fetched_total = hit
            full = len(rows) >= min(self.pager.size, self.total - page * self.pager.size)
            if full or fetched_total == self.total:
                return True
            # Fetched while the index lagged, or the tail grew since: fetch again, and draw
            # the rows it has meanwhile (the rest show as placeholders).
        if page in self._pending or page in self._failed:
            return False
        self._pending.add(page)
        # The count asked for goes with the page: a page that comes back short of it (the
        # index a moment behind) is asked for again, however far the count has moved since.
        after = self.pager.page_after(page)
        job = partial(self._load, self._gen, page, after, self.filter, self.total)
        self.run_worker(job, thread=True, group="audit-pages", exit_on_error=False)
        return False

    def _load(self, gen: int, page: int, after: int, filt: AuditFilter, total: int) -> None:
        rows: list[Row] | None = None
        try:
            rows = self._fetch(after, self.pager.size, filt)
        except Exception as e:  # noqa: BLE001 - reported, the row stays a placeholder
            self.post_message(WorkFailed("loading audit rows", e))
        self.post_message(self.PageLoaded(gen, page, rows, total))

    def on_audit_list_page_loaded(self, message: PageLoaded) -> None:
        message.stop()
        if message.gen != self._gen:
            return
        self._pending.discard(message.page)
        if message.rows is None:
            self._failed.add(message.page)
            return
        if not self._pages.put(message.page, message.rows, message.total):
            return  # a slower fetch from before the tail moved
        top = int(self.scroll_offset.y)
        first, last = max(0, top - 1), top + self.scrollable_content_region.height
        if self.pager.page_of(first) <= message.page <= self.pager.page_of(last):
            self.refresh()  # a prefetched page waits, undrawn, until it scrolls into view

    def _start_scan(self) -> None:
        self.scanning = True
        self.post_message(ActivityChanged("audit-scan", "filtering the audit tail…"))
        job = partial(self._scan, self._gen, self.filter, self.pager.last_seq)
        self.run_worker(job, thread=True, group="audit-scan", exclusive=True, exit_on_error=False)

    def _scan(self, gen: int, filt: AuditFilter, after: int) -> None:
        """Walk the matching rows once, by key, shipping only their seqs (the page keys)."""
        worker = get_current_worker()
        try:
            while not worker.is_cancelled:
                rows = self._fetch(after, SCAN_CHUNK, filt)
                done = len(rows) < SCAN_CHUNK
                self.post_message(self.ScanChunk(gen, [r.seq for r in rows], done))
                if done:
                    return
                after = rows[-1].seq
                while self.message_queue_size > 4 and not worker.is_cancelled:
                    time.sleep(0.005)  # let the UI absorb what it has before reading on
        except Exception as e:  # noqa: BLE001 - reported; the view keeps what it found
            self.post_message(WorkFailed("filtering the audit tail", e))
            self.post_message(self.ScanChunk(gen, [], True))

    def on_audit_list_scan_chunk(self, message: ScanChunk) -> None:
        message.stop()
        if message.gen != self._gen:
            return
        old = self.pager.total
        self.pager.absorb(message.seqs)
        if self.pager.total != old:
            self._total_changed()  # a short last page is fetched again as it comes into view
        if message.done:
            self.scanning = False
            self.post_message(ActivityChanged("audit-scan", None))
            if self._rescan:
                self._rescan = False
                self._start_scan()

    # -- drawing ----------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._clear_styles()

    def _clear_styles(self) -> None:
        self._strips.clear()
        self._styles.clear()

    # The cursor's style depends on focus (`AuditList:focus > .audit-list--cursor`).
    on_focus = on_blur = _clear_styles

    def render_lines(self, crop: Region) -> list[Strip]:
        self._request_visible()
        width = self.scrollable_content_region.width
        self._cols = columns(width, max(self.total, self._head))  # once per frame, not line
        self._frame_top = int(self.scroll_offset.y)
        self._frame_width = width
        style = self.rich_style
        if style != self._frame_style:  # e.g. an ancestor's background: cached looks are stale
            self._clear_styles()
            self._frame_style = style
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self._frame_width
        cols = self._cols
        if y == 0:
            return self._strip(header_cells(cols), width, False)
        index = self._frame_top + y - 1
        if index >= self.total:
            return Strip.blank(width, self._frame_style)
        row = self._row(index)
        if row is None:
            cells = pending_cells(None if self.pager.filtered else index + 1, cols)
            return self._strip(cells, width, index == self.cursor)
        key = (row.seq, width, cols.seq, index == self.cursor)
        strip = self._strips.get(key)
        if strip is None:
            strip = self._strip(row_cells(row, cols), width, index == self.cursor)
            self._strips.set(key, strip)
        return strip

    def _style(self, cls: str, cursor: bool) -> Style:
        """The full style of a cell of this class (on the cursor line or not), cached until
        the theme, the CSS or the focus changes."""
        key = (cls, cursor)
        style = self._styles.get(key)
        if style is None:
            style = self._frame_style
            if cls:
                style = style + self.get_component_rich_style(cls, partial=True)
            if cursor:
                style = style + self.get_component_rich_style("audit-list--cursor", partial=True)
            self._styles[key] = style
        return style

    def _strip(self, cells: list[tuple[str, str]], width: int, cursor: bool) -> Strip:
        segments = [Segment(text, self._style(cls, cursor)) for text, cls in cells]
        return Strip(segments).adjust_cell_length(width, self._style("", cursor))

    def on_resize(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, self.total + 1)
        self._scroll_to_cursor()

    def _size_updated(
        self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True
    ) -> bool:
        # The scroll limits are only known once layout has applied a new row count; keeping
        # the cursor in view (the end, when following) has to happen here, not when rows arrive.
        changed = super()._size_updated(size, virtual_size, container_size, layout)
        self._scroll_to_cursor()
        return changed

    # -- cursor -----------------------------------------------------------------------------

    def watch_cursor(self, old: int, new: int) -> None:
        top = self.scroll_offset.y
        self._scroll_to_cursor()
        if self.scroll_offset.y == top:
            # Only the two cursor lines change (a scroll repaints everything by itself): a
            # whole repaint per j/k was most of a key's time on a busy machine.
            self.refresh_lines(old + 1)  # row i is virtual line i + 1 (line 0: the header)
            self.refresh_lines(new + 1)

    def watch_follow(self, follow: bool) -> None:
        if follow and self.total:
            self.cursor = self.total - 1
            self._scroll_to_cursor()

    def _scroll_to_cursor(self) -> None:
        rows_visible = max(1, self.scrollable_content_region.height - 1)
        top = int(self.scroll_offset.y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor > top + rows_visible - 1:
            self.scroll_to(y=self.cursor - rows_visible + 1, animate=False, immediate=True)

    def _set_cursor(self, index: int, follow: bool | None = None) -> None:
        self.cursor = max(0, min(index, self.total - 1))
        if follow is not None:
            self.follow = follow

    def action_move(self, delta: int) -> None:
        self._set_cursor(self.cursor + delta, follow=False if delta < 0 else None)

    def action_page(self, direction: int) -> None:
        step = max(1, self.scrollable_content_region.height - 2)
        self._set_cursor(self.cursor + direction * step, follow=False if direction < 0 else None)

    def action_first(self) -> None:
        self._set_cursor(0, follow=False)

    def action_last(self) -> None:
        self._set_cursor(self.total - 1, follow=True)

    def action_open(self) -> None:
        row = self.current_row()
        if row is not None:
            self.post_message(self.Opened(row))

    def on_click(self, event: events.Click) -> None:
        if event.y < 1:
            return
        index = int(self.scroll_offset.y) + event.y - 1
        if index >= self.total:
            return
        if index == self.cursor:
            self.action_open()
        else:
            self._set_cursor(index, follow=False)
