"""Which memory rows the browser's list holds: pages by path from both ends of a listing.

No Textual here (kept pure so it can be tested alone). A listing of `total` rows is loaded from
its start (`head`, ascending by path) and from its end (`tail`, also ascending, ending at the
last row); rows between are not loaded yet. `G` asks for the last page by key (descending)
instead of walking every page from the first; when the two ends meet they are joined.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from core.read_types import MemoryRow


@dataclass
class Want:
    """The next page to fetch: after a path (ascending) or before one (descending)."""

    key: str
    descending: bool


@dataclass
class TwoEnds:
    total: int = 0
    head: list[MemoryRow] = field(default_factory=list)
    tail: list[MemoryRow] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return len(self.head) >= self.total

    @property
    def tail_start(self) -> int:
        """The index of tail[0]."""
        return self.total - len(self.tail)

    def row(self, index: int) -> MemoryRow | None:
        if index < len(self.head):
            return self.head[index]
        if self.tail_start <= index < self.total:
            return self.tail[index - self.tail_start]
        return None

    def rows(self) -> list[MemoryRow]:
        """What is loaded, in order (the whole listing once complete)."""
        return self.head + self.tail if self.tail else self.head

    def want(self, first: int, last: int) -> Want | None:
        """The page that fills the gap nearest to rows first..last, or None: all loaded."""
        if self.complete:
            return None
        gap_lo, gap_hi = len(self.head), self.tail_start - 1
        if last < gap_lo or first > gap_hi:
            return None
        # Grow from the end that is nearer the rows wanted.
        from_head = max(first, gap_lo) - gap_lo
        from_tail = gap_hi - min(last, gap_hi)
        if from_head <= from_tail:
            return Want(self.head[-1].path if self.head else "", False)
        # Nearer the end (`G`, or the scrollbar dragged down): the page before the tail, by
        # key from the end ("" = the very last page), never every page from the first.
        return Want(self.tail[0].path if self.tail else "", True)

    @classmethod
    def of(cls, total: int, head: list[MemoryRow], tail: list[MemoryRow]) -> TwoEnds:
        """Both ends read afresh (a listing read again in place), joined when they meet."""
        model = cls(max(total, len(head) + len(tail)), head, tail)
        model._join()
        return model

    def index_of(self, path: str) -> int | None:
        """Where path is in the listing (sorted by path); None when it is not loaded."""
        for rows, start in ((self.head, 0), (self.tail, self.tail_start)):
            i = bisect.bisect_left([r.path for r in rows], path)
            if i < len(rows) and rows[i].path == path:
                return start + i
        return None

    def place_of(self, path: str) -> int | None:
        """The index of the first loaded row after path (where path would be), if known."""
        keys = [r.path for r in self.head]
        i = bisect.bisect_left(keys, path)
        if i < len(keys) or (self.complete and keys):
            return min(i, self.total - 1)
        tail = [r.path for r in self.tail]
        j = bisect.bisect_left(tail, path)
        if tail and j > 0:
            return min(self.tail_start + j, self.total - 1)
        return None  # in the gap between the ends

    def add(self, want: Want, rows: list[MemoryRow], limit: int) -> tuple[int, int]:
        """Take a fetched page; returns the index range (first, last) it filled."""
        if not want.descending:
            if self.head and want.key != self.head[-1].path or not self.head and want.key:
                return (0, -1)  # the head moved since it was asked for
            first = len(self.head)
            self.head.extend(rows)
            if len(rows) < limit:
                self.total = len(self.head)  # the listing ends here (it shrank meanwhile)
                self.tail = []
        else:
            if self.tail and want.key != self.tail[0].path or not self.tail and want.key:
                return (0, -1)
            rows = rows[::-1]  # nearest first as fetched; kept ascending
            self.tail[:0] = rows
            if len(rows) < limit and self.tail_start > len(self.head):
                self.total = len(self.head) + len(self.tail)  # the listing starts here
            first = self.tail_start
        self._join()
        return (first, first + len(rows) - 1)

    def _join(self) -> None:
        if self.tail and self.head and self.head[-1].path >= self.tail[0].path:
            last = self.head[-1].path
            self.head += [r for r in self.tail if r.path > last]
            self.total, self.tail = len(self.head), []
        elif self.tail and self.tail_start <= len(self.head):
            # The count was stale (rows came or went): trust the rows, not the count.
            self.head += self.tail
            self.total, self.tail = len(self.head), []
