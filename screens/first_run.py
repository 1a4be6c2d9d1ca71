"""No store where `brain` looked: offer to create one there, or to open the demo."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Static

from widgets.header import short_root
from widgets.key_footer import KeyFooter


class FirstRunScreen(Screen[None]):
    BINDINGS = [
        Binding("c", "choose('create')", "Create store here", id="first_run.create"),
        Binding("d", "choose('demo')", "Open the demo", id="first_run.demo"),
    ]

    @dataclass(eq=False)
    class Chosen(Message):
        choice: str

    def __init__(self, root: str, demo_root: str | None) -> None:
        super().__init__()
        self.root = root
        self.demo_root = demo_root
        self.busy = False

    def compose(self) -> ComposeResult:
        with Center():
            with Vertical(id="first-run"):
                yield Static(
                    Content.styled("Welcome to brain", "bold $accent"), id="first-run-title"
                )
                yield Static(
                    Content.assemble(
                        "There is no store at ",
                        (short_root(self.root), "bold"),
                        " yet.\nA store is a folder holding your memories and their"
                        " append-only, verifiable audit log.",
                    ),
                    id="first-run-text",
                )
                yield Button("c  Create a store here", id="first-run-create", variant="primary")
                demo = "d  Open the demo"
                yield Button(demo, id="first-run-demo", disabled=self.demo_root is None)
                where = short_root(self.demo_root) if self.demo_root else "unavailable"
                yield Static(
                    Content.assemble(("the demo store lives at ", "dim"), (where, "dim")),
                    id="first-run-demo-where",
                )
                yield Static("", id="first-run-status")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#first-run-create", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_choose("create" if event.button.id == "first-run-create" else "demo")

    def action_choose(self, choice: str) -> None:
        if self.busy or (choice == "demo" and self.demo_root is None):
            return
        self.set_busy(
            True, "creating the store…" if choice == "create" else "building the demo store…"
        )
        self.post_message(self.Chosen(choice))

    def set_busy(self, busy: bool, text: str = "") -> None:
        self.busy = busy
        for button in self.query(Button):
            button.disabled = busy or (button.id == "first-run-demo" and self.demo_root is None)
        self.query_one("#first-run-status", Static).update(text)
