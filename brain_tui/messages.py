"""Every message the workstation passes, in one place.

The app-level ones are defined here: brain_tui workers post them to the `App`. Panes may not
import `brain_tui` (import contract), so the messages they post up to the shell live in
`widgets.status` and are re-exported below; pane-internal results are nested in the widget or
screen that owns them (`AuditList.PageLoaded`, `AuditList.ScanChunk`, `AuditList.Opened`,
`RowDetailScreen.ChainChecked`, `RowDetailScreen.ProofReady`, `DoctorScreen.Progress`,
`DoctorScreen.Finished`, `FirstRunScreen.Chosen`), Textual's convention for widget messages.

All are small dataclasses. Those that come in bursts say which pending message a newer one
replaces (`can_replace`): a burst of HEAD moves is one move, a burst of activity for one key
is its newest text, a burst of store changes is one refresh.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    "CaptureEvent",
    "CaptureStarted",
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
    "SyncPassed",
    "EmbedFinished",
    "Rebalanced",
]


@dataclass(eq=False)
class StoreOpened(Message):
    """The store is open (found, created, or the demo built): the panes can be installed."""

    store: Store
    note: str = ""
    tail: tuple[int, list[Row]] | None = None  # (newest seq in the index, rows up to it)


@dataclass(eq=False)
class NoStore(Message):
    """Nothing at the resolved root: show the first-run screen."""

    root: Path


@dataclass(eq=False)
class StoreOpenFailed(Message):
    root: Path
    error: BaseException
    doing: str


@dataclass(eq=False)
class StateLoaded(Message):
    """A fresh `store.state()`, reduced to what the header shows."""

    info: HeaderInfo | None
    lagging: bool = False  # the index is behind HEAD: ask again in a moment


@dataclass(eq=False)
class FreezeChecked(Message):
    """`store.frozen()` read by the header's poll: (state, why), or None when writes are
    accepted. A change makes the app read the whole state (the header's one source)."""

    frozen: tuple[str, str] | None


@dataclass(eq=False)
class HeadMoved(Message):
    """The watcher saw HEAD replaced: the end of the log moved (possibly many rows)."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, HeadMoved)  # a burst of moves is one move


@dataclass(eq=False)
class IndexHeadLoaded(Message):
    """The newest seq the shared index holds (None: the read failed), HEAD's seq, and the
    newest rows from a page boundary up to seq (for the audit tail)."""

    seq: int | None
    head: int
    tail: list[Row] = field(default_factory=list)


@dataclass(eq=False)
class WatchFailed(Message):
    error: BaseException


@dataclass(eq=False)
class SemanticStateChanged(Message):
    """The embedding model: "warming", "ready", "unavailable" (extra not installed; `detail` is
    the install hint) or "failed" (`detail` says why)."""

    state: str
    detail: str = ""


@dataclass(eq=False)
class EmbedFinished(Message):
    """One embedding pass ended (stored vectors, or error set)."""

    stored: int
    error: BaseException | None = None


@dataclass(eq=False)
class Rebalanced(Message):
    """A tier rebalance ended: the engine's result (counts and moves), or error set."""

    result: dict[str, int] | None
    manual: bool
    error: BaseException | None = None


@dataclass(eq=False)
class CaptureStarted(Message):
    """The loop runs (loop set), a daemon runs (daemon), or there is nothing to watch."""

    loop: Any | None  # core.capture.CaptureLoop
    folders: int = 0
    daemon: str = ""  # who holds the capture lock, when the daemon runs
    error: BaseException | None = None


@dataclass(eq=False)
class CaptureEvent(Message):
    """One event from the loop's thread (core.capture.Event)."""

    event: Any


@dataclass(eq=False)
class SyncPassed(Message):
    """The workstation's orchestrator finished a pass (on its thread): the sync pane and the
    header read the new state."""

    report: Any  # core.sync.api.SyncReport
