"""Engine calls the shell makes, run in thread workers; each ends by posting a message.

The functions here block (they open stores, build the demo, read state) and are only ever run
with `App.run_worker(..., thread=True)`; the pane-level workers live in the panes themselves.
Nothing here raises: every failure becomes a message the app turns into a notification.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from brain_tui.messages import (
    ActivityChanged,
    FreezeChecked,
    IndexHeadLoaded,
    NoStore,
    StateLoaded,
    StoreOpened,
    StoreOpenFailed,
    WorkFailed,
)
from core.errors import StoreNotFound
from core.layout import Layout
from core.log.head import read_head
from core.read_types import Row
from core.store import Store
from widgets.audit_pager import PAGE_SIZE
from widgets.header import HeaderInfo

READING_STATE = "reading the store's state"
TAIL_ROWS = 200  # more than a tall terminal shows

# One engine-state call at a time: `refresh()` moves the store's tip and applies the index.
_state_lock = threading.Lock()


class Target(Protocol):
    def post_message(self, message: Any) -> bool: ...


def open_store(target: Target, root: Path, allow_temp: bool, **kw: Any) -> None:
    if not Layout(root).manifest.exists():
        target.post_message(NoStore(root))
        return
    try:
        store = Store.open(root, allow_temp=allow_temp, **kw)
        store.open_door()  # the TUI's writer takes the CLI's puts meanwhile (core/door.py)
    except StoreNotFound:
        target.post_message(NoStore(root))
    except Exception as e:  # noqa: BLE001 - shown in an error modal
        target.post_message(StoreOpenFailed(root, e, "opening the store"))
    else:
        # The tail's first screenful, read in this thread while the UI waits anyway: the
        # audit pane's first frame then shows rows, on a million-row store as on an empty one.
        try:
            tail = newest_rows(store)
        except Exception:  # noqa: BLE001 - the pane's own probe reads it (and reports)
            tail = None
        target.post_message(StoreOpened(store, tail=tail))


def create_store(target: Target, root: Path, allow_temp: bool, **kw: Any) -> None:
    try:
        store = Store.init(root, allow_temp=allow_temp, **kw)
        store.open_door()
    except Exception as e:  # noqa: BLE001
        target.post_message(StoreOpenFailed(root, e, "creating the store"))
    else:
        target.post_message(StoreOpened(store, note=f"created a store at {root}"))


class DemoBuilder(Protocol):
    """How the shell builds the demo store (brain_tui.demo.build_demo, its size bound)."""

    def __call__(
        self, root: Path, *, allow_temp: bool, progress: Callable[[int, int], None]
    ) -> None: ...


def build_demo(target: Target, root: Path, allow_temp: bool, build: DemoBuilder) -> None:
    """Build the demo store at root (unless one is already there), then open it."""
    try:
        if not Layout(root).manifest.exists():
            build(root, allow_temp=allow_temp, progress=partial(_demo_progress, target))
        store = Store.open(root, allow_temp=allow_temp)
        store.open_door()
    except Exception as e:  # noqa: BLE001
        target.post_message(StoreOpenFailed(root, e, "building the demo store"))
    else:
        target.post_message(StoreOpened(store, note=f"opened the demo store at {root}"))
    finally:
        target.post_message(ActivityChanged("demo", None))


def _demo_progress(target: Target, done: int, total: int) -> None:
    text = f"building the demo: {done:,}/{total:,} rows"
    target.post_message(ActivityChanged("demo", text, f"demo {100 * done // max(total, 1)}%"))


def newest_rows(store: Store) -> tuple[int, list[Row]]:
    """The newest seq in the index, and the rows up to it from a page boundary, enough for a
    screenful: the audit tail draws them in the frame that moves it (rows are contiguous, so
    `seq > after LIMIT n` is exactly after+1..seq)."""
    seq = store.indexed_seq()
    after = (max(0, seq - 1 - TAIL_ROWS) // PAGE_SIZE) * PAGE_SIZE
    return seq, (store.audit_page(after, seq - after) if seq else [])


def load_index_head(target: Target, store: Store) -> None:
    """The newest row in the shared index, and HEAD: an indexed lookup and a small file read,
    cheap enough for every HEAD move while another process appends thousands of rows a
    second (the header's full state is not: it rescans the log and counts memories)."""
    try:
        seq, tail = newest_rows(store)
        head = read_head(store.layout) or 0
    except Exception as e:  # noqa: BLE001
        target.post_message(WorkFailed("reading the newest audit rows", e))
        target.post_message(IndexHeadLoaded(None, 0))
    else:
        target.post_message(IndexHeadLoaded(seq, head, tail))


def load_state(target: Target, store: Store) -> None:
    """Pick up rows other processes appended and report the header's numbers."""
    try:
        with _state_lock:
            info = HeaderInfo.from_state(store.state())
            info = replace(
                info,
                pii_pending=store.pii_pending_count(),
                proposals_pending=store.proposals.count("pending"),
                sync_error=bool(store.sync.pending_error()),
            )
            # HEAD moves when another process commits, a moment before its index catches
            # up; the app asks again shortly while the index lags the published head.
            head = read_head(store.layout) or 0
    except Exception as e:  # noqa: BLE001
        target.post_message(WorkFailed(READING_STATE, e))
        target.post_message(StateLoaded(None))
    else:
        if head > info.head_seq:
            info = replace(info, head_seq=head)
        target.post_message(StateLoaded(info, lagging=info.index_seq < head))


def check_frozen(target: Target, store: Store) -> None:
    """Whether writes are refused now: this process's finding or the verdict any process
    recorded in the store (`local/verdict.json`, which the HEAD watcher does not see)."""
    try:
        frozen = store.frozen()
    except Exception as e:  # noqa: BLE001
        target.post_message(WorkFailed(READING_STATE, e))
    else:
        target.post_message(FreezeChecked(frozen))
