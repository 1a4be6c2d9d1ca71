"""Reading and fully verifying a store we do not hold the lock of: an export zip, a store
folder, a fresh backup. Used by import (before anything is written) and by backup.

`verify` checks, in order, and refuses with `ImportRefused` naming the file and the reason:
the manifest; every `keys/*.vkey`; every frame of every segment (CRC-32C, header vs payload,
canonical payload) and the chain from genesis across segments; every checkpoint note (a
signature by a key in `keys/`, origin `brain/<store id>`, its size within the log, its root
equal to the RFC 6962 root recomputed from the leaves); the root named by every `checkpoint`
row; and every memory file against the log (the sidecar's row is the last row for its path,
the body matches its commitment, tombstones carry the stub).
"""

from __future__ import annotations

import os
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from core import frames, paths
from core.binlog import _SEGMENT
from core.errors import BrainError
from core.hashing import commitment
from core.ledger_state import Tip, decode_row, verify_row
from core.mmr import leaf_hash
from core.models import TOMBSTONE_STUB, Manifest, Row, Sidecar
from core.notes import Verifier, verify_note
from core.proofs import EMPTY_ROOT, node_hash

_NOTE = re.compile(r"^audit/checkpoints/(\d{20})\.note$")
_STORE_ID = re.compile(r"^[0-9a-f]{32}$")
_sidecar = msgspec.json.Decoder(Sidecar)


class ImportRefused(BrainError):
    """The source failed verification; nothing was written."""


# -- sources ----------------------------------------------------------------------------------


class Source:
    label: str

    def names(self) -> list[str]:
        raise NotImplementedError

    def read(self, name: str) -> bytes | None:
        raise NotImplementedError

    def close(self) -> None:
        pass


class ZipSource(Source):
    def __init__(self, path: Path) -> None:
        self.label = str(path)
        try:
            self.zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as e:
            raise ImportRefused(f"{path}: not a readable zip file ({e})") from None
        self._infos: dict[str, zipfile.ZipInfo] = {}
        for zi in self.zf.infolist():
            if zi.is_dir():
                continue
            _check_entry(path, zi.filename)
            if zi.filename in self._infos:
                raise ImportRefused(f"{path}: entry {zi.filename!r} appears twice")
            self._infos[zi.filename] = zi

    def names(self) -> list[str]:
        return sorted(self._infos)

    def read(self, name: str) -> bytes | None:
        zi = self._infos.get(name)
        if zi is None:
            return None
        try:
            return self.zf.read(zi)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error) as e:
            raise ImportRefused(f"{self.label}: entry {name} is damaged ({e})") from None

    def close(self) -> None:
        self.zf.close()


class DirSource(Source):
    """A store folder; only what an export would hold is read (never index/, local/, keys)."""

    def __init__(self, root: Path) -> None:
        self.label = str(root)
        self.root = root
        found = ["manifest.json"] if (root / "manifest.json").is_file() else []
        for sub in ("keys", "audit", "audit/checkpoints"):
            try:
                found += [f"{sub}/{e.name}" for e in os.scandir(root / sub) if _plain(e)]
            except FileNotFoundError:
                pass
        stack = ["memories"]
        while stack:
            rel = stack.pop()
            try:
                entries = list(os.scandir(root / rel))
            except FileNotFoundError:
                continue
            for e in entries:
                if e.name.startswith("."):
                    continue
                if e.is_symlink():
                    raise ImportRefused(f"{root}: {rel}/{e.name} is a symlink")
                (stack if e.is_dir() else found).append(f"{rel}/{e.name}")
        self._names = sorted(found)

    def names(self) -> list[str]:
        return self._names

    def read(self, name: str) -> bytes | None:
        try:
            return (self.root / name).read_bytes()
        except FileNotFoundError:
            return None


def _plain(e: os.DirEntry) -> bool:
    return not e.name.startswith(".") and e.is_file(follow_symlinks=False)


def _check_entry(zpath: Path, name: str) -> None:
    parts = name.split("/")
    if (
        name.startswith("/")
        or "\\" in name
        or any(p in ("", ".", "..") for p in parts)
        or any(ord(c) < 0x20 for c in name)
    ):
        raise ImportRefused(f"{zpath}: unsafe entry name {name!r}")


def open_source(src: Path) -> Source:
    if src.is_dir():
        if not (src / "manifest.json").is_file():
            raise ImportRefused(f"{src}: no manifest.json; not a store folder or unpacked export")
        return DirSource(src)
    if src.is_file():
        return ZipSource(src)
    raise ImportRefused(f"{src}: no such file or folder")


# -- verification -----------------------------------------------------------------------------


