"""`?`: every binding, grouped (global, then each pane), with the key as currently mapped.

It opens scrolled to the section of the screen `?` was pressed on (its title is underlined);
the other sections stay one scroll away."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Markdown, Static

Section = tuple[str, list[tuple[str, str]]]


def section_content(title: str, rows: list[tuple[str, str]]) -> Content:
    width = max((len(k) for k, _ in rows), default=4)
    lines = [Content.styled(title, "bold $accent")]
    for keys, what in rows:
        lines.append(Content.assemble((f"  {keys:<{width}}  ", "bold"), what))
    return Content("\n").join(lines)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", id="help.close")]

    def __init__(self, sections: list[Section], intro: str = "", start: str | None = None) -> None:
        super().__init__()
        self.sections = sections
        self.intro = intro
        self.start = start

    def compose(self) -> ComposeResult:
        with Vertical(id="help"):
            yield Static("Keys  (esc closes)", id="help-title")
            with VerticalScroll(id="help-body"):
                for i, (title, rows) in enumerate(self.sections):
                    section = Static(section_content(title, rows), classes="help-section")
                    section.id = f"help-section-{i}"
                    if title == self.start:
                        section.add_class("-current")
                    yield section
                if self.intro:
                    yield Static(Content.styled("About", "bold $accent"), classes="help-about")
                    yield Markdown(self.intro, id="help-intro")

    def on_mount(self) -> None:
        body = self.query_one("#help-body", VerticalScroll)
        body.focus()
        titles = [title for title, _rows in self.sections]
        if self.start in titles:
            section = self.query_one(f"#help-section-{titles.index(self.start)}")
            self.call_after_refresh(body.scroll_to_widget, section, animate=False, top=True)
