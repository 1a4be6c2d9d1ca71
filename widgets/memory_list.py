"""The memory browser's list: the virtual list (widgets.virtual_list) over memory pages by key.

Rows come from a `Source` (the screen binds it to the Store's `memory_page`/`memory_count` with
the tree's filter), fetched in thread workers. The list knows how many rows its listing has
(one count) and loads pages by path from both ends as they scroll into view
(widgets.memory_pages): `G` fetches the last page by key, descending, instead of walking every
page from the first. Search results replace the rows with a fixed list. When the store changed
elsewhere, `reread` reads the rows loaded so far again in one job and swaps them in, the cursor
kept on its path.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import partial

from textual.message import Message
from textual.worker import get_current_worker

from core.read_types import MemoryRow
from widgets.list_keys import list_bindings
from widgets.memory_format import SYNC_MARK, columns, header_cells, row_cells
from widgets.memory_pages import TwoEnds, Want
from widgets.status import WorkFailed
from widgets.virtual_list import Cells, VirtualList

PAGE = 200
PREFETCH = 50  # rows from the end of what is loaded at which the next page is fetched


@dataclass(frozen=True)
class Source:
    """Where a listing's rows come from (both run in worker threads)."""

    page: Callable[[str, int, bool], list[MemoryRow]]  # (after/before path, limit, descending)
    count: Callable[[], int]
    # Each path's sync state (store.sync.states_of): the marker before the title.
    states: Callable[[list[str]], dict[str, str]] | None = None


