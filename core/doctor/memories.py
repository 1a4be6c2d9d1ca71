"""Invariants of the memory files: sidecars, salted commitments, tombstones and purges.

A purged memory is reported as purged (info): its row names a commitment whose body is gone
by design, and nothing here ever calls that tampering.
"""

from __future__ import annotations

import os

from core import paths
from core.doctor.filewalk import SIDE, Side, read_side, slurp
from core.doctor.model import Finding, Invariant, fail, ok, some
from core.log.hashing import commitment
from core.models import STATES, TOMBSTONE_STUB

SCOPE = "memories/ versions/"
PURGED_KEYS = frozenset({"kind", "state", "seq"})


def side_path(body: str) -> str:
    return body[:-3] + SIDE


def _replayed(path: str, replay: frozenset[str]) -> bool:
    folder = path.rstrip("/") + "/"
    return path in replay or any(p.startswith(folder) for p in replay)


def in_flight(ctx, side: Side) -> bool:
    """Written after the log was read by a live writer: not judged this run."""
    return side.side is not None and side.side.seq > ctx.log.head and ctx.live


def result(ctx, bad: list[tuple[str, str]], passed: str) -> Finding:
    # Files a committed journal record writes, moves or removes are half applied by a writer
    # that died (or ran out of disk): the next writer replays them, so they are not judged.
    replay = ctx.replay_pending
    if replay:
        bad = [(p, w) for p, w in bad if not _replayed(p, replay)]
    if not bad:
        return ok(passed)
    paths_ = list(dict.fromkeys(p for p, _w in bad))
    more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
    return fail(f"{bad[0][0]}: {bad[0][1]}{more}", paths_)


def sidecar_valid(ctx) -> Finding:
    ff = ctx.files
    bad: list[tuple[str, str]] = []
    replay = ctx.replay_pending
    for body, s in sorted(ff.memories.items()):
        sp = side_path(body)
        if body in replay:
            continue  # half applied by a writer that died; the next writer replays it
        if s.side is None:
            bad.append((sp, s.error))
            continue
        if in_flight(ctx, s):
            continue
        if s.side.kind != paths.kind_of(body):
            bad.append(
                (sp, f"kind {s.side.kind!r} but the file is under memories/{paths.kind_of(body)}/")
            )
        if s.side.state not in STATES:
            bad.append((sp, f"state {s.side.state!r} is not one of {', '.join(STATES)}"))
        elif s.side.state != "purged" and body not in ff.bodies:
            bad.append((body, f"the {s.side.state} memory's body file is missing"))
    for body in sorted(ff.bodies - ff.memories.keys() - replay):
        bad.append((body, "a body without a sidecar (no row wrote it)"))
    for vbody, s in sorted(ff.versions.items()):
        sp = side_path(vbody)
        if s.side is None:
            bad.append((sp, s.error))
        elif s.side.seq != int(vbody.rsplit("/", 1)[1][:20]):
            bad.append((sp, f"a version file named for seq {vbody[-23:-3]} says seq {s.side.seq}"))
        elif vbody not in ff.version_bodies:
            bad.append((vbody, "the version's body file is missing"))
    for vbody in sorted(ff.version_bodies - ff.versions.keys()):
        bad.append((vbody, "a version body without its sidecar"))
    n = len(ff.memories)
    return result(ctx, bad, f"{n:,} sidecars and {len(ff.versions):,} versions are well formed")


def commitment_matches(ctx) -> Finding:
    ff = ctx.files
    by_seq = ctx.log.by_seq
    bad: list[tuple[str, str]] = []
    root = str(ctx.root)
    items = [(b, s) for b, s in ff.memories.items() if s.side and s.side.state == "active"]
    items += [(b, s) for b, s in ff.versions.items() if s.side is not None]
    checked = 0
    for i, (body, s) in enumerate(sorted(items, key=lambda x: x[0])):
        ctx.tick(i + 1, len(items), "bodies")
        if in_flight(ctx, s):
            continue
        why, where = _check_commit(root, body, s, by_seq)
        if why and changed(root, body, s):
            continue  # rewritten while we read it: a live writer, not damage
        if why:
            bad.append((where, why))
        checked += 1
    return result(ctx, bad, f"{checked:,} bodies match their salted commitments")


def _check_commit(root: str, body: str, s: Side, by_seq) -> tuple[str, str]:
    side = s.side
    assert side is not None
    sp = side_path(body)
    row = by_seq.get(side.seq)
    if row is not None and row.commit != side.commit:
        return f"the sidecar's commit differs from row seq {side.seq}'s", sp
    try:
        salt = bytes.fromhex(side.salt)
    except ValueError:
        return "the sidecar's salt is not hex", sp
    if len(salt) != 32:
        return f"the sidecar's salt is {len(salt)} bytes, not 32", sp
    try:
        data = slurp(os.path.join(root, body))
    except OSError as e:
        return f"the body cannot be read ({e.strerror or e})", body
    if commitment(salt, data) != side.commit:
        return f"the body does not match the commitment of seq {side.seq}", body
    return "", ""


