"""MMR node file: proofs against the RFC 6962 definitions, reopen, torn tails, bad headers."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import CorruptLog, ProofError, ReadOnly
from core.verify.mmr import EMPTY_ROOT, MMR, leaf_hash, node_count, node_hash
from core.verify.proofs import root_from_inclusion, verify_consistency, verify_inclusion

HEADER = 16


# -- a naive RFC 6962 reference, straight from the RFC's recursive definitions -------------------


def _k(n: int) -> int:
    """Largest power of two strictly below n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def mth(d: list[bytes]) -> bytes:
    if not d:
        return EMPTY_ROOT
    if len(d) == 1:
        return d[0]  # already leaf hashes
    k = _k(len(d))
    return node_hash(mth(d[:k]), mth(d[k:]))


def path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return path(m, d[:k]) + [mth(d[k:])]
    return path(m - k, d[k:]) + [mth(d[:k])]


def subproof(m: int, d: list[bytes], b: bool = True) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [mth(d)]
    k = _k(n)
    if m <= k:
        return subproof(m, d[:k], b) + [mth(d[k:])]
    return subproof(m - k, d[k:], False) + [mth(d[:k])]


def leaves(n: int, salt: int = 0) -> list[bytes]:
    return [leaf_hash(f"{salt}:{i}".encode()) for i in range(n)]


@contextmanager
def built(hashes: list[bytes], chunks: list[int] | None = None) -> Iterator[tuple[MMR, Path]]:
    """An MMR in a fresh temp dir, appended in the given chunk sizes (hypothesis-friendly)."""
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "mmr.nodes"
        mmr = MMR.open(p)
        try:
            i = 0
            for c in chunks or [len(hashes)]:
                mmr.append(hashes[i : i + c])
                i += c
            mmr.append(hashes[i:])
            assert mmr.size == len(hashes)
            yield mmr, p
        finally:
            mmr.close()


# -- exhaustive small trees -------------------------------------------------------------------


def test_exhaustive_small_trees() -> None:
    hs = leaves(40)
    with built(hs, [1, 2, 3, 5, 8, 13]) as (mmr, _):
        for n in range(0, 41):
            root = mth(hs[:n])
            assert mmr.root(n) == root == MMR.root_of(hs[:n])
            for i in range(n):
                proof = mmr.inclusion_proof(i, n)
                assert proof == path(i, hs[:n])
                verify_inclusion(i, n, hs[i], proof, root)
            for m in range(0, n + 1):
                proof = mmr.consistency_proof(m, n)
                assert proof == (subproof(m, hs[:n]) if 0 < m < n else [])
                verify_consistency(m, n, proof, mmr.root(m), root)


def test_node_count_and_file_length(tmp_path: Path) -> None:
    assert [node_count(n) for n in range(9)] == [0, 1, 3, 4, 7, 8, 10, 11, 15]
    p = tmp_path / "mmr.nodes"
    with MMR.open(p) as mmr:
        assert mmr.size == 0 and mmr.root() == EMPTY_ROOT and mmr.peaks() == []
        assert p.read_bytes() == b"BRAINMMR\x00\x00\x00\x01\x00\x00\x00\x20"
        for n in range(1, 20):
            mmr.append([leaf_hash(bytes([n]))])
            assert p.stat().st_size == HEADER + 32 * node_count(n)


# -- property tests ---------------------------------------------------------------------------

sizes = st.integers(min_value=1, max_value=300)
chunking = st.lists(st.integers(min_value=0, max_value=64), max_size=8)


@settings(max_examples=60, deadline=None)
@given(n=sizes, chunks=chunking, data=st.data())
def test_inclusion_proofs_verify(n: int, chunks: list[int], data: st.DataObject) -> None:
    hs = leaves(n, salt=n)
    with built(hs, chunks) as (mmr, _):
        assert mmr.root() == mth(hs)
        for _ in range(20):
            size = data.draw(st.integers(min_value=1, max_value=n), label="size")
            i = data.draw(st.integers(min_value=0, max_value=size - 1), label="leaf")
            root = MMR.root_of(hs[:size])
            proof = mmr.inclusion_proof(i, size)
            assert mmr.leaf(i) == hs[i]
            verify_inclusion(i, size, hs[i], proof, root)
            assert root_from_inclusion(i, size, hs[i], proof) == root
            assert proof == path(i, hs[:size])


