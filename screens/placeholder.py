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
