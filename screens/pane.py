"""What every pane has: the store header, the pane tabs, its body, and the footer."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Static

from widgets.header import PaneTabs, StoreHeader
from widgets.key_footer import KeyFooter


class PaneBar(Static):
    """The pane's title on the left and what it is showing right now."""

    DEFAULT_CLASSES = "pane-bar"

    def __init__(self, title: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.title = title

    def on_mount(self) -> None:
        self.show("")

    def show(self, status: str | Content) -> None:
        # One line, fixed height: repaint only; a layout pass costs ~30 ms on a busy screen.
        self.update(Content.assemble((self.title, "bold"), "  ", status), layout=False)


class PaneScreen(Screen):
    """Subclasses set PANE (the id in widgets.header.PANES) and TITLE_TEXT, and add a body."""

    PANE = ""
    TITLE_TEXT = ""

    def compose(self) -> ComposeResult:
        yield StoreHeader()
        yield PaneTabs(self.PANE)
        yield PaneBar(self.TITLE_TEXT, id="pane-bar")
        yield from self.compose_body()
        yield KeyFooter()

    def compose_body(self) -> ComposeResult:
        yield from ()

    @property
    def bar(self) -> PaneBar:
        return self.query_one("#pane-bar", PaneBar)
