"""How one memory row is drawn in the browser's list: columns that fit the width, relative times.

Pure functions of the row, the width and `now`, so snapshots are deterministic with a fixed clock.
"""

from __future__ import annotations

import datetime as _dt

from core.read_types import MemoryRow

NS = 1_000_000_000

# (key, heading, width); the title takes what is left. Narrow terminals drop from the right end
# of this list first (sync class, then tier), never the title, state or time.
# The tier is a word (hot, warm, cold), so it reads without colour (NO_COLOR); a pinned memory
# carries PIN_MARK after it.
FIXED = (
    ("tier", "tier", 5),
    ("sync", "sync", 11),
    ("state", "state", 6),
    ("updated", "updated", 7),
)
DROP_ORDER = ("sync", "tier")
# A title reads in 28 columns; below that the sync class goes first (the preview's meta line
# under the list shows it). At 80x24 that is 34 title columns instead of 22.
MIN_TITLE = 28

PIN_MARK = "*"
# The sync state (store.sync.states_of) as one character in the row's left margin; states
# that mean "stays here" (local-only, private) have none. The preview spells the state out.
SYNC_MARK = {
    "pending-push": "↑",
    "pushed": "↑",
    "confirmed": "✓",
    "refused": "!",
    "imported": "↓",
    "held": "⚑",
}
STATE_LABEL = {"active": "active", "tombstoned": "tomb", "purged": "purged"}


def relative(ts_ns: int, now_ns: int) -> str:
    """'now', '12m ago', '5h ago', '3d ago', '6w ago', then a month ('2025-11')."""
    s = max(0, (now_ns - ts_ns) // NS)
    if s < 60:
        return "now"
    for unit, size, limit in (("m", 60, 60), ("h", 3600, 24), ("d", 86400, 14), ("w", 604800, 10)):
        if s < size * limit:
            return f"{s // size}{unit} ago"
    return _dt.datetime.fromtimestamp(ts_ns // NS, tz=_dt.UTC).strftime("%Y-%m")


def columns(width: int, margin: int = 1) -> list[tuple[str, str, int]]:
    """Columns for this width, the title first with the space that is left. `margin` is the
    left one: 2 when rows carry a sync marker (the marker and a space)."""
    cols = list(FIXED)
    for drop in DROP_ORDER:
        used = sum(w + 1 for _k, _h, w in cols) + 1 + margin  # one space between, margins
        if width - used >= MIN_TITLE:
            break
        cols = [c for c in cols if c[0] != drop]
    used = sum(w + 1 for _k, _h, w in cols) + 1 + margin
    return [("title", "title", max(8, width - used)), *cols]


def fit(text: str, width: int) -> str:
    text = " ".join(text.split())
    if len(text) <= width:
        return text.ljust(width)
    return text[: width - 1] + "…"


def header_cells(cols: list[tuple[str, str, int]], margin: int = 1) -> list[tuple[str, str]]:
    out = [(" " * margin, "memory-list--header")]
    for _key, heading, w in cols:
        out.append((fit(heading, w) + " ", "memory-list--header"))
    return out


def row_cells(
    row: MemoryRow,
    cols: list[tuple[str, str, int]],
    now_ns: int,
    sync_state: str = "",
    margin: int = 1,
) -> list[tuple[str, str]]:
    mark = SYNC_MARK.get(sync_state, " ") if margin > 1 else " "
    mark_cls = "memory-list--mark-refused" if sync_state == "refused" else "memory-list--mark"
    out = [(mark.ljust(margin), mark_cls if mark != " " else "")]
    dim = row.state != "active"
    for key, _h, w in cols:
        if key == "title":
            text, cls = row.title or row.path.rsplit("/", 1)[-1], "memory-list--title"
        elif key == "tier":
            text = row.tier + (PIN_MARK if row.pinned else "")
            cls = f"memory-list--tier-{row.tier}"
        elif key == "sync":
            text, cls = row.sync_class, "memory-list--sync"
        elif key == "state":
            text, cls = STATE_LABEL.get(row.state, row.state), f"memory-list--state-{row.state}"
        else:
            text, cls = relative(row.updated_ns, now_ns), "memory-list--time"
        out.append((fit(text, w) + " ", "memory-list--dim" if dim and key == "title" else cls))
    return out
