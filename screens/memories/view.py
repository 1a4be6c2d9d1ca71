"""A memory opened full-screen (`enter` in the browser). Opening it was journaled as an access
by the browser before this screen was pushed; this screen only shows what it was handed.

Also how a body is shown here and in the browser's preview (`body_view`): Markdown when it
is short, else its first SHOWN_MAX bytes as plain text under a note saying so."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Markdown, Static

from core.models import TOMBSTONE_STUB, Memory
from widgets.header import StoreHeader
from widgets.key_footer import KeyFooter


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

    def __init__(self, memory: Memory, accesses: int | None = None) -> None:
        super().__init__()
        self.memory = memory
        self.accesses = accesses

    def compose(self) -> ComposeResult:
        yield StoreHeader()
        yield Static(meta_text(self.memory, self.accesses), id="view-meta")
        body = body_view(self.memory, VIEW_MARKDOWN_MAX)
        with VerticalScroll(id="view-body"):
            if body.markdown is not None:
                yield Markdown(body.markdown, id="view-markdown")
            else:
                yield Static(body.text or "", id="view-text")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#view-body").focus()

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
