"""Pane 4's queue: the memories held for PII review, on the shared virtual list.

The queue is small (held memories wait for a person; `store.pii.pending()` caps it), so the
screen reads it whole in a worker and hands the rows over with `set_rows`.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from textual.binding import Binding

from widgets.list_keys import list_bindings
from widgets.pii_format import counts_text
from widgets.virtual_list import Cells, VirtualList

if TYPE_CHECKING:
    from core.pii_review import Pending


class PiiQueue(VirtualList):
    # Enter (focus the body) is in the help, not the footer: the four actions need the room.
    BINDINGS = [
        replace(b, show=False) if isinstance(b, Binding) and b.action == "open" else b
        for b in list_bindings("pii.queue", "focuses the body", "held memory")
    ]
    CURSOR_CLASS = "pii-queue--cursor"
    COMPONENT_CLASSES = {"pii-queue--header", "pii-queue--cursor", "pii-queue--dim"}

    @dataclass(eq=False)
    class Highlighted(VirtualList.Highlighted):
        row: Pending | None

    @dataclass(eq=False)
    class Opened(VirtualList.Opened):
        row: Pending

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[Pending] = []
        self._path_w = 40

    def set_rows(self, rows: list[Pending], select: str | None = None) -> None:
        old = self.current_row()
        self.rows = list(rows)
        want = select or (old.path if old is not None else None)
        index = next((i for i, r in enumerate(self.rows) if r.path == want), None)
        self.clear_strips()
        self.forget_announced()
        self.set_total(len(self.rows))
        if index is not None:
            self.cursor = index
        self.refresh()
        self.announce()

    def current(self) -> Pending | None:
        return self.current_row()

    def row_at(self, index: int) -> Pending | None:
        return self.rows[index] if 0 <= index < len(self.rows) else None

    def prepare_frame(self, width: int) -> None:
        self._path_w = max(12, width - 24)

    def header_cells(self) -> Cells:
        return [(f" {'held memory':<{self._path_w}} findings", "pii-queue--header")]

    def row_cells(self, row: Pending) -> Cells:
        path = row.path.removeprefix("memories/")
        if len(path) > self._path_w:
            path = "…" + path[-(self._path_w - 1) :]
        return [(f" {path:<{self._path_w}} ", ""), (counts_text(row.counts), "pii-queue--dim")]

    def empty_cells(self) -> Cells | None:
        return [(" nothing held: every shareable memory is clean", "pii-queue--dim")]

    def strip_key(self, row: Pending) -> Hashable:
        return (row.path, row.seq, self._path_w)

    def row_identity(self, row: Pending) -> Hashable:
        return (row.path, row.seq)
