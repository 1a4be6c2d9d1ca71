"""One push pass (docs/sync.md, "Client state"): queue new local rows, then send the outbox.

Scan: local rows after the `push_scan` cursor. A put or move row is queued when it still wrote
its path's current version and that version may leave (core.sync.classes.why_not_pushed: not
private, not held for PII, not imported); a `pii.resolved` row re-examines its path (a release
changes no row of the memory itself); a purge of a path this device sent queues a purge notice.

Send, in batches of at most PUSH_BATCH (≤ MAX_BATCH): each queued version is re-checked against the path's
current sidecar (a later put, a reclass to private, a PII hold or a delete since it was queued
mark it `superseded`: only the current version travels), the batch's proofs are made at once
(one covering checkpoint), the items are marked `pushed` durably, then the request goes out and
the reply settles them: accepted or duplicate → `confirmed`, refused → `refused` (with the
hub's reason). A `sync.pushed` row records each batch the hub answered. A failure leaves the
items `pushed`; the next pass re-sends them and the hub answers duplicate.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from core.errors import BrainError
from core.purge import is_purge
from core.sync import envelope
from core.sync.classes import why_not_pushed
from core.sync.wire import MAX_BATCH, VERSION, Envelope, PurgeNotice, PushRequest
from core.write.file_view import read_sidecar

if TYPE_CHECKING:
    from core.models import Row
    from core.store import Store
    from core.sync.api import SyncReport
    from core.sync.client import HubClient
    from core.sync.queue import OutItem, Queue

SCAN_PAGE = 1000
# Envelopes a push request carries (the wire allows MAX_BATCH): the hub verifies each one
# (~0.2 ms on a loaded 2-core hub) and commits the batch before it answers. 50 keeps a
# request's p95 under 50 ms there (100 measured ~57 ms); a 1,000-memory backlog is 20 requests
# (a batch is one request for the rate limit: 5,000 memories a minute at the default 100).
PUSH_BATCH = min(50, MAX_BATCH)


def run(store: Store, q: Queue, hub: HubClient, report: SyncReport, *, actor: str) -> None:
    from core.sync.client import TooLarge

    scan(store, q)
    size = PUSH_BATCH
    while True:
        items = q.to_send(size)
        if not items:
            return
        try:
            send(store, q, hub, items, report, actor=actor)
        except TooLarge as e:
            if len(items) > 1:
                size = max(1, len(items) // 2)  # the hub's request cap: smaller batches
                continue
            why = f"larger than the hub accepts in one request ({e})"
            q.settle({items[0].seq: ("refused", why)}, store.clock())
            report.refused.append((items[0].path, why))


def _pushable(store: Store, path: str, seq: int) -> bool:
    """Is row `seq` still the current, shareable version of `path`?"""
    side = read_sidecar(store.root, path)
    if side is None or side.state != "active" or side.seq != seq:
        return False
    return why_not_pushed(side.sync_class, side.pii_status, side.extra) is None


def scan(store: Store, q: Queue) -> int:
    """Queue what the rows after the scan cursor wrote; returns how many items were queued."""
    after = int(q.get("push_scan", 0) or 0)
    queued = 0
    while True:
        rows = store.tail(after + 1, SCAN_PAGE)
        if not rows:
            return queued
        items: list[tuple[int, str, str]] = []
        for row in rows:
            item = _item(store, q, row)
            if item is not None:
                items.append(item)
        starts = [r.seq for r in rows if r.op == "key.rotated" and r.extra.get("phase") == "start"]
        if starts:  # recorded before the scan mark moves past them
            q.set(rotations=json.dumps(sorted(set(pending_rotations(q)) | set(starts))))
        after = rows[-1].seq
        queued += q.enqueue(items, after, store.clock())
        if len(rows) < SCAN_PAGE:
            return queued


def pending_rotations(q: Queue) -> list[int]:
    """Seqs of this store's key.rotated start rows the hub has not acknowledged yet: they go
    with the next push, before any envelope the new key signs (docs/sync.md, "Key rotation")."""
    try:
        seqs = json.loads(q.get("rotations", "[]") or "[]")
    except ValueError:
        return []
    return [s for s in seqs if isinstance(s, int)]


def unscanned(store: Store, q: Queue, cap: int = SCAN_PAGE) -> int:
    """How many items the next scan would queue (read only: `status` counts them as
    pending-push, so a memory written since the last pass is not "0 queued"). At most `cap`
    rows are examined; the count is then a lower bound."""
    after = int(q.get("push_scan", 0) or 0)
    n = 0
    seen = 0
    while seen < cap:
        rows = store.tail(after + 1, min(SCAN_PAGE, cap - seen))
        if not rows:
            break
        n += sum(1 for row in rows if _item(store, q, row) is not None)
        seen += len(rows)
        after = rows[-1].seq
    return n


def _item(store: Store, q: Queue, row: Row) -> tuple[int, str, str] | None:
    if row.op in ("put", "move"):
        return (row.seq, row.path, "put") if _pushable(store, row.path, row.seq) else None
    if row.op == "pii.resolved" and row.path:
        side = read_sidecar(store.root, row.path)
        if side is not None and _pushable(store, row.path, side.seq):
            return side.seq, row.path, "put"  # released as it was: its put row goes now
        return None
    if is_purge(row) and any(
        q.was_sent(p) for p in envelope.purged_paths(store, row.seq, row.path)
    ):
        return row.seq, row.path, "purge"  # sent under this path or one it had before a move
    return None


def send(
    store: Store, q: Queue, hub: HubClient, items: list[OutItem], report: SyncReport, *, actor: str
) -> None:
    now = store.clock
    stale = [i.seq for i in items if i.kind == "put" and not _pushable(store, i.path, i.seq)]
    if stale:
        q.mark(stale, "superseded", now())
    live = [i for i in items if i.seq not in set(stale)]
    if not live:
        return
    want = [i.seq for i in live]
    for i in live:
        if i.kind == "purge":  # the moves of a purged memory travel with its notice
            want += [m.seq for m in envelope.purge_moves(store, i.seq, i.path)]
    proofs = store.prove_many(sorted(set(want)))  # checkpoints once when none covers them
    envs: list[Envelope] = []
    purges: list[PurgeNotice] = []
    gone: list[int] = []
    for i in live:
        if i.kind == "purge":
            purges.append(envelope.build_purge(store, i.seq, i.path, proofs[i.seq], proofs))
            continue
        env = envelope.build(store, i.path, proofs[i.seq])
        if env is None or env.seq != i.seq:
            gone.append(i.seq)  # changed between the check and the read: the next row goes
        else:
            envs.append(env)
    if gone:
        q.mark(gone, "superseded", now())
    sent = [e.seq for e in envs] + [p.seq for p in purges]
    if not sent:
        return
    q.mark(sent, "pushed", now())  # durable before the request leaves
    rotations = []
    for seq in pending_rotations(q):
        try:
            rotations.append(envelope.build_rotation(store, seq))
        except BrainError as e:  # cannot be proved here: the hub will refuse the new key
            report.refused.append(("(key rotation)", f"row {seq}: {e}"))
    rot_seqs = [r.seq for r in rotations]
    req = PushRequest(VERSION, store.manifest.store_id, envs, purges, rotations)
    try:
        reply = hub.push(req)
    except Exception as e:
        q.note_error(sent, str(e), now())
        raise
    if rot_seqs:
        answered = {r.seq: r for r in reply.rotations if r.seq in rot_seqs}
        for r in answered.values():
            if r.outcome == "refused":
                report.refused.append(("(key rotation)", r.reason or "refused by the hub"))
        left = [seq for seq in rot_seqs if seq not in answered]
        q.set(rotations=json.dumps(left))
    by_seq = {i.seq: i for i in live}
    outcomes: dict[int, tuple[str, str]] = {}
    accepted = duplicate = 0
    for r in reply.results:
        if r.seq not in by_seq:
            continue  # not one of ours: ignore rather than trust it
        if r.outcome == "accepted":
            outcomes[r.seq] = ("confirmed", "")
            accepted += 1
        elif r.outcome == "duplicate":
            outcomes[r.seq] = ("confirmed", "")
            duplicate += 1
        else:
            outcomes[r.seq] = ("refused", r.reason or "refused by the hub")
            report.refused.append((by_seq[r.seq].path, r.reason))
    missing = [s for s in sent if s not in outcomes]
    q.settle(outcomes, now())
    if missing:  # the hub did not answer for them: they stay `pushed`, re-sent next pass
        q.note_error(missing, "the hub's reply did not mention it", now())
    report.pushed += accepted
    report.duplicates += duplicate
    report.purges_sent += sum(1 for p in purges if outcomes.get(p.seq, ("",))[0] == "confirmed")
    confirmed = sorted(s for s, (st, _) in outcomes.items() if st == "confirmed")
    if confirmed:
        extra = {
            "hub": hub.url,
            "count": len(confirmed),
            "accepted": accepted,
            "duplicate": duplicate,
            "first_seq": confirmed[0],
            "last_seq": confirmed[-1],
        }
        store.note("sync.pushed", actor=actor, extra=extra)
    if missing:
        from core.sync.client import HubFailed

        raise HubFailed(f"the hub answered for {len(outcomes)} of {len(sent)} items; retrying")


__all__ = ["run", "scan", "send", "unscanned"]
