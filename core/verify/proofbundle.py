"""Self-contained proof bundles (`brain-proof/v1`, `brain-consistency/v1`) and their verifiers.

A bundle carries everything a stranger needs: the leaf bytes, the audit path, the root, the
signed checkpoint note and the verifier key. Verification uses nothing else.
"""

from __future__ import annotations

import base64
import binascii
import functools
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from core.errors import BrainError, KeyError_, ProofError
from core.log import canonical
from core.verify import proofs, signed_note

INCLUSION = "brain-proof/v1"
CONSISTENCY = "brain-consistency/v1"


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def _field(bundle: dict[str, Any], key: str) -> Any:
    if key not in bundle:
        raise ProofError(f"missing field {key}")
    return bundle[key]


def _str(bundle: dict[str, Any], key: str) -> str:
    v = _field(bundle, key)
    if not isinstance(v, str):
        raise ProofError(f"{key} must be a string")
    return v


def _hashes(bundle: dict[str, Any], key: str) -> list[bytes]:
    v = _field(bundle, key)
    if not isinstance(v, list):
        raise ProofError(f"{key} must be a list of base64 strings")
    return [_unb64(h, key) for h in v]


def _unb64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise ProofError(f"{what} must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ProofError(f"{what} is not valid base64") from None


def inclusion_bundle(
    seq: int,
    payload: bytes,
    proof: list[bytes],
    root: bytes,
    note: str,
    vkey: str,
    size: int | None = None,
) -> dict[str, Any]:
    """`size`: the note's tree size when the caller parsed it already (a batch of proofs)."""
    if size is None:
        size = signed_note.parse_note(note)[0].size
    return {
        "format": INCLUSION,
        "seq": seq,
        "leaf_index": seq - 1,
        "tree_size": size,
        "leaf": _b64(payload),
        "leaf_hash": _b64(proofs.leaf_hash(payload)),
        "proof": [_b64(h) for h in proof],
        "root": _b64(root),
        "checkpoint": note,
        "public_key": vkey,
    }


def consistency_bundle(
    size1: int,
    size2: int,
    root1: bytes,
    root2: bytes,
    proof: list[bytes],
    note1: str,
    note2: str,
    vkey: str,
) -> dict[str, Any]:
    return {
        "format": CONSISTENCY,
        "size1": size1,
        "size2": size2,
        "root1": _b64(root1),
        "root2": _b64(root2),
        "proof": [_b64(h) for h in proof],
        "checkpoint1": note1,
        "checkpoint2": note2,
        "public_key": vkey,
    }


@dataclass(frozen=True)
class Verdict:
    valid: bool
    reason: str
    signer: str = ""


def verify(bundle: Any, trusted: list[str] | None = None) -> Verdict:
    """Verify either bundle kind; never raises on bad input, says why instead."""
    try:
        if not isinstance(bundle, dict):
            raise ProofError("a proof bundle is a JSON object")
        if trusted is not None and (
            not isinstance(trusted, list) or not all(isinstance(k, str) for k in trusted)
        ):
            raise ProofError("the trusted keys must be a list of verifier key strings")
        fmt = bundle.get("format")
        if fmt == INCLUSION:
            return _verify_inclusion(bundle, trusted)
        if fmt == CONSISTENCY:
            return _verify_consistency(bundle, trusted)
        raise ProofError(f"unknown bundle format {fmt!r} (expected {INCLUSION} or {CONSISTENCY})")
    except BrainError as e:
        return Verdict(False, str(e))
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        # Every field is type-checked before use; this is the last line of the promise.
        return Verdict(False, f"malformed bundle: {e}")


def _verifier(bundle: dict[str, Any], trusted: list[str] | None) -> signed_note.Verifier:
    vkey = _str(bundle, "public_key")
    if trusted is not None and vkey not in trusted:
        raise KeyError_("the bundle's public key is not one of the trusted keys")
    return _parsed_vkey(vkey)


@functools.lru_cache(maxsize=64)
def _parsed_vkey(vkey: str) -> signed_note.Verifier:
    """A batch of bundles names one key: parse it once (a Verifier is immutable). A key that
    does not parse raises and is not cached."""
    return signed_note.Verifier.parse(vkey)


def _int(bundle: dict[str, Any], key: str) -> int:
    v = bundle.get(key)
    if not isinstance(v, int) or isinstance(v, bool) or v < 0:
        raise ProofError(f"{key} must be a non-negative integer")
    return v


def _verify_inclusion(b: dict[str, Any], trusted: list[str] | None) -> Verdict:
    seq, index, size = _int(b, "seq"), _int(b, "leaf_index"), _int(b, "tree_size")
    if index != seq - 1:
        raise ProofError(f"leaf_index {index} must be seq - 1 = {seq - 1}")
    leaf = _unb64(_field(b, "leaf"), "leaf")
    leaf_hash = _unb64(_field(b, "leaf_hash"), "leaf_hash")
    if proofs.leaf_hash(leaf) != leaf_hash:
        raise ProofError("leaf_hash is not SHA-256(0x00 || leaf)")
    row = canonical.decode(leaf)
    if not isinstance(row, dict) or row.get("seq") != seq:
        raise ProofError("the leaf is not the row with this seq")
    if not canonical.is_canonical(leaf):
        raise ProofError("the leaf is not canonical JSON")
    root = _unb64(_field(b, "root"), "root")
    path = _hashes(b, "proof")
    note = _str(b, "checkpoint")
    v = _verifier(b, trusted)
    cp, signers = _verified_note(note, v)
    if cp.size != size or cp.root != root:
        raise ProofError("the checkpoint does not sign this tree size and root")
    proofs.verify_inclusion(index, size, leaf_hash, path, root)
    return Verdict(True, f"row {seq} is included in the signed tree of {size} rows", signers[0])


_NOTES: OrderedDict[tuple[str, signed_note.Verifier], tuple[signed_note.Checkpoint, list[str]]] = (
    OrderedDict()
)
_NOTES_MAX = 64
_notes_lock = threading.Lock()


def _verified_note(text: str, v: signed_note.Verifier) -> tuple[signed_note.Checkpoint, list[str]]:
    """verify_note, remembering the last notes that verified: a sync batch carries hundreds
    of bundles against one checkpoint, and its signature is the costly part. Only successes
    are kept, keyed by the exact note text and key: a result depends on nothing else."""
    key = (text, v)
    with _notes_lock:
        hit = _NOTES.get(key)
        if hit is not None:
            _NOTES.move_to_end(key)
            return hit[0], list(hit[1])
    cp, signers = signed_note.verify_note(text, [v])
    with _notes_lock:
        _NOTES[key] = (cp, list(signers))
        while len(_NOTES) > _NOTES_MAX:
            _NOTES.popitem(last=False)
    return cp, signers


def _verify_consistency(b: dict[str, Any], trusted: list[str] | None) -> Verdict:
    size1, size2 = _int(b, "size1"), _int(b, "size2")
    root1 = _unb64(_field(b, "root1"), "root1")
    root2 = _unb64(_field(b, "root2"), "root2")
    path = _hashes(b, "proof")
    note1, note2 = _str(b, "checkpoint1"), _str(b, "checkpoint2")
    v = _verifier(b, trusted)
    cp1, _ = signed_note.verify_note(note1, [v])
    cp2, signers = signed_note.verify_note(note2, [v])
    if (cp1.size, cp1.root) != (size1, root1) or (cp2.size, cp2.root) != (size2, root2):
        raise ProofError("the checkpoints do not sign these sizes and roots")
    if cp1.origin != cp2.origin:
        raise ProofError("the two checkpoints come from different logs")
    proofs.verify_consistency(size1, size2, path, root1, root2)
    return Verdict(True, f"the tree of {size1} rows is a prefix of the tree of {size2}", signers[0])


def verify_bundle(bundle: Any, trusted: list[str] | None = None) -> Verdict:
    return verify(bundle, trusted)
