"""The public RFC 6962 vectors (transparency-dev/merkle testdata) and our own chain vectors."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from core.errors import ProofError
from core.verify.mmr import MMR, leaf_hash
from core.verify.proofs import verify_consistency, verify_inclusion
from tests.vectors import VECTORS, vector_dir, vector_file

# ../shared sits beside the repository root, not inside it (tests/vectors.py).
RFC_DIR = VECTORS / "rfc6962"

INCLUSION_FIELDS = {"leafIdx", "treeSize", "root", "leafHash", "proof", "desc", "wantErr"}
CONSISTENCY_FIELDS = {"size1", "size2", "root1", "root2", "proof", "desc", "wantErr"}


def _files(kind: str) -> list[Path]:
    # Without ../shared the folder itself stands in, so its case fails instead of pytest
    # skipping an empty parameter set.
    return sorted((RFC_DIR / kind).rglob("*.json")) or [RFC_DIR / kind]


def _case(path: Path) -> dict:
    return json.loads(vector_file(str(path.relative_to(VECTORS))).read_text())


def _id(path: Path) -> str:
    return str(path.relative_to(RFC_DIR))


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value) if value is not None else b""


def _proof(value: list[str] | None) -> list[bytes]:
    return [_b64(p) for p in value or []]


def test_vectors_are_present() -> None:
    # A missing checkout of ../shared must fail loudly, not parametrize to zero cases.
    vector_dir("rfc6962/inclusion")
    vector_dir("rfc6962/consistency")
    assert len(_files("inclusion")) > 10, RFC_DIR
    assert len(_files("consistency")) > 10, RFC_DIR
    happy = [p for p in _files("inclusion") + _files("consistency") if p.name == "happy-path.json"]
    assert happy and all(not json.loads(p.read_text())["wantErr"] for p in happy)


@pytest.mark.parametrize("path", _files("inclusion"), ids=_id)
def test_inclusion_vector(path: Path) -> None:
    case = _case(path)
    assert set(case) == INCLUSION_FIELDS
    assert isinstance(case["wantErr"], bool)
    args = (
        case["leafIdx"],
        case["treeSize"],
        _b64(case["leafHash"]),
        _proof(case["proof"]),
        _b64(case["root"]),
    )
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize("path", _files("consistency"), ids=_id)
def test_consistency_vector(path: Path) -> None:
    case = _case(path)
    assert set(case) == CONSISTENCY_FIELDS
    assert isinstance(case["wantErr"], bool)
    args = (
        case["size1"],
        case["size2"],
        _proof(case["proof"]),
        _b64(case["root1"]),
        _b64(case["root2"]),
    )
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


def test_happy_paths_match_mmr_proofs(tmp_path: Path) -> None:
    """The vectors come from the tree of leaves 0..7 in transparency-dev; ours must agree."""
    leaves = [
        b"",
        b"\x00",
        b"\x10",
        b"\x20\x21",
        b"\x30\x31",
        b"\x40\x41\x42\x43",
        b"\x50\x51\x52\x53\x54\x55\x56\x57",
        b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
    ]
    hashes = [leaf_hash(x) for x in leaves]
    vector_dir("rfc6962/inclusion")
    vector_dir("rfc6962/consistency")
    checked = 0
    mmr = MMR.open(tmp_path / "mmr.nodes")
    try:
        mmr.append(hashes)
        for path in _files("inclusion"):
            if path.name != "happy-path.json":
                continue
            case = json.loads(path.read_text())
            i, n = case["leafIdx"], case["treeSize"]
            assert mmr.leaf(i) == _b64(case["leafHash"])
            assert mmr.root(n) == _b64(case["root"])
            assert mmr.inclusion_proof(i, n) == _proof(case["proof"])
            checked += 1
        for path in _files("consistency"):
            if path.name != "happy-path.json":
                continue
            case = json.loads(path.read_text())
            s1, s2 = case["size1"], case["size2"]
            assert mmr.root(s1) == _b64(case["root1"])
            assert mmr.root(s2) == _b64(case["root2"])
            assert mmr.consistency_proof(s1, s2) == _proof(case["proof"])
            checked += 1
    finally:
        mmr.close()
    assert checked >= 2  # at least one happy path of each kind was compared


def test_brain_chain_leaves_and_roots(tmp_path: Path) -> None:
    chain = json.loads(vector_file("brain/chain.json").read_text())
    rows = chain["rows"]
    assert len(rows) == 3
    hashes = []
    for row in rows:
        h = leaf_hash(base64.b64decode(row["payload_b64"]))
        assert h == base64.b64decode(row["leaf_hash_b64"])
        hashes.append(h)
    roots = {int(k): base64.b64decode(v) for k, v in chain["roots_b64"].items()}
    assert sorted(roots) == [1, 2, 3]
    mmr = MMR.open(tmp_path / "mmr.nodes")
    try:
        for size in (1, 2, 3):
            mmr.append([hashes[size - 1]])
            assert mmr.root() == roots[size]
            assert MMR.root_of(hashes[:size]) == roots[size]
        for size in (1, 2, 3):
            assert mmr.root(size) == roots[size]
            for i in range(size):
                verify_inclusion(i, size, hashes[i], mmr.inclusion_proof(i, size), roots[size])
    finally:
        mmr.close()