@dataclass
class ForeignMemory:
    path: str
    body: bytes
    sidecar: Sidecar
    row: Row  # the row that wrote this version (a put, or a move that carried it here)


@dataclass
class Foreign:
    store_id: str
    head: int
    head_chain: str
    checkpoint: int  # rows covered by the newest signed checkpoint (0: empty log)
    signers: list[str]
    memories: list[ForeignMemory]  # active memories, sorted by path
    states: dict[str, int] = field(default_factory=dict)  # memories per state


def verify(src: Source) -> Foreign:
    names = src.names()
    store_id = _manifest(src)
    verifiers = _verifiers(src, names)
    rows, leaves = _log(src, names)
    checkpoint, signers = _notes(src, names, store_id, verifiers, rows, leaves)
    memories, states = _memories(src, names, rows)
    head = rows[-1] if rows else None
    return Foreign(
        store_id=store_id,
        head=head.seq if head else 0,
        head_chain=head.chain if head else Tip().chain,
        checkpoint=checkpoint,
        signers=signers,
        memories=memories,
        states=states,
    )


def _manifest(src: Source) -> str:
    raw = src.read("manifest.json")
    if raw is None:
        raise ImportRefused(f"{src.label}: manifest.json is missing")
    try:
        m = msgspec.json.decode(raw, type=Manifest)
    except (msgspec.DecodeError, msgspec.ValidationError) as e:
        raise ImportRefused(f"{src.label}: manifest.json is invalid ({e})") from None
    if not _STORE_ID.match(m.store_id):
        raise ImportRefused(f"{src.label}: manifest.json store id is not 32 lowercase hex")
    return m.store_id


def _verifiers(src: Source, names: list[str]) -> list[Verifier]:
    out = []
    for n in names:
        if n.startswith("keys/") and n.count("/") == 1 and n.endswith(".vkey"):
            try:
                out.append(Verifier.parse((src.read(n) or b"").decode("utf-8").rstrip("\n")))
            except (BrainError, UnicodeDecodeError) as e:
                raise ImportRefused(f"{src.label}: {n}: {e}") from None
    return out


def _log(src: Source, names: list[str]) -> tuple[list[Row], list[bytes]]:
    """Every row from genesis, verified; and its leaf hash."""
    segments = []
    for n in names:
        m = _SEGMENT.match(n[len("audit/") :]) if n.startswith("audit/") else None
        if m and n.count("/") == 1:
            segments.append((int(m.group(1)), n))
    segments.sort()
    if "audit/current.binlog" in names:
        segments.append((0, "audit/current.binlog"))
    rows: list[Row] = []
    leaves: list[bytes] = []
    tip = Tip()
    for first, name in segments:
        data = src.read(name) or b""
        if name.endswith(".zst"):
            data = _unzstd(src, name, data)
        start = len(rows)
        for item in frames.iter_frames(data):
            if isinstance(item, frames.BadFrame):
                raise ImportRefused(
                    f"{src.label}: {name}: bad frame at byte {item.offset} after seq {tip.seq}"
                    f" ({item.reason})"
                )
            row = decode_row(item.payload)
            if first == 0 and row.seq <= tip.seq and len(rows) == start:
                # current.binlog still holding rows a consolidation sealed: the same rows.
                if rows[row.seq - 1].chain != row.chain:
                    raise ImportRefused(
                        f"{src.label}: {name}: seq {row.seq} differs from its sealed copy"
                    )
                continue
            if first and len(rows) == start and row.seq != first:
                raise ImportRefused(f"{src.label}: {name} starts at seq {row.seq}, not {first}")
            why = verify_row(row, item.payload, tip)
            if why:
                raise ImportRefused(f"{src.label}: {name}: the chain is broken: {why}")
            rows.append(row)
            leaves.append(leaf_hash(item.payload))
            tip = Tip(row.seq, row.ts_ns, row.chain, 0)
    return rows, leaves


def _unzstd(src: Source, name: str, data: bytes) -> bytes:
    import zstandard

    try:
        return zstandard.ZstdDecompressor().decompress(data, max_output_size=1 << 34)
    except zstandard.ZstdError as e:
        raise ImportRefused(f"{src.label}: {name}: not a valid zstd segment ({e})") from None


