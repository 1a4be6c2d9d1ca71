"""Merkle Mountain Range over the append-only node file `audit/mmr.nodes`.

The tree head of n leaves is the RFC 6962 root (peaks folded right to left), so the proofs this
module makes are plain RFC 6962 audit paths and consistency proofs that any transparency-log
verifier (see core.verify.proofs) accepts. Nodes are stored in MMR post-order (layout in
docs/mmr-nodes.md): every perfect subtree is one fixed-size record whose position is computed,
so a proof reads O(log n) records and never replays the log.

The file is derived state: it is rebuildable from the binlog, written with one unsynced append
per batch, and a torn tail is cut back to the largest complete MMR on open.
"""

from __future__ import annotations

import mmap
import os
import struct
from collections.abc import Sequence
from pathlib import Path

from core import fsio
from core.digest import sha256 as _sha256
from core.errors import CorruptLog, ProofError, ReadOnly
from core.verify.proofs import EMPTY_ROOT, HASH_SIZE, leaf_hash, node_hash

__all__ = ["EMPTY_ROOT", "MMR", "leaf_hash", "node_count", "node_hash"]

MAGIC = b"BRAINMMR"
VERSION = 1
HEADER = struct.Struct(">8sII")  # magic, version, node size
HEADER_SIZE = HEADER.size  # 16
HEADER_BYTES = HEADER.pack(MAGIC, VERSION, HASH_SIZE)


def node_count(leaves: int) -> int:
    """Nodes stored for `leaves` leaves: every leaf plus one parent per merge."""
    return 2 * leaves - leaves.bit_count()


def _pos(height: int, index: int) -> int:
    """Post-order position of the perfect node of `height` covering leaves [i*2^h, (i+1)*2^h).

    A node is written right after its last leaf's subtree: leafpos(last) + height, where
    leafpos(i) = 2i - popcount(i) counts the nodes stored before leaf i.
    """
    last = ((index + 1) << height) - 1
    return 2 * last - last.bit_count() + height


def leaves_for_nodes(nodes: int) -> int:
    """Largest n with node_count(n) <= nodes (node_count is strictly increasing)."""
    # popcount(n) <= bit_length(n), so n <= (nodes + bit_length) / 2: start there and step down.
    n = (nodes + nodes.bit_length() + 1) // 2
    while node_count(n) > nodes:
        n -= 1
    return n


def _fold(peaks: Sequence[bytes]) -> bytes:
    """RFC 6962 head of a forest: H(p0, H(p1, ... H(p_{k-1}, p_k)))."""
    if not peaks:
        return EMPTY_ROOT
    sha = _sha256
    acc = peaks[-1]
    for p in reversed(peaks[:-1]):
        acc = sha(b"\x01" + p + acc).digest()
    return acc


