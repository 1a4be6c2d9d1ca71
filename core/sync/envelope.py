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
from core.sync.wire import (
    MALFORMED,
    MAX_BATCH,
    Envelope,
    ProofBundle,
    PurgeNotice,
    RotationProof,
    is_store_id,
)
from core.verify import proofbundle, sidecar_trust, signed_note
from core.write.file_view import read_sidecar

if TYPE_CHECKING:
    from core.store import Store

_sidecar = msgspec.json.Decoder(Sidecar)
_row = msgspec.json.Decoder(Row)


class EnvelopeRefused(BrainError):
    """An envelope or purge notice that does not verify; the message says which check failed."""


def _bundle(proof: dict) -> ProofBundle:
    """A bundle this store made (core.verifiable), as the wire carries it."""
    return msgspec.convert(proof, ProofBundle)


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
        proof=_bundle(proof),
        body=base64.b64encode(body).decode("ascii"),
        sidecar=msgspec.json.encode(side, order="sorted").decode(),
    )


def purge_moves(store: Store, seq: int, path: str) -> list[Row]:
    """The move rows of the memory purge row `seq` (at `path`) erased, newest first: each
    brought it to a path from its `extra.from`."""
    rows = store.history(path, at_seq=seq)
    moves = [r for r in rows if r.op == "move" and isinstance(r.extra.get("from"), str)]
    return sorted((r for r in moves if r.seq < seq), key=lambda r: r.seq, reverse=True)


def purged_paths(store: Store, seq: int, path: str) -> list[str]:
    """Every path the purged memory had: `path` and each move's `from`."""
    return [path] + [r.extra["from"] for r in purge_moves(store, seq, path)]


def build_purge(
    store: Store, seq: int, path: str, proof: dict | None = None, proofs: dict | None = None
) -> PurgeNotice:
    """`proofs`: bundles already made (Store.prove_many), by seq, for the row and its moves."""
    proofs = proofs or {}
    if proof is None or proof.get("seq") != seq:
        proof = proofs.get(seq) or store.prove(seq)
    moves = [proofs.get(m.seq) or store.prove(m.seq) for m in purge_moves(store, seq, path)]
    return PurgeNotice(
        origin=store.manifest.store_id,
        seq=seq,
        path=path,
        proof=_bundle(proof),
        moves=[_bundle(m) for m in moves],
    )


@functools.lru_cache(maxsize=16)
def _checkpoint_of(note: str) -> signed_note.Checkpoint:
    """The parsed note (already verified by then): a batch shares one, and parsing checks every
    character. Only strings are cached; the bundle check refused anything else before."""
    return signed_note.parse_note(note)[0]


def _proved_row(
    origin: str, seq: int, proof: ProofBundle, pinned: list[str] | None
) -> tuple[Row, str]:
    """The row the bundle proves, checked to be row `seq` of `origin`'s signed log. Every
    envelope, purge notice and rotation passes here, at the hub and at each puller: the
    origin is checked first, since it names folders (`conflicts/<origin>/…`) and keys pins."""
    if not is_store_id(origin):
        raise EnvelopeRefused(f"origin {origin!r} is not a store id (32 lowercase hex)")
    if not isinstance(proof, ProofBundle):
        raise EnvelopeRefused("the proof is not a brain-proof/v1 object")
    try:
        verdict = proofbundle.verify(msgspec.structs.asdict(proof), trusted=pinned)
    except RecursionError:  # a leaf nested deeper than the stack: not a row
        raise EnvelopeRefused("the proved leaf is not a row (nested too deeply)") from None
    if not verdict.valid:
        raise EnvelopeRefused(f"the proof does not verify: {verdict.reason}")
    note = proof.checkpoint
    cp = _checkpoint_of(note)
    if cp.origin != f"brain/{origin}":
        raise EnvelopeRefused(f"the checkpoint is signed for {cp.origin}, not brain/{origin}")
    if len(note) > limits.MAX_NOTE_BYTES:
        raise EnvelopeRefused("the checkpoint note is larger than a note can be")
    leaf = base64.b64decode(proof.leaf)
    if len(leaf) > limits.MAX_FRAME_PAYLOAD:
        raise EnvelopeRefused("the row is larger than a row can be")
    try:
        row = _row.decode(leaf)
    except MALFORMED as e:
        raise EnvelopeRefused(f"the proved leaf is not a row ({e})") from None
    if row.seq != seq:
        raise EnvelopeRefused(f"the proof is for row {row.seq}, the envelope says {seq}")
    return row, proof.public_key


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
    except (binascii.Error, ValueError, *MALFORMED) as e:
        raise EnvelopeRefused(f"the body or sidecar is malformed ({e})") from None
    try:
        body.decode("utf-8")  # a put refuses it at every member: refused here, once
    except UnicodeDecodeError as e:
        raise EnvelopeRefused(
            f"the body is not valid UTF-8 ({e.reason} at byte {e.start})"
        ) from None
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
    cp = _checkpoint_of(env.proof.checkpoint)
    memory = ForeignMemory(path, body, side, row)
    return Verified(memory, vkey, env.proof.checkpoint, cp.size)


