"""Pane 1: the live audit tail (virtual list, follow, filter, row detail, proofs)."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input

from core.read_types import Row
from core.store import Store
from screens.pane import PaneScreen
from screens.row_detail import RowDetailScreen
from widgets.audit_list import AuditList
from widgets.audit_pager import PAGE_SIZE, AuditFilter, parse_filter
from widgets.shell import shell
from widgets.status import WorkFailed

FILTER_HINT = "op:put actor:human:ana path:memories/decisions"
FILTER_KEYS = "enter apply · esc close · empty shows all"


def row_json(row: Row) -> str:
    return msgspec.json.format(msgspec.json.encode(row), indent=2).decode()


class AuditScreen(PaneScreen):
    PANE = "audit"
    TITLE_TEXT = "Audit tail"
    BINDINGS = [
        Binding("slash", "filter", "Filter", id="audit.filter"),
        Binding("f", "toggle_follow", "Follow", id="audit.follow"),
        Binding("p", "prove", "Prove", id="audit.prove"),
        Binding("c", "copy_row", "Copy row", id="audit.copy"),
        Binding("y", "copy_path", "Copy path", show=False, id="audit.copy_path"),
        Binding("escape", "escape", "Close filter", show=False, id="audit.escape"),
    ]

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.probed = False  # the newest seq is known (the first screenful can draw)
        self._debounce: Timer | None = None

    def compose_body(self) -> ComposeResult:
        yield AuditList(self._fetch, id="audit-list")
        yield Input(placeholder=FILTER_HINT, id="audit-filter", classes="filter-input")

    def _fetch(self, after: int, limit: int, filt: AuditFilter) -> list[Row]:
        # Runs in a worker thread: the reader hands each thread its own SQLite connection.
        return self.store.audit_page(
            after,
            limit,
            op=filt.op or None,
            actor=filt.actor or None,
            path_prefix=filt.path_prefix or None,
        )

    @property
    def audit_list(self) -> AuditList:
        return self.query_one(AuditList)

    @dataclass(eq=False)
    class HeadProbed(Message):
        seq: int
        tail: list[Row]

    def on_mount(self) -> None:
        lst = self.audit_list
        app = shell(self)
        if app.tail_read:
            self.probed = True  # the shell read the newest rows as it opened the store
        else:
            # The header's full state (counts) can take a moment on a big store; the tail
            # only needs the newest rows, an indexed lookup away: it draws without waiting.
            job, group = self._probe_head, "audit-head"
            self.run_worker(job, thread=True, group=group, exit_on_error=False)
        # The shell reads the index's newest rows on every HEAD move (and after the header's
        # state): the tail moves with those rows in hand, never to placeholders.
        self.watch(self.app, "index_head", self._index_moved, init=True)
        for name in ("total", "cursor", "follow", "scanning"):
            self.watch(lst, name, self._update_bar, init=False)
        self._update_bar()
        lst.focus()

    def _probe_head(self) -> None:
        store = self.store
        try:
            head = store.indexed_seq()
            # The page the tail opens on, read here too: the first screenful of a big ledger
            # then draws in the frame that learns its size, not one worker round trip later.
            after = (max(0, head - 1) // PAGE_SIZE) * PAGE_SIZE
            tail = store.audit_page(after, PAGE_SIZE) if head else []
        except Exception as e:  # noqa: BLE001 - the header's refresh will bring the head
            self.post_message(WorkFailed("reading the newest audit row", e))
            return
        self.post_message(self.HeadProbed(head, tail))

    def on_audit_screen_head_probed(self, message: HeadProbed) -> None:
        self.probed = True
        lst = self.audit_list
        if message.seq >= lst.total and not lst.filter.active:
            lst.set_head(message.seq, message.tail)

    def _index_moved(self, seq: int) -> None:
        if seq >= self.audit_list.total:
            self.audit_list.set_head(seq, shell(self).index_tail)

    def _update_bar(self, _value: object = None) -> None:
        lst = self.audit_list
        state = ("following", "bold $success") if lst.follow else ("paused", "bold $warning")
        where = f"row {lst.cursor + 1:,} of {lst.total:,}" if lst.total else "no rows"
        parts: list[str | tuple[str, str]] = [state, "  ", where]
        if lst.filter.active:
            parts += ["  ", ("filter ", "dim"), (lst.filter.describe(), "$accent")]
        if lst.scanning:
            parts += ["  ", ("scanning…", "dim")]
        self.bar.show(Content.assemble(*parts))

    # -- follow and filter ---------------------------------------------------------------

    def action_toggle_follow(self) -> None:
        lst = self.audit_list
        lst.follow = not lst.follow
        self.notify("following new rows" if lst.follow else "follow paused", timeout=2)

    def action_filter(self) -> None:
        box = self.query_one("#audit-filter", Input)
        box.add_class("-open")
        box.border_title = "filter the tail"
        box.border_subtitle = FILTER_KEYS
        box.value = self.audit_list.filter.describe()
        box.focus()

    def action_escape(self) -> None:
        box = self.query_one("#audit-filter", Input)
        if box.has_class("-open"):
            self._close_filter()
        elif self.audit_list.filter.active:
            self.audit_list.set_filter(AuditFilter())
            self._update_bar()

    def _close_filter(self) -> None:
        box = self.query_one("#audit-filter", Input)
        box.remove_class("-open")
        box.border_subtitle = ""
        self.audit_list.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id != "audit-filter":
            return
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(0.25, lambda: self._apply_filter(event.value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "audit-filter":
            return
        if self._debounce is not None:
            self._debounce.stop()
        if self._apply_filter(event.value):
            self._close_filter()

    def _apply_filter(self, text: str) -> bool:
        box = self.query_one("#audit-filter", Input)
        try:
            filt = parse_filter(text)
        except ValueError as e:
            box.border_subtitle = str(e)
            box.add_class("-invalid")
            return False
        box.border_subtitle = FILTER_KEYS
        box.remove_class("-invalid")
        if filt != self.audit_list.filter:
            self.audit_list.set_filter(filt)
            self._update_bar()
        return True

    # -- rows ----------------------------------------------------------------------------

    def on_audit_list_opened(self, event: AuditList.Opened) -> None:
        self.app.push_screen(RowDetailScreen(self.store, event.row))

    def action_prove(self) -> None:
        row = self.audit_list.current_row()
        if row is None:
            self.notify("no row under the cursor yet", severity="warning")
            return
        self.app.push_screen(RowDetailScreen(self.store, row, prove_now=True))

    def action_copy_row(self) -> None:
        row = self.audit_list.current_row()
        if row is not None:
            self.app.copy_to_clipboard(row_json(row))
            self.notify(f"copied row {row.seq} (JSON)", timeout=2)

    def action_copy_path(self) -> None:
        row = self.audit_list.current_row()
        if row is not None and row.path:
            self.app.copy_to_clipboard(row.path)
            self.notify(f"copied {row.path}", timeout=2)
