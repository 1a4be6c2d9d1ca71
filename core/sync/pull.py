"""One pull pass (docs/sync.md, "Client state"): page the hub's items into the inbox, then
import what is pending.

Each page is stored (`pending-pull`, with the item's JSON) in the same SQLite transaction that
moves the pull cursor: a kill before it re-pulls the page, a kill after it finds the items
here. Importing verifies each envelope against this store's origin key pins (core.portable.pins,
the same trust-on-first-use file `brain import` uses; the first verified envelope of an origin
pins its key), then writes the memories of one origin with the importer's decision logic
(core.portable.importer.write_foreign, `purpose: "sync"`), keyed by `imported_from` = (origin,
seq): a second attempt after a kill is a no-op. Purge notices erase every local copy of that
path that came from that origin (a purge plus a `purge.propagated` row, one request), and any
conflict copy of it.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import msgspec

from core import fsio
from core.errors import BrainError, Frozen, LeaseHeld
from core.layout import sidecar_path
from core.models import PURGE_REASONS
from core.portable import pins
from core.portable.importer import ImportResult, conflict_file, write_foreign
from core.sync import envelope
from core.sync.wire import (
    MALFORMED,
    MAX_BATCH,
    Envelope,
    PullItem,
    PullReply,
    PurgeNotice,
    RotationProof,
    is_store_id,
)
from core.write.file_view import read_sidecar

if TYPE_CHECKING:
    from core.portable.foreign import ForeignMemory
    from core.store import Store
    from core.sync.api import SyncReport
    from core.sync.client import HubClient
    from core.sync.queue import InItem, Queue
    from core.write.writer import Writer

_reply = msgspec.json.Decoder(PullReply)
_env = msgspec.json.Decoder(Envelope)
_purge = msgspec.json.Decoder(PurgeNotice)
# Inbox state per importer verdict; anything else is `skipped` with the verdict as the reason.
_STATE = {"put": "imported", "already-imported": "imported", "conflict": "conflict"}
_STATE["conflict-recorded"] = "conflict"


def run(store: Store, q: Queue, hub: HubClient, report: SyncReport, *, actor: str) -> None:
    from core.sync.client import ReplyTooLarge

    import_pending(store, q, report, actor=actor)  # what a killed pass left
    after = int(q.get("pull", 0) or 0)
    limit = MAX_BATCH
    while True:
        try:
            raw = hub.pull(after, limit)
        except ReplyTooLarge:
            if limit == 1:
                raise  # one item larger than any reply can be: the hub's fault
            limit //= 2  # a page larger than this client reads: ask for fewer items
            continue
        page = _decode(raw)
        _check_progress(page, after)
        if page.rotations:  # before the page's envelopes are stored: some need the new key
            _rotate(store, page.rotations, report)
        items = [_in_item(it) for it in page.items]
        stored = [i for i in items if i is not None]
        report.skipped += len(items) - len(stored)
        q.stash(stored, max(page.cursor, after), store.clock())
        report.pulled += len(stored)
        after = max(page.cursor, after)
        import_pending(store, q, report, actor=actor)
        if not page.more or not page.items:
            return


def _rotate(store: Store, rotations: list[RotationProof], report: SyncReport) -> None:
    """Extend this store's origin key pins with each rotation the pinned key vouches for
    (PROTOCOL "Import and sync identity"); one that does not verify changes nothing and is
    reported. Under the writer lock, as pinning on first use is. Idempotent: a page pulled
    again after a kill adds nothing twice."""

    def apply(_w: Writer) -> None:
        known = pins.load(store.root)
        changed = False
        for rot in rotations:
            entry = known.get(rot.origin)
            pinned: list[str] | None = entry["keys"] if entry else None
            try:
                old, new = envelope.verify_rotation(rot, pinned)
            except envelope.EnvelopeRefused as e:
                report.refused_rotations.append(f"{rot.origin} row {rot.seq}: {e}")
                continue
            keys = list(pinned) if pinned is not None else [old]
            if new not in keys:
                keys.append(new)
                known[rot.origin] = {**(entry or {"pinned_ns": store.clock()}), "keys": keys}
                changed = True
        if changed:
            pins.save(store.root, known)

    store.session.run(apply)


def _decode(raw: bytes) -> PullReply:
    from core.sync.client import HubFailed

    try:
        return _reply.decode(raw)
    except MALFORMED as e:
        raise HubFailed(f"the hub's pull reply is not brain-sync/v1 ({e})") from None


def _check_progress(page: PullReply, after: int) -> None:
    """A page lies after `after`: its items in cursor order, none past the page's cursor,
    and a page that says `more` ends past `after`. A hub that breaks this (the same page
    again and again) would otherwise hold the pass, and its lock, for ever."""
    from core.sync.client import HubFailed

    last = after
    for it in page.items:
        if it.cursor <= last:
            raise HubFailed(
                f"the hub's pull reply is out of order (item cursor {it.cursor} after {last});"
                " the hub is misbehaving: tell its operator"
            )
        last = it.cursor
    if last > page.cursor or (page.more and page.cursor <= after):
        raise HubFailed(
            f"the hub's pull reply does not move past cursor {after} (it says {page.cursor});"
            " the hub is misbehaving: tell its operator"
        )


def _in_item(it: PullItem) -> InItem | None:
    """What the inbox keeps of a pulled item; None for a kind this client does not know, or
    an origin that is not a store id (it would name a folder: refused before anything)."""
    from core.sync.queue import InItem

    e: Envelope | PurgeNotice | None = it.envelope if it.kind == "envelope" else it.purge
    if it.kind not in ("envelope", "purge") or e is None or not is_store_id(e.origin):
        return None
    return InItem(it.cursor, it.kind, e.origin, e.seq, e.path, "", msgspec.json.encode(e))


def import_pending(store: Store, q: Queue, report: SyncReport, *, actor: str) -> None:
    while True:
        items = q.to_import(MAX_BATCH)
        if not items:
            return
        _import_batch(store, q, items, report, actor)


def _import_batch(
    store: Store, q: Queue, items: list[InItem], report: SyncReport, actor: str
) -> None:
    now = store.clock
    me = store.manifest.store_id
    done: dict[int, tuple[str, str, str]] = {}
    # Envelopes, in cursor order, until the first purge notice: a purge must come after the
    # versions pulled before it (and before those pulled after it).
    run_: list[InItem] = []
    for it in items:
        if it.origin == me:
            done[it.cursor] = ("skipped", "this store's own item (an echo)", "")
        elif it.kind == "envelope":
            run_.append(it)
        else:
            if run_:
                _import_envelopes(store, run_, done, report, actor)
                run_ = []
            done[it.cursor] = _purge_one(store, q, it, report, actor)
    if run_:
        _import_envelopes(store, run_, done, report, actor)
    q.resolve(done, now())
    report.skipped += sum(1 for st, _, _ in done.values() if st == "skipped")


def _import_envelopes(
    store: Store,
    items: list[InItem],
    done: dict[int, tuple[str, str, str]],
    report: SyncReport,
    actor: str,
) -> None:
    """Verify, then write per origin (one request each, under the writer lock)."""
    by_origin: dict[str, list[tuple[InItem, Envelope]]] = {}
    for it in items:
        try:
            env = _env.decode(it.item)
        except MALFORMED as e:
            done[it.cursor] = ("skipped", f"malformed envelope ({e})", "")
            continue
        by_origin.setdefault(env.origin, []).append((it, env))

    def write(origin: str, batch: list[tuple[InItem, Envelope]]) -> BrainError | None:
        try:
            store.session.run(
                functools.partial(_write_origin, store, origin, batch, done, report, actor)
            )
        except BrainError as e:
            if isinstance(e, Frozen | LeaseHeld) or store.frozen() is not None:
                raise  # the store, not the memory: retried on the next pass
            return e
        return None

    for origin, envs in by_origin.items():
        if len(envs) > 1 and write(origin, envs) is None:
            continue
        # One memory this store cannot take must not hold the inbox back for ever (every
        # later pass would stop at it first, a single one as much as one of many): one
        # request per memory, and the one that fails is skipped with its reason.
        for one in envs:
            if (why := write(origin, [one])) is not None:
                done[one[0].cursor] = ("skipped", f"cannot be written here: {why}", "")


def _write_origin(
    store: Store,
    origin: str,
    envs: list[tuple[InItem, Envelope]],
    done: dict[int, tuple[str, str, str]],
    report: SyncReport,
    actor: str,
    w: Writer,
) -> None:
    """Under the lock (two pulls cannot both pin an origin): verify against the pin, pin on
    first use, then the importer's decisions. The newest version per path wins the batch."""
    known = pins.load(store.root)
    entry = known.get(origin)
    pinned: list[str] | None = entry["keys"] if entry else None
    newest: dict[str, tuple[InItem, ForeignMemory]] = {}
    for it, env in envs:
        try:
            v = envelope.verify(env, pinned)
        except envelope.EnvelopeRefused as e:
            done[it.cursor] = ("skipped", f"refused: {e}", "")
            continue
        if pinned is None:
            pinned = [v.vkey]
            known[origin] = {"keys": pinned, "pinned_ns": store.clock()}
            pins.save(store.root, known)  # durable before any row written from it
        prior = newest.get(v.memory.path)
        if prior is not None and prior[1].row.seq > v.memory.row.seq:
            done[it.cursor] = ("skipped", "a newer version arrived in the same page", "")
            continue
        if prior is not None:
            done[prior[0].cursor] = ("skipped", "a newer version arrived in the same page", "")
        newest[v.memory.path] = (it, v.memory)
    if not newest:
        return
    chosen = [m for _, m in newest.values()]
    result = ImportResult(origin, "sync", 0, 0, [], len(chosen))
    write_foreign(store, w, origin, chosen, actor, result, "sync", {})
    cursor_of = {(m.path, m.row.seq): it.cursor for it, m in newest.values()}
    for path, seq, verdict in result.verdicts:
        state = _STATE.get(verdict, "skipped")
        copy = f"conflicts/{origin}/{path}" if state == "conflict" else ""
        done[cursor_of[(path, seq)]] = (state, "" if state == "imported" else verdict, copy)
    report.imported += len(result.written)
    report.conflicts.extend(result.conflicts)


