"""Signed checkpoints (C2SP notes over the MMR root) and the witness kept outside the store."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from core import fsio
from core.errors import BrainError, ProofError
from core.layout import Layout
from core.verify.mmr import MMR
from core.verify.note_cache import Verified

if TYPE_CHECKING:
    from core.verify import signed_note

_NOTE = re.compile(r"^(\d{20})\.note$")


def origin_of(store_id: str) -> str:
    return f"brain/{store_id}"


def note_path(layout: Layout, size: int) -> Path:
    return layout.checkpoints / f"{size:020d}.note"


def sizes(layout: Layout) -> list[int]:
    try:
        names = os.listdir(layout.checkpoints)
    except FileNotFoundError:
        return []
    return sorted(int(m.group(1)) for n in names if (m := _NOTE.match(n)))


_MAX_NOTE_BYTES = 64 << 10  # a note is a few hundred bytes; more is not a note


def read_note(layout: Layout, size: int) -> str:
    """The note's text; a damaged one (not UTF-8, oversized, unreadable) is a ProofError naming
    the file, so open, the doctor and `--repair` report it instead of crashing on it."""
    path = note_path(layout, size)
    rel = f"audit/checkpoints/{path.name}"
    try:
        with open(path, "rb") as f:
            raw = f.read(_MAX_NOTE_BYTES + 1)
    except OSError as e:
        raise ProofError(f"{rel}: cannot be read ({e.strerror or e})") from None
    if len(raw) > _MAX_NOTE_BYTES:
        raise ProofError(f"{rel}: {len(raw)}+ bytes is not a checkpoint note")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ProofError(f"{rel}: not a checkpoint note (not UTF-8 at byte {e.start})") from None


def verify_latest(layout: Layout, store_id: str, mmr: MMR, head: int) -> Verified | None:
    """Check the newest note: signature by a store key, and its root against our MMR.

    Raises ProofError naming what is wrong; returns None when there is no checkpoint yet.
    """
    all_sizes = sizes(layout)
    if not all_sizes:
        return None
    size = all_sizes[-1]
    text = read_note(layout, size)
    from core.verify import keys, signed_note

    cp, signers = signed_note.verify_note(
        text, keys.load_verifiers(layout.keys), origin=origin_of(store_id)
    )
    if cp.size != size:
        raise ProofError(f"audit/checkpoints/{size:020d}.note says size {cp.size}")
    if size > head:
        raise ProofError(
            f"the log ends at seq {head} but its latest signed checkpoint covers {size} rows:"
            " rows were removed (rollback or truncation)"
        )
    if mmr.root(size) != cp.root:
        raise ProofError(f"checkpoint {size}: its root does not match the log's Merkle root")
    return Verified(size, cp.root, signers, text)


def make(
    layout: Layout, store_id: str, mmr: MMR, size: int, signers: list[signed_note.Signer]
) -> str:
    """Sign the tree head of `size` durable rows and write the note durably."""
    if not signers:
        raise BrainError("no signing key is available; checkpoints cannot be signed")
    from core.verify import signed_note

    cp = signed_note.Checkpoint(origin_of(store_id), size, mmr.root(size))
    text = signed_note.sign_note(cp, signers)
    fsio.mkdirs(layout.checkpoints)
    fsio.write_file(note_path(layout, size), text.encode("utf-8"), durable=True)
    return text


# -- witness ----------------------------------------------------------------------------


class Witness(msgspec.Struct):
    store_id: str
    size: int
    root: str


def witness_path(store_id: str) -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    return Path(base) / "brain-tui" / "witness" / f"{store_id}.json"


def read_witness(store_id: str) -> Witness | None:
    try:
        return msgspec.json.decode(witness_path(store_id).read_bytes(), type=Witness)
    except (FileNotFoundError, msgspec.DecodeError, msgspec.ValidationError):
        return None


def record_witness(store_id: str, size: int, root: bytes) -> None:
    """Remember the newest verified checkpoint outside the store (never moves backwards)."""
    old = read_witness(store_id)
    if old is not None and old.size >= size:
        return
    path = witness_path(store_id)
    try:
        fsio.mkdirs(path.parent)
        fsio.write_file(path, msgspec.json.encode(Witness(store_id, size, root.hex())))
    except OSError:
        pass  # a read-only home must not stop the store from opening


def check_witness(store_id: str, mmr: MMR, latest: Verified | None, head: int) -> str | None:
    """Why the store regressed behind what this machine saw before, or None."""
    w = read_witness(store_id)
    if w is None:
        return None
    have = latest.size if latest else 0
    if have < w.size or head < w.size:
        return (
            f"rollback: this machine saw a checkpoint of {w.size} rows, but the store's newest"
            f" covers {have} and its log ends at {head}"
        )
    if mmr.root(w.size).hex() != w.root:
        return f"the log's first {w.size} rows differ from the checkpoint this machine saw"
    return None


def reset_witness(store_id: str) -> None:
    fsio.unlink(witness_path(store_id))
