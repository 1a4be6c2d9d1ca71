"""Reading a memory's body straight from its files, without msgspec: the one-shot `brain view`.

What core.view's `view` does, less the decoded sidecar: the path and actor are checked, the
sidecar must exist and not say `purged`, the body is read and the read is journaled as an
access. A process that runs one view and exits spends more importing msgspec (~15 ms) than
viewing, so the sidecar is checked by core.shapes and decoded with msgspec only when that check
is not sure (then msgspec reports what is wrong). core.view shares these steps.
"""

from __future__ import annotations

import os

from core import paths, shapes, validate
from core.errors import NotFound
from core.index import access
from core.layout import sidecar_path

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~2 ms of a view)
if TYPE_CHECKING:
    from collections.abc import Callable


def checked(path: str, actor: str | None) -> str:
    path = paths.validate(path)
    if actor is not None and actor != "":
        validate.actor(actor)
    return path


def sidecar_stat(root: str, path: str) -> os.stat_result:
    try:
        return os.stat(f"{root}/{sidecar_path(path)}")
    except FileNotFoundError:
        raise NotFound(f"{path}: no such memory") from None


def refuse_purged(path: str, state: str, seq: object) -> None:
    if state == "purged":
        raise NotFound(f"{path}: purged (seq {seq}); its content is gone for good")


def read_body(root: str, path: str) -> bytes:
    try:
        with open(f"{root}/{path}", "rb", buffering=0) as f:  # no BufferedReader: -3 µs
            return f.readall()
    except FileNotFoundError:
        raise NotFound(f"{path}: the body file is missing; run `brain doctor`") from None


def record(
    root: str, path: str, actor: str | None, clock: Callable[[], int], notes: list[str] | None
) -> None:
    """Journal the read as an access when an actor is named; a note when it cannot be."""
    if not actor:
        return
    try:
        access.record(root, path, actor, clock())
    except OSError as e:  # read-only media or a full disk: the read still succeeds
        if notes is not None:
            notes.append(f"the access was not recorded ({e.strerror or e})")


def body(
    root: str,
    path: str,
    *,
    actor: str | None,
    clock: Callable[[], int],
    notes: list[str] | None = None,
) -> bytes:
    """The body of the memory at path in the store at root (an absolute path string: no
    pathlib either), as `view(...).body` returns it (same checks, same errors); naming an
    actor journals the read."""
    path = checked(path, actor)
    sidecar_stat(root, path)
    paths.check_no_symlink(root, path)
    try:
        with open(f"{root}/{sidecar_path(path)}", "rb", buffering=0) as f:
            raw = f.readall()
    except FileNotFoundError:
        raise NotFound(f"{path}: no such memory") from None
    state = shapes.sidecar_state(raw)
    seq: object = "?"
    if state is None or state == "purged":
        from core.write.file_view import decode_sidecar  # msgspec: decides, or says what is wrong

        side = decode_sidecar(path, raw)
        state, seq = side.state, side.seq
    refuse_purged(path, state, seq)
    data = read_body(root, path)
    record(root, path, actor, clock, notes)
    return data
