"""A memory opened full-screen (`enter` in the browser). Opening it was journaled as an access
by the browser before this screen was pushed; this screen only shows what it was handed."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
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


def body_markdown(mem: Memory) -> str:
    if mem.sidecar.state == "tombstoned" or mem.body == TOMBSTONE_STUB:
        return "*This memory is tombstoned. Its earlier versions stay in its history (`h`).*"
    return mem.body.decode("utf-8", "replace")


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
        with VerticalScroll(id="view-body"):
            yield Markdown(body_markdown(self.memory), id="view-markdown")
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
