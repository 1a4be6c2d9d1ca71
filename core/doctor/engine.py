"""The engine's own verdict: did this process open the store frozen (writes refused)?

Open checks only the tail; this run walked more. So when open froze the store but every
invariant a person must judge passed, the freeze came from derived state (typically a damaged
node file making the newest checkpoint look wrong): it is then recoverable, and `--repair`
re-checks and lifts it once the derived state is rebuilt.
"""

from __future__ import annotations

from core.doctor.model import FAIL, Finding, Invariant, fail, ok


def frozen(ctx) -> Finding:
    store = ctx.store
    w = store._writer
    problem = store.problem or (w.frozen if w is not None else None)
    if not problem:
        note = ""
        if w is not None and w.checkpoint_error:
            note = f" (the last automatic checkpoint failed: {w.checkpoint_error})"
        return ok("the store accepts writes" + note)
    confirmed = any(
        r.status == FAIL and not r.recoverable and r.id != "engine.frozen" for r in ctx.results
    )
    if store.problem is None:  # the writer froze itself: a committed group was not applied
        return fail(f"writes are refused: {problem}", ["audit/journal.wal"], recoverable=True)
    return fail(
        f"writes are refused: {' '.join(problem.split())}",
        [],
        recoverable=not confirmed,
    )


INVARIANTS = [
    Invariant("engine.frozen", "error", "this process", frozen, False, "store not frozen"),
]
