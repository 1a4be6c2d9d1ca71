"""The memory browser's preview: the meta lines and the Markdown body of the row under the
cursor, read without an actor (a scrolled preview is not an access).

Debounced: a cursor at rest loads at once, a cursor moving fast loads at most once every
`DEBOUNCE_S` (the newest row when the timer fires), so holding `j` does not read every memory
it passes. A load that comes back for a row the cursor has left is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Markdown, Static

from core.errors import BrainError
from core.models import Memory
from core.read_types import MemoryRow
from screens.memories.common import store_of
from screens.memories.view import body_markdown, meta_text
from widgets.debounce import Debounced
from widgets.preview_scroll import PreviewScroll
from widgets.status import guarded

DEBOUNCE_S = 0.1


class PreviewPane(Vertical):
    @dataclass(eq=False)
    class Loaded(Message):
        pane: PreviewPane
        path: str
        memory: Memory | None
        accesses: int
        sync_state: str = ""  # store.sync.state_of(path)

        @property
        def control(self) -> PreviewPane:
            return self.pane

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, type(self))  # only the newest preview is shown

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.path: str | None = None  # the row the pane shows (or is loading)
        self._debounced = Debounced(self, DEBOUNCE_S, self._start)

    @property
    def reads(self) -> int:
        """Loads started: a test checks a fast cursor does not read every row."""
        return self._debounced.calls

    def compose(self) -> ComposeResult:
        yield Static("", id="mem-meta")
        with PreviewScroll(id="mem-preview-box"):
            yield Markdown("", id="mem-preview")

    def show(self, row: MemoryRow | None) -> None:
        """Show this row (None: nothing selected) once the cursor rests on it."""
        self.path = row.path if row is not None else None
        if row is None:
            self._debounced.cancel()
            self.query_one("#mem-meta", Static).update("")
            self.query_one("#mem-preview", Markdown).update("")
            return
        self._debounced(row)

    def _start(self, row: MemoryRow) -> None:
        self._load(row.path, row.accesses)

    @work(thread=True, exclusive=True, group="mem-preview", exit_on_error=False)
    @guarded("loading the preview")
    def _load(self, path: str, accesses: int) -> None:
        store = store_of(self)
        try:
            memory: Memory | None = store.view(path)  # no actor: not an access
        except BrainError:
            memory = None
        state = ""
        if memory is not None:
            try:
                state = store.sync.state_of(path)
            except BrainError:
                state = ""  # a damaged sync queue: the preview still shows the memory
        self.post_message(self.Loaded(self, path, memory, accesses, state))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        message.stop()
        if message.path != self.path:
            return  # the cursor moved on meanwhile
        meta = self.query_one("#mem-meta", Static)
        md = self.query_one("#mem-preview", Markdown)
        if message.memory is None:
            meta.update(Content(message.path))
            md.update("*Not readable now (moved or purged); press esc to refresh.*")
            return
        count = message.accesses if message.accesses >= 0 else None
        meta.update(meta_text(message.memory, count, lines=2, sync_state=message.sync_state))
        md.update(body_markdown(message.memory))
        self.query_one(PreviewScroll).scroll_home(animate=False)
