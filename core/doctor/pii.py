"""The PII hold (issue 14): each current sidecar's `pii_status` agrees with the chain.

The chain's `pii.held` and `pii.resolved` rows (core.pii.held) say which memories are held;
export and import trust them, not the sidecar (whose PII fields are not committed). A sidecar
that says `clean` or `released` for a memory the chain holds was edited, or one that says
`held` for a memory the chain released lost a write: either way the review queue (`brain
pending`, read from the sidecars) is wrong. Reported as a warning: sharing follows the chain.
Needs the whole log (a full run); a quick run starting at a checkpoint skips it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.doctor.memories import in_flight, side_path
from core.doctor.model import Finding, Invariant, ok, some, warn
from core.pii.held import held_paths

SCOPE = "memories/ (sidecar pii_status)"


@dataclass
class _Row:
    op: str
    path: str
    extra: dict[str, Any]


def pii_hold(ctx) -> Finding:
    lf = ctx.log
    if lf.start or lf.damaged:
        return ok("checked by a full run only (the chain's pii rows from genesis)")
    rows = [(seq, _Row(i.op, i.path, i.extra)) for seq, i in lf.by_seq.items()]
    rows += [(seq, _Row(op, path, {})) for seq, op, path in lf.pii]
    held = held_paths(r for _s, r in sorted(rows, key=lambda x: x[0]))
    bad: list[str] = []
    checked = 0
    for body, s in sorted(ctx.files.memories.items()):
        side = s.side
        if side is None or side.state != "active" or in_flight(ctx, s):
            continue
        checked += 1
        if (side.pii_status == "held") != (body in held):
            bad.append(side_path(body))
    if not bad:
        return ok(f"{checked:,} sidecars agree with the chain's PII holds ({len(held):,} held)")
    return warn(
        f"{len(bad):,} sidecars disagree with the chain's pii.held/pii.resolved rows: {some(bad)};"
        " exports and imports follow the chain; restore the sidecar from a backup",
        bad,
    )


INVARIANTS = [
    Invariant("pii.hold", "warning", SCOPE, pii_hold, False, "PII hold vs chain"),
]
