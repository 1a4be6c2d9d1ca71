"""One-off captures (`brain capture TEXT|PATH`): the same pipeline as the watched folders.

A file inside a watched folder lands at the memory the loop would give it, with that folder's
defaults (so the loop later finds it already captured); any other file lands under
`captured/files/`, and text under `captured/text/`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from core.capture import config, filters, naming, pipeline
from core.errors import BrainError

if TYPE_CHECKING:
    from core.store import Store


def text_item(store: Store, text: str, *, sync_class: str | None, classification: str | None):
    body = text.encode("utf-8")
    if not body.strip():
        raise BrainError("nothing to capture: the text is empty")
    if len(body) > filters.MAX_BYTES:
        raise BrainError(f"the text is {len(body):,} bytes; a capture holds at most 1 MiB")
    key = config.key(store.layout, store.rng)
    return pipeline.Item(
        path=naming.text_path(key, body),
        body=body,
        title=pipeline.title_of(text),
        sync_class=sync_class or "private",
        classification=classification or "",
        origin="cli",
    )


def file_item(
    store: Store,
    path: str | os.PathLike[str],
    *,
    sync_class: str | None,
    classification: str | None,
):
    p = Path(os.path.expanduser(os.fspath(path)))
    try:
        real = str(p.resolve(strict=True))
    except (OSError, RuntimeError):
        raise BrainError(f"{p}: no such file") from None
    r = filters.read_text(real)
    if r.body is None:
        raise BrainError(f"{p}: not captured ({r.skip})")
    key = config.key(store.layout, store.rng)
    for w in config.load(store.layout).folders:
        if real.startswith(w.path.rstrip("/") + "/"):
            rel = real[len(w.path.rstrip("/")) + 1 :]
            return pipeline.Item(
                path=naming.file_path(key, w.id, rel),
                body=r.body,
                title=pipeline.title_of(rel),
                sync_class=sync_class or w.sync_class,
                classification=classification or w.classification,
                origin="cli",
            )
    return pipeline.Item(
        path=naming.loose_file_path(key, real),
        body=r.body,
        title=pipeline.title_of(p.name),
        sync_class=sync_class or "private",
        classification=classification or "",
        origin="cli",
    )


_FILE_NAME = re.compile(r"[^.\s]+\.[A-Za-z0-9]{1,8}")


def _looks_like_path(what: str) -> bool:
    """One word with a slash or a file extension: a mistyped path, not a note."""
    if any(c.isspace() for c in what):
        return False
    return "/" in what or what.startswith("~") or bool(_FILE_NAME.fullmatch(what))


def capture_once(
    store: Store,
    what: str,
    *,
    actor: str,
    sync_class: str | None = None,
    classification: str | None = None,
    as_text: bool = False,
) -> pipeline.Captured:
    """Capture a file (when `what` names an existing file and as_text is False) or text."""
    if not as_text and os.path.isdir(os.path.expanduser(what)):
        raise BrainError(f"{what} is a folder: watch it with `brain watch` (or pass --text)")
    if not as_text and os.path.isfile(os.path.expanduser(what)):
        item = file_item(store, what, sync_class=sync_class, classification=classification)
    elif not as_text and os.path.exists(os.path.expanduser(what)):
        raise BrainError(
            f"{what}: not a regular file (a device, a pipe or a socket); capture files"
        )
    elif not as_text and _looks_like_path(what):
        raise BrainError(f"{what}: no such file (pass --text to capture these words as text)")
    else:
        item = text_item(store, what, sync_class=sync_class, classification=classification)
    return pipeline.capture(store, item, actor=actor)
