"""Say when the end of the log moved, and nothing more: the one HEAD watcher, shared by the
workstation (`HeadWatcher`, a thread posting `HeadMoved`) and `brain tail -f` (`head_moves`,
a loop in the command's own thread).

The writer replaces `HEAD` by rename after every group commit, so an inode watch on `HEAD`
dies after the first write; we watch the store root (not recursively) and keep only events
named HEAD. watchfiles blocks in Rust between events, so an idle process costs no CPU, and
its debounce folds a burst (thousands of rows a second) into a few wake-ups. With `poll_ms`
the loop also wakes that often without an event: a slow poll that backs the watch up on file
systems that do not deliver events.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path


def _is_head(_change: object, path: str) -> bool:
    return Path(path).name == "HEAD"


def head_moves(
    root: Path,
    stop: threading.Event,
    *,
    debounce_ms: int = 100,
    step_ms: int = 50,
    poll_ms: int | None = None,
) -> Iterator[None]:
    """Yield once per wake-up (HEAD replaced, or `poll_ms` passed) until `stop` is set."""
    import watchfiles

    for _changes in watchfiles.watch(
        root,
        watch_filter=_is_head,
        debounce=debounce_ms,
        step=step_ms,
        stop_event=stop,
        recursive=False,
        raise_interrupt=False,
        rust_timeout=poll_ms or 5000,  # watchfiles' default when there is no poll
        yield_on_timeout=poll_ms is not None,
    ):
        yield None


class HeadWatcher:
    """`head_moves` in a daemon thread: `on_change` per wake-up, `on_error` if it dies."""

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
            moves = head_moves(
                self.root, self._stop, debounce_ms=self.debounce_ms, step_ms=self.step_ms
            )
            self.ready.set()
            for _ in moves:
                self.on_change()
        except Exception as e:  # noqa: BLE001 - the app shows it and keeps running
            if not self._stop.is_set():
                self.on_error(e)
        finally:
            self.ready.set()
