"""The keyboard of every virtual list: vim keys beside the arrows, ids for remapping."""

from __future__ import annotations

from textual.binding import Binding, BindingType


def list_bindings(prefix: str, open_note: str = "", unit: str = "") -> list[BindingType]:
    """j/k, page, g/G and enter, with ids `<prefix>.down` … for the user's keymap."""
    return [
        Binding("j,down", "move(1)", "Down", show=False, id=f"{prefix}.down"),
        Binding("k,up", "move(-1)", "Up", show=False, id=f"{prefix}.up"),
        Binding("pagedown,ctrl+d", "page(1)", "Page down", show=False, id=f"{prefix}.page_down"),
        Binding("pageup,ctrl+u", "page(-1)", "Page up", show=False, id=f"{prefix}.page_up"),
        Binding("g,home", "first", f"First {unit}".strip(), show=False, id=f"{prefix}.first"),
        Binding("G,end", "last", f"Last {unit}".strip(), show=False, id=f"{prefix}.last"),
        # The footer shows "Open"; the help adds the note (what opening also does).
        Binding("enter", "open", "Open", id=f"{prefix}.open", tooltip=open_note),
    ]