class MemoryList(VirtualList):
    BINDINGS = list_bindings("memories", "journals an access")
    CURSOR_CLASS = "memory-list--cursor"
    COMPONENT_CLASSES = {
        "memory-list--header",
        "memory-list--cursor",
        "memory-list--title",
        "memory-list--dim",
        "memory-list--sync",
        "memory-list--mark",
        "memory-list--mark-refused",
        "memory-list--time",
        "memory-list--tier-hot",
        "memory-list--tier-warm",
        "memory-list--tier-cold",
        "memory-list--state-active",
        "memory-list--state-tombstoned",
        "memory-list--state-purged",
        "memory-list--pending",
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
        want: Want
        limit: int
        rows: list[MemoryRow] | None
        total: int | None  # a fresh count, when the job counted
        states: dict[str, str] | None = None  # the rows' sync states, when the source has them

    @dataclass(eq=False)
    class Reread(Message):
        """The listing read again in place (`reread`); model None: the read failed."""

        gen: int
        model: TwoEnds | None
        select: str | None  # a path the cursor was on its way to (a write's new row)
        states: dict[str, str] | None = None

    def __init__(self, *, now: Callable[[], int], id: str | None = None) -> None:
        super().__init__(id=id)
        self._now = now
        self._source: Source | None = None
        self.model = TwoEnds()
        self.fetching = False
        self._gen = 0
        self._select: str | None = None  # a path to put the cursor on once it is loaded
        self._cols = columns(80)
        self._frame_now = 0
        self.sync_states: dict[str, str] = {}  # path -> sync state, as pages bring them
        self.marks = False  # some row has a sync marker: the left margin holds them

    @property
    def rows(self) -> list[MemoryRow]:
        """The rows loaded, in order: the whole listing once both ends have met."""
        return self.model.rows()

    @property
    def more(self) -> bool:
        return not self.model.complete

    def current(self) -> MemoryRow | None:
        return self.current_row()

    def row_at(self, index: int) -> MemoryRow | None:
        return self.model.row(index)

    # -- sources ------------------------------------------------------------------------------

    def set_source(self, source: Source, *, select: str | None = None) -> None:
        """Page rows from source, starting over; `select` puts the cursor on that path."""
        self._start(source, TwoEnds(), select)
        self.cursor = 0

    def set_rows(
        self,
        rows: list[MemoryRow],
        states: dict[str, str] | None = None,
        *,
        select: str | None = None,
    ) -> None:
        """A fixed list (search results), with their sync states when known: no paging.
        `select` keeps the cursor on that path when it is among them, else where it was."""
        if states:
            self._take_states(states)
        self._gen += 1
        self._source = None
        self.model = TwoEnds(len(rows), list(rows))
        self.fetching = False
        self._select = None
        self.forget_announced()
        index = 0
        if select is not None:
            # Search results are ranked, not sorted by path: a walk, not a bisection.
            found = next((i for i, r in enumerate(rows) if r.path == select), None)
            index = found if found is not None else max(0, min(self.cursor, len(rows) - 1))
        self.cursor = index
        self.set_total(self.model.total, reset=True)
        self.announce()

    def reread(self) -> bool:
        """Read the listing again where it stands (another process wrote): the rows loaded so
        far are read again in one job and swapped in when they land, the cursor staying on its
        path (or, when that is gone, on the row now at its place). Nothing blanks meanwhile,
        and the row under the cursor is announced again (its preview may have changed).
        False when the list shows fixed rows (search results): the caller searches again."""
        if self._source is None:
            return False
        self._gen += 1
        self.fetching = True  # the old listing fetches no more pages meanwhile
        select, self._select = self._select, None
        heads, tails = len(self.model.head), len(self.model.tail)
        job = partial(self._reread, self._gen, self._source, heads, tails, select)
        self.run_worker(job, thread=True, group="memory-pages", exit_on_error=False)
        return True

    def _reread(self, gen: int, source: Source, heads: int, tails: int, select: str | None) -> None:
        model: TwoEnds | None = None
        states: dict[str, str] | None = None
        try:
            if not get_current_worker().is_cancelled:
                total = source.count()
                limit = max(heads, PAGE)
                head = source.page("", limit, False)
                more = len(head) == limit
                while more and select is not None and head[-1].path < select:
                    page = source.page(head[-1].path, PAGE, False)  # on to the row to select
                    head += page
                    more = len(page) == PAGE
                tail = source.page("", tails, True)[::-1] if more and tails else []
                model = TwoEnds.of(total if more else len(head), head, tail)
        except Exception as e:  # noqa: BLE001 - reported; the list keeps what it has
            self.post_message(WorkFailed("loading memories", e))
        if model is not None and source.states is not None:
            states = sync_states(source.states, model.rows())
        self.post_message(self.Reread(gen, model, select, states))

    def on_memory_list_reread(self, message: Reread) -> None:
        message.stop()
        if message.gen != self._gen:
            return
        self.fetching = False
        self.forget_announced()  # the row under the cursor is announced (read) again
        model = message.model
        if model is not None:
            if message.states:
                self._take_states(message.states)
            row = self.current()
            path = message.select or (row.path if row is not None else None)
            self.model = model
            if path is not None:
                index = model.index_of(path)
                if index is None and message.select is None:
                    index = model.place_of(path)  # gone (moved away): the row now in its place
                if index is not None:
                    self.cursor = index  # set before the total: no clamp to a wrong row first
            self.set_total(model.total)
            self.refresh()
        self.announce()
        self._request_visible()

    def reload_from(self, path: str, select: str | None = None) -> None:
        """Re-fetch from `path` on (after a write there), keeping the rows before it."""
        if self._source is None:
            return
        head = self.model.head
        keep = head[: bisect.bisect_left([r.path for r in head], path)]
        self._start(self._source, TwoEnds(len(keep), keep), select)

    def _start(self, source: Source, model: TwoEnds, select: str | None) -> None:
        self._gen += 1
        self._source = source
        self.model = model
        self._select = select
        self.forget_announced()  # the row under the cursor may have changed
        self.fetching = False
        after = model.head[-1].path if model.head else ""
        self._fetch(Want(after, False), count=True)
        self.set_total(model.total)

    # -- paging (thread workers) ------------------------------------------------------------

    def _fetch(self, want: Want, *, count: bool = False) -> None:
        if self._source is None or self.fetching:
            return
        self.fetching = True
        limit = PAGE
        job = partial(self._load, self._gen, self._source, want, limit, count)
        self.run_worker(job, thread=True, group="memory-pages", exit_on_error=False)

    def _load(self, gen: int, source: Source, want: Want, limit: int, count: bool) -> None:
        rows: list[MemoryRow] | None = None
        total: int | None = None
        try:
            if not get_current_worker().is_cancelled:
                total = source.count() if count else None
                rows = source.page(want.key, limit, want.descending)
        except Exception as e:  # noqa: BLE001 - reported; the list keeps what it has
            self.post_message(WorkFailed("loading memories", e))
        states = sync_states(source.states, rows) if source.states is not None else None
        self.post_message(self.PageLoaded(gen, want, limit, rows, total, states))

    def on_memory_list_page_loaded(self, message: PageLoaded) -> None:
        message.stop()
        if message.gen != self._gen:
            return
        self.fetching = False
        if message.states:
            self._take_states(message.states)
        model = self.model
        if message.total is not None:
            model.total = max(message.total, len(model.head))
        if message.rows is None:
            model.total = len(model.head)  # stop paging: show what there is
            model.tail = []
            self.set_total(model.total)
            self.announce()
            return
        first, last = model.add(message.want, message.rows, message.limit)
        self.set_total(model.total)
        if self._settle_select():
            return
        self.rows_arrived(first, last)
        if message.total is not None:
            self.announce()  # a new listing: say what is under the cursor (or that none is)
        self._request_visible()

    def _take_states(self, states: dict[str, str]) -> None:
        self.sync_states.update(states)
        if not self.marks and any(v in SYNC_MARK for v in states.values()):
            self.marks = True  # a column for the markers from now on
            self.refresh()

    def _settle_select(self) -> bool:
        """Walk the head towards a path to select; True while still walking."""
        want = self._select
        if want is None:
            return False
        keys = [r.path for r in self.model.head]
        i = bisect.bisect_left(keys, want)
        if i < len(keys) and keys[i] == want:
            self._select = None
            self.cursor = i
        elif not self.model.complete and not (keys and keys[-1] > want):
            self._fetch(Want(keys[-1] if keys else "", False))
            return True
        else:
            self._select = None  # gone (purged, say): stay where the list has it
            self.cursor = min(i, max(0, self.total - 1))
        self.refresh()
        self.announce()
        return False

    def _request_visible(self) -> None:
        top = int(self.scroll_offset.y)
        bottom = min(self.total - 1, top + self.scrollable_content_region.height)
        if self.total:
            self.request_rows(max(0, top - 1), max(bottom, self.cursor))

    def request_rows(self, first: int, last: int) -> None:
        if self.fetching or self._source is None or self._select is not None:
            return
        lo, hi = min(first, self.cursor), max(last, self.cursor)
        want = self.model.want(lo, hi + PREFETCH)
        if want is not None:
            self._fetch(want)

    def cursor_moved(self) -> None:
        if self._select is None:
            self.announce()
            self._request_visible()

    # -- drawing ------------------------------------------------------------------------------

    def prepare_frame(self, width: int) -> None:
        self._cols = columns(width, self.margin)
        self._frame_now = self._now()

    def header_cells(self) -> Cells:
        return header_cells(self._cols, self.margin)

    def row_cells(self, row: MemoryRow) -> Cells:
        state = self.sync_states.get(row.path, "")
        return row_cells(row, self._cols, self._frame_now, state, self.margin)

    @property
    def margin(self) -> int:
        return 2 if self.marks else 1

    def pending_cells(self, index: int) -> Cells:
        return [("  …", "memory-list--pending")]

    def empty_cells(self) -> Cells | None:
        if self.fetching:
            return [("  loading…", "memory-list--pending")]
        return [("  no memories here", "memory-list--pending")]

    def strip_key(self, row: MemoryRow) -> Hashable:
        # The age column reads the clock: strips age by the second, not per frame.
        return (
            row.path,
            row.seq,
            row.tier,
            row.pinned,
            row.state,
            row.sync_class,
            self.sync_states.get(row.path, ""),
            self.marks,
            self._frame_now // 1_000_000_000,
        )

    def row_identity(self, row: MemoryRow) -> Hashable:
        return row.path


def sync_states(
    states_of: Callable[[list[str]], dict[str, str]], rows: list[MemoryRow] | None
) -> dict[str, str] | None:
    """The rows' sync states (their markers), read in a worker thread; None when there are no
    rows or the read failed: the markers are a hint, the rows still show."""
    if not rows:
        return None
    try:
        return states_of([r.path for r in rows])
    except Exception:  # noqa: BLE001 - see above
        return None