def _notes(
    src: Source,
    names: list[str],
    store_id: str,
    verifiers: list[Verifier],
    rows: list[Row],
    leaves: list[bytes],
) -> tuple[int, list[str]]:
    notes = sorted((int(m.group(1)), n) for n in names if (m := _NOTE.match(n)))
    if not notes:
        if rows:
            raise ImportRefused(
                f"{src.label}: the log has {len(rows)} rows but no signed checkpoint; run"
                " `brain checkpoint` (or `brain export`, which signs one) at the source"
            )
        return 0, []
    want = {size for size, _n in notes}
    for r in rows:
        if r.op == "checkpoint" and isinstance(r.extra.get("size"), int):
            want.add(r.extra["size"])
    roots = _roots(leaves, want)
    signers: list[str] = []
    for size, n in notes:
        try:
            cp, signers = verify_note(
                (src.read(n) or b"").decode("utf-8", "replace"),
                verifiers,
                origin=f"brain/{store_id}",
            )
        except BrainError as e:
            raise ImportRefused(f"{src.label}: {n}: {e}") from None
        if cp.size != size:
            raise ImportRefused(f"{src.label}: {n} says size {cp.size}")
        if size > len(rows):
            raise ImportRefused(
                f"{src.label}: {n} covers {size} rows but the log holds {len(rows)}:"
                " rows were removed (truncation or rollback)"
            )
        if roots[size] != cp.root:
            raise ImportRefused(
                f"{src.label}: {n}: its root does not match the Merkle root of the log's first"
                f" {size} rows"
            )
    for r in rows:
        size = r.extra.get("size") if r.op == "checkpoint" else None
        if isinstance(size, int) and size <= len(rows) and roots[size].hex() != r.extra.get("root"):
            raise ImportRefused(f"{src.label}: checkpoint row {r.seq} names a root the log lacks")
    return notes[-1][0], signers


def _roots(leaves: list[bytes], sizes: set[int]) -> dict[int, bytes]:
    """RFC 6962 roots of the first n leaves for every n in sizes, in one pass."""
    out = {0: EMPTY_ROOT} if 0 in sizes else {}
    peaks: list[bytes] = []
    for n, h in enumerate(leaves, 1):
        for _ in range((n & -n).bit_length() - 1):
            h = node_hash(peaks.pop(), h)
        peaks.append(h)
        if n in sizes:
            acc = peaks[-1]
            for p in reversed(peaks[:-1]):
                acc = node_hash(p, acc)
            out[n] = acc
    return out


def _memories(src: Source, names: list[str], rows: list[Row]) -> tuple[list[ForeignMemory], dict]:
    last: dict[str, int] = {}
    for r in rows:
        if r.op in ("put", "delete", "move"):
            last[r.path] = r.seq
        if r.op == "move" and isinstance(r.extra.get("from"), str):
            last[r.extra["from"]] = r.seq
    out: list[ForeignMemory] = []
    states: dict[str, int] = {}
    seen: set[str] = set()
    for n in names:
        if not (n.startswith("memories/") and n.endswith(".md")):
            continue
        where = f"{src.label}: {n}"
        try:
            path = paths.validate(n)
        except BrainError as e:
            raise ImportRefused(f"{where}: {e}") from None
        raw = src.read(paths.sidecar_of(path))
        if raw is None:
            raise ImportRefused(f"{where}: the sidecar is missing")
        try:
            side = _sidecar.decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError) as e:
            raise ImportRefused(f"{where}: the sidecar is invalid ({e})") from None
        body = src.read(n) or b""
        if not 1 <= side.seq <= len(rows) or last.get(path) != side.seq:
            raise ImportRefused(
                f"{where}: the sidecar says seq {side.seq} but the log's last row for this path"
                f" is {last.get(path, 'none')} (a stale, swapped or foreign file)"
            )
        row = rows[side.seq - 1]
        states[side.state] = states.get(side.state, 0) + 1
        seen.add(path)
        if side.state == "tombstoned":
            if row.op != "delete" or body != TOMBSTONE_STUB:
                raise ImportRefused(f"{where}: tombstone does not match row {row.seq}")
            continue
        if side.state != "active" or row.op not in ("put", "move") or row.path != path:
            raise ImportRefused(
                f"{where}: state {side.state} does not match row {row.seq} ({row.op})"
            )
        if row.commit != side.commit:
            raise ImportRefused(f"{where}: the sidecar's commitment differs from row {row.seq}'s")
        try:
            good = commitment(bytes.fromhex(side.salt), body) == side.commit
        except ValueError:
            good = False
        if not good:
            raise ImportRefused(
                f"{where}: the body does not match its commitment (row {row.seq}): altered"
            )
        out.append(ForeignMemory(path, body, side, row))
    for path, seq in last.items():
        r = rows[seq - 1]
        if r.op in ("put", "move") and r.path == path and path not in seen:
            raise ImportRefused(
                f"{src.label}: the log says {path} was written by row {seq} but the file is missing"
            )
    return out, states


__all__ = ["Foreign", "ForeignMemory", "ImportRefused", "open_source", "verify"]
