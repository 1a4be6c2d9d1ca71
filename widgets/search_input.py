"""The memory browser's search box: focus stays in it after `enter`, so typed letters edit the
query and never run the list's one-letter commands; `down` (or `tab`) moves to the results."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input


class SearchInput(Input):
    BINDINGS = [
        Binding("down", "results", "Results", id="memories.search.results"),
    ]

    @dataclass
    class ToResults(Message):
        """The person wants the results: the screen focuses the list."""

        search: SearchInput

        @property
        def control(self) -> SearchInput:
            return self.search

    def action_results(self) -> None:
        self.post_message(self.ToResults(self))