def _purge_one(
    store: Store, q: Queue, it: InItem, report: SyncReport, actor: str
) -> tuple[str, str, str]:
    try:
        notice = _purge.decode(it.item)
        entry = pins.load(store.root).get(notice.origin)
        keys = entry["keys"] if entry else None
        row = envelope.verify_purge(notice, keys)
        erasures = envelope.purge_erasures(notice, keys)
    except (*MALFORMED, envelope.EnvelopeRefused) as e:
        return "skipped", f"refused purge notice: {e}", ""
    from core.write.intents import Delete, Note

    reason = row.extra.get("reason")
    reason = reason if reason in PURGE_REASONS else "other"
    extra = {"origin": notice.origin, "origin_seq": notice.seq, "reason": reason}
    intents: list[Delete | Note] = []
    for path, below in erasures:
        q.forget_path(notice.origin, path)  # bodies still waiting here go first
        _drop_conflict_copy(store, notice.origin, path)
        side = read_sidecar(store.root, path)
        came = side.extra.get("imported_from") if side is not None else None
        if side is None or side.state == "purged" or not isinstance(came, dict):
            continue
        if came.get("store") != notice.origin:
            continue  # the local memory did not come from that origin
        # An earlier path (before a move) may hold a later memory of the origin now: only
        # what the origin wrote there before the move is the purged memory.
        if path != notice.path and not (isinstance(came.get("seq"), int) and came["seq"] < below):
            continue
        intents += [
            Delete(path, "purge", reason, None),
            Note("purge.propagated", path, "", extra),
        ]
    q.scrub()
    if not intents:
        return "imported", "nothing here came from it", ""
    store.batch(intents, actor)
    report.purged += len(intents) // 2
    return "imported", "purged here", ""


def _drop_conflict_copy(store: Store, origin: str, path: str) -> None:
    copy = conflict_file(store.root, f"conflicts/{origin}/{path}")
    if copy.exists():
        fsio.unlink(copy)
        fsio.unlink(conflict_file(store.root, sidecar_path(f"conflicts/{origin}/{path}")))
        fsio.fsync_dir(copy.parent)


__all__ = ["import_pending", "run"]
