"""A pane whose content arrives with a later issue: it says what it will hold."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Markdown

from screens.pane import PaneScreen


class PlaceholderPane(PaneScreen):
    BODY = ""

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(classes="placeholder-body"):
            yield Markdown(self.BODY, classes="placeholder-text")

    def on_mount(self) -> None:
        self.bar.show("(not built yet)")
        self.query_one(VerticalScroll).focus()


class MemoriesPlaceholder(PlaceholderPane):
    """Shown until the memory browser (screens/memories.py) is installed."""

    PANE = "memories"
    TITLE_TEXT = "Memories"
    BODY = """\
This pane will hold the **memory browser**: a kind/folder tree with counts, a virtual list
with tier, sync class and state, search, a Markdown preview, version history with diffs,
and actions to write, edit, move, tombstone and purge memories.
"""
