"""The engine's own verdict: did this process open the store frozen (writes refused)?

Open checks only the tail; this run walked more. So when open froze the store but every
invariant a person must judge passed, the freeze came from derived state (typically a damaged
node file making the newest checkpoint look wrong): it is then recoverable, and `--repair`
re-checks and lifts it once the derived state is rebuilt.
"""

from __future__ import annotations

from core import verdict
from core.doctor.model import FAIL, Finding, Invariant, fail, ok


def frozen(ctx) -> Finding:
    store = ctx.store
    found = store.frozen()
    if found is None:
        note = ""
        failed = store.session.checkpoint_error
        if failed:
            note = f" (the last automatic checkpoint failed: {failed})"
        if store.cannot_write:  # read-only media, a full disk: sound, but not writable here
            return ok(f"not frozen, but {store.cannot_write}")
        return ok("the store accepts writes" + note)
    state, problem = found
    confirmed = any(
        r.status == FAIL and not r.recoverable and r.id != "engine.frozen" for r in ctx.results
    )
    if store.problem is None and store.session.frozen:
        # The writer froze itself: a committed group was not applied.
        return fail(f"writes are refused: {problem}", ["audit/journal.wal"], recoverable=True)
    recorded = verdict.read(store.layout)
    paths = ["local/verdict.json"] if recorded is not None else []
    # A lost `.vkey` froze it (open's checkpoint check): the repair writes it again, and
    # lifting re-runs open's checks, so a freeze with another cause stays.
    lost_key = any(
        r.id == "merkle.checkpoint_signature" and r.status == FAIL and r.recoverable
        for r in ctx.results
    )
    human = confirmed or (
        recorded is not None and recorded.state == verdict.FROZEN_HUMAN and not lost_key
    )
    return fail(
        f"writes are refused ({state}): {' '.join(problem.split())}", paths, recoverable=not human
    )


INVARIANTS = [
    Invariant("engine.frozen", "error", "the store", frozen, False, "store not frozen"),
]
