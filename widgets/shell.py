"""The shell contract: what the App offers every pane and widget, as one typed Protocol.

`brain_tui.app.BrainApp` implements it (checked by mypy and a test); panes and widgets read
it through `shell(node)` instead of probing the app with getattr/hasattr, so a missing
capability is a type error, not a silently different branch at run time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, cast, runtime_checkable

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from core.read_types import Row
    from core.store import Store
    from core.sync.api import SyncReport
    from widgets.header import HeaderInfo


@runtime_checkable
class Shell(Protocol):
    store: Store | None
    actor: str  # who the panes' writes are recorded as
    now: Callable[[], int]  # the clock (ns): injectable, so snapshots are deterministic
    header_info: HeaderInfo | None  # the header's state; None until first read
    index_head: int  # the newest row in the index: the audit tail follows it
    index_tail: list[Row]  # the newest rows, from a page boundary up to index_head
    tail_read: bool  # index_head and index_tail have been read at least once
    activity: str  # what running workers are doing, for the tabs line
    activity_short: str  # the same in short forms, for a narrow one
    semantic_state: str  # "off", "warming", "ready", "unavailable", "failed"
    semantic_hint: str  # the install hint once semantic search is known unavailable
    tiers_version: int  # bumped after every rebalance: panes showing tiers reload
    embed_version: int  # bumped when new vectors are stored: similar memories rank again
    sync_passes: int  # bumped after every pass the workstation's orchestrator ran
    sync_report: SyncReport | None  # that pass's report (None: none ran yet)

    @property
    def sync_runner(self) -> str:
        """Who runs the timed sync passes: "on" (this workstation), "elsewhere" (another
        program holds the lock), "off" or "failed"."""
        ...

    def sync_now(self) -> bool:
        """Ask this workstation's orchestrator for a pass now (False: it does not run here)."""
        ...


@runtime_checkable
class TypeAhead(Protocol):
    """A screen whose text field can be opened by a key: the keys that reach the app before
    the field has the focus (a paste, a fast typist) are offered to it before any binding."""

    async def type_ahead(self, key: str, character: str | None) -> bool: ...


def shell(node: DOMNode) -> Shell:
    """The running app as the shell contract (BrainApp, the only app these widgets run in)."""
    return cast(Shell, node.app)
