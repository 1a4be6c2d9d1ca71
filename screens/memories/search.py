"""The memory browser's search box and its mode (lexical, semantic, hybrid; `M` or `ctrl+t`).

The model belongs to the app, which warms it after the first frame and reports
`semantic_state` ("off", "warming", "ready", "unavailable", "failed"); searches stay lexical
until it is ready, then turn hybrid unless the person chose a mode. Without the semantic extra
the app shows the install hint once; here the toggle only rings the bell.

`enter` posts `Query` (or `Cleared` for an empty box) and keeps the focus here, so letters
typed next edit the query and never run the list's one-letter commands.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.message import Message
from textual.widgets import Input

from widgets.search_input import SearchInput
from widgets.shell import shell
from widgets.status import SemanticWanted

MODES = ("lexical", "semantic", "hybrid")
UNUSABLE = ("unavailable", "failed")


class SearchBox(SearchInput):
    @dataclass(eq=False)
    class Query(Message):
        box: SearchBox
        text: str

        @property
        def control(self) -> SearchBox:
            return self.box

    @dataclass(eq=False)
    class Cleared(Message):
        box: SearchBox

        @property
        def control(self) -> SearchBox:
            return self.box

    @dataclass(eq=False)
    class ModeChanged(Message):
        """The mode or the model's state changed: the bar says so, results are searched again."""

        box: SearchBox
        state: str

        @property
        def control(self) -> SearchBox:
            return self.box

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(placeholder="search memories", id=id, classes=classes)
        self.mode = "lexical"
        self._chosen = False  # the person picked a mode: the model getting warm leaves it alone
        self._awaiting_focus = False
        self.border_subtitle = "enter search · ↓ results · ctrl+t mode · esc clears"

    def on_mount(self) -> None:
        self.watch(self.app, "semantic_state", self._semantic_changed, init=True)

    @property
    def state(self) -> str:
        return shell(self).semantic_state

    @property
    def is_open(self) -> bool:
        return self.has_class("-open")

    @property
    def awaiting_focus(self) -> bool:
        """Opened, and no key has reached the box itself yet: the focus lands after the keys
        already queued (a fast typist's or a paste's `/query enter`), which the app hands
        here. The first key the box gets itself, or leaving it, ends that."""
        return self._awaiting_focus

    def open(self) -> None:
        self.add_class("-open")
        self._awaiting_focus = True
        # A query already there is selected (typing replaces it); an empty box may receive
        # type-ahead before the focus arrives, which selecting would make the next key replace.
        self.select_on_focus = bool(self.value)
        self.focus()

    def on_key(self) -> None:
        self._awaiting_focus = False

    def on_blur(self) -> None:
        self._awaiting_focus = False

    async def type_ahead(self, key: str, character: str | None) -> bool:
        """Take a key that reached the list before the focus reached this box."""
        if key == "enter":
            await self.action_submit()
        elif key == "backspace":
            self.action_delete_left()
        elif character is not None and character.isprintable():
            self.insert_text_at_cursor(character)
        else:
            return False
        return True

    def close(self) -> None:
        self.value = ""
        self._awaiting_focus = False
        self.remove_class("-open")

    def _semantic_changed(self, state: str) -> None:
        if state == "ready" and not self._chosen:
            self.mode = "hybrid"
        elif state in UNUSABLE:
            self.mode = "lexical"
        self._show_mode()
        self.post_message(self.ModeChanged(self, state))

    def cycle_mode(self) -> bool:
        """The next mode; False (and the bell) when lexical is all there is."""
        state = self.state
        if state in UNUSABLE:
            self.app.bell()  # the app said why, once
            self._show_mode()
            return False
        self.mode = MODES[(MODES.index(self.mode) + 1) % len(MODES)]
        self._chosen = True
        if self.mode != "lexical" and state == "off":
            self.post_message(SemanticWanted())
        self._show_mode()
        return True

    def mode_label(self) -> str:
        state = self.state
        if state == "unavailable":
            return "lexical (semantic not installed)"
        if state == "failed":
            return "lexical (semantic unavailable)"
        if self.mode != "lexical" and state != "ready":
            return f"{self.mode} (model loading…)"
        return self.mode

    def _show_mode(self) -> None:
        self.border_title = f"search · {self.mode_label()}"

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = " ".join(event.value.split())
        self.post_message(self.Query(self, text) if text else self.Cleared(self))
