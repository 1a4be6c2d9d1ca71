"""Invariants of derived state: the index mirrors the files and the log, its maintained status
counts match a recount; the lease note.

All of it is rebuildable, so a failure here is FROZEN_RECOVERABLE: `--repair` reindexes or
clears the note, no reason needed.
"""

from __future__ import annotations

import socket

from core.doctor.logwalk import pid_alive
from core.doctor.model import Finding, Invariant, fail, ok, some
from core.index import integrity, proposal_rows, queries, schema
from core.write import lock

INDEX = "index/brain.sqlite"


def _conn(ctx):
    if not ctx.layout.index_db.exists():
        return None
    store = ctx.store
    if store.follower.threaded:
        try:
            store.follower.wait_for(store.tip.seq, timeout=10.0)
        except Exception:  # noqa: BLE001 - a stuck applier shows up as a stale index below
            pass
    return store.reader.conn


def _missing(ctx) -> Finding:
    folder = ctx.layout.index_dir
    if folder.exists() and not folder.is_dir():
        # No repair can build it there: the person moves the file (open rebuilds the index).
        return fail(
            "index is a file, not the index folder: move it out of the store; the next open"
            " rebuilds the index",
            ["index"],
        )
    return fail("the index is missing; `--repair` rebuilds it", [INDEX])


def index_coverage(ctx) -> Finding:
    conn = _conn(ctx)
    if conn is None:
        return _missing(ctx)
    ff = ctx.files
    # With a live writer, what it wrote after the log was read is not judged this run.
    head = ctx.log.head if ctx.live else 1 << 63
    files = {
        p: (s.side.seq, s.side.state)
        for p, s in ff.memories.items()
        if s.side is not None and s.side.state != "purged" and s.side.seq <= head
    }
    unreadable = {p for p, s in ff.memories.items() if s.side is None}  # sidecar_valid says so
    try:
        rows = queries.memory_states(conn, None if ff.scope is None else sorted(ff.scope))
    except Exception as e:  # noqa: BLE001 - any SQLite error means the index needs rebuilding
        return fail(f"the index cannot be read ({e}); `--repair` rebuilds it", [INDEX])
    indexed = {p: (seq, state) for p, seq, state in rows if seq <= head and p not in unreadable}
    missing = sorted(p for p in files if p not in indexed)
    extra = sorted(p for p in indexed if p not in files)
    differ = sorted(p for p in files if p in indexed and indexed[p] != files[p])
    if missing or extra or differ:
        parts = []
        if missing:
            parts.append(f"{len(missing)} memories missing from it ({some(missing)})")
        if extra:
            parts.append(f"{len(extra)} it lists that the files do not ({some(extra)})")
        if differ:
            parts.append(f"{len(differ)} at another seq or state ({some(differ)})")
        return fail("the index is stale: " + "; ".join(parts), missing + extra + differ)
    return ok(f"the index mirrors {len(files):,} memories")


def index_head(ctx) -> Finding:
    conn = _conn(ctx)
    if conn is None:
        return _missing(ctx)
    head = ctx.log.head
    try:
        last = int(schema.meta(conn, "last_applied") or 0)
        top = queries.last_seq(conn)
        count = queries.audit_count(conn) if ctx.full else top
    except Exception as e:  # noqa: BLE001
        return fail(f"the index cannot be read ({e}); `--repair` rebuilds it", [INDEX])
    grown = ctx.store.binlog.current_size() > ctx.log.snapshot
    if last > head and not grown:
        return fail(f"the index applied seq {last}, beyond the log's head {head}", [INDEX])
    if last < head:
        return fail(f"the index stops at seq {last}; the log is at {head}", [INDEX])
    if (top != last or count != top) and not grown:
        return fail(
            f"the index's audit table holds {count} rows up to seq {top}, not {last}", [INDEX]
        )
    return ok(f"the index has applied every row (seq {last})")


def status_counts(ctx) -> Finding:
    """The per-(folder, status) counts the index's triggers keep (pane 5's header and list
    height read them) agree with a recount of the active memories."""
    conn = _conn(ctx)
    if conn is None:
        return _missing(ctx)
    try:
        wrong = proposal_rows.count_disagreements(conn)
    except Exception as e:  # noqa: BLE001 - any SQLite error means the index needs rebuilding
        return fail(f"the index cannot be read ({e}); `--repair` rebuilds it", [INDEX])
    if wrong:
        shown = some([f"{f}/{s}: {k} kept, {c} counted" for f, s, k, c in wrong])
        return fail(
            f"the index's status counts disagree with a recount of the memories in"
            f" {len(wrong)} (folder, status) pairs ({shown}); `--repair` recounts them",
            [INDEX],
        )
    return ok("the index's status counts match a recount of the memories")


def index_integrity(ctx) -> Finding:
    """SQLite finds the index file sound, its full-text index included (core.index.integrity).
    Every page is read: full runs only."""
    if not ctx.full:
        return ok("not checked in a quick run (it reads every page of the index)")
    conn = _conn(ctx)
    if conn is None:
        return _missing(ctx)
    try:
        found = integrity.damage(conn)
    except integrity.Unchecked as e:
        return ok(f"not checked now ({e}): another process is writing the index")
    if found:
        return fail(
            f"the index file is damaged ({some(found)}): searches may fail; `--repair`"
            " rebuilds it from the files and the log",
            [INDEX],
        )
    return ok("SQLite finds the index file and its full-text index sound")


def lease(ctx) -> Finding:
    path = ctx.layout.lock
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return ok("no lock file yet")
    if ctx.store.session.held or lock.is_locked(path):
        return ok(f"held now by {lock.describe(path)}")
    if not raw.strip():
        return ok("free; no holder note")
    holder = lock.read_holder(path)
    if holder is None:
        return ok("free; .lock holds text that names no holder (the next writer overwrites it)")
    if holder.host != socket.gethostname():
        return ok(f"free; the last holder was on {holder.host}")
    if pid_alive(holder.pid):
        return ok(f"free; names pid {holder.pid}, which is alive")
    # The kernel dropped the flock when that process died: the note is only a name, and the
    # next writer overwrites it. Nothing is wrong, so nothing is reported as a warning.
    return ok(
        f"free; the last holder, {holder.program} (pid {holder.pid}), exited without clearing"
        " its note (harmless: flock is the lease, the next writer overwrites it)"
    )


INVARIANTS = [
    Invariant("derived.index_coverage", "error", INDEX, index_coverage, True, "index coverage"),
    Invariant("derived.index_head", "error", INDEX, index_head, True, "index last_applied"),
    Invariant(
        "derived.status_counts", "error", INDEX, status_counts, True, "status counts recount"
    ),
    Invariant(
        "derived.index_integrity", "error", INDEX, index_integrity, True, "index pages sound"
    ),
    Invariant("derived.lease", "warning", ".lock", lease, True, "lease not stale"),
]