def verify_purge(notice: PurgeNotice, pinned: list[str] | None) -> Row:
    """The origin's purge row for notice.path, proved against its signed log."""
    try:
        paths.validate(notice.path)  # a member erases copies by it, as verify writes them
    except BrainError as e:
        raise EnvelopeRefused(f"path {notice.path!r}: {e}") from None
    row, _ = _proved_row(notice.origin, notice.seq, notice.proof, pinned)
    if not is_purge(row) or row.path != notice.path:
        raise EnvelopeRefused(f"row {row.seq} is not a purge of {notice.path}")
    return row


def purge_erasures(notice: PurgeNotice, pinned: list[str] | None) -> list[tuple[str, int]]:
    """What a verified notice erases: (path, versions below this seq), the purged path first,
    then each earlier path its moves prove (a chain from `path` back, every link a move row of
    the origin's signed log, each older than the one after it)."""
    out = [(notice.path, notice.seq)]
    at, below = notice.path, notice.seq
    if len(notice.moves) > MAX_BATCH:
        raise EnvelopeRefused("the purge notice names more moves than a memory can have had")
    for bundle in notice.moves:
        row, _ = _proved_row(notice.origin, bundle.seq, bundle, pinned)
        src = row.extra.get("from") if isinstance(row.extra, dict) else None
        if row.op != "move" or row.path != at or row.seq >= below or not isinstance(src, str):
            raise EnvelopeRefused(f"row {row.seq} is not the move that brought {at} there")
        try:
            src = paths.validate(src)
        except BrainError as e:
            raise EnvelopeRefused(f"row {row.seq} moved from a bad path ({e})") from None
        out.append((src, row.seq))
        at, below = src, row.seq
    return out


def build_rotation(store: Store, seq: int) -> RotationProof:
    """The proof of key.rotated row `seq` against a checkpoint one of its old keys signed."""
    from core import verifiable

    return RotationProof(
        origin=store.manifest.store_id,
        seq=seq,
        proof=_bundle(verifiable.prove_rotation(store, seq)),
    )


def verify_rotation(r: RotationProof, pinned: list[str] | None) -> tuple[str, str]:
    """(the old key that vouches, the new key) of a rotation proof, or EnvelopeRefused. The
    row must be a key.rotated start whose `old` names the key that signed the checkpoint the
    proof is against; with `pinned`, that key must be pinned (proofbundle checks it signed the
    note). Without a pin (first use) the vouching key is the one to pin beside the new one."""
    row, vkey = _proved_row(r.origin, r.seq, r.proof, pinned)
    extra = row.extra if isinstance(row.extra, dict) else {}
    if row.op != "key.rotated" or extra.get("phase") != "start":
        raise EnvelopeRefused(f"row {row.seq} is a {row.op}, not the start of a key rotation")
    old, new = extra.get("old"), extra.get("new")
    if not isinstance(old, list) or not isinstance(new, str):
        raise EnvelopeRefused(f"row {row.seq} does not name the old and new keys")
    if vkey not in old:
        raise EnvelopeRefused(
            f"row {row.seq} introduces a key, but the checkpoint it is proved against is not"
            " signed by a key it replaces: the pinned key did not vouch for it"
        )
    try:
        signed_note.Verifier.parse(new)
    except BrainError as e:
        raise EnvelopeRefused(f"row {row.seq}'s new key is not a verifier key ({e})") from None
    return vkey, new


__all__ = [
    "EnvelopeRefused",
    "Verified",
    "build",
    "build_purge",
    "build_rotation",
    "purge_erasures",
    "purge_moves",
    "purged_paths",
    "verify",
    "verify_purge",
    "verify_rotation",
]
