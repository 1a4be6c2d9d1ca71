"""The shell's header (store, head seq, state, checkpoint age, counts) and the pane tabs line.

Both read the app's reactive attributes by name (`header_info`, `activity`) and watch them, so
one state refresh in the app repaints every pane's header: widgets may not import the app.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Static

from core.store_state import StoreState
from widgets.shell import shell

if TYPE_CHECKING:
    from core.store import Store

# (key, pane id, tab label): the number keys, the mode names and the tabs agree on this.
PANES: tuple[tuple[str, str, str], ...] = (
    ("1", "audit", "Audit"),
    ("2", "memories", "Memories"),
    ("3", "doctor", "Doctor"),
    ("4", "pii", "PII"),
    ("5", "proposals", "Proposals"),
    ("6", "sync", "Sync"),
)

STATE_STYLE = {
    "READY": "bold $success",
    "FROZEN_RECOVERABLE": "bold $warning",
    "FROZEN_HUMAN": "bold $error",
}
READ_ONLY = "read-only"
READ_ONLY_STYLE = "bold $warning"  # writes are refused here, though the store is sound


@dataclass(frozen=True)
class HeaderInfo:
    root: str
    head_seq: int
    index_seq: int
    state: str
    problem: str | None
    memories: int
    active: int
    tombstoned: int
    pending_purges: int
    last_checkpoint_ns: int | None = None
    last_checkpoint_size: int | None = None
    pii_pending: int = 0  # memories held for PII review (pane 4's queue)
    proposals_pending: int = 0  # proposals waiting for a person (pane 5's queue)
    sync_error: bool = False  # the last sync pass failed (pane 6 says why and when it retries)
    read_only: str | None = None  # the store is read-only here, and why (read_only_reason)

    @classmethod
    def from_state(cls, st: StoreState) -> HeaderInfo:
        # A store that has written keeps its own tip and does not rescan the log for other
        # processes' rows; the shared index has them, so the header shows the larger head.
        return cls(
            root=st.root,
            head_seq=max(st.head_seq, st.index_seq),
            index_seq=st.index_seq,
            state=st.state,
            problem=st.problem,
            memories=st.memories,
            active=st.active,
            tombstoned=st.tombstoned,
            pending_purges=st.pending_purges,
            last_checkpoint_ns=st.last_checkpoint_ns,
            last_checkpoint_size=st.last_checkpoint_size,
        )


def read_only_reason(store: Store) -> str | None:
    """Why this process cannot write the store, in a few words for the header; None when it
    can. The long form is the store's note (`cannot_write`), shown once on opening."""
    if not store.read_only:
        return None
    if store.media_read_only:
        return "read-only media"
    if store.cannot_write:
        return "read-only: cannot write here"
    return "opened read-only"


def short_root(root: str) -> str:
    home = os.path.expanduser("~")
    if home not in ("", "/") and (root == home or root.startswith(home + os.sep)):
        return "~" + root[len(home) :]
    return root


