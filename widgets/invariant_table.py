"""The doctor's invariants: one row each, failures first, with detail and timing.

The detail column takes the width the others leave and wraps (a row grows a line or two), so
at 80 columns a failure's explanation is read whole, not cut at the edge.
"""

from __future__ import annotations

from rich.text import Text
from textual.content import Content
from textual.widgets import DataTable

from core.doctor.model import InvariantResult

STATUS_STYLE = {"PASS": "bold $success", "WARN": "bold $warning", "FAIL": "bold $error"}
_ORDER = {"FAIL": 0, "WARN": 1, "PASS": 2}


class InvariantTable(DataTable):
    DEFAULT_CLASSES = "invariant-table"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.results: list[InvariantResult] = []
        self.timings = True
        self._detail_width = 0

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True

    def on_resize(self) -> None:
        if self._width_for_detail() != self._detail_width:
            self._fill()

    @property
    def show_ms(self) -> bool:
        # Under 100 columns the timings give their room to the detail (`brain doctor` and a
        # wider terminal show them).
        return self.scrollable_content_region.width >= 100

    def _width_for_detail(self) -> int:
        """What the other columns leave (each has a cell of padding either side)."""
        id_w = max((len(str(r.id)) for r in self.results), default=9)
        fixed = (6 + 2) + (id_w + 2) + (7 + 2) + (6 + 2 if self.show_ms else 0) + 1
        return max(20, self.scrollable_content_region.width - fixed)  # + 1: the scroll bar

    def result_at(self, row: int) -> InvariantResult | None:
        return self.results[row] if 0 <= row < len(self.results) else None

    def show(self, results: list[InvariantResult], timings: bool = True) -> None:
        self.results = sorted(results, key=lambda r: (_ORDER.get(str(r.status), 3), str(r.id)))
        self.timings = timings
        self._fill()

    def _fill(self) -> None:
        row = self.cursor_row
        self.clear(columns=True)
        self._detail_width = self._width_for_detail()
        self.add_column("status", key="status", width=6)
        self.add_column("invariant", key="id")
        self.add_column("level", key="level", width=7)
        show_ms = self.show_ms
        if show_ms:
            self.add_column("ms", key="ms", width=6)
        self.add_column("detail", key="detail", width=self._detail_width)
        timings = self.timings
        for r in self.results:
            status = str(r.status)
            detail = r.detail
            if r.path and r.path not in detail:  # a detail that names it says it once
                detail = f"{detail} ({r.path})" if detail else r.path
            ms_text = f"{r.elapsed_ms:.0f}" if timings else "·"
            cells = [
                Content.styled(status, STATUS_STYLE.get(status, "bold")),
                str(r.id),
                r.level,
                *([ms_text] if show_ms else []),
                Text(" ".join(detail.split())),  # wraps in the column's width
            ]
            self.add_row(*cells, key=str(r.id), height=None)
        if self.results:
            self.move_cursor(row=min(max(row, 0), len(self.results) - 1))
