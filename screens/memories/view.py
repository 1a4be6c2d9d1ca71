"""A memory opened full-screen (`enter` in the browser). Opening it was journaled as an access
by the browser before this screen was pushed; this screen shows what it was handed, and reads
the memory again (not an access) whenever the index head moves: a new version replaces it, and
a purge, a move or a delete by any process takes its text off the screen.

Also how a body is shown here and in the browser's preview (`body_view`): Markdown when it
is short, else its first SHOWN_MAX bytes as plain text under a note saying so."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Markdown, Static

from core.errors import NotFound
from core.models import TOMBSTONE_STUB, Memory, Sidecar
from screens.memories.common import store_of, touched_since
from widgets.header import StoreHeader
from widgets.key_footer import KeyFooter
from widgets.shell import shell
from widgets.status import guarded


def sync_text(sync_class: str, state: str) -> str:
    """The sync class and, when it says more, the memory's sync state ("shareable: pushed").
    `local-only` (not joined, or not scanned yet) says nothing the class does not."""
    if not state or state in (sync_class, "local-only"):
        return sync_class
    return f"{sync_class}: {state}"


def meta_text(
    mem: Memory, accesses: int | None = None, *, lines: int = 3, sync_state: str = ""
) -> Text:
    """Path, then what the sidecar says, then who wrote it (folded into two lines if asked).
    `sync_state` (store.sync.state_of) goes beside the sync class."""
    s = mem.sidecar
    out = Text(no_wrap=True, overflow="ellipsis")
    out.append(mem.path, style="bold")
    out.append("\n")
    sync = sync_text(s.sync_class, sync_state)
    bits = [s.kind, s.category or "uncategorised", sync, s.classification, s.state]
    out.append(" · ".join(bits), style="dim")
    who = f"by {s.actor} · seq {s.seq}"
    if accesses is not None:
        who += f" · {accesses} access{'es' if accesses != 1 else ''}"
    out.append(" · " if lines < 3 else "\n")
    out.append(who, style="dim")
    if s.tags:
        out.append("  ")
        out.append(" ".join(s.tags), style="italic")
    return out


# Textual's Markdown mounts a widget per block and lays each out: a few hundred blocks take
# seconds, a 5 MB body minutes and a gigabyte. A body longer than these is shown as plain text
# (a Static: ~0.2 s for 64 KB), and only its first SHOWN_MAX bytes.
PREVIEW_MARKDOWN_MAX = 16 * 1024  # the preview: a glance, while the cursor moves
VIEW_MARKDOWN_MAX = 32 * 1024  # the full view (`enter`)
SHOWN_MAX = 64 * 1024
TOMBSTONED = "*This memory is tombstoned. Its earlier versions stay in its history (`h`).*"


@dataclass(frozen=True)
class BodyView:
    """How a body is shown: as Markdown (short enough), else its start as plain text."""

    markdown: str | None
    text: Content | None = None  # a note on what is shown first, then the text


def size_text(n: int) -> str:
    if n < 1024 * 1024:
        return f"{max(1, round(n / 1024))} KB"
    return f"{n / (1024 * 1024):.1f} MB"


def body_markdown(mem: Memory) -> str:
    if mem.sidecar.state == "tombstoned" or mem.body == TOMBSTONE_STUB:
        return TOMBSTONED
    return mem.body.decode("utf-8", "replace")


def body_view(mem: Memory, markdown_max: int) -> BodyView:
    """What to render of mem's body: all of it as Markdown when it is at most markdown_max
    bytes, else its first SHOWN_MAX bytes as plain text under a note that says so."""
    body = mem.body
    if len(body) <= markdown_max or mem.sidecar.state == "tombstoned":
        return BodyView(body_markdown(mem))
    text = body[:SHOWN_MAX].decode("utf-8", "replace")
    if len(body) > SHOWN_MAX:
        text = text.removesuffix("\ufffd")  # a character cut in two at the limit
        note = (
            f"Showing the first {size_text(SHOWN_MAX)} of {size_text(len(body))}, as plain"
            f" text; `brain view {mem.path}` prints it all."
        )
    else:
        note = f"A long memory ({size_text(len(body))}): shown as plain text."
    return BodyView(None, Content.assemble((note, "italic $warning"), "\n\n", text))


class MemoryViewScreen(Screen):
    BINDINGS = [
        Binding("escape,q", "back", "Back", id="memory.back"),
        Binding("h", "history", "History", id="memory.history"),
        Binding("y", "copy_path", "Copy path", id="memory.copy"),
        Binding("j,down", "scroll(1)", "Down", show=False, id="memory.down"),
        Binding("k,up", "scroll(-1)", "Up", show=False, id="memory.up"),
    ]

    @dataclass(eq=False)
    class Reread(Message):
        path: str
        memory: Memory | None  # None: no memory at the path any more
        why: str = ""  # NotFound's message: purged, moved, deleted

    def __init__(self, memory: Memory, accesses: int | None = None) -> None:
        super().__init__()
        self.memory = memory
        self.accesses = accesses
        self.gone = ""  # why the memory is no longer shown (purged, moved, deleted)
        self.seen = 0  # the index head its text was last read at (0: when opened)

    def compose(self) -> ComposeResult:
        yield StoreHeader()
        yield Static(meta_text(self.memory, self.accesses), id="view-meta")
        with VerticalScroll(id="view-body"):
            yield from self._body()
        yield KeyFooter()

    def _body(self) -> ComposeResult:
        if self.gone:
            yield Static(Content.styled(self.gone, "italic $warning"), id="view-gone")
            return
        body = body_view(self.memory, VIEW_MARKDOWN_MAX)
        if body.markdown is not None:
            yield Markdown(body.markdown, id="view-markdown")
        else:
            yield Static(body.text or "", id="view-text")

    def on_mount(self) -> None:
        self.query_one("#view-body").focus()
        self.seen = shell(self).index_head
        self.watch(self.app, "index_head", self._head_moved, init=False)

    def _head_moved(self, head: int = 0) -> None:
        """Read the memory again only when a row since the last read names it (an agent
        writing other memories fast costs this screen nothing)."""
        if not self.is_attached or self.gone:
            return
        seen, self.seen = self.seen, shell(self).index_head
        if touched_since(self, self.memory.path, seen):
            self._reread(self.memory.path)

    @work(thread=True, exclusive=True, group="memory-view", exit_on_error=False)
    @guarded("reading the memory again")
    def _reread(self, path: str) -> None:
        try:
            self.post_message(self.Reread(path, store_of(self).view(path)))
        except NotFound as e:
            self.post_message(self.Reread(path, None, str(e)))

    @on(Reread)
    async def _reread_done(self, message: Reread) -> None:
        if message.path != self.memory.path or self.gone:
            return
        mem = message.memory
        if mem is not None and mem.sidecar.seq == self.memory.sidecar.seq:
            return
        if mem is None:
            # Whatever took it (a purge above all), its text leaves the screen now.
            self.gone = f"{message.why}. Nothing of it is shown any more; `escape` goes back."
            self.memory = Memory(self.memory.path, b"", Sidecar(kind=self.memory.sidecar.kind))
            self.query_one("#view-meta", Static).update(Text(self.memory.path, style="bold"))
        else:
            self.memory = mem
            self.query_one("#view-meta", Static).update(meta_text(mem, self.accesses))
        box = self.query_one("#view-body", VerticalScroll)
        await box.remove_children()
        await box.mount_all(list(self._body()))

    def action_back(self) -> None:
        self.dismiss()

    def action_scroll(self, delta: int) -> None:
        box = self.query_one("#view-body", VerticalScroll)
        box.scroll_relative(y=delta, animate=False)

    def action_history(self) -> None:
        from screens.memories.history import HistoryScreen

        self.app.push_screen(HistoryScreen(self.memory.path))

    def action_copy_path(self) -> None:
        self.app.copy_to_clipboard(self.memory.path)
        self.notify(f"copied {self.memory.path}", timeout=2)
