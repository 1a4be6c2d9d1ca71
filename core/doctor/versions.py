"""Invariants of `versions/`: every version the log says was kept is there.

Before a put or a tombstone replaces a memory, its current body and sidecar move to
`versions/…/<slug>/<seq>.md|.meta.json`, and a move carries the versions folder along. Replaying
the log's put, move and delete rows therefore says exactly which version files must exist and
where; a deleted version file or versions folder is a lost part of a memory's history, judged
as an edited body is (FROZEN_HUMAN). Purged memories keep none, by design.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from core import paths
from core.doctor.model import Finding, Invariant, fail, ok, some

SCOPE = "versions/"


@dataclass
class _Memory:
    seq: int  # the row that wrote its current sidecar
    active: bool
    kept: list[int] = field(default_factory=list)  # seqs of its versions


def expected_versions(by_seq) -> dict[str, list[int]]:
    """memory path -> seqs of the version files its folder must hold, from the log alone."""
    live: dict[str, _Memory] = {}
    for seq, info in by_seq.items():  # log order
        cur = live.get(info.path)
        if info.op == "put":
            kept = cur.kept if cur is not None else []
            if cur is not None and cur.active:
                kept = [*kept, cur.seq]
            live[info.path] = _Memory(seq, True, kept)
        elif info.op == "move":
            src = info.extra.get("from")
            moved = live.pop(src, None) if isinstance(src, str) else None
            if moved is not None:
                live[info.path] = _Memory(seq, moved.active, moved.kept)
        elif info.op == "delete":
            if info.extra.get("mode") == "purge":
                live.pop(info.path, None)
            elif cur is not None:
                kept = [*cur.kept, cur.seq] if cur.active else cur.kept
                live[info.path] = _Memory(seq, False, kept)
    return {p: m.kept for p, m in live.items() if m.kept}


def versions_kept(ctx) -> Finding:
    lf = ctx.log
    if lf.damaged:
        return ok("not judged: rows of the log cannot be read (see the chain invariants)")
    if lf.start:
        return ok(
            f"not judged in a quick run (it needs the log from seq 1; walked after {lf.start})"
        )
    root = str(ctx.root)
    ff = ctx.files
    missing: list[str] = []
    total = 0
    for path, seqs in sorted(expected_versions(lf.by_seq).items()):
        if ff.scope is not None and path not in ff.scope:
            continue
        for s in seqs:
            total += 1
            for f in paths.version_paths(path, s):
                if not os.path.isfile(os.path.join(root, f)):
                    missing.append(f)
    if missing and ctx.live and _log_grew(ctx):
        return ok("not judged: a writer appended rows during this run (versions may be moving)")
    if missing:
        folders = sorted({f.rsplit("/", 1)[0] for f in missing})
        gone = [d for d in folders if not os.path.isdir(os.path.join(root, d))]
        what = f"versions folder {gone[0]} is gone" if gone else f"{missing[0]} is missing"
        return fail(
            f"{what}: {len(missing):,} version files the log kept are missing"
            f" ({some(missing)}); restore them from a backup",
            missing,
        )
    return ok(f"{total:,} versions the log kept are present")


def _log_grew(ctx) -> bool:
    from core.log.binlog import Binlog

    return Binlog(ctx.layout.audit).current_size() != ctx.log.snapshot


INVARIANTS = [
    Invariant("versions.kept", "error", SCOPE, versions_kept, False, "versions present"),
]
