"""Reading and fully verifying a store we do not hold the lock of: an export zip, a store
folder, a fresh backup. Used by import (before anything is written) and by backup.

`verify` checks, in order, and refuses with `ImportRefused` naming the file and the reason:
the manifest; every `keys/*.vkey`; every frame of every segment (CRC-32C, header vs payload,
canonical payload) and the chain from genesis across segments; every checkpoint note (a
signature by a key in `keys/`, origin `brain/<store id>`, its size within the log, its root
equal to the RFC 6962 root recomputed from the leaves); the root named by every `checkpoint`
row; and every memory file against the log (the sidecar's row is the last row for its path,
the body matches its commitment, tombstones carry the stub).

Every read is bounded (`core.portable.foreign_source`, `core.limits`): sizes are checked before and while
entries stream, segments are read a frame at a time, only regular files are read. The origin's
key pin is checked by the importer (`core.portable.pins`) with the note texts and rotations kept here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import msgspec

from core import limits, paths
from core.errors import BrainError
from core.log import frames
from core.log.binlog import SEGMENT_NAME
from core.log.hashing import commitment
from core.log.tip import Tip, decode_row, verify_row
from core.models import TOMBSTONE_STUB, Manifest, Row, Sidecar
from core.pii.held import held_paths
from core.portable.foreign_frames import segment_frames
from core.portable.foreign_source import DirSource, ImportRefused, Source, ZipSource, open_source
from core.verify import sidecar_trust
from core.verify.mmr import leaf_hash
from core.verify.proofs import EMPTY_ROOT, node_hash
from core.verify.signed_note import Verifier, verify_note

_NOTE = re.compile(r"audit/checkpoints/(\d{20})\.note")
_sidecar = msgspec.json.Decoder(Sidecar)


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
    memories: list[ForeignMemory]  # active memories `select` kept, sorted by path
    states: dict[str, int] = field(default_factory=dict)  # memories per state
    # For origin key pinning (core.portable.pins): the source's own keys, every note's (size, text)
    # in size order, and the (seq, extra) of every `key.rotated` row.
    verifiers: list[Verifier] = field(default_factory=list)
    notes: list[tuple[int, str]] = field(default_factory=list)
    rotations: list[tuple[int, dict]] = field(default_factory=list)
    # Paths held for PII review by the chain (core.pii.held): never imported until resolved.
    # A resolution the newest checkpoint does not cover is not trusted yet.
    held: set[str] = field(default_factory=set)
    # Active memories verified but not kept (their bodies dropped), by `select`'s reason.
    skipped: dict[str, int] = field(default_factory=dict)


# Says why an active, verified memory is not wanted ("" to keep it, body and all), given its
# path, its sidecar, the newest checkpoint's size and the paths held for PII review.
Select = Callable[[str, Sidecar, int, set[str]], str]

# The bodies one import keeps, together: all its puts are one request, held in memory until
# it commits. Each body is at most the put limit; 16 of them at that limit fit.
MAX_IMPORT_BYTES = 1 << 30


def verify(src: Source, select: Select | None = None, max_bytes: int = MAX_IMPORT_BYTES) -> Foreign:
    """Verify the whole source. Every memory is checked, but only the bodies of those
    `select` keeps (all, without one) are held, at most `max_bytes` of them: memories an
    import filters out cost one body's memory at a time, not the source's size."""
    names = src.names()
    store_id = _manifest(src)
    verifiers = _verifiers(src, names)
    rows, leaves = _log(src, names)
    checkpoint, signers, texts = _notes(src, names, store_id, verifiers, rows, leaves)
    held = held_paths(rows) | held_paths(rows[:checkpoint])
    keep = _Keeper(src.label, select, checkpoint, held, max_bytes)
    memories, states = _memories(src, names, rows, keep)
    head = rows[-1] if rows else None
    return Foreign(
        store_id=store_id,
        head=head.seq if head else 0,
        head_chain=head.chain if head else Tip().chain,
        checkpoint=checkpoint,
        signers=signers,
        memories=memories,
        states=states,
        verifiers=verifiers,
        notes=texts,
        rotations=[(r.seq, r.extra) for r in rows if r.op == "key.rotated"],
        held=held,
        skipped=keep.skipped,
    )


class _Keeper:
    """Decides, memory by memory, whether a verified body is kept; counts what is not, and
    refuses once the kept bodies pass `max_bytes`."""

    def __init__(
        self, label: str, select: Select | None, checkpoint: int, held: set[str], max_bytes: int
    ) -> None:
        self.label, self.select, self.max_bytes = label, select, max_bytes
        self.checkpoint, self.held = checkpoint, held
        self.skipped: dict[str, int] = {}
        self.total = 0

    def __call__(self, path: str, side: Sidecar, body: bytes) -> bool:
        why = self.select(path, side, self.checkpoint, self.held) if self.select else ""
        if why:
            self.skipped[why] = self.skipped.get(why, 0) + 1
            return False
        self.total += len(body)
        if self.total > self.max_bytes:
            raise ImportRefused(
                f"{self.label}: the memories selected hold more than {self.max_bytes} bytes"
                f" of bodies (at {path}), over the limit for one import (its puts are one"
                " request, held in memory): import fewer with --filter"
            )
        return True


def _manifest(src: Source) -> str:
    raw = src.read("manifest.json", limits.MAX_MANIFEST_BYTES)
    if raw is None:
        raise ImportRefused(f"{src.label}: manifest.json is missing")
    try:
        m = msgspec.json.decode(raw, type=Manifest)
    except (msgspec.DecodeError, msgspec.ValidationError) as e:
        raise ImportRefused(f"{src.label}: manifest.json is invalid ({e})") from None
    if not paths.is_store_id(m.store_id):
        raise ImportRefused(f"{src.label}: manifest.json store id is not 32 lowercase hex")
    return m.store_id


def _verifiers(src: Source, names: list[str]) -> list[Verifier]:
    out = []
    for n in names:
        if n.startswith("keys/") and n.count("/") == 1 and n.endswith(".vkey"):
            try:
                raw = src.read(n, limits.MAX_VKEY_BYTES) or b""
                out.append(Verifier.parse(raw.decode("utf-8").rstrip("\n")))
            except (BrainError, UnicodeDecodeError) as e:
                raise ImportRefused(f"{src.label}: {n}: {e}") from None
    return out


def _log(src: Source, names: list[str]) -> tuple[list[Row], list[bytes]]:
    """Every row from genesis, verified; and its leaf hash."""
    segments = []
    for n in names:
        m = SEGMENT_NAME.match(n[len("audit/") :]) if n.startswith("audit/") else None
        if m and n.count("/") == 1:
            segments.append((int(m.group(1)), n))
    segments.sort()
    if "audit/current.binlog" in names:
        segments.append((0, "audit/current.binlog"))
    rows: list[Row] = []
    leaves: list[bytes] = []
    tip = Tip()
    for first, name in segments:
        start = len(rows)
        for item in segment_frames(src, name):
            if isinstance(item, frames.BadFrame):
                raise ImportRefused(
                    f"{src.label}: {name}: bad frame at byte {item.offset} after seq {tip.seq}"
                    f" ({item.reason})"
                )
            try:
                row = decode_row(item.payload)
            except (msgspec.DecodeError, msgspec.ValidationError) as e:
                raise ImportRefused(
                    f"{src.label}: {name}: the frame of seq {item.seq} (after seq {tip.seq}) is"
                    f" not a valid row ({e})"
                ) from None
            if first == 0 and 1 <= row.seq <= tip.seq and len(rows) == start:
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


def _notes(
    src: Source,
    names: list[str],
    store_id: str,
    verifiers: list[Verifier],
    rows: list[Row],
    leaves: list[bytes],
) -> tuple[int, list[str], list[tuple[int, str]]]:
    notes = sorted((int(m.group(1)), n) for n in names if (m := _NOTE.fullmatch(n)))
    if not notes:
        if rows:
            raise ImportRefused(
                f"{src.label}: the log has {len(rows)} rows but no signed checkpoint; run"
                " `brain checkpoint` (or `brain export`, which signs one) at the source"
            )
        return 0, [], []
    named = _checkpoint_rows(src, rows)
    roots = _roots(leaves, {size for size, _n in notes} | set(named.values()))
    signers: list[str] = []
    texts: list[tuple[int, str]] = []
    for size, n in notes:
        text = (src.read(n, limits.MAX_NOTE_BYTES) or b"").decode("utf-8", "replace")
        texts.append((size, text))
        try:
            cp, signers = verify_note(text, verifiers, origin=f"brain/{store_id}")
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
    for seq, size in named.items():
        if roots[size].hex() != rows[seq - 1].extra.get("root"):
            raise ImportRefused(f"{src.label}: checkpoint row {seq} names a root the log lacks")
    return notes[-1][0], signers, texts


def _checkpoint_rows(src: Source, rows: list[Row]) -> dict[int, int]:
    """{seq: size} of every `checkpoint` row. The engine writes one right after the rows it
    covers, so its size is a whole number from 1 to seq - 1; any other size is malformed."""
    out: dict[int, int] = {}
    for r in rows:
        if r.op != "checkpoint":
            continue
        size = r.extra.get("size")
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size < r.seq:
            raise ImportRefused(
                f"{src.label}: checkpoint row {r.seq} names size {size!r}, not a count of the"
                " rows before it"
            )
        out[r.seq] = size
    return out


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


def _memories(
    src: Source, names: list[str], rows: list[Row], keep: _Keeper
) -> tuple[list[ForeignMemory], dict]:
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
        raw = src.read(paths.sidecar_of(path), limits.MAX_SIDECAR_BYTES)
        if raw is None:
            raise ImportRefused(f"{where}: the sidecar is missing")
        try:
            side = _sidecar.decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError) as e:
            raise ImportRefused(f"{where}: the sidecar is invalid ({e})") from None
        body = src.read(n, limits.MAX_BODY_BYTES) or b""
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
        trust = sidecar_trust.judge(side, sidecar_trust.row_meta(row.op, row.path, row.extra))
        if trust.status == sidecar_trust.TAMPERED:
            # An edited sync_class or title would decide what this store keeps or shares.
            raise ImportRefused(f"{where}: the sidecar was altered: {trust.why}")
        if keep(path, side, body):
            out.append(ForeignMemory(path, body, side, row))
    for path, seq in last.items():
        r = rows[seq - 1]
        if r.op in ("put", "move") and r.path == path and path not in seen:
            raise ImportRefused(
                f"{src.label}: the log says {path} was written by row {seq} but the file is missing"
            )
    return out, states


__all__ = [
    "DirSource",
    "Foreign",
    "ForeignMemory",
    "ImportRefused",
    "MAX_IMPORT_BYTES",
    "Select",
    "Source",
    "ZipSource",
    "open_source",
    "verify",
]
