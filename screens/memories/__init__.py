"""Pane 2, the memory browser, as a package of child widgets that talk by messages.

`screen` composes them: `preview` (the debounced preview), `search` (the box and its mode),
`similar` (the "similar memories" panel), `tiers` (the summary and the tier filter) and
`row_actions` (what a key does to the selected row: dialogs and writes). `view`, `history`,
`editor` and `modals` are the screens it pushes; `common` is what they ask of the shell.
"""

from screens.memories.screen import MemoriesScreen

__all__ = ["MemoriesScreen"]