def age(seconds: float) -> str:
    s = max(0, int(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if s >= size:
            return f"{s // size}{unit} ago"
    return f"{s}s ago"


def cut_left(text: str, width: int) -> str:
    """Keep the end of a path (the store's own name) when space runs out."""
    if width <= 0:
        return ""
    return text if len(text) <= width else "…" + text[-(width - 1) :]


def _count(n: int) -> str:
    """A queue's count before its name; 0 for a flag with no count (sync failing)."""
    return f"{n:,} " if n else ""


def header_content(info: HeaderInfo | None, width: int, now_ns: int) -> Content:
    if info is None:
        return Content.assemble(("brain", "bold"), "  opening the store…")
    ckpt = "—"
    if info.last_checkpoint_ns is not None:
        ckpt = age((now_ns - info.last_checkpoint_ns) / 1e9)
    counts = f"{info.active:,} {'memory' if info.active == 1 else 'memories'}"
    if info.tombstoned and width >= 110:
        counts += f" · {info.tombstoned:,} tombstoned"
    # What waits for a person, long and short: when the line is narrow the short form stays
    # after the memory count has gone.
    waiting = [
        (n, long, short)
        for n, long, short in (
            (info.pending_purges, "purge pending", "purge"),
            (info.pii_pending, "PII held", "PII"),
            (info.proposals_pending, "proposals pending", "prop."),
        )
        if n
    ]
    if info.sync_error:
        waiting.append((0, "sync failing", "sync!"))  # a flag: pane 6 says why
    for n, long, _short in waiting:
        counts += f" · {_count(n)}{long}"
    short_counts = " · ".join(f"{_count(n)}{short}" for n, _long, short in waiting)
    tail: list[str | tuple[str, str]] = [
        ("seq ", "dim"),
        (f"{info.head_seq:,}", "bold"),
        "  ",
        (info.state, STATE_STYLE.get(info.state, "bold")),
        "  ",
    ]
    if info.read_only:
        tail += [(info.read_only, READ_ONLY_STYLE), "  "]
    tail += [("ckpt ", "dim"), ckpt, "  ", counts]
    fixed = len("brain  ") + 2 + sum(len(t if isinstance(t, str) else t[0]) for t in tail)
    room = width - fixed
    shorter = len(counts) - len(short_counts) if short_counts else 0
    if room < 8 and room + shorter < 8 and info.read_only and info.read_only != READ_ONLY:
        # Narrower than the queues' short form allows: "read-only" alone (the note on opening
        # said why) before the counts go.
        tail[tail.index((info.read_only, READ_ONLY_STYLE))] = (READ_ONLY, READ_ONLY_STYLE)
        room += len(info.read_only) - len(READ_ONLY)
        fixed -= len(info.read_only) - len(READ_ONLY)
    if room < 8 and short_counts and room + shorter >= 8:
        tail[-1] = short_counts  # narrow: the queues' short form before the path
        room += shorter
    elif room < 8:  # narrower still: drop the counts before the path
        tail = tail[:-2]
        room = width - fixed + 2 + len(counts)
    root = cut_left(short_root(info.root), max(room, 8))
    return Content.assemble(("brain", "bold $accent"), "  ", (root, "$text-muted"), "  ", *tail)


class StoreHeader(Static):
    """Line one of every pane."""

    DEFAULT_CLASSES = "store-header"

    def on_mount(self) -> None:
        self.watch(self.app, "header_info", self._repaint, init=True)
        self.set_interval(30, self._repaint)  # the checkpoint age ages; one wake-up per 30 s

    def _now(self) -> int:
        return shell(self).now()

    def _repaint(self, _info: object = None) -> None:
        info = shell(self).header_info
        self.update(header_content(info, self.size.width or 80, self._now()), layout=False)

    def on_resize(self) -> None:
        self._repaint()


def tabs_content(current: str) -> Content:
    parts: list[Content | str] = []
    for key, pane, label in PANES:
        style = "reverse bold" if pane == current else ""
        text = Content.assemble((f" {key} {label} ", style))
        parts.append(text.stylize(f"@click=app.pane('{pane}')"))
    return Content.assemble(*parts)


class PaneTabs(Horizontal):
    """Line two: the six panes (current one highlighted) and what a worker is doing."""

    DEFAULT_CLASSES = "pane-tabs"

    def __init__(self, current: str) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        yield Static(tabs_content(self.current), classes="tabs")
        yield Static("", classes="activity")

    def on_mount(self) -> None:
        self.watch(self.app, "activity", self._activity, init=True)

    def on_resize(self) -> None:
        self._activity()

    def _activity(self, _value: object = None) -> None:
        """The activities as they are when they fit, else in short forms (80 columns leave
        them ~18 cells: "capture: 1 folder" alone would hide the door's count)."""
        box = self.query_one(".activity", Static)
        text = shell(self).activity
        if cell_len(text) > box.content_region.width:
            text = shell(self).activity_short
        box.update(Content(text), layout=False)
