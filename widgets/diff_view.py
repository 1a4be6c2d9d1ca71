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


def meta_lines(old: dict[str, str], new: dict[str, str]) -> list[str]:
    """Field changes between two versions' sidecars, as -/+ pairs."""
    out = []
    for key in old.keys() | new.keys():
        a, b = old.get(key, ""), new.get(key, "")
        if a != b:
            out += [f"-{key}: {a}", f"+{key}: {b}"]
    return sorted(out, key=lambda line: (line[1:].split(":")[0], line[0] == "+"))


def render(lines: list[str], meta: list[str] | None = None, title: str = "") -> Text:
    out = Text(no_wrap=False)
    added = sum(1 for x in lines if x.startswith("+") and not x.startswith("+++"))
    removed = sum(1 for x in lines if x.startswith("-") and not x.startswith("---"))
    if title:
        out.append(f"{title}  ", style="bold")
        out.append(f"+{added} ", style="green")
        out.append(f"-{removed}", style="red")
        out.append("  lines in the body\n")
    if meta:
        out.append("metadata\n", style="bold")
        for line in meta:
            out.append(line + "\n", style="green" if line.startswith("+") else "red")
    if not lines:
        out.append("the body is the same in both versions\n", style="dim italic")
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
        hint = Text("space marks a version, d diffs it with the row under the cursor", style="dim")
        yield Static(hint, id="diff-text")

    def show(
        self,
        old: str,
        new: str,
        old_label: str,
        new_label: str,
        meta: tuple[dict[str, str], dict[str, str]] | None = None,
    ) -> int:
        """Show the diff; returns the number of changed body lines."""
        lines = unified(old, new, old_label, new_label)
        fields = meta_lines(*meta) if meta else []
        text = render(lines, fields, title=f"{old_label} → {new_label}")
        self.query_one("#diff-text", Static).update(text)
        self.scroll_home(animate=False)
        return sum(1 for x in lines if x[:1] in "+-" and x[:3] not in ("+++", "---"))

    def message(self, text: str) -> None:
        self.query_one("#diff-text", Static).update(Text(text, style="dim"))
