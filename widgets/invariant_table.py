"""The doctor's invariants: one row each, failures first, with detail and timing."""

from __future__ import annotations

from typing import Any

from textual.content import Content
from textual.widgets import DataTable

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
        self.results: list[Any] = []

    def result_at(self, row: int) -> Any:
        return self.results[row] if 0 <= row < len(self.results) else None

    def show(self, results: list[Any], timings: bool = True) -> None:
        """Results are the doctor's items: .id, .level, .status, .detail, .path, .elapsed_ms."""
        self.clear()
        ordered = sorted(results, key=lambda r: (_ORDER.get(str(r.status), 3), str(r.id)))
        self.results = ordered
        for r in ordered:
            status = str(r.status)
            detail = str(getattr(r, "detail", "") or "")
            path = getattr(r, "path", None)
            if path:
                detail = f"{detail} ({path})" if detail else str(path)
            ms = getattr(r, "elapsed_ms", None)
            ms_text = f"{ms:.0f}" if timings and isinstance(ms, int | float) else "·"
            self.add_row(
                Content.styled(status, STATUS_STYLE.get(status, "bold")),
                str(r.id),
                str(getattr(r, "level", "")),
                ms_text,
                " ".join(detail.split()),
                key=str(r.id),
            )
