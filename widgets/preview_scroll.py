"""The memory browser's preview: a scroll box with the list's vim keys, so that `tab` only
stops on panels whose keys work (arrows alone looked like a dead stop)."""

from __future__ import annotations

from textual.binding import Binding
from textual.containers import VerticalScroll


class PreviewScroll(VerticalScroll):
    BINDINGS = [
        Binding("j", "scroll_down", "Down", show=False, id="memories.preview.down"),
        Binding("k", "scroll_up", "Up", show=False, id="memories.preview.up"),
        Binding("g", "scroll_home", "Top", show=False, id="memories.preview.top"),
        Binding("G", "scroll_end", "Bottom", show=False, id="memories.preview.bottom"),
        Binding("space", "page_down", "Page down", id="memories.preview.page"),
    ]
