"""One audit row as fixed-width cells: the columns adapt to the width (80 columns and up)."""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size

from core.models import Row

_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
WIDE = 110
PREFIX = "memories/"  # from here the time has its date and year, and the short chain shows


@dataclass(frozen=True)
class Columns:
    seq: int
    time: int
    op: int
    actor: int
    path: int
    chain: int  # 0 when hidden

    @property
    def wide(self) -> bool:
        return self.chain > 0


def columns(width: int, max_seq: int) -> Columns:
    seq = max(3, len(str(max(1, max_seq))))
    if width >= WIDE:
        fixed = seq + 20 + 17 + 25 + 1 + 9  # each column's width plus its one-space gap
        return Columns(seq, 19, 16, 24, max(8, width - fixed), 8)
    fixed = seq + 12 + 14 + 19 + 1
    return Columns(seq, 11, 13, 18, max(8, width - fixed), 0)


def clean(text: str) -> str:
    """Never let a path or actor drive the terminal: control characters shown escaped."""
    return _UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def fit(text: str, width: int, right: bool = False) -> str:
    if width <= 0:
        return ""
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…"
    pad = " " * (width - cell_len(text))
    return pad + text if right else text + pad


def utc(ts_ns: int, wide: bool) -> str:
    t = _dt.datetime.fromtimestamp(ts_ns // 1_000_000_000, tz=_dt.UTC)
    return t.strftime("%Y-%m-%d %H:%M:%S" if wide else "%m-%d %H:%M")


def op_class(op: str) -> str:
    if op in ("put", "move", "delete"):
        return f"audit-list--op-{op}"
    if op.endswith("rejected") or op in ("repair", "sync.conflict", "pii.held"):
        return "audit-list--op-alert"
    return "audit-list--op-other"


def short_path(path: str) -> str:
    """Every memory path starts with memories/: the column says so once, in its header."""
    return clean(path[len(PREFIX) :] if path.startswith(PREFIX) else path)


def extra_text(extra: dict) -> str:
    """A row without a path (checkpoint, session, ...) shows its extra fields instead."""
    parts = []
    for key, value in sorted(extra.items()):
        text = value if isinstance(value, str) else str(value)
        if isinstance(value, str) and len(value) > 16:
            text = value[:8] + "…"
        parts.append(f"{key}={text}")
    return clean(" ".join(parts))


def path_text(row: Row) -> str:
    if not row.path:
        return extra_text(row.extra) if row.extra else "—"
    path = short_path(row.path)
    src = row.extra.get("from") if row.op == "move" else None
    if isinstance(src, str):
        path = f"{path} ← {short_path(src)}"
    if row.op == "delete" and row.extra.get("mode") == "purge":
        path = f"{path} (purged)"
    return path


def header_cells(c: Columns) -> list[tuple[str, str]]:
    cells = [
        (fit("seq", c.seq, right=True), "audit-list--header"),
        (" " + fit("time (UTC)", c.time), "audit-list--header"),
        (" " + fit("op", c.op), "audit-list--header"),
        (" " + fit("actor", c.actor), "audit-list--header"),
        (" " + fit("path (memories/…)", c.path), "audit-list--header"),
    ]
    if c.wide:
        cells.append((" " + fit("chain", c.chain), "audit-list--header"))
    return cells


def row_cells(row: Row, c: Columns) -> list[tuple[str, str]]:
    cells = [
        (fit(str(row.seq), c.seq, right=True), "audit-list--seq"),
        (" " + fit(utc(row.ts_ns, c.wide), c.time), "audit-list--time"),
        (" " + fit(row.op, c.op), op_class(row.op)),
        (" " + fit(clean(row.actor), c.actor), "audit-list--actor"),
        (" " + fit(path_text(row), c.path), "audit-list--path"),
    ]
    if c.wide:
        cells.append((" " + fit(row.chain[: c.chain], c.chain), "audit-list--chain"))
    return cells


def pending_cells(seq: int | None, c: Columns) -> list[tuple[str, str]]:
    label = str(seq) if seq is not None else ""
    return [
        (fit(label, c.seq, right=True), "audit-list--seq"),
        (" " + fit("…", c.time), "audit-list--pending"),
    ]
