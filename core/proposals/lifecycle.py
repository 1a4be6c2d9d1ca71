"""A proposal's life after filing: reading the queue, and a person's decisions.

pending -> accepted | rejected (reason required) -> deprecated; defer leaves it pending. Each
decision is a `proposal.decided` row naming the human actor, committed in one request with the
status change (and, for a maintenance proposal, its writes under body-commitment
preconditions: core.maintain). Nothing here runs unless a person asked: the CLI calls decide()
after an interactive terminal and a typed confirmation, the TUI after its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core import paths, tags, validate
from core.errors import BrainError
from core.proposals.bodies import jaccard, words
from core.proposals.model import (
    DECIDED,
    DECISIONS,
    FOLDER,
    PROPOSALS,
    Decision,
    Proposal,
    statuses,
    submit,
)

if TYPE_CHECKING:
    from core.store import Store

# -- reading --------------------------------------------------------------------------------


def show(store: Store, path: str) -> Proposal:
    path = paths.validate(path)
    if not path.startswith(PROPOSALS):
        raise BrainError(f"{path} is not a proposal (proposals live under {PROPOSALS})")
    m = store.view(path)
    sc = m.sidecar
    status = tags.status_of(sc.tags) or ""
    body = m.body.decode("utf-8", "replace")
    return Proposal(path, sc.title, status, sc.seq, sc.updated_ns, sc.actor, body, dict(sc.extra))


def items(store: Store, status: str | None = "pending", limit: int = 1000) -> list[Proposal]:
    """Proposals (oldest first), by status (None: all)."""
    if status is not None and limit <= 1000:
        return [show(store, r.path) for r in page(store, status, 0, limit)]
    rows = [r for r in _rows(store) if status is None or f"status:{status}" in r.tags]
    rows.sort(key=lambda r: r.seq)
    return [show(store, r.path) for r in rows[:limit]]


def _rows(store: Store) -> list[Any]:
    out: list[Any] = []
    after = PROPOSALS
    while True:
        got = store.memories(after, 1000, kind="refinements", state="active")
        out += [m for m in got if m.path.startswith(PROPOSALS)]
        if len(got) < 1000 or not got[-1].path.startswith(PROPOSALS):
            return out
        after = got[-1].path


def count(store: Store, status: str = "pending") -> int:
    """Proposals with this status ("decided": accepted, rejected or deprecated): the index's
    maintained counts (one lookup however long the queue)."""
    from core.index import proposal_rows

    store.wait_index()
    return proposal_rows.count(store.reader.conn, FOLDER, statuses(status))


def page(store: Store, status: str = "pending", after: int = 0, limit: int = 100) -> list[Any]:
    """One page of proposals with this status ("decided" as in count), oldest write first:
    list rows (`core.index.queries.MemoryRow`) with seq > after. Keyset paging: the last
    row's seq is the next page's `after`; 10k pending read as fast as 10."""
    from core.index import proposal_rows

    store.wait_index()
    return proposal_rows.page(store.reader.conn, FOLDER, statuses(status), after, min(limit, 1000))


def similar(store: Store, path: str, limit: int = 3) -> list[tuple[str, float]]:
    """Memories whose words overlap this proposal's most, with the overlap (Jaccard); at or
    above DUPLICATE_JACCARD one is a near duplicate."""
    p = show(store, path)
    text = f"{p.title}\n{p.body}"
    query = " ".join(sorted(words(text), key=len, reverse=True)[:12])
    out: list[tuple[str, float]] = []
    for hit in store.search(query, limit=limit + 3) if query else []:
        if hit.path == path:
            continue
        try:
            other = store.view(hit.path).body.decode("utf-8", "replace")
        except BrainError:
            continue
        out.append((hit.path, round(jaccard(text, f"{hit.title}\n{other}"), 2)))
    return sorted(out, key=lambda t: -t[1])[:limit]


def preview(store: Store, path: str) -> list[tuple[str, list[str], list[str]]]:
    """What accepting would write, without writing: (path, tags now, tags after) for the
    proposal and for each memory its maintenance action changes."""
    from core import maintain

    p = show(store, path)
    m = store.view(path)
    after = [t for t in m.sidecar.tags if not t.startswith("status:")]
    after.insert(1, f"status:{DECIDED[0]}")  # as decide() writes it; nothing is written here
    out = [(path, list(m.sidecar.tags), after)]
    return out + maintain.preview(store, p.extra.get("action") or {})


# -- deciding -------------------------------------------------------------------------------


def decide(
    store: Store,
    path: str,
    decision: str,
    *,
    actor: str,
    reason: str = "",
    seen: int | None = None,
) -> Decision:
    """A person's decision: accept | reject (reason required) | defer | deprecate.

    The status change, the `proposal.decided` row naming the actor and, when accepting an
    actionable proposal, its writes (core.maintain.apply_intents: puts and tombstones, each
    memory it reads preconditioned on the body commitment it was proposed against) commit in
    one request: all or nothing. `seen` is the seq of the version the person read (the
    proposal's `seq`): a decision on a proposal that changed since is refused.
    """
    from core.write.intents import Note

    if decision not in DECISIONS:
        raise BrainError(f"decision {decision!r}; use one of: {', '.join(DECISIONS)}")
    if not actor or not actor.strip():
        raise BrainError("a decision names the person who made it (actor)")
    if decision == "reject" and not (reason or "").strip():
        raise BrainError("a rejection needs a reason")
    # One line of at most 500 characters, refused rather than cut: it is kept in a row.
    validate.text("reason", reason or None, 500)
    _refuse_personal_data(reason)
    p = show(store, path)
    allowed = {
        "accept": ("pending",),
        "reject": ("pending",),
        "defer": ("pending",),
        "deprecate": ("accepted",),
    }[decision]
    if p.status not in allowed:
        raise BrainError(
            f"{path} is status:{p.status or '(none)'}; {decision} needs status:"
            + " or status:".join(allowed)
        )
    new_status = {
        "accept": "accepted",
        "reject": "rejected",
        "defer": "pending",
        "deprecate": "deprecated",
    }[decision]
    m = store.view(path)
    if seen is not None and m.sidecar.seq != seen:
        raise BrainError(
            f"{path} changed since it was read (seq {seen}, now seq {m.sidecar.seq}); read it"
            " again before deciding"
        )
    intents: list[Any] = []
    applied: list[str] = []
    if decision == "accept" and p.extra.get("action"):
        from core import maintain

        acts, applied = maintain.apply_intents(store, p.extra["action"])
        intents += acts
    row: dict[str, Any] = {"decision": decision, "status": new_status, "human": actor}
    row["version"] = m.sidecar.seq  # the text decided on: its put row
    if reason:
        row["reason"] = reason[:500]
    if applied:
        row["applied"] = applied
    if decision != "defer":
        new_tags = [t for t in m.sidecar.tags if not t.startswith("status:")]
        new_tags.insert(1, f"status:{new_status}")
        extra = dict(m.sidecar.extra)
        if reason:
            extra["reason"] = reason[:500]
        extra["decided_by"] = actor
        intents.append(
            store.put_intent(path, m.body, False, m.sidecar.commit, tags=new_tags, extra=extra)
        )
    intents.append(Note("proposal.decided", path, "", row))
    res = submit(store, intents, actor)
    return Decision(path, decision, new_status, res[-1].seq, applied)


def _refuse_personal_data(reason: str) -> None:
    """The reason goes into the decision row, and no purge erases a row (PROTOCOL, "Rows")."""
    if not reason:
        return
    from core.write.pii_gate import scan_title

    found = sorted({f["type"] for f in scan_title(reason[:500])})
    if found:
        raise BrainError(
            f"the reason holds personal data ({', '.join(found)}); it is kept in the audit log,"
            " which no purge erases: say it without them"
        )
