"""Pure RFC 6962 / RFC 9162 proof verifiers: no file access, no engine state.

This is the code a stranger runs against a proof bundle, so it trusts nothing it is given: every
size, index, hash length and proof length is checked before any hashing, and each failure says
which check failed. The algorithms follow the decomposition used by transparency-dev/merkle
(an inclusion path is `inner` siblings below the fork with the right border, then `border` left
peaks), which is equivalent to RFC 9162 sections 2.1.3.2 and 2.1.4.2.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.digest import sha256 as _sha256
from core.errors import ProofError

HASH_SIZE = 32
EMPTY_ROOT = _sha256(b"").digest()


def leaf_hash(payload: bytes) -> bytes:
    """RFC 6962 leaf hash: SHA-256(0x00 || payload)."""
    return _sha256(b"\x00" + payload).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior hash: SHA-256(0x01 || left || right)."""
    return _sha256(b"\x01" + left + right).digest()


def inclusion_proof_size(leaf_index: int, tree_size: int) -> tuple[int, int]:
    """(inner, border): siblings below the fork node, then left peaks above it.

    inner counts the levels where the paths to leaf_index and to the last leaf differ; the
    border is one left sibling per set bit above them.
    """
    inner = (leaf_index ^ (tree_size - 1)).bit_length()
    return inner, (leaf_index >> inner).bit_count()


def _check_size(name: str, value: object) -> int:
    # bool is an int subclass; a JSON true must not pass as size 1.
    if type(value) is not int or value < 0:
        raise ProofError(f"{name} must be a non-negative integer, got {value!r}")
    return value


def _check_hash(name: str, value: object) -> bytes:
    if not isinstance(value, bytes | bytearray | memoryview):
        raise ProofError(f"{name} must be bytes, got {type(value).__name__}")
    if len(value) != HASH_SIZE:
        raise ProofError(f"{name} is {len(value)} bytes, expected {HASH_SIZE}")
    return bytes(value)


def _check_proof(proof: Sequence[bytes] | None, want: int) -> list[bytes]:
    if proof is None:
        proof = ()
    if isinstance(proof, bytes | bytearray | str):
        # A bare bytes object would otherwise iterate as ints.
        raise ProofError("proof must be a sequence of hashes, not a single value")
    if len(proof) != want:
        raise ProofError(f"proof has {len(proof)} hashes, expected {want}")
    return [_check_hash(f"proof[{i}]", p) for i, p in enumerate(proof)]


def _chain_inner(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    # Bit i of index says whether the running hash is the right (1) or left (0) child at level i.
    sha = _sha256
    for i, h in enumerate(proof):
        if (index >> i) & 1:
            seed = sha(b"\x01" + h + seed).digest()
        else:
            seed = sha(b"\x01" + seed + h).digest()
    return seed


def _chain_inner_right(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    # The old tree only ever saw the left siblings: right ones did not exist yet at size1.
    sha = _sha256
    for i, h in enumerate(proof):
        if (index >> i) & 1:
            seed = sha(b"\x01" + h + seed).digest()
    return seed


def _chain_border_right(seed: bytes, proof: Sequence[bytes]) -> bytes:
    # Above the fork every remaining sibling is a complete peak on the left.
    sha = _sha256
    for h in proof:
        seed = sha(b"\x01" + h + seed).digest()
    return seed


def root_from_inclusion(
    leaf_index: int, tree_size: int, leaf_hash: bytes, proof: Sequence[bytes] | None
) -> bytes:
    """The tree head implied by an inclusion proof; raises ProofError on malformed input."""
    _check_size("leaf_index", leaf_index)
    _check_size("tree_size", tree_size)
    if leaf_index >= tree_size:
        raise ProofError(f"leaf index {leaf_index} is not below tree size {tree_size}")
    seed = _check_hash("leaf hash", leaf_hash)
    inner, border = inclusion_proof_size(leaf_index, tree_size)
    hashes = _check_proof(proof, inner + border)
    res = _chain_inner(seed, hashes[:inner], leaf_index)
    return _chain_border_right(res, hashes[inner:])


def verify_inclusion(
    leaf_index: int,
    tree_size: int,
    leaf_hash: bytes,
    proof: Sequence[bytes] | None,
    root: bytes,
) -> None:
    """Raise ProofError unless proof shows leaf_hash at leaf_index in the tree with this root."""
    want = _check_hash("root", root)
    got = root_from_inclusion(leaf_index, tree_size, leaf_hash, proof)
    if got != want:
        raise ProofError(
            f"inclusion proof for leaf {leaf_index} of {tree_size} gives root {got.hex()}, "
            f"expected {want.hex()}"
        )


def verify_consistency(
    size1: int,
    size2: int,
    proof: Sequence[bytes] | None,
    root1: bytes,
    root2: bytes,
) -> None:
    """Raise ProofError unless the tree (size1, root1) is a prefix of the tree (size2, root2)."""
    _check_size("size1", size1)
    _check_size("size2", size2)
    r1 = _check_hash("root1", root1)
    r2 = _check_hash("root2", root2)
    if size1 > size2:
        raise ProofError(f"size1 {size1} is larger than size2 {size2}")
    if size1 == size2:
        _check_proof(proof, 0)
        if r1 != r2:
            raise ProofError(f"equal sizes {size1} but roots differ")
        return
    if size1 == 0:
        # Every tree extends the empty tree; its root is SHA-256 of nothing by definition.
        _check_proof(proof, 0)
        if r1 != EMPTY_ROOT:
            raise ProofError("root1 of an empty tree must be SHA-256 of the empty string")
        return
    if not proof:
        raise ProofError(f"empty consistency proof for sizes {size1} < {size2}")

    inner, border = inclusion_proof_size(size1 - 1, size2)
    # The proof starts at the last perfect subtree of the old tree, level `shift`; when size1 is
    # a power of two that subtree is the whole old tree, whose root the caller already holds.
    shift = (size1 & -size1).bit_length() - 1
    inner -= shift
    start = 0 if size1 == 1 << shift else 1
    hashes = _check_proof(proof, start + inner + border)
    seed = r1 if start == 0 else hashes[0]
    hashes = hashes[start:]
    mask = (size1 - 1) >> shift

    got1 = _chain_border_right(_chain_inner_right(seed, hashes[:inner], mask), hashes[inner:])
    if got1 != r1:
        raise ProofError(
            f"consistency proof {size1} -> {size2} gives root1 {got1.hex()}, expected {r1.hex()}"
        )
    got2 = _chain_border_right(_chain_inner(seed, hashes[:inner], mask), hashes[inner:])
    if got2 != r2:
        raise ProofError(
            f"consistency proof {size1} -> {size2} gives root2 {got2.hex()}, expected {r2.hex()}"
        )
