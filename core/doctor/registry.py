"""The declared invariants, in the order they run (later ones read earlier results)."""

from __future__ import annotations

from core.doctor import (
    capture,
    chain,
    derived,
    engine,
    exports,
    layout,
    memories,
    merkle,
    pii,
    purges,
    sidecars,
    sync,
    versions,
)
from core.doctor.model import Invariant

REGISTRY: list[Invariant] = [
    *chain.INVARIANTS,
    *layout.INVARIANTS,
    *memories.INVARIANTS,
    *sidecars.INVARIANTS,
    *pii.INVARIANTS,
    *versions.INVARIANTS,
    *purges.INVARIANTS,
    *merkle.INVARIANTS,  # merkle.nodes runs before the consistency proofs that read the file
    *derived.INVARIANTS,
    *exports.INVARIANTS,
    *capture.INVARIANTS,
    *sync.INVARIANTS,
    *engine.INVARIANTS,  # last: it weighs every result before it
]
BY_ID = {inv.id: inv for inv in REGISTRY}
assert len(BY_ID) == len(REGISTRY), "invariant ids must be unique"
