"""Envelopes: a memory version with the proof that its origin's signed log wrote it
(core.sync.wire). `build` makes them from this store; `verify` is what the hub does before it
stores one and what a member does before its local put. Nothing in an envelope is trusted
until `verify` has checked, in order: the proof bundle (leaf, audit path, root, the origin's
signed checkpoint note, by a pinned key when one is pinned), that the leaf is the put or move
row of this seq and path, the body against the row's salted commitment, and the sidecar's
governing fields against the row's `extra.meta` (so the class it travels under is the one the
origin committed).
"""

from __future__ import annotations

import base64
import binascii
import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import msgspec

from core import limits, paths
from core.errors import BrainError
from core.log.hashing import commitment
from core.models import Row, Sidecar
from core.portable.foreign import ForeignMemory
from core.purge import is_purge
from core.sync.classes import why_not_pushed
from core.sync.wire import Envelope, PurgeNotice
from core.verify import proofbundle, sidecar_trust, signed_note
from core.write.file_view import read_sidecar

if TYPE_CHECKING:
    from core.store import Store

_sidecar = msgspec.json.Decoder(Sidecar)
_row = msgspec.json.Decoder(Row)


class EnvelopeRefused(BrainError):
    """An envelope or purge notice that does not verify; the message says which check failed."""


@dataclass(frozen=True)
class Verified:
    memory: ForeignMemory  # path, body, sidecar, the origin row: what the importer takes
    vkey: str  # the key that signed the checkpoint the proof is against
    note: str  # that checkpoint note
    size: int  # its tree size


def build(store: Store, path: str, proof: dict | None = None) -> Envelope | None:
    """The envelope of `path`'s current version (its sidecar names the row that wrote it);
    None when the path holds no active memory now. A write racing the read is caught by
    reading the sidecar before and after the body. `proof`: a bundle already made for that
    row (Store.prove_many); used only when it is for the sidecar's seq."""
    for _ in range(3):
        side = read_sidecar(store.root, path)
        if side is None or side.state != "active":
            return None
        body = (store.root / path).read_bytes()
        again = read_sidecar(store.root, path)
        if again is not None and again.seq == side.seq:
            break
    else:
        raise BrainError(f"{path} kept changing while it was read for a push; try again")
    if proof is None or proof.get("seq") != side.seq:
        proof = store.prove(side.seq)
    return Envelope(
        origin=store.manifest.store_id,
        seq=side.seq,
        path=path,
        sync_class=side.sync_class,
        proof=proof,
        body=base64.b64encode(body).decode("ascii"),
        sidecar=msgspec.json.encode(side, order="sorted").decode(),
    )


def build_purge(store: Store, seq: int, path: str, proof: dict | None = None) -> PurgeNotice:
    if proof is None or proof.get("seq") != seq:
        proof = store.prove(seq)
    return PurgeNotice(origin=store.manifest.store_id, seq=seq, path=path, proof=proof)


@functools.lru_cache(maxsize=16)
def _checkpoint_of(note: str) -> signed_note.Checkpoint:
    """The parsed note (already verified by then): a batch shares one, and parsing checks every
    character. Only strings are cached; the bundle check refused anything else before."""
    return signed_note.parse_note(note)[0]


def _proved_row(origin: str, seq: int, proof: dict, pinned: list[str] | None) -> tuple[Row, str]:
    """The row the bundle proves, checked to be row `seq` of `origin`'s signed log."""
    if not isinstance(proof, dict):
        raise EnvelopeRefused("the proof is not a brain-proof/v1 object")
    verdict = proofbundle.verify(proof, trusted=pinned)
    if not verdict.valid:
        raise EnvelopeRefused(f"the proof does not verify: {verdict.reason}")
    note = proof["checkpoint"]
    cp = _checkpoint_of(note)
    if cp.origin != f"brain/{origin}":
        raise EnvelopeRefused(f"the checkpoint is signed for {cp.origin}, not brain/{origin}")
    if len(note) > limits.MAX_NOTE_BYTES:
        raise EnvelopeRefused("the checkpoint note is larger than a note can be")
    leaf = base64.b64decode(proof["leaf"])
    if len(leaf) > limits.MAX_FRAME_PAYLOAD:
        raise EnvelopeRefused("the row is larger than a row can be")
    try:
        row = _row.decode(leaf)
    except (msgspec.DecodeError, msgspec.ValidationError) as e:
        raise EnvelopeRefused(f"the proved leaf is not a row ({e})") from None
    if row.seq != seq:
        raise EnvelopeRefused(f"the proof is for row {row.seq}, the envelope says {seq}")
    return row, proof["public_key"]


def verify(env: Envelope, pinned: list[str] | None) -> Verified:
    """Raises EnvelopeRefused naming the first check that fails. `pinned`: the origin's pinned
    verifier keys, or None on first use (the bundle's own key is then the one to pin)."""
    try:
        path = paths.validate(env.path)
    except BrainError as e:
        raise EnvelopeRefused(f"path {env.path!r}: {e}") from None
    row, vkey = _proved_row(env.origin, env.seq, env.proof, pinned)
    if row.op not in ("put", "move") or row.path != path:
        raise EnvelopeRefused(f"row {row.seq} is a {row.op} of {row.path!r}, not a write of {path}")
    if len(env.sidecar) > limits.MAX_SIDECAR_BYTES:
        raise EnvelopeRefused("the sidecar is larger than the sidecar limit")
    if len(env.body) > (limits.MAX_BODY_BYTES * 4) // 3 + 4:
        raise EnvelopeRefused("the body is larger than the put limit")
    try:
        body = base64.b64decode(env.body, validate=True)
        side = _sidecar.decode(env.sidecar)
    except (binascii.Error, ValueError, msgspec.DecodeError, msgspec.ValidationError) as e:
        raise EnvelopeRefused(f"the body or sidecar is malformed ({e})") from None
    if side.seq != row.seq or side.state != "active" or side.commit != row.commit:
        raise EnvelopeRefused(f"the sidecar does not describe row {row.seq}'s version")
    try:
        good = commitment(bytes.fromhex(side.salt), body) == row.commit
    except ValueError:
        good = False
    if not good:
        raise EnvelopeRefused(f"the body does not match row {row.seq}'s commitment: altered")
    trust = sidecar_trust.judge(side, sidecar_trust.row_meta(row.op, row.path, row.extra))
    if trust.status != sidecar_trust.TRUSTED:
        raise EnvelopeRefused(
            f"the sidecar's class and title are not committed by row {row.seq}"
            f" ({trust.why or trust.status})"
        )
    if side.sync_class != env.sync_class:
        raise EnvelopeRefused(
            f"the envelope says {env.sync_class}, the committed sidecar says {side.sync_class}"
        )
    refusal = why_not_pushed(side.sync_class, side.pii_status, side.extra)
    if refusal:
        raise EnvelopeRefused(refusal)
    cp = _checkpoint_of(env.proof["checkpoint"])
    memory = ForeignMemory(path, body, side, row)
    return Verified(memory, vkey, env.proof["checkpoint"], cp.size)


def verify_purge(notice: PurgeNotice, pinned: list[str] | None) -> Row:
    """The origin's purge row for notice.path, proved against its signed log."""
    row, _ = _proved_row(notice.origin, notice.seq, notice.proof, pinned)
    if not is_purge(row) or row.path != notice.path:
        raise EnvelopeRefused(f"row {row.seq} is not a purge of {notice.path}")
    return row


__all__ = ["EnvelopeRefused", "Verified", "build", "build_purge", "verify", "verify_purge"]
