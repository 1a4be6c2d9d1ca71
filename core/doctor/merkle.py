"""Invariants of the verifiable side: the node file, checkpoint notes, rollback, the witness.

Roots are recomputed from the log's own leaves (RFC 6962), never read back from the node
file, so a damaged node file (derived, rebuildable) is told apart from a log that disagrees
with what was signed (a person's problem).
"""

from __future__ import annotations

import hashlib
import os

from core.doctor.model import Finding, Invariant, fail, ok, some, warn
from core.errors import BrainError
from core.verify import checkpoints, keys, signed_note
from core.verify.mmr import HEADER_BYTES, HEADER_SIZE, MMR, leaves_for_nodes, node_count
from core.verify.proofs import EMPTY_ROOT, verify_consistency

NODES = "audit/mmr.nodes"
CPS = "audit/checkpoints/"
_sha = hashlib.sha256


def _fold(peaks: list[bytes]) -> bytes:
    if not peaks:
        return EMPTY_ROOT
    acc = peaks[-1]
    for p in reversed(peaks[:-1]):
        acc = _sha(b"\x01" + p + acc).digest()
    return acc


def recomputed(ctx) -> tuple[bytes, dict[int, bytes]]:
    """The node bytes the log implies after `start`, and the root at every wanted size."""
    if "mmr" in ctx.cache:
        return ctx.cache["mmr"]
    lf = ctx.log
    wanted = set(_sizes(ctx))
    w = checkpoints.read_witness(ctx.store.manifest.store_id)
    if w is not None:
        wanted.add(w.size)
    peaks = list(lf.start_peaks)
    n = lf.start
    roots: dict[int, bytes] = {}
    if n in wanted:
        roots[n] = _fold(peaks)
    buf = bytearray()
    sha = _sha
    total = len(lf.leaves)
    for i, h in enumerate(lf.leaves):
        if i and not i & 0xFFF:  # every 4096 leaves: progress and cancel
            ctx.tick(i, total, "leaves")
        buf += h
        n += 1
        for _ in range((n & -n).bit_length() - 1):
            h = sha(b"\x01" + peaks.pop() + h).digest()
            buf += h
        peaks.append(h)
        if n in wanted:
            roots[n] = _fold(peaks)
    ctx.cache["mmr"] = (bytes(buf), roots)
    return ctx.cache["mmr"]


def _sizes(ctx) -> list[int]:
    return checkpoints.sizes(ctx.layout)


def nodes(ctx) -> Finding:
    lf = ctx.log
    expect, _roots = recomputed(ctx)
    base = HEADER_SIZE + node_count(lf.start) * 32
    got = _read_nodes(ctx, base)
    if got is None:
        return fail("the node file is missing; `--repair` rebuilds it from the log", [NODES])
    header, have, size = got
    if header != HEADER_BYTES:
        return fail("the node file's header is damaged; `--repair` rebuilds it", [NODES])
    count, torn = divmod(size - HEADER_SIZE, 32)
    file_leaves = leaves_for_nodes(count)
    clean = lf.clean_leaves if lf.damaged else len(lf.leaves)
    exp = expect[: (node_count(lf.start + clean) - node_count(lf.start)) * 32]
    have = have[: len(exp)]
    if have != exp:
        if len(have) < len(exp) and exp.startswith(have):
            return fail(
                f"the node file stops at {file_leaves} leaves; the log has {lf.head}", [NODES]
            )
        pos = next(i for i in range(0, len(exp), 32) if have[i : i + 32] != exp[i : i + 32])
        return fail(
            f"node {pos // 32 + node_count(lf.start)} differs from the hash recomputed from"
            " the log",
            [NODES],
        )
    if lf.damaged:
        return ok(f"matches the log up to its first damaged row ({lf.start + clean} leaves)")
    grown = ctx.store.binlog.current_size() > lf.snapshot  # a live writer appended since
    if not grown and (torn or node_count(file_leaves) != count):
        return fail("the node file ends in a torn node; `--repair` rebuilds it", [NODES])
    if not grown and file_leaves > lf.head:
        return fail(f"the node file holds {file_leaves} leaves, the log only {lf.head}", [NODES])
    return ok(f"{lf.head - lf.start:,} leaves and their nodes match the log")


