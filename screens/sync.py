"""Pane 6: sync (its content arrives with the sync issue)."""

from __future__ import annotations

from screens.placeholder import PlaceholderPane


class SyncScreen(PlaceholderPane):
    PANE = "sync"
    TITLE_TEXT = "Sync"
    BODY = """\
This pane will hold **sync**: what this store shares, with whom, and what is pending.

- each remote with its last push and pull, and rows waiting in each direction;
- counts per sync class (`private` memories never leave this store);
- conflicts to resolve (`sync.conflict`) and purges still to propagate.

It arrives with the sync issue.
"""
