"""Writing a command's `--out FILE`: one clear line when it cannot be written."""

from __future__ import annotations

import os

from core.errors import BrainError


def check_out(path: str, what: str) -> None:
    """Refuse an --out whose folder is missing before any work (proving may sign a checkpoint).
    The folder is not created: a typo in it would leave the file somewhere unexpected."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise BrainError(
            f"--out {path}: the folder {folder} does not exist; create it first or choose"
            f" another place for {what}"
        )
    if os.path.isdir(path):
        raise BrainError(f"--out {path} is a folder; name a file for {what}")


def write_out(path: str, data: bytes, what: str) -> None:
    """Write `data` to `path`; any OS refusal is a BrainError naming the file, never a
    traceback."""
    check_out(path, what)
    try:
        with open(path, "wb") as f:
            f.write(data)
    except OSError as e:
        raise BrainError(f"--out {path}: cannot write {what} ({e.strerror})") from None