@settings(max_examples=60, deadline=None)
@given(n=sizes, chunks=chunking, data=st.data())
def test_consistency_proofs_verify(n: int, chunks: list[int], data: st.DataObject) -> None:
    hs = leaves(n, salt=n)
    with built(hs, chunks) as (mmr, _):
        for _ in range(20):
            size2 = data.draw(st.integers(min_value=0, max_value=n), label="size2")
            size1 = data.draw(st.integers(min_value=0, max_value=size2), label="size1")
            r1, r2 = MMR.root_of(hs[:size1]), MMR.root_of(hs[:size2])
            proof = mmr.consistency_proof(size1, size2)
            verify_consistency(size1, size2, proof, r1, r2)
            if 0 < size1 < size2:
                assert proof == subproof(size1, hs[:size2])
                # The proof must not also prove a different old tree.
                with pytest.raises(ProofError):
                    verify_consistency(size1, size2, proof, MMR.root_of(hs[1 : size1 + 1]), r2)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(min_value=2, max_value=300), data=st.data())
def test_flipped_proof_byte_is_rejected(n: int, data: st.DataObject) -> None:
    hs = leaves(n)
    with built(hs) as (mmr, _):
        size = data.draw(st.integers(min_value=2, max_value=n))
        i = data.draw(st.integers(min_value=0, max_value=size - 1))
        proof = mmr.inclusion_proof(i, size)
        k = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
        byte = data.draw(st.integers(min_value=0, max_value=31))
        bad = [bytearray(p) for p in proof]
        bad[k][byte] ^= 1 << data.draw(st.integers(min_value=0, max_value=7))
        with pytest.raises(ProofError):
            verify_inclusion(i, size, hs[i], [bytes(p) for p in bad], mmr.root(size))
        with pytest.raises(ProofError):
            verify_inclusion(i, size, hs[i], proof[:-1], mmr.root(size))
        with pytest.raises(ProofError):
            verify_inclusion(i, size, hs[i], proof + [hs[0]], mmr.root(size))

        size1 = data.draw(st.integers(min_value=1, max_value=size - 1))
        cproof = mmr.consistency_proof(size1, size)
        if cproof:
            k = data.draw(st.integers(min_value=0, max_value=len(cproof) - 1))
            bad = [bytearray(p) for p in cproof]
            bad[k][data.draw(st.integers(min_value=0, max_value=31))] ^= 0x80
            with pytest.raises(ProofError):
                verify_consistency(
                    size1, size, [bytes(p) for p in bad], mmr.root(size1), mmr.root(size)
                )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=sizes, cut=st.integers(min_value=1, max_value=100))