def _read_nodes(ctx, base: int) -> tuple[bytes, bytes, int] | None:
    """(header, the nodes from byte `base` on, file size): quick mode reads only its tail."""
    try:
        with open(ctx.layout.mmr_nodes, "rb") as f:
            header = f.read(HEADER_SIZE)
            f.seek(base)
            rest = f.read()
            return header, rest, max(f.tell(), len(header))
    except FileNotFoundError:
        return None


def checkpoint_signature(ctx) -> Finding:
    store = ctx.store
    sizes = [s for s in _sizes(ctx) if s >= ctx.log.start]
    if not sizes:
        return ok("no checkpoint yet" if not _sizes(ctx) else "no checkpoint since the anchor")
    try:
        trusted = keys.load_verifiers(ctx.layout.keys)
    except BrainError as e:
        return fail(f"the verifier keys cannot be read: {e}", ["keys/"])
    origin = checkpoints.origin_of(store.manifest.store_id)
    bad: list[tuple[str, str]] = []
    signers: list[str] = []
    for i, size in enumerate(sizes):
        ctx.tick(i + 1, len(sizes), "notes")
        rel = f"{CPS}{size:020d}.note"
        try:
            text = checkpoints.note_path(ctx.layout, size).read_bytes()
            cp, signers = signed_note.verify_note(text, trusted, origin=origin)
        except (BrainError, OSError) as e:
            bad.append((rel, str(e)))
            continue
        if cp.size != size:
            bad.append((rel, f"the note says size {cp.size}"))
    if bad:
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        lost = _lost_verifiers(ctx, [p for p, _ in bad])
        if lost:
            return fail(
                f"{bad[0][0]}: {bad[0][1]}{more}; signed by a key of this store whose public"
                f" half is gone ({some(lost)}): `brain doctor --repair` writes it again from"
                " the private key",
                [p for p, _ in bad],
                recoverable=True,
            )
        return fail(f"{bad[0][0]}: {bad[0][1]}{more}", [p for p, _ in bad])
    return ok(f"{len(sizes)} note(s) verify; the latest ({sizes[-1]}) is signed by {some(signers)}")


def _lost_verifiers(ctx, bad: list[str]) -> list[str]:
    """The `.vkey` files missing for private keys in keys/, when every failing note is signed
    by one of those keys (nothing else is wrong with them that a restored vkey would hide:
    the re-check after the repair verifies each signature); else []."""
    try:
        missing = {(n, bytes.fromhex(k)) for n, k in keys.missing_verifiers(ctx.layout.keys)}
    except BrainError:
        return []
    if not missing:
        return []
    for rel in bad:
        try:
            _cp, sigs = signed_note.parse_note((ctx.layout.root / rel).read_bytes())
        except (BrainError, OSError):
            return []
        if not any((name, kid) in missing for name, kid, _sig in sigs):
            return []
    return sorted(f"keys/{keys.safe_name(n)}.{k.hex()}.vkey" for n, k in missing)


def checkpoint_consistency(ctx) -> Finding:
    lf = ctx.log
    _buf, roots = recomputed(ctx)
    parsed: list[tuple[int, bytes]] = []
    for size in _sizes(ctx):
        if size < lf.start or size > lf.head:
            continue  # before the anchor (quick), or beyond the log (merkle.rollback says so)
        try:
            cp, _sigs = signed_note.parse_note(checkpoints.note_path(ctx.layout, size).read_bytes())
        except (BrainError, OSError):
            continue  # merkle.checkpoint_signature reports it
        parsed.append((size, cp.root))
    bad: list[tuple[str, str]] = []
    for size, root in parsed:
        if roots.get(size) != root:
            bad.append(
                (f"{CPS}{size:020d}.note", f"its root differs from the log's first {size} rows")
            )
    proofs = _proof_check(ctx, parsed) if not bad else ""
    if bad:
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        return fail(f"{bad[0][0]}: {bad[0][1]}{more}", [p for p, _ in bad])
    if proofs.startswith("!"):
        return fail(proofs[1:], [NODES])
    return ok(f"{len(parsed)} note(s) match the log's roots{proofs}")


