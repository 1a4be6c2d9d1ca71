"""The memory browser's preview: the meta lines and the body of the row under the cursor,
read without an actor (a scrolled preview is not an access).

Debounced: a cursor at rest loads at once, a cursor moving fast loads at most once every
`DEBOUNCE_S` (the newest row when the timer fires), so holding `j` does not read every memory
it passes. A load that comes back for a row the cursor has left is dropped, and the old body
goes as soon as the cursor leaves its row: the meta lines never name one memory over another's
body. A short body is rendered as Markdown; a long one as plain text, only its start
(view.body_view): Markdown takes seconds per few hundred blocks.

`show` of the row already shown reads it again (the browser does that when the store changed):
a memory purged, tombstoned or moved meanwhile stops showing its old body, and one that did
not change keeps its place (the box is not scrolled back, nothing is rendered again).
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
from screens.memories.view import PREVIEW_MARKDOWN_MAX, BodyView, body_view, meta_text
from widgets.debounce import Debounced
from widgets.preview_scroll import PreviewScroll
from widgets.status import describe, guarded

DEBOUNCE_S = 0.1


class PreviewPane(Vertical):
    @dataclass(eq=False)
    class Loaded(Message):
        pane: PreviewPane
        path: str
        memory: Memory | None
        accesses: int
        sync_state: str = ""  # store.sync.state_of(path)
        body: BodyView | None = None  # what to render (made in the worker: a body may be MBs)
        error: str = ""  # why memory is None: the engine's own words

        @property
        def control(self) -> PreviewPane:
            return self.pane

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, type(self))  # only the newest preview is shown

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.path: str | None = None  # the row the pane shows (or is loading)
        self.shown: tuple[str, int, str] | None = None  # (path, seq, state) of the body shown
        self._debounced = Debounced(self, DEBOUNCE_S, self._start)

    @property
    def reads(self) -> int:
        """Loads started: a test checks a fast cursor does not read every row."""
        return self._debounced.calls

    def compose(self) -> ComposeResult:
        yield Static("", id="mem-meta")
        with PreviewScroll(id="mem-preview-box"):
            yield Markdown("", id="mem-preview")
            yield Static("", id="mem-preview-text")  # a long body, or why there is none

    def on_mount(self) -> None:
        self.query_one("#mem-preview-text").display = False

    def show(self, row: MemoryRow | None) -> None:
        """Show this row (None: nothing selected) once the cursor rests on it; the row shown
        already is read again."""
        path = row.path if row is not None else None
        if path != self.path:
            self._clear(path)
        self.path = path
        if row is None:
            self._debounced.cancel()
            return
        self._debounced(row)

    def _clear(self, path: str | None) -> None:
        """The cursor left the row shown: its body goes now, not when the next one is read."""
        self.shown = None
        self.query_one("#mem-meta", Static).update(
            Content.assemble((path, "bold"), ("\nreading…", "dim")) if path else ""
        )
        self._set_body(BodyView(""))

    def _set_body(self, body: BodyView) -> None:
        md = self.query_one("#mem-preview", Markdown)
        text = self.query_one("#mem-preview-text", Static)
        if body.markdown is not None:
            text.display = False
            text.update("")
            md.display = True
            md.update(body.markdown)
        else:
            if md.source:
                md.update("")
            md.display = False
            text.update(body.text or "")
            text.display = True

    def _start(self, row: MemoryRow) -> None:
        self._load(row.path, row.accesses)

    @work(thread=True, exclusive=True, group="mem-preview", exit_on_error=False)
    @guarded("loading the preview")
    def _load(self, path: str, accesses: int) -> None:
        store = store_of(self)
        try:
            memory = store.view(path)  # no actor: not an access
        except BrainError as e:  # purged, moved, a damaged sidecar: the engine says which
            self.post_message(self.Loaded(self, path, None, accesses, error=describe(e)))
            return
        state = ""
        try:
            state = store.sync.state_of(path)
        except BrainError:
            state = ""  # a damaged sync queue: the preview still shows the memory
        body = body_view(memory, PREVIEW_MARKDOWN_MAX)
        self.post_message(self.Loaded(self, path, memory, accesses, state, body))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        message.stop()
        if message.path != self.path:
            return  # the cursor moved on meanwhile
        meta = self.query_one("#mem-meta", Static)
        memory = message.memory
        if memory is None or message.body is None:
            self.shown = None
            meta.update(Content.styled(message.path, "bold"))
            self._set_body(BodyView(None, Content.styled(message.error, "$warning")))
            return
        count = message.accesses if message.accesses >= 0 else None
        meta.update(meta_text(memory, count, lines=2, sync_state=message.sync_state))
        key = (memory.path, memory.sidecar.seq, memory.sidecar.state)
        if key == self.shown:
            return  # read again, unchanged: the body stays as it is, and where it was scrolled
        self.shown = key
        self._set_body(message.body)
        self.query_one(PreviewScroll).scroll_home(animate=False)
