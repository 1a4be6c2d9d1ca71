"""'Similar memories' for the memory the browser's cursor rests on (`s` shows or hides it).

The screen computes the neighbours with `store.similar` in a worker and hands them here;
`enter` on one posts `SimilarPanel.Jump` so the browser moves its cursor there. Messages
(loading, nothing found, semantic search not installed) are shown as one disabled line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option


class SimilarPanel(OptionList):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="memories.similar.down"),
        Binding("k", "cursor_up", "Up", show=False, id="memories.similar.up"),
    ]

    @dataclass(eq=False)
    class Jump(Message):
        """`enter` on a hit: the browser puts its cursor on that memory."""

        panel: SimilarPanel
        path: str

        @property
        def control(self) -> SimilarPanel:
            return self.panel

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.path: str | None = None  # whose neighbours are shown (or being found)
        self.border_title = "similar memories · tab, enter jumps"

    def show_message(self, path: str | None, text: str) -> None:
        self.path = path
        self.clear_options()
        self.add_option(Option(Content.styled(text, "dim italic"), disabled=True))

    def show_hits(self, path: str, hits: list[Any]) -> None:
        """hits: SearchHits (path, title, score), nearest first. The same memory's hits again
        (ranked again after a write elsewhere) keep the highlight on the hit it was on, or
        when that one left, on the line where it was: tabbing through them is not reset."""
        at = self.highlighted if path == self.path else None
        was = self.get_option_at_index(at).id if at is not None else None
        self.path = path
        self.clear_options()
        if not hits:
            self.show_message(path, "no similar memories")
            return
        self.add_options(Option(_hit_line(h), id=h.path) for h in hits)
        ids = [h.path for h in hits]
        self.highlighted = ids.index(was) if was in ids else min(at or 0, len(ids) - 1)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.post_message(self.Jump(self, event.option.id))


def _hit_line(hit: Any) -> Text:
    # One line each, cut with an ellipsis (messages, by contrast, wrap: a hint must be whole).
    line = Text(no_wrap=True, overflow="ellipsis")
    line.append(f"{hit.score:.2f} ", style="dim")
    line.append(hit.title or hit.path.rsplit("/", 1)[-1])
    return line
