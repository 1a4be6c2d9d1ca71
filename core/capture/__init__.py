"""Capture (issue 14, items 1 and 2): watched folders, the capture loop, one-off captures.

- `pipeline.capture_many(store, items, actor=)`: THE write path of every capture surface.
- `config.watch/unwatch/load`: the watched folders, in `local/capture/watched.json`.
- `CaptureLoop(store).start()` / `.stop()`: the loop in a thread (the workstation's worker);
  `daemon.run(store, ...)`: the same loop in the foreground (`brain capture-daemon`).
- `once.capture_once(store, TEXT|PATH, actor=)`: `brain capture`.
- `status.status(store)`: `brain status`.

See docs/capture.md.
"""

from __future__ import annotations

from core.capture.loop import CaptureLoop, Event
from core.capture.pipeline import Captured, Item, capture, capture_many
from core.capture.state import CaptureBusy

__all__ = ["CaptureBusy", "CaptureLoop", "Captured", "Event", "Item", "capture", "capture_many"]
