"""Tell the app when the end of the log moved, and nothing more.

The writer replaces `HEAD` by rename after every group commit, so an inode watch on `HEAD`
dies after the first write; we watch the store root (not recursively) and keep only events
named HEAD. watchfiles blocks in Rust between events, so an idle app costs no CPU, and its
debounce folds a burst (thousands of rows a second) into a few wake-ups.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path


def _is_head(_change: object, path: str) -> bool:
    return Path(path).name == "HEAD"


class HeadWatcher:
    def __init__(
        self,
        root: Path,
        on_change: Callable[[], None],
        on_error: Callable[[BaseException], None],
        *,
        debounce_ms: int = 100,
        step_ms: int = 50,
    ) -> None:
        self.root = root
        self.on_change = on_change
        self.on_error = on_error
        self.debounce_ms = debounce_ms
        self.step_ms = step_ms
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.ready = threading.Event()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="brain-head-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None

    def _run(self) -> None:
        try:
            import watchfiles

            self.ready.set()
            for _changes in watchfiles.watch(
                self.root,
                watch_filter=_is_head,
                debounce=self.debounce_ms,
                step=self.step_ms,
                stop_event=self._stop,
                recursive=False,
                raise_interrupt=False,
            ):
                self.on_change()
        except Exception as e:  # noqa: BLE001 - the app shows it and keeps running
            if not self._stop.is_set():
                self.on_error(e)
        finally:
            self.ready.set()