class MMR:
    """One node file. A single writer appends; proofs may be read from other threads."""

    def __init__(self, path: Path, fd: int, leaves: int, readonly: bool) -> None:
        self.path = path
        self._fd = fd
        self._readonly = readonly
        self._size = leaves
        self._file_len = HEADER_SIZE + node_count(leaves) * HASH_SIZE
        self._mm: mmap.mmap | None = None
        self._peaks: list[bytes] = self._read_peaks(leaves)
        self._root: bytes | None = None  # cached head of the current size

    # -- opening -------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path, *, readonly: bool = False, locked: bool = True) -> MMR:
        """Open (creating if missing) and cut a torn tail back to the largest complete MMR.

        readonly=True never creates or truncates: a reader (doctor, `brain prove` beside a live
        writer) must not cut a tail that the writer is still appending. locked=False opens for
        writing without touching the file: another process may be appending right now, so the
        holder of the writer lock calls `reload()` once it has the lock (PROTOCOL: fencing).
        """
        path = Path(path)
        if not readonly and locked and not path.exists():
            # temp + rename: a crash never leaves a file with half a header.
            fsio.write_file(path, HEADER_BYTES, durable=True)
        flags = os.O_RDONLY if readonly else os.O_RDWR | os.O_APPEND
        fd = fsio.open_fd(path, flags)
        try:
            leaves = _complete_leaves(path, fd, cut=not readonly and locked)
            return cls(path, fd, leaves, readonly)
        except BaseException:
            fsio.close(fd)
            raise

    def reload(self) -> None:
        """Re-read the file's size and peaks: another process may have appended (or a repair
        rebuilt it) since this handle last looked. A writable handle, called under the writer
        lock, also cuts a torn tail."""
        leaves = _complete_leaves(self.path, self._fd, cut=not self._readonly)
        if leaves == self._size and os.fstat(self._fd).st_size == self._file_len:
            return
        self._mm = None  # the file may have shrunk: never slice an old map past its end
        self._size = leaves
        self._file_len = HEADER_SIZE + node_count(leaves) * HASH_SIZE
        self._peaks = self._read_peaks(leaves)
        self._root = None

    def close(self) -> None:
        if self._mm is not None:
            self._mm.close()
            self._mm = None
        if self._fd >= 0:
            fsio.close(self._fd)
            self._fd = -1

    def __enter__(self) -> MMR:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def size(self) -> int:
        """Number of leaves."""
        return self._size

    # -- writing -------------------------------------------------------------------------------

    def append(self, leaf_hashes: Sequence[bytes]) -> None:
        """Append leaves and every parent they complete, in one unsynced write."""
        if self._readonly:
            raise ReadOnly(f"{self.path} is open read-only")
        n = self._size
        peaks = self._peaks.copy()  # committed only once the write succeeded
        buf = bytearray()
        sha = _sha256
        for i, h in enumerate(leaf_hashes):
            if not isinstance(h, bytes) or len(h) != HASH_SIZE:
                raise ProofError(f"leaf hash {i} of the batch must be {HASH_SIZE} bytes")
            buf += h
            n += 1
            # A new leaf completes one parent per trailing zero bit of the new size.
            for _ in range((n & -n).bit_length() - 1):
                h = sha(b"\x01" + peaks.pop() + h).digest()
                buf += h
            peaks.append(h)
        if not buf:
            return
        try:
            fsio.write(self._fd, memoryview(buf))
        except BaseException:
            # A partial write would leave nodes the in-memory state does not know about; the
            # next append would land after them and shift every position.
            fsio.ftruncate(self._fd, self._file_len)
            raise
        self._file_len += len(buf)
        self._size = n
        self._peaks = peaks
        self._root = None

    def truncate(self, leaves: int) -> None:
        """Cut the file back to `leaves` leaves (recovery when the log is shorter)."""
        if self._readonly:
            raise ReadOnly(f"{self.path} is open read-only")
        if type(leaves) is not int or not 0 <= leaves <= self._size:
            raise ProofError(f"cannot truncate {self._size} leaves to {leaves!r}")
        # Drop the map before the file shrinks: touching a page past EOF is SIGBUS. Other
        # threads keep their own reference until they finish.
        self._mm = None
        self._file_len = HEADER_SIZE + node_count(leaves) * HASH_SIZE
        fsio.ftruncate(self._fd, self._file_len)
        self._size = leaves
        self._peaks = self._read_peaks(leaves)
        self._root = None

    # -- reading -------------------------------------------------------------------------------

    def _map(self) -> mmap.mmap:
        """The mapping, remapped when nodes were appended past its end."""
        mm = self._mm
        if mm is None or len(mm) < self._file_len:
            # Replace, never close: another thread may still be reading the old map.
            mm = mmap.mmap(self._fd, 0, access=mmap.ACCESS_READ)
            if len(mm) < self._file_len:
                # Someone else cut the file: slicing past the end would silently return short
                # hashes and wrong proofs.
                raise CorruptLog(
                    f"{self.path}: {len(mm)} bytes on disk, {self._file_len} expected "
                    f"for {self._size} leaves"
                )
            self._mm = mm
        return mm

    def _read_peaks(self, size: int) -> list[bytes]:
        if size == 0:
            return []
        mm = self._map()
        out = []
        start = 0
        for h in range(size.bit_length() - 1, -1, -1):
            if size >> h & 1:
                off = HEADER_SIZE + _pos(h, start >> h) * HASH_SIZE
                out.append(mm[off : off + HASH_SIZE])
                start += 1 << h
        return out

    def _check_size(self, name: str, value: object) -> int:
        if type(value) is not int or not 0 <= value <= self._size:
            raise ProofError(f"{name} {value!r} is outside the tree of {self._size} leaves")
        return value

    def peaks(self, size: int | None = None) -> list[bytes]:
        """Peak hashes of the first `size` leaves, left (tallest) to right."""
        if size is None or size == self._size:
            return self._peaks.copy()
        return self._read_peaks(self._check_size("size", size))

    def root(self, size: int | None = None) -> bytes:
        """RFC 6962 tree head of the first `size` leaves (default: all)."""
        if size is None or size == self._size:
            if self._root is None:
                self._root = _fold(self._peaks)
            return self._root
        return _fold(self._read_peaks(self._check_size("size", size)))

    def leaf(self, index: int) -> bytes:
        if type(index) is not int or not 0 <= index < self._size:
            raise ProofError(f"leaf index {index!r} is outside the tree of {self._size} leaves")
        off = HEADER_SIZE + (2 * index - index.bit_count()) * HASH_SIZE
        return self._map()[off : off + HASH_SIZE]

    def inclusion_proof(self, leaf_index: int, tree_size: int) -> list[bytes]:
        """RFC 6962 audit path for a leaf in the tree of `tree_size` leaves, leaf upward."""
        self._check_size("tree size", tree_size)
        if type(leaf_index) is not int or not 0 <= leaf_index < tree_size:
            raise ProofError(f"leaf index {leaf_index!r} is not below tree size {tree_size}")
        return self._path(leaf_index, 0, tree_size)

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        """RFC 6962 SUBPROOF(size1, D[size2], true): proves size1 is a prefix of size2."""
        self._check_size("size2", size2)
        if type(size1) is not int or not 0 <= size1 <= size2:
            raise ProofError(f"size1 {size1!r} must be between 0 and size2 {size2}")
        if size1 == 0 or size1 == size2:
            return []
        # Equivalent to the inclusion path of the last perfect subtree of the old tree, plus
        # that subtree itself unless it is the whole old tree (a power of two: root1 is known).
        level = (size1 & -size1).bit_length() - 1
        index = (size1 - 1) >> level
        proof = self._path(index, level, size2)
        if index:
            off = HEADER_SIZE + _pos(level, index) * HASH_SIZE
            proof.insert(0, self._map()[off : off + HASH_SIZE])
        return proof

    def _path(self, index: int, level: int, size: int) -> list[bytes]:
        """Audit path of the perfect node (level, index) in the RFC 6962 tree of `size` leaves.

        The node sits in one peak of `size` (the fork): siblings inside that peak come from the
        file, then the right neighbour in the RFC tree is the fold of the smaller peaks to the
        right, then each taller peak to the left, nearest first.
        """
        mm = self._map()
        hs, hdr = HASH_SIZE, HEADER_SIZE
        top = size >> level
        inner = (index ^ top).bit_length() - 1  # levels between the node and its peak
        proof: list[bytes] = []
        for i in range(inner):
            sib = (index >> i) ^ 1
            h = level + i
            last = ((sib + 1) << h) - 1
            off = hdr + (2 * last - last.bit_count() + h) * hs
            proof.append(mm[off : off + hs])

        fork_h = level + inner
        begin = (index >> inner) << fork_h
        end = begin + (1 << fork_h)
        if end < size:
            right = []
            start = end
            for h in range(fork_h - 1, -1, -1):
                if size >> h & 1:
                    off = hdr + _pos(h, start >> h) * hs
                    right.append(mm[off : off + hs])
                    start += 1 << h
            proof.append(_fold(right))
        if begin:
            left = []
            start = 0
            for h in range(size.bit_length() - 1, fork_h, -1):
                if size >> h & 1:
                    off = hdr + _pos(h, start >> h) * hs
                    left.append(mm[off : off + hs])
                    start += 1 << h
            left.reverse()
            proof += left
        return proof

    @staticmethod
    def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
        """In-memory RFC 6962 head of a list of leaf hashes (reference for tests and doctor)."""
        peaks: list[bytes] = []
        sha = _sha256
        for n, h in enumerate(leaf_hashes, 1):
            for _ in range((n & -n).bit_length() - 1):
                h = sha(b"\x01" + peaks.pop() + h).digest()
            peaks.append(h)
        return _fold(peaks)


def _complete_leaves(path: Path, fd: int, *, cut: bool) -> int:
    """Leaves in the largest complete MMR the file holds; with cut, drop a torn tail."""
    length = os.fstat(fd).st_size
    _check_header(path, os.pread(fd, HEADER_SIZE, 0))
    leaves = leaves_for_nodes((length - HEADER_SIZE) // HASH_SIZE)
    valid = HEADER_SIZE + node_count(leaves) * HASH_SIZE
    if valid != length and cut:
        fsio.ftruncate(fd, valid)
    return leaves


def _check_header(path: Path, header: bytes) -> None:
    if len(header) < HEADER_SIZE:
        raise CorruptLog(f"{path}: node file header is {len(header)} bytes, expected 16")
    magic, version, size = HEADER.unpack(header)
    if magic != MAGIC:
        raise CorruptLog(f"{path}: bad magic {magic!r}, expected {MAGIC!r}")
    if version != VERSION:
        raise CorruptLog(f"{path}: node file version {version}, this build reads {VERSION}")
    if size != HASH_SIZE:
        raise CorruptLog(f"{path}: node size {size}, expected {HASH_SIZE}")