def changed(root: str, body: str, s: Side) -> bool:
    again = read_side(os.path.join(root, side_path(body)))
    return again is None or again.side is None or s.side is None or again.side.seq != s.side.seq


def states_consistent(ctx) -> Finding:
    ff = ctx.files
    lf = ctx.log
    root = str(ctx.root)
    bad: list[tuple[str, str]] = []
    purge_rows = {(seq, path) for seq, path, _destroyed in lf.purges}
    for body, s in sorted(ff.memories.items()):
        side = s.side
        if side is None or in_flight(ctx, s):
            continue
        sp = side_path(body)
        if side.state == "purged" and not lf.damaged and (side.seq, body) not in purge_rows:
            # A stub is what a purge leaves: one no purge row made hides a memory's body.
            bad.append((sp, f"a purged stub, but row seq {side.seq} is no purge of this path"))
        if side.state == "tombstoned":
            if side.commit or side.salt:
                bad.append((sp, 'a tombstone keeps a commit or salt (it must be "")'))
            elif _read(root, body) != TOMBSTONE_STUB:
                bad.append((body, "a tombstoned body is not exactly the stub"))
        elif side.state == "purged":
            if s.raw_keys != PURGED_KEYS:
                extra = sorted(s.raw_keys - PURGED_KEYS)
                bad.append(
                    (sp, f"a purged sidecar holds more than kind, state, seq ({some(extra)})")
                )
            if body in ff.bodies:
                bad.append((body, "the body of a purged memory still exists"))
            if paths.versions_dir_of(body) in ff.version_dirs:
                bad.append((paths.versions_dir_of(body), "versions of a purged memory remain"))
    for seq, path, _destroyed in lf.purges:
        latest = lf.latest.get(path)
        if latest is None or latest[0] != seq:
            continue  # written again after the purge
        s = ff.memories.get(path)
        if s is None or s.side is None or s.side.state != "purged" or s.side.seq != seq:
            if ff.scope is None or path in ff.scope:
                bad.append((side_path(path), f"purge row seq {seq} left no purged sidecar here"))
    for vdir in sorted(ff.version_dirs):
        body = "memories/" + vdir[len("versions/") :] + ".md"
        s = ff.memories.get(body)
        if s is None or s.side is None:
            bad.append((vdir, "versions of a memory that no longer exists"))
    n = sum(1 for s in ff.memories.values() if s.side and s.side.state != "active")
    return result(ctx, bad, f"{n:,} tombstoned or purged memories are consistent")


def _read(root: str, rel: str) -> bytes | None:
    try:
        return slurp(os.path.join(root, rel))
    except OSError:
        return None


def seq_agreement(ctx) -> Finding:
    ff = ctx.files
    lf = ctx.log
    if lf.damaged:
        return ok("not judged: rows of the log cannot be read (see the chain invariants)")
    bad: list[tuple[str, str]] = []
    for path, (seq, here) in sorted(lf.latest.items()):
        if ff.scope is not None and path not in ff.scope:
            continue
        s = ff.memories.get(path)
        if s is not None and in_flight(ctx, s):
            continue
        have = s.side.seq if s is not None and s.side is not None else None
        if here and s is None:
            bad.append(
                (side_path(path), f"row seq {seq} wrote this memory but its sidecar is gone")
            )
        elif here and have is not None and have != seq:
            bad.append(
                (side_path(path), f"the sidecar says seq {have}, the latest row is seq {seq}")
            )
        elif not here and s is not None:
            bad.append((side_path(path), f"moved away at seq {seq}, yet a sidecar remains"))
    if lf.start == 0:
        for path, s in sorted(ff.memories.items()):
            if path not in lf.latest and not in_flight(ctx, s):
                bad.append((side_path(path), "no row in the log ever wrote this memory"))
    return result(
        ctx, bad, f"{len(ff.memories):,} sidecars agree with the latest row of their path"
    )


def purged(ctx) -> Finding:
    lf = ctx.log
    if not lf.purges:
        return ok("no purged memories" + (f" since checkpoint {lf.start}" if lf.start else ""))
    shown = [f"seq {seq} {path}" for seq, path, _d in lf.purges]
    f = ok(f"{len(lf.purges)} purged: content destroyed by design, not tampering ({some(shown)})")
    f.paths = [p for _s, p, _d in lf.purges]
    return f


INVARIANTS = [
    Invariant("memories.sidecar_valid", "error", SCOPE, sidecar_valid, False, "sidecars valid"),
    Invariant(
        "memories.commitment", "error", SCOPE, commitment_matches, False, "sidecar commitment"
    ),
    Invariant("memories.states", "error", SCOPE, states_consistent, False, "tombstone/purge"),
    Invariant("memories.seq_agreement", "error", SCOPE, seq_agreement, False, "latest row"),
    Invariant("memories.purged", "info", SCOPE, purged, False, "purged rows"),
]
