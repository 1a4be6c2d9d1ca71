"""`brain doctor --repair`: fix derived state; with a reason, accept what only a person may.

Recoverable (no reason): replay the journal and rewrite HEAD (by taking the lock), rebuild
`mmr.nodes` from the binlog, reindex (or only recount the index's status counts), clear a stale
lease note, delete an export that holds a private key, drop entries of `audit/purge.pending`
that name no purge row, delete the temp files a dead writer left, and lift a freeze that open
made from derived state.

A person's repair (needs a reason, writes one `repair` row): accept a rollback or a
truncation as the store now is (checkpoint notes the log no longer reaches and notes that fail
their signature move to `local/rejected-checkpoints/`, and the witness is reset). A damaged
log, body or sidecar cannot be fixed in place: nothing is accepted and the report says to
restore from a backup.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from core import fsio, verdict
from core.doctor.exports import leaking
from core.doctor.filewalk import TEMP_NAME
from core.doctor.logwalk import pid_alive
from core.doctor.model import FAIL, PASS, DoctorReport, InvariantResult
from core.errors import BrainError
from core.log import frames
from core.verify import checkpoints, keys, signed_note
from core.verify.mmr import leaf_hash
from core.write.intents import Note

if TYPE_CHECKING:
    from core.store import Store
    from core.write.writer import Writer

T = TypeVar("T")


# What a person may accept by writing a repair row: the store's own history still chains.
ACCEPTABLE = {
    "merkle.rollback",
    "merkle.witness",
    "chain.head",
    "merkle.checkpoint_signature",
    "engine.frozen",
}
REJECTED = "rejected-checkpoints"


@dataclass
class Outcome:
    repaired: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    blocked: set[str] = field(default_factory=set)


def repair(store: Store, report: DoctorReport, reason: str | None, actor: str) -> Outcome:
    try:
        return _repair(store, report, reason, actor)
    finally:
        store.session.end_repair()


def _repair(store: Store, report: DoctorReport, reason: str | None, actor: str) -> Outcome:
    out = Outcome()
    failing = report.failing()
    human = [r for r in failing if r.status == FAIL and not r.recoverable]
    if human and not (reason and reason.strip()):
        named = ", ".join(r.id for r in human)
        raise BrainError(
            f"the store is FROZEN_HUMAN ({named}); a repair must say why: pass --reason"
            ' "what happened" (it is written to the log in a repair row)'
        )
    if human:
        blocked = [r for r in human if not _acceptable(r)]
        if blocked:
            out.blocked = {r.id for r in blocked}
            at = sorted({p for r in blocked for p in r.paths})
            where = f" at {', '.join(at[:5])}" + (" …" if len(at) > 5 else "") if at else ""
            out.notes.append(
                f"nothing repaired: {', '.join(sorted(out.blocked))} cannot be repaired in"
                f" place ({' '.join(blocked[0].detail.split())}){where}. A file that is no"
                " memory of this store (an editor's lock file, a body written by hand) can be"
                " moved out of the store, then run the repair again; a damaged log, body or"
                " sidecar needs the store restored from a backup (`brain backup` makes"
                " verified ones)"
            )
            return out
        _attempt(out, "accept", lambda: _accept(store, human, reason or "", actor))
        if not out.repaired:  # not accepted: the freeze stands, whatever else is repaired
            return out
    ids = {r.id for r in failing}
    if ids & {"chain.journal", "chain.head"}:
        _attempt(out, "journal", lambda: _take_lock(store))
    if "merkle.nodes" in ids:
        _attempt(out, "node file", lambda: _rebuild_nodes(store))
    if ids & {"derived.index_coverage", "derived.index_head", "derived.index_integrity"}:
        _attempt(out, "index", lambda: _reindex(store))  # the status counts come with it
    elif "derived.status_counts" in ids:
        _attempt(out, "status counts", lambda: _recount(store))
    if "derived.lease" in ids:
        _attempt(out, "lease note", lambda: _clear_lease(store))
    if "exports.no_secrets" in ids:
        _attempt(out, "exports", lambda: _drop_leaking_exports(store))
    if "purges.pending" in ids:
        _attempt(out, "purge list", lambda: _drop_bogus_purges(store))
    if "merkle.checkpoint_signature" in ids:
        _attempt(out, "verifier keys", lambda: _restore_verifiers(store))
    layout_result = report.result("layout.canonical")
    if layout_result is not None and layout_result.status != PASS:
        _attempt(out, "temp files", lambda: _drop_dead_temps(store, layout_result.paths))
    frozen = report.result("engine.frozen")
    if frozen is not None and frozen.status == FAIL:
        _attempt(out, "freeze", lambda: _lift(store))
    return out


def _acceptable(r: InvariantResult) -> bool:
    if r.id not in ACCEPTABLE:
        return False
    if r.id == "merkle.checkpoint_signature":
        return all(p.startswith("audit/checkpoints/") for p in r.paths) and bool(r.paths)
    return True


def _attempt(out: Outcome, what: str, fn) -> None:
    try:
        done = fn()
    except (BrainError, OSError) as e:
        out.notes.append(f"could not repair the {what}: {' '.join(str(e).split())}")
        return
    if done:
        out.repaired.append(done)


def _writer(store: Store) -> Writer:
    # The repair itself writes while the verdict stands; a writer that froze itself only
    # thaws by starting afresh (and replaying).
    return store.session.restart_for_repair()


def _locked(store: Store, task: Callable[[], T]) -> T:
    """Run task under the lock with the repair's writer (its rows are the caller's)."""
    _writer(store)
    return store.session.run(lambda _w: task(), checked=False)


def _accept(store: Store, human: list[InvariantResult], reason: str, actor: str) -> str:
    ids = sorted({r.id for r in human})
    sid = store.manifest.store_id
    before = store.problem
    store.problem = None
    try:
        w = _writer(store)
        w.accept_short_log = True  # chain.head: HEAD ahead of the log is part of what is accepted

        def task() -> tuple[int, int, list[str]]:
            moved = _set_aside_notes(store, w.tip.seq)
            checkpoints.reset_witness(sid)
            head = w.tip.seq
            extra = {"reason": reason, "invariants": ids, "accepted_head": head}
            res = w.write_now([Note("repair", "", "", extra)], actor)
            assert w.mmr is not None
            latest = checkpoints.verify_latest(store.layout, sid, w.mmr, w.tip.seq)
            store.last_checkpoint = latest
            if latest is not None:
                checkpoints.record_witness(sid, latest.size, latest.root)
            return res[0].seq, head, moved

        seq, head, moved = _locked(store, task)
    except BaseException:
        store.problem = before
        raise
    finally:
        if store.session.writer is not None:
            store.session.writer.accept_short_log = False
    aside = f"; set aside {', '.join(moved)}" if moved else ""
    return f"accepted the store at seq {head} ({', '.join(ids)}); repair row seq {seq}{aside}"


def _set_aside_notes(store: Store, head: int) -> list[str]:
    """Notes beyond the log, or that fail their signature, leave audit/checkpoints/."""
    layout = store.layout
    origin = checkpoints.origin_of(store.manifest.store_id)
    trusted = keys.load_verifiers(layout.keys)
    dest = layout.local / REJECTED
    moved = []
    for size in checkpoints.sizes(layout):
        path = checkpoints.note_path(layout, size)
        bad = size > head
        if not bad:
            try:
                cp, _ = signed_note.verify_note(path.read_bytes(), trusted, origin=origin)
                bad = cp.size != size
            except BrainError:
                bad = True
        if bad:
            fsio.mkdirs(dest)
            fsio.rename(path, dest / path.name)
            moved.append(f"audit/checkpoints/{path.name}")
    if moved:
        fsio.fsync_dir(dest)
        fsio.fsync_dir(layout.checkpoints)
    return moved


def _take_lock(store: Store) -> str:
    """Acquiring the lock replays the journal, cuts a torn tail and rewrites HEAD."""
    _locked(store, lambda: None)
    return "took the writer lock: replayed the journal and rewrote HEAD"


def _rebuild_nodes(store: Store) -> str:
    """Everything under the lock: the writer's acquisition already replaces a file with a
    damaged header; here every node is recomputed from the log."""
    w = _writer(store)

    def task() -> int:
        assert w.mmr is not None
        leaves = [
            leaf_hash(f.payload)
            for f in store.binlog.iter_frames()
            if isinstance(f, frames.Frame) and f.seq <= w.tip.seq
        ]
        w.mmr.truncate(0)
        w.mmr.append(leaves)
        return len(leaves)

    n = _locked(store, task)
    store.reopen_nodes()
    return f"rebuilt audit/mmr.nodes from the log ({n:,} leaves)"


def _reindex(store: Store) -> str:
    # Under the lock, on the commit loop: no group is applied while the applier is replaced.
    n = _locked(store, store.reindex)
    return f"reindexed {n:,} memories"


def _recount(store: Store) -> str:
    from core.index import proposal_rows

    # On the index writer, ordered with row application: no row lands between delete and count.
    n = store.follower.call(lambda ix: proposal_rows.recount(ix.conn))
    return f"recounted the index's status counts ({n:,} folder and status pairs)"


def _clear_lease(store: Store) -> str:
    fd = os.open(store.layout.lock, os.O_RDWR | os.O_CLOEXEC)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return ""  # someone holds it now: the note is theirs
        try:
            os.ftruncate(fd, 0)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
    return "cleared the stale lease note in .lock"


def _drop_leaking_exports(store: Store) -> str:
    gone = []
    for rel, _why in leaking(str(store.root)):
        fsio.unlink(store.root / rel)
        gone.append(rel)
    return f"deleted {', '.join(gone)} (it held a private key or local/ state)" if gone else ""


def _drop_bogus_purges(store: Store) -> str:
    """Keep only the seqs of real purge rows in audit/purge.pending (judged under the lock,
    against the index once it holds every row)."""
    from core.index import queries
    from core.purge import is_purge
    from core.write import purge_list

    w = _writer(store)
    layout = store.layout

    def task() -> int:
        store.follower.wait_for(w.tip.seq)
        pend = purge_list.read(layout.purge_pending)
        keep = []
        for seq in pend.seqs:
            rows = queries.audit_page(store.reader.conn, seq - 1, 1) if seq <= w.tip.seq else []
            if rows and rows[0].seq == seq and is_purge(rows[0]):
                keep.append(seq)
        if keep:
            fsio.write_file(
                layout.purge_pending,
                purge_list.updated(layout.purge_pending, drop=None, keep_junk=False, only=keep),
                durable=True,
            )
        else:
            fsio.unlink(layout.purge_pending)
        return len(pend.seqs) - len(keep) + len(pend.junk) + int(pend.truncated)

    n = _locked(store, task)
    return f"removed {n} entries that name no purge from audit/purge.pending" if n else ""


def _drop_dead_temps(store: Store, paths: list[str]) -> str:
    """Delete `.NAME.tmpPID` files whose writer is gone. Under the lock, after the replay that
    taking it runs: a committed record is rewritten from the journal, never from a temp, so a
    dead writer's temp holds nothing the store still needs."""

    def task() -> list[str]:
        gone = []
        for rel in paths:
            m = TEMP_NAME.match(os.path.basename(rel))
            path = store.root / rel
            if m is None or pid_alive(int(m.group(1))) or not path.is_file() or path.is_symlink():
                continue  # an odd entry the doctor also named, or a writer that is alive again
            fsio.unlink(path)
            gone.append(rel)
        return gone

    gone = _locked(store, task)
    n = len(gone)
    return f"deleted {n} temp file{'' if n == 1 else 's'} a dead writer left" if n else ""


def _restore_verifiers(store: Store) -> str:
    """Write again the `.vkey` of each private key in keys/ that lost it (the doctor found
    checkpoints signed by such a key: recoverable)."""
    written = [
        keys.restore_verifier(store.layout.keys, name, kid, store.passphrase)
        for name, kid in keys.missing_verifiers(store.layout.keys)
    ]
    if not written:
        return ""
    return "wrote " + ", ".join(f"keys/{p.name}" for p in written) + " again from the private key"


def _lift(store: Store) -> str:
    """Re-run open's checks now that derived state is rebuilt; lift the freeze (this
    process's and the one recorded in the store) if they pass."""
    if store.session.frozen:
        _take_lock(store)
    recorded = verdict.read(store.layout)
    if store.problem is None and recorded is None:
        return ""
    before, store.problem = store.problem, None
    why = store.verify_checkpoints()
    if why:
        store.problem = why
        raise BrainError(f"still frozen: {why}")
    verdict.clear(store.layout)
    what = before or (recorded.reason if recorded else "")
    return f"lifted the freeze ({' '.join(what.split())}): the checkpoint and witness checks pass"
