"""Invariants of `audit/purge.pending`, the redo list of purges.

Every entry must be the seq of a purge row (`delete` with `extra.mode` = `purge`). Anything else
(a put's seq, a seq past the log's head, a word, a number too large for a seq) was never written
by the engine: the writer ignores it and never acts on it, and this names it. The list is not
authoritative data, so `brain doctor --repair` drops such entries without a reason. A real purge
still listed is one being finished (or to be finished at the next open).
"""

from __future__ import annotations

from core.doctor.model import Finding, Invariant, fail, ok, some
from core.write import purge_list

SCOPE = "audit/purge.pending"
REL = "audit/purge.pending"


def bogus_entries(ctx) -> tuple[list[str], list[int]]:
    """(what is wrong with each bad entry, seqs of real purges still pending)."""
    pending = purge_list.read(ctx.layout.purge_pending)
    lf = ctx.log
    bad = [f"{j!r} is not a seq" for j in pending.junk]
    if pending.truncated:
        bad.append(f"the file is over {purge_list.MAX_BYTES:,} bytes")
    real: list[int] = []
    for seq in pending.seqs:
        info = lf.by_seq.get(seq)
        if seq > lf.head:
            bad.append(f"seq {seq} is past the log's head ({lf.head})")
        elif info is not None and info.op == "delete" and info.extra.get("mode") == "purge":
            real.append(seq)
        elif info is not None:
            bad.append(f"seq {seq} is a {info.op}, not a purge")
        elif seq > lf.start and not lf.damaged:
            bad.append(f"seq {seq} is not a purge row")
    return bad, real


def pending(ctx) -> Finding:
    bad, real = bogus_entries(ctx)
    if bad:
        return fail(
            f"{REL} lists entries the engine never wrote, ignored and never acted on:"
            f" {some(bad)}; `brain doctor --repair` removes them",
            [REL],
        )
    if real:
        return ok(f"{len(real)} purges still being finished ({some([str(s) for s in real])})")
    return ok("no purge pending")


INVARIANTS = [
    Invariant("purges.pending", "error", SCOPE, pending, True, "purge list"),
]
