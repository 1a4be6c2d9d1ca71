"""Every message the workstation passes, in one place.

The app-level ones are defined here: brain_tui workers post them to the `App`. Panes may not
import `brain_tui` (import contract), so the messages they post up to the shell live in
`widgets.status` and are re-exported below; pane-internal results are nested in the widget or
screen that owns them (`AuditList.PageLoaded`, `AuditList.ScanChunk`, `AuditList.Opened`,
`RowDetailScreen.ChainChecked`, `RowDetailScreen.ProofReady`, `DoctorScreen.Progress`,
`DoctorScreen.Finished`, `FirstRunScreen.Chosen`), Textual's convention for widget messages.
"""

from __future__ import annotations

from pathlib import Path

from textual.message import Message

from core.models import Row
from core.store import Store
from widgets.header import HeaderInfo
from widgets.status import (
    ActivityChanged,
    RebalanceRequested,
    SemanticWanted,
    StoreChanged,
    WorkFailed,
)

__all__ = [
    "ActivityChanged",
    "HeadMoved",
    "IndexHeadLoaded",
    "NoStore",
    "RebalanceRequested",
    "SemanticWanted",
    "StateLoaded",
    "FreezeChecked",
    "StoreChanged",
    "StoreOpenFailed",
    "StoreOpened",
    "WatchFailed",
    "WorkFailed",
    "SemanticStateChanged",
    "EmbedFinished",
    "Rebalanced",
]


class StoreOpened(Message):
    """The store is open (found, created, or the demo built): the panes can be installed."""

    def __init__(
        self, store: Store, note: str = "", tail: tuple[int, list[Row]] | None = None
    ) -> None:
        super().__init__()
        self.store = store
        self.note = note
        self.tail = tail  # (newest seq in the index, rows up to it), read as it opened


class NoStore(Message):
    """Nothing at the resolved root: show the first-run screen."""

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root


class StoreOpenFailed(Message):
    def __init__(self, root: Path, error: BaseException, doing: str) -> None:
        super().__init__()
        self.root = root
        self.error = error
        self.doing = doing


class StateLoaded(Message):
    """A fresh `store.state()`, reduced to what the header shows."""

    def __init__(self, info: HeaderInfo | None, lagging: bool = False) -> None:
        super().__init__()
        self.info = info
        self.lagging = lagging  # the index is behind HEAD: ask again in a moment


class FreezeChecked(Message):
    """`store.frozen()` read by the header's poll: (state, why), or None when writes are
    accepted. A change makes the app read the whole state (the header's one source)."""

    def __init__(self, frozen: tuple[str, str] | None) -> None:
        super().__init__()
        self.frozen = frozen


class HeadMoved(Message):
    """The watcher saw HEAD replaced: the end of the log moved (possibly many rows)."""


class IndexHeadLoaded(Message):
    """The newest seq the shared index holds (None: the read failed), HEAD's seq, and the
    newest rows from a page boundary up to seq (for the audit tail)."""

    def __init__(self, seq: int | None, head: int, tail: list[Row] | None = None) -> None:
        super().__init__()
        self.seq, self.head, self.tail = seq, head, tail or []


class WatchFailed(Message):
    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error


class SemanticStateChanged(Message):
    """The embedding model: "warming", "ready", "unavailable" (extra not installed; `detail` is
    the install hint) or "failed" (`detail` says why)."""

    def __init__(self, state: str, detail: str = "") -> None:
        super().__init__()
        self.state = state
        self.detail = detail


class EmbedFinished(Message):
    """One embedding pass ended (stored vectors, or error set)."""

    def __init__(self, stored: int, error: BaseException | None = None) -> None:
        super().__init__()
        self.stored = stored
        self.error = error


class Rebalanced(Message):
    """A tier rebalance ended: the engine's result (counts and moves), or error set."""

    def __init__(
        self, result: dict[str, int] | None, manual: bool, error: BaseException | None = None
    ) -> None:
        super().__init__()
        self.result = result
        self.manual = manual
        self.error = error
