"""The doctor's invariants: one row each, failures first, with detail and timing."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import DataTable

from core.doctor.model import InvariantResult

STATUS_STYLE = {"PASS": "bold $success", "WARN": "bold $warning", "FAIL": "bold $error"}
_ORDER = {"FAIL": 0, "WARN": 1, "PASS": 2}


class InvariantTable(DataTable):
    DEFAULT_CLASSES = "invariant-table"

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        self.add_column("status", key="status", width=6)
        self.add_column("invariant", key="id")
        self.add_column("level", key="level", width=7)
        self.add_column("ms", key="ms", width=6)
        self.add_column("detail", key="detail")

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.results: list[InvariantResult] = []

    def result_at(self, row: int) -> InvariantResult | None:
        return self.results[row] if 0 <= row < len(self.results) else None

    def show(self, results: list[InvariantResult], timings: bool = True) -> None:
        self.clear()
        ordered = sorted(results, key=lambda r: (_ORDER.get(str(r.status), 3), str(r.id)))
        self.results = ordered
        for r in ordered:
            status = str(r.status)
            detail = r.detail
            if r.path:
                detail = f"{detail} ({r.path})" if detail else r.path
            ms_text = f"{r.elapsed_ms:.0f}" if timings else "·"
            self.add_row(
                Content.styled(status, STATUS_STYLE.get(status, "bold")),
                str(r.id),
                r.level,
                ms_text,
                " ".join(detail.split()),
                key=str(r.id),
            )