def _proof_check(ctx, parsed: list[tuple[int, bytes]]) -> str:
    if len(parsed) < 2:
        return ""
    nodes_r = ctx.result("merkle.nodes")
    if nodes_r is not None and nodes_r.status != "PASS":
        return " (consistency proofs skipped: the node file is damaged)"
    try:
        mmr = MMR.open(ctx.layout.mmr_nodes, readonly=True)
    except (BrainError, OSError) as e:
        return f" (consistency proofs skipped: {e})"
    try:
        for i in range(1, len(parsed)):
            ctx.tick(i, len(parsed), "proofs")
            (s1, r1), (s2, r2) = parsed[i - 1], parsed[i]
            try:
                verify_consistency(s1, s2, mmr.consistency_proof(s1, s2), r1, r2)
            except BrainError as e:
                return f"!consistency proof {s1} -> {s2} from the node file fails: {e}"
    finally:
        mmr.close()
    return f"; {len(parsed) - 1} consecutive pair(s) proved consistent"


def rollback(ctx) -> Finding:
    lf = ctx.log
    beyond = [s for s in _sizes(ctx) if s > lf.head]
    if beyond:
        return fail(
            f"the log ends at seq {lf.head} but signed checkpoint {beyond[-1]} covers"
            f" {beyond[-1]} rows: rows were removed (rollback or truncation)",
            ["audit/current.binlog"],
        )
    return ok(f"the log (head {lf.head}) covers every checkpoint")


def witness(ctx) -> Finding:
    sid = ctx.store.manifest.store_id
    w = checkpoints.read_witness(sid)
    where = str(checkpoints.witness_path(sid))
    if w is None:
        return ok("no witness on this machine yet")
    lf = ctx.log
    sizes = _sizes(ctx)
    latest = max((s for s in sizes if s <= lf.head), default=0)
    if w.size > lf.head or w.size > latest:
        return fail(
            f"rollback: this machine saw a checkpoint of {w.size} rows, but the store's newest"
            f" covers {latest} and its log ends at {lf.head}",
            [where],
        )
    _buf, roots = recomputed(ctx)
    root = roots.get(w.size)
    if root is not None and root.hex() != w.root:
        return fail(
            f"the log's first {w.size} rows differ from the checkpoint this machine saw", [where]
        )
    return ok(f"the witness ({w.size} rows) is not ahead of the store")


def signing_key(ctx) -> Finding:
    """Each verifier key in keys/ keeps its private half (in keys/ or keys/retired/), and some
    key is active: without one, no new checkpoint can be signed."""
    kdir = ctx.layout.keys
    try:
        names = sorted(os.listdir(kdir))
        retired = set(os.listdir(kdir / keys.RETIRED)) if (kdir / keys.RETIRED).is_dir() else set()
    except FileNotFoundError:
        names, retired = [], set()
    vkeys = [n for n in names if n.endswith(".vkey")]
    lost = [f"keys/{n[:-5]}.key" for n in vkeys if f"{n[:-5]}.key" not in {*names, *retired}]
    active = [n for n in names if n.endswith(".key")]
    if lost or not active:
        what = f"{some(lost)} missing" if lost else "no active private key in keys/"
        return warn(
            f"{what}: new checkpoints cannot be signed by it; restore it from a backup, or"
            " `brain rotate-key` to make a new one (existing checkpoints stay valid)",
            lost or ["keys/"],
        )
    return ok(f"{len(active)} active signing key{'s' if len(active) > 1 else ''} present")


INVARIANTS = [
    Invariant("merkle.nodes", "error", NODES, nodes, True, "MMR node file vs recomputed"),
    Invariant(
        "merkle.checkpoint_signature", "error", CPS, checkpoint_signature, False, "signatures"
    ),
    Invariant(
        "merkle.checkpoint_consistency", "error", CPS, checkpoint_consistency, False, "pairwise"
    ),
    Invariant("merkle.rollback", "error", "audit/current.binlog", rollback, False, "rollback"),
    Invariant("merkle.witness", "error", "witness", witness, False, "witness not ahead"),
    Invariant("merkle.signing_key", "warning", "keys/", signing_key, False, "private key kept"),
]
