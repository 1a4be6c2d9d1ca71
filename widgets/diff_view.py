"""A unified diff between two versions of a memory, coloured (and still readable without colour:
the +/- markers carry the meaning, so NO_COLOR loses nothing)."""

from __future__ import annotations

import difflib

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static


def unified(old: str, new: str, old_label: str, new_label: str, context: int = 3) -> list[str]:
    return list(
        difflib.unified_diff(
            old.splitlines(),
            new.splitlines(),
            fromfile=old_label,
            tofile=new_label,
            n=context,
            lineterm="",
        )
    )


def render(lines: list[str]) -> Text:
    out = Text(no_wrap=False)
    if not lines:
        out.append("no differences in the body", style="dim italic")
        return out
    for line in lines:
        if line.startswith(("+++", "---")):
            style = "bold"
        elif line.startswith("@@"):
            style = "cyan"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        else:
            style = ""
        out.append(line + "\n", style=style)
    return out


class DiffView(VerticalScroll, can_focus=True):
    """Scrollable diff; `show` replaces what it displays."""

    def compose(self):
        yield Static(
            Text("select two versions: space marks one, d diffs", style="dim"), id="diff-text"
        )

    def show(self, old: str, new: str, old_label: str, new_label: str) -> int:
        lines = unified(old, new, old_label, new_label)
        self.query_one("#diff-text", Static).update(render(lines))
        self.scroll_home(animate=False)
        return sum(1 for x in lines if x[:1] in "+-" and x[:3] not in ("+++", "---"))

    def message(self, text: str) -> None:
        self.query_one("#diff-text", Static).update(Text(text, style="dim"))
