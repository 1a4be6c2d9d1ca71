"""A memory's history from the audit chain (following moves), with a diff between versions.

`space` marks a version, `d` diffs the marked one (or the previous version) against the row
under the cursor. Bodies come from `store.version(path, seq)`; reading them is not an access.
The history is read again whenever the index head moves: new rows appear, and the versions a
purge destroyed leave the screen (a diff showing one is cleared).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Static

from core.errors import NotFound
from core.models import Row
from screens.memories.common import store_of, touched_since
from widgets.diff_view import DiffView
from widgets.header import StoreHeader
from widgets.key_footer import KeyFooter
from widgets.shell import shell
from widgets.status import guarded

NS = 1_000_000_000


def when(ts_ns: int) -> str:
    return _dt.datetime.fromtimestamp(ts_ns // NS, tz=_dt.UTC).strftime("%Y-%m-%d %H:%M")


def detail(row: Row) -> str:
    if row.op == "move":
        return f"from {row.extra.get('from', '?')}"
    if row.op == "delete":
        mode = row.extra.get("mode", "")
        return f"{mode} ({row.extra['reason']})" if "reason" in row.extra else mode
    if row.commit:
        return f"commit {row.commit[:10]}"
    return ""


def carry_across_moves(
    rows: list[Row], bodies: dict[int, str], metas: dict[int, dict[str, str]]
) -> None:
    """A move carries the body of the row before it (a put, or an earlier move) without
    archiving a copy, so that row has no version of its own in the store: its body is the
    move's (the next version row)."""
    written = [r for r in rows if r.op in ("put", "move")]
    for i in range(len(written) - 2, -1, -1):  # backwards: a put before two moves works too
        row, after = written[i], written[i + 1]
        if row.seq not in bodies and after.op == "move":
            if after.seq in bodies:
                bodies[row.seq] = bodies[after.seq]
                metas[row.seq] = metas.get(after.seq, {})


class HistoryScreen(Screen):
    BINDINGS = [
        Binding("escape,q", "back", "Back", id="history.back"),
        Binding("space", "mark", "Mark", id="history.mark"),
        Binding("d", "diff", "Diff", id="history.diff"),
        Binding("j", "down", "Down", show=False, id="history.down"),
        Binding("k", "up", "Up", show=False, id="history.up"),
    ]

    @dataclass(eq=False)
    class Loaded(Message):
        rows: list[Row]
        bodies: dict[int, str]
        metas: dict[int, dict[str, str]]

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self.rows: list[Row] = []
        self.bodies: dict[int, str] = {}
        self.metas: dict[int, dict[str, str]] = {}
        self.marked: int | None = None
        self.shown: tuple[int, int] | None = None  # the versions the diff shows
        self.seen = 0  # the index head the history was last read at

    def compose(self) -> ComposeResult:
        yield StoreHeader()
        yield Static(
            Content.assemble(("History", "bold"), "  ", (self.path, "dim")), id="history-title"
        )
        yield DataTable(id="history-table", cursor_type="row", zebra_stripes=False)
        yield DiffView(id="history-diff")
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(" ", "seq", "when (UTC)", "op", "actor", "detail")
        table.focus()
        self.seen = shell(self).index_head
        self._load()
        self.watch(self.app, "index_head", self._head_moved, init=False)

    def _head_moved(self, _head: object = None) -> None:
        """Read the history (and every version's body) again only when a row since the last
        read names this memory."""
        if not self.is_attached:
            return
        seen, self.seen = self.seen, shell(self).index_head
        if touched_since(self, self.path, seen):
            self._load()

    @work(thread=True, exclusive=True, group="history", exit_on_error=False)
    @guarded("loading the history")
    def _load(self) -> None:
        store = store_of(self)
        rows = store.history(self.path)
        bodies: dict[int, str] = {}
        metas: dict[int, dict[str, str]] = {}
        for r in rows:
            if r.op not in ("put", "move"):
                continue
            try:
                mem = store.version(self.path, r.seq)
            except NotFound:
                continue  # a version a later move re-labelled, or one a purge destroyed
            bodies[r.seq] = mem.body.decode("utf-8", "replace")
            side = mem.sidecar
            metas[r.seq] = {
                "title": side.title,
                "category": side.category,
                "tags": " ".join(side.tags),
                "sync_class": side.sync_class,
                "classification": side.classification,
            }
        carry_across_moves(rows, bodies, metas)
        self.post_message(self.Loaded(rows, bodies, metas))

    def on_history_screen_loaded(self, message: Loaded) -> None:
        first = not self.rows
        self.rows, self.bodies, self.metas = message.rows, message.bodies, message.metas
        if self.marked is not None and self.marked not in self.bodies:
            self.marked = None
        if self.shown is not None and not set(self.shown) <= self.bodies.keys():
            self.shown = None
            self.query_one(DiffView).message("the versions shown are gone (purged)")
        self._fill()
        table = self.query_one(DataTable)
        if self.rows and first:
            table.move_cursor(row=len(self.rows) - 1)
        n, versions = len(self.rows), len(self.bodies)
        title = Content.assemble(
            (
                f"{n} row{'s' if n != 1 else ''}, {versions} version{'s' if versions != 1 else ''}",
                "bold",
            ),
            ("  ", ""),
            (self.path, "dim"),
        )
        self.query_one("#history-title", Static).update(title)

    def _fill(self) -> None:
        table = self.query_one(DataTable)
        cursor = table.cursor_row
        table.clear()
        for r in self.rows:
            mark = "*" if r.seq == self.marked else ""
            table.add_row(mark, str(r.seq), when(r.ts_ns), r.op, r.actor, detail(r), key=str(r.seq))
        if self.rows:
            table.move_cursor(row=min(cursor, len(self.rows) - 1))

    def _current(self) -> Row | None:
        table = self.query_one(DataTable)
        if not self.rows or table.cursor_row < 0:
            return None
        return self.rows[min(table.cursor_row, len(self.rows) - 1)]

    def action_back(self) -> None:
        self.dismiss()

    def action_down(self) -> None:
        self.query_one(DataTable).action_cursor_down()

    def action_up(self) -> None:
        self.query_one(DataTable).action_cursor_up()

    def action_mark(self) -> None:
        row = self._current()
        if row is None:
            return
        if row.seq not in self.bodies:
            self.notify(f"seq {row.seq} ({row.op}) has no body to compare", severity="warning")
            return
        self.marked = None if self.marked == row.seq else row.seq
        self._fill()

    def action_diff(self) -> None:
        row = self._current()
        if row is None or row.seq not in self.bodies:
            what = f"seq {row.seq} ({row.op})" if row is not None else "this row"
            self.notify(f"{what} has no body to compare (purged)", severity="warning")
            return
        base = self.marked
        if base is None or base == row.seq:
            earlier = [s for s in self.bodies if s < row.seq]
            base = max(earlier) if earlier else None
        if base is None:
            self.query_one(DiffView).message(
                f"seq {row.seq} is the first version: nothing before it"
            )
            return
        old, new = sorted((base, row.seq))
        self.shown = (old, new)
        self.query_one(DiffView).show(
            self.bodies[old],
            self.bodies[new],
            f"seq {old}",
            f"seq {new}",
            meta=(self.metas.get(old, {}), self.metas.get(new, {})),
        )
