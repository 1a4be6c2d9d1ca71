"""Pane 5's list: pending proposals (oldest first), decided ones, or lessons; on the shared
virtual list, read a page at a time by key (never OFFSET, never the whole set).

A view says how to count its rows and read a page after a row's key (`Source`): proposals page
by seq (`store.proposals.page`), lessons by path (`store.memory_page`). The rows read so far
are a prefix of the listing: the first read is a screenful, and drawing near its end asks for
the next page in a thread worker. With the index's status column and maintained counts
(kept by the index) the pane opens on 10k pending proposals as fast as on 10.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.message import Message
from textual.worker import get_current_worker

from core import tags
from core.models import CATEGORIES
from widgets.list_keys import list_bindings
from widgets.status import WorkFailed
from widgets.virtual_list import Cells, VirtualList

if TYPE_CHECKING:
    from core.read_types import MemoryRow
    from core.store import Store

PAGE = 200
PREFETCH = 50
# A listing's first read: what the list can show (styles/proposals.tcss caps it at 14 lines:
# a border, the header and 12 rows) and the cursor's next row. The pane draws it at once;
# the prefetch then reads a PAGE behind it in the worker. So opening reads about as many rows
# on 10k pending as on 10 (a taller list is still filled: drawing past the rows asks for more).
FIRST_PAGE = 13


@dataclass(frozen=True)
class Source:
    """One view of the list: its name, how to count it and read a page after a row."""

    view: str  # "pending" | "decided" | "lessons"
    count: Callable[[Store], int]
    page: Callable[[Store, MemoryRow | None, int], list[MemoryRow]]


def _proposals(status: str) -> Source:
    return Source(
        status,
        lambda s: s.proposals.count(status),
        lambda s, last, n: s.proposals.page(status, last.seq if last else 0, n),
    )


_LESSONS = "refinements/lessons"
SOURCES = {
    "pending": _proposals("pending"),
    "decided": _proposals("decided"),
    "lessons": Source(
        "lessons",
        lambda s: s.memory_count(kind="refinements", folder_prefix=_LESSONS, state="active"),
        lambda s, last, n: s.memory_page(
            last.path if last else "",
            n,
            kind="refinements",
            folder_prefix=_LESSONS,
            state="active",
        ),
    ),
}


def status_of(row: MemoryRow) -> str:
    return tags.status_of(row.tags) or ""


def age(ns: int, now_ns: int) -> str:
    s = max(0, (now_ns - ns) // 10**9)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if s >= size:
            return f"{s // size}{unit}"
    return f"{s}s"


class ProposalList(VirtualList):
    # Enter focuses the detail (in the help, not the footer: the decisions need the room).
    BINDINGS = [
        replace(b, show=False) if isinstance(b, Binding) and b.action == "open" else b
        for b in list_bindings("proposals.list", "focuses the detail", "row")
    ]
    CURSOR_CLASS = "proposal-list--cursor"
    COMPONENT_CLASSES = {
        "proposal-list--header",
        "proposal-list--cursor",
        "proposal-list--dim",
        "proposal-list--accepted",
        "proposal-list--rejected",
    }

    @dataclass(eq=False)
    class Highlighted(VirtualList.Highlighted):
        row: MemoryRow | None

    @dataclass(eq=False)
    class Opened(VirtualList.Opened):
        row: MemoryRow

    @dataclass(eq=False)
    class PageLoaded(Message):
        gen: int
        rows: list[MemoryRow] | None
        total: int | None
        complete: bool

    def __init__(
        self, store: Callable[[], Store], now: Callable[[], int], *, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self._store = store
        self._clock = now
        self.source = SOURCES["pending"]
        self.rows: list[MemoryRow] = []
        self.complete = False
        self.fetching = False
        self.loaded = False  # the first page of the current listing has landed
        self._gen = 0
        self._select: str | None = None
        self._title_w = 40
        self._now = 0
        self._reset_next = False

    # -- listing ------------------------------------------------------------------------------

    def show_view(self, view: str, select: str | None = None) -> None:
        """(Re)read a listing from its start: its count and first page; keeps the cursor on
        `select` (or the row it is on) when that row is still listed."""
        old = self.current_row()
        self._select = select or (
            old.path if old is not None and view == self.source.view else None
        )
        if view != self.source.view:
            self.cursor = 0
            self.scroll_to(y=0, animate=False)
        self.source = SOURCES[view]
        self._gen += 1
        self.fetching = False
        self.loaded = False
        self._fetch(count=True, reset=True)

    def _fetch(self, *, count: bool = False, reset: bool = False, want: int = PAGE) -> None:
        if self.fetching:
            return
        self.fetching = True
        last = None if reset or not self.rows else self.rows[-1]
        limit = max(FIRST_PAGE, self.size.height) if reset else max(PAGE, min(1000, want))
        gen, source = self._gen, self.source

        def load() -> None:
            rows: list[MemoryRow] | None = None
            total: int | None = None
            try:
                if not get_current_worker().is_cancelled:
                    store = self._store()
                    total = source.count(store) if count else None
                    rows = source.page(store, last, limit)
            except Exception as e:  # noqa: BLE001 - reported; the list keeps what it has
                self.post_message(WorkFailed(f"reading the {source.view} list", e))
            self.post_message(
                self.PageLoaded(gen, rows, total, rows is not None and len(rows) < limit)
            )

        self._reset_next = reset
        self.run_worker(load, thread=True, group="proposal-pages", exit_on_error=False)

    def on_proposal_list_page_loaded(self, message: PageLoaded) -> None:
        message.stop()
        if message.gen != self._gen:
            return
        self.fetching = False
        self._now = self._clock()
        if self._reset_next:
            self._reset_next = False
            self.rows = []
            self.clear_strips()
            self.forget_announced()
            self.loaded = True
        rows = message.rows or []
        first = len(self.rows)
        self.rows += rows
        self.complete = message.rows is None or message.complete
        total = message.total if message.total is not None else self.total
        if self.complete:
            total = len(self.rows)
        self.set_total(max(total, len(self.rows)))
        if self._select is not None:
            i = next((n for n, r in enumerate(self.rows) if r.path == self._select), None)
            if i is not None or self.complete:
                self._select = None
                if i is not None:
                    self.cursor = i
                    self.scroll_to_cursor()
            else:
                self._fetch()
                return
        self.refresh()
        self.rows_arrived(first, len(self.rows) - 1)
        self.announce()
        self._request_visible()

    def _request_visible(self) -> None:
        top = int(self.scroll_offset.y)
        bottom = min(self.total - 1, top + self.scrollable_content_region.height)
        if self.total:
            self.request_rows(max(0, top - 1), max(bottom, self.cursor))

    def request_rows(self, first: int, last: int) -> None:
        hi = max(last, self.cursor)
        if not self.fetching and not self.complete and hi + PREFETCH >= len(self.rows):
            self._fetch(want=hi + PREFETCH - len(self.rows))

    def cursor_moved(self) -> None:
        self.announce()
        self._request_visible()

    def row_at(self, index: int) -> MemoryRow | None:
        return self.rows[index] if 0 <= index < len(self.rows) else None

    # -- drawing ------------------------------------------------------------------------------

    def prepare_frame(self, width: int) -> None:
        self._title_w = max(12, width - (17 if self.source.view == "decided" else 7 + _CAT_W))

    def header_cells(self) -> Cells:
        w = self._title_w
        if self.source.view == "lessons":
            return [(f" {'lesson':<{w}} {'category':<{_CAT_W}} age", "proposal-list--header")]
        if self.source.view == "decided":
            head = f" {'decided proposal':<{w}} {'status':<10} age"
        else:
            head = f" {'pending proposal (oldest first)':<{w}} {'category':<{_CAT_W}} age"
        return [(head, "proposal-list--header")]

    def row_cells(self, row: MemoryRow) -> Cells:
        w = self._title_w
        title = row.title or row.path.rsplit("/", 1)[-1]
        if len(title) > w:
            title = title[: w - 1] + "…"
        when = age(row.updated_ns, self._now)
        if self.source.view == "lessons":
            return [
                (f" {title:<{w}} ", ""),
                (f"{row.category[:_CAT_W]:<{_CAT_W}} {when}", "proposal-list--dim"),
            ]
        if self.source.view == "decided":
            st = status_of(row)
            style = "proposal-list--accepted" if st == "accepted" else "proposal-list--rejected"
            return [(f" {title:<{w}} ", ""), (f"{st:<10} ", style), (when, "proposal-list--dim")]
        return [
            (f" {title:<{w}} ", ""),
            (f"{row.category[:_CAT_W]:<{_CAT_W}} {when}", "proposal-list--dim"),
        ]

    def empty_cells(self) -> Cells | None:
        if not self.loaded:
            return [(" reading…", "proposal-list--dim")]
        return [(f" {EMPTY[self.source.view]}", "proposal-list--dim")]

    def strip_key(self, row: MemoryRow) -> Hashable:
        return (row.path, row.seq, self._title_w, self.source.view)

    def row_identity(self, row: MemoryRow) -> Hashable:
        return (row.path, row.seq)


_CAT_W = max(map(len, CATEGORIES))  # the category column fits every category whole

EMPTY = {
    "pending": "nothing pending: no proposal waits for a decision",
    "decided": "no proposal has been decided yet",
    "lessons": "no lessons recorded yet",
}
