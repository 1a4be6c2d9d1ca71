"""Open's checkpoint check without the signature when nothing changed since the last one.

A writable open verifies the newest checkpoint note (Ed25519) and the machine's witness. Loading
the signature code costs ~20 ms of every one-shot `brain put`, and the answer only changes when
the note, the verifier keys, the log under it or the witness change. So a successful check
records a fingerprint of the note's bytes and every `keys/*.vkey` in the index; the next open
that finds the same fingerprint, the same root in the node file and a witness that agrees
trusts it without verifying again. Anything different takes the full check.
"""

from __future__ import annotations

import binascii
import os
from typing import TYPE_CHECKING

import msgspec

from core.digest import sha256
from core.layout import Layout

if TYPE_CHECKING:
    from core.verify.mmr import MMR

META_KEY = "verified_note"
_MAX_NOTE_BYTES = 64 << 10


class Verified(msgspec.Struct, frozen=True):
    """The newest checkpoint as open verified it."""

    size: int
    root: bytes
    signers: list[str]
    note: str


def newest_size(layout: Layout) -> int:
    try:
        names = os.listdir(layout.checkpoints)
    except FileNotFoundError:
        return 0
    sizes = [
        int(n[:20]) for n in names if len(n) == 25 and n.endswith(".note") and n[:20].isdigit()
    ]
    return max(sizes, default=0)


def fingerprint(layout: Layout, size: int) -> tuple[str, str] | None:
    """(digest of the note and the verifier keys, the note's text), or None if unreadable."""
    h = sha256()
    try:
        with open(layout.checkpoints / f"{size:020d}.note", "rb") as f:
            note = f.read(_MAX_NOTE_BYTES + 1)
        h.update(len(note).to_bytes(8, "big") + note)
        for name in sorted(os.listdir(layout.keys)):
            if name.endswith(".vkey"):
                with open(layout.keys / name, "rb") as f:
                    data = f.read(4096)
                h.update(name.encode() + b"\0" + len(data).to_bytes(8, "big") + data)
        return h.hexdigest(), note.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def encode(latest: Verified, digest: str) -> str:
    return msgspec.json.encode(
        {
            "size": latest.size,
            "digest": digest,
            "root": latest.root.hex(),
            "signers": latest.signers,
        }
    ).decode()


def recall(
    layout: Layout, raw: str | None, mmr: MMR, head: int, witness: tuple[int, str] | None
) -> Verified | None:
    """The remembered verification, if it still holds for the store as it is now."""
    if not raw:
        return None
    try:
        doc = msgspec.json.decode(raw)
        size, digest, root = int(doc["size"]), str(doc["digest"]), bytes.fromhex(doc["root"])
        signers = [str(s) for s in doc["signers"]]
    except (msgspec.DecodeError, KeyError, ValueError, TypeError):
        return None
    if size != newest_size(layout) or not 0 < size <= head or mmr.size < size:
        return None
    seen = fingerprint(layout, size)
    if seen is None or seen[0] != digest:
        return None
    if _note_root(seen[1]) != root or mmr.root(size) != root:
        return None
    if witness is None or witness != (size, root.hex()):
        return None  # the witness moved (or is new): the full check records it
    return Verified(size, root, signers, seen[1])


def _note_root(text: str) -> bytes | None:
    lines = text.split("\n")
    try:
        return binascii.a2b_base64(lines[2], strict_mode=True)
    except (IndexError, ValueError):
        return None