def test_reopen_and_torn_append(n: int, cut: int) -> None:
    hs = leaves(n)
    with built(hs, [n // 3]) as (mmr, p):
        roots = [mmr.root(s) for s in range(n + 1)]
        peaks = mmr.peaks()
        mmr.close()

        with MMR.open(p) as again:
            assert again.size == n and again.peaks() == peaks
            assert [again.root(s) for s in range(n + 1)] == roots

        length = p.stat().st_size
        cut = min(cut, length - HEADER)
        os.truncate(p, length - cut)
        with MMR.open(p, readonly=True) as ro:
            # A reader sees the valid prefix but leaves the tail for the writer.
            assert p.stat().st_size == length - cut
            smaller = ro.size
        with MMR.open(p) as torn:
            assert torn.size == smaller < n
            assert p.stat().st_size == HEADER + 32 * node_count(torn.size)
            assert torn.root() == roots[torn.size] == mth(hs[: torn.size])
            torn.append(hs[torn.size :])  # rebuilt from the log, it converges again
            assert torn.root() == roots[n]


def test_truncate_recovery(tmp_path: Path) -> None:
    hs = leaves(100)
    p = tmp_path / "mmr.nodes"
    with MMR.open(p) as mmr:
        mmr.append(hs)
        mmr.inclusion_proof(99, 100)  # maps the whole file first
        mmr.truncate(37)
        assert mmr.size == 37 and mmr.root() == mth(hs[:37])
        assert p.stat().st_size == HEADER + 32 * node_count(37)
        with pytest.raises(ProofError):
            mmr.leaf(37)
        mmr.append(hs[37:])
        assert mmr.root() == mth(hs)
        with pytest.raises(ProofError):
            mmr.truncate(101)
    with MMR.open(p, readonly=True) as ro:
        assert ro.root() == mth(hs)
        with pytest.raises(ReadOnly):
            ro.append([hs[0]])


@pytest.mark.parametrize(
    "header",
    [
        b"NOTMMR!!\x00\x00\x00\x01\x00\x00\x00\x20",
        b"BRAINMMR\x00\x00\x00\x02\x00\x00\x00\x20",
        b"BRAINMMR\x00\x00\x00\x01\x00\x00\x00\x40",
        b"BRAINMM",
    ],
)
def test_bad_header_is_corrupt(tmp_path: Path, header: bytes) -> None:
    p = tmp_path / "mmr.nodes"
    p.write_bytes(header + b"\x00" * 96)
    with pytest.raises(CorruptLog):
        MMR.open(p)
    assert p.read_bytes() == header + b"\x00" * 96  # refused, never repaired


def test_bad_arguments_are_proof_errors(tmp_path: Path) -> None:
    hs = leaves(10)
    with built(hs) as (mmr, _):
        for call in (
            lambda: mmr.inclusion_proof(10, 10),
            lambda: mmr.inclusion_proof(0, 11),
            lambda: mmr.inclusion_proof(-1, 5),
            lambda: mmr.inclusion_proof(0, 0),
            lambda: mmr.consistency_proof(5, 4),
            lambda: mmr.consistency_proof(1, 11),
            lambda: mmr.root(11),
            lambda: mmr.peaks(-1),
            lambda: mmr.append([b"short"]),
        ):
            with pytest.raises(ProofError):
                call()
        assert mmr.size == 10  # the rejected batch wrote nothing
    root = MMR.root_of(hs)
    proof = [hs[1], node_hash(hs[2], hs[3]), MMR.root_of(hs[4:8]), MMR.root_of(hs[8:])]
    verify_inclusion(0, 10, hs[0], proof, root)
    for args in (
        (True, 10, hs[0], proof, root),  # a JSON bool is not an index
        (0, 10, hs[0][:31], proof, root),
        (0, 10, hs[0], proof, root + b"\x00"),
        (0, 10, hs[0], proof[:3] + [proof[3][:31]], root),
        (0, 10, hs[0], b"".join(proof), root),
        (10, 10, hs[0], proof, root),
    ):
        with pytest.raises(ProofError):
            verify_inclusion(*args)
    with pytest.raises(ProofError, match="not below tree size"):
        verify_inclusion(4, 4, hs[0], proof[:2], root)
    with pytest.raises(ProofError, match="proof has 3 hashes, expected 4"):
        verify_inclusion(0, 10, hs[0], proof[:3], root)
    with pytest.raises(ProofError):
        verify_consistency(0, 10, [], hs[0], root)  # empty tree's root is SHA-256("")
    verify_consistency(0, 10, None, EMPTY_ROOT, root)
    with pytest.raises(ProofError):
        verify_consistency(10, 10, [root], root, root)
    with pytest.raises(ProofError):
        verify_consistency(10, 10, [], root, EMPTY_ROOT)


def test_file_cut_behind_our_back_is_corrupt(tmp_path: Path) -> None:
    p = tmp_path / "mmr.nodes"
    with MMR.open(p) as mmr:
        mmr.append(leaves(10))
        os.truncate(p, HEADER + 32 * 5)
        with pytest.raises(CorruptLog):
            mmr.inclusion_proof(9, 10)  # never a short, silently wrong hash
