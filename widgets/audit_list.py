"""The audit tail: the virtual list (widgets.virtual_list) over audit pages fetched by key.

An LRU cache of pages, and workers that fetch missing pages in threads. The widget never knows
how big the ledger is beyond a row count, so a million rows open as fast as ten. Unfiltered,
row i is seq i + 1, so `G` asks for the last page alone; filtered, a background scan records
the key each page starts after (widgets.audit_pager).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import partial

from textual import events
from textual.message import Message
from textual.reactive import reactive
from textual.worker import get_current_worker

from core.models import Row
from widgets.audit_format import columns, header_cells, pending_cells, row_cells
from widgets.audit_pager import SCAN_CHUNK, AuditFilter, PageCache, Pager
from widgets.list_keys import list_bindings
from widgets.status import ActivityChanged, WorkFailed
from widgets.virtual_list import Cells, VirtualList

Fetch = Callable[[int, int, AuditFilter], list[Row]]
"""fetch(after_seq, limit, filter) -> rows with seq > after_seq, ascending (runs in a thread)."""


class AuditList(VirtualList):
    BINDINGS = list_bindings("audit", unit="row")
    CURSOR_CLASS = "audit-list--cursor"
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

    follow: reactive[bool] = reactive(True, repaint=False)
    scanning: reactive[bool] = reactive(False, repaint=False)

    @dataclass(eq=False)
    class Highlighted(VirtualList.Highlighted):
        row: Row | None

    @dataclass(eq=False)
    class Opened(VirtualList.Opened):
        row: Row

    @dataclass(eq=False)
    class PageLoaded(Message):
        gen: int
        page: int
        rows: list[Row] | None
        total: int

    @dataclass(eq=False)
    class ScanChunk(Message):
        gen: int
        seqs: list[int]
        done: bool

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
        self._cols = columns(80, 1)

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

    def _total_changed(self, reset: bool = False) -> None:
        self.set_total(self.pager.total, reset=reset)
        if self.follow:
            self.cursor = max(0, self.total - 1)

    def row_at(self, index: int) -> Row | None:
        return self._pages.row(index)

    # -- workers ----------------------------------------------------------------------------

    def request_rows(self, first_row: int, last_row: int) -> None:
        first = self.pager.page_of(first_row)
        last = self.pager.page_of(last_row)
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
        # A prefetched page waits, undrawn, until it scrolls into view.
        first = message.page * self.pager.size
        self.rows_arrived(first, first + len(message.rows) - 1)

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

    def prepare_frame(self, width: int) -> None:
        self._cols = columns(width, max(self.total, self._head))  # once per frame, not line

    def header_cells(self) -> Cells:
        return header_cells(self._cols)

    def row_cells(self, row: Row) -> Cells:
        return row_cells(row, self._cols)

    def pending_cells(self, index: int) -> Cells:
        return pending_cells(None if self.pager.filtered else index + 1, self._cols)

    def strip_key(self, row: Row) -> Hashable:
        return (row.seq, self._cols.seq)

    def row_identity(self, row: Row) -> Hashable:
        return row.seq

    # -- cursor -----------------------------------------------------------------------------

    def watch_follow(self, follow: bool) -> None:
        if follow and self.total:
            self.cursor = self.total - 1
            self.scroll_to_cursor()

    def set_cursor(self, index: int, follow: bool | None = None) -> None:
        super().set_cursor(index)
        if follow is not None:
            self.follow = follow

    def action_move(self, delta: int) -> None:
        self.set_cursor(self.cursor + delta, follow=False if delta < 0 else None)

    def action_page(self, direction: int) -> None:
        step = max(1, self.scrollable_content_region.height - 2)
        self.set_cursor(self.cursor + direction * step, follow=False if direction < 0 else None)

    def action_first(self) -> None:
        self.set_cursor(0, follow=False)

    def action_last(self) -> None:
        # Unfiltered, the last row's page is known from the count alone (row i is seq i + 1):
        # drawing it asks for that one page by key, never for the pages before it.
        self.set_cursor(self.total - 1, follow=True)

    def on_click(self, event: events.Click) -> None:
        if event.y >= 1 and int(self.scroll_offset.y) + event.y - 1 != self.cursor:
            self.follow = False
        super().on_click(event)
