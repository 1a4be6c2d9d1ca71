"""The doctor: a declarative list of store invariants, one family per module.

    chain     frames, seqs, ops, links, hashes, HEAD, the journal    (core/doctor/chain.py)
    layout    known entries, no links, no machine paths, sync copies, manifest
    memories  sidecars, salted commitments, tombstones and purges
    sidecars  each sidecar's governing fields against its row's extra.meta
    versions  every version the log kept is on disk
    purges    audit/purge.pending names only purge rows
    merkle    node file, checkpoint signatures and consistency, rollback, witness
    derived   index coverage and head, status counts against a recount, the lease note
    exports   no private key or local/ state in an export
    engine    whether this process opened the store frozen

`run(store, …)` (and `Store.doctor`) returns a DoctorReport whose state is READY,
FROZEN_RECOVERABLE (only derived state is wrong: `repair=True` fixes it) or FROZEN_HUMAN (the
log, a signature, a commitment or the witness disagree: a repair needs a reason and writes a
`repair` row, or cannot be done in place at all).
"""

from core.doctor.model import DoctorReport, Invariant, InvariantResult
from core.doctor.registry import BY_ID, REGISTRY
from core.doctor.runner import check, run, state_of

__all__ = [
    "BY_ID",
    "REGISTRY",
    "DoctorReport",
    "Invariant",
    "InvariantResult",
    "check",
    "run",
    "state_of",
]
