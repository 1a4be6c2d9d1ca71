"""Invariants of the chained log: frames, seqs, ops, links, hashes, HEAD and the journal."""

from __future__ import annotations

from core.doctor.model import Finding, Invariant, fail, ok, warn
from core.errors import CorruptLog

LOG = "audit/current.binlog"


def _span(ctx) -> str:
    lf = ctx.log
    if lf.head <= lf.start:
        return "the log is empty" if lf.start == 0 else f"no rows after checkpoint {lf.start}"
    where = f"since checkpoint {lf.start}" if lf.start else "from genesis"
    return f"rows {lf.start + 1}..{lf.head} {where}"


def from_walk(ctx, inv: str, passed: str) -> Finding:
    lf = ctx.log
    probs = lf.problems.get(inv, [])
    if not probs:
        return ok(f"{passed}: {_span(ctx)}")
    n = lf.counts.get(inv, len(probs))
    more = f" (and {n - 1} more)" if n > 1 else ""
    found = list(dict.fromkeys(p for _d, p in probs))
    return fail(probs[0][0] + more, found)


def frame_crc(ctx) -> Finding:
    return from_walk(ctx, "chain.frame_crc", "every frame's CRC-32C, header and canonical payload")


def seq_monotonic(ctx) -> Finding:
    return from_walk(ctx, "chain.seq_monotonic", "seqs count up by one, ts_ns never goes back")


def continuity(ctx) -> Finding:
    return from_walk(ctx, "chain.continuity", "every prev_chain links to the row before it")


def chain_hash(ctx) -> Finding:
    return from_walk(ctx, "chain.hash", "every chain hash matches its row's bytes")


def op_enum(ctx) -> Finding:
    return from_walk(ctx, "chain.op_enum", "every op is in the closed list")


def head(ctx) -> Finding:
    lf = ctx.log
    hint = lf.head_hint
    if hint is None and lf.head == 0 and lf.head_file_size < 0:
        return ok("no HEAD yet: the log is empty (the first write creates it)")
    if hint is None:
        what = "missing" if lf.head_file_size < 0 else f"{lf.head_file_size} bytes, not 8"
        return warn(f"HEAD is {what}: a hint only, rewritten on the next write", ["HEAD"])
    if hint > lf.head:
        return fail(
            f"HEAD says seq {hint} but the log ends at seq {lf.head}: rows were removed",
            ["HEAD"],
        )
    if hint < lf.head and not ctx.live:
        return warn(f"HEAD says seq {hint}, the log ends at seq {lf.head}: a stale hint", ["HEAD"])
    return ok(f"HEAD {hint} agrees with the log (head seq {lf.head})")


def journal(ctx) -> Finding:
    lf = ctx.log
    jpath = ctx.layout.journal
    probs = lf.problems.get("chain.journal", [])
    try:
        size = jpath.stat().st_size
    except FileNotFoundError:
        size = 0
    if probs:
        return warn(
            f"{probs[0][0]}: a crashed writer's unacknowledged tail; `--repair` rebuilds it"
            " from the journal",
            [p for _d, p in probs],
        )
    if not size:
        return ok("the journal is empty: every applied row is durable")
    from core.write.journal import Journal

    # Asked before reading: a writer that lets the lock go meanwhile empties its journal first
    # (flush, then release), and its records read just before must not pass for a crash's.
    live = ctx.live
    try:
        recs, end, torn_bytes = Journal.read_path(jpath)
    except CorruptLog as e:
        if live:  # read while the writer appends: what it is writing now is not settled
            return ok(f"a writer holds the lock; its journal is {size:,} bytes in flight")
        return warn(str(e), ["audit/journal.wal"])
    if live:
        # The file's size counts the filler a writer reserves for its next records: the
        # records in flight are what precedes it.
        return ok(
            f"a writer holds the lock; its journal holds {len(recs)} record(s) in flight"
            f" ({end:,} bytes)"
        )
    if not recs and not torn_bytes:
        return ok("the journal holds no record (only filler a writer reserved before it stopped)")
    from core.write.lock import is_locked

    if is_locked(ctx.layout.lock):  # a writer took the lock since: it replays what it finds
        return ok(f"a writer took the lock while the journal was read ({len(recs)} record(s))")
    if recs:
        stale, why = _fit(ctx, recs)
        if why:
            return fail(why, ["audit/journal.wal"], recoverable=False)
        if stale:
            return warn(
                f"the journal holds {len(recs)} record(s) the log already holds byte for byte"
                " (a stale copy); `--repair` (or the next write) empties it without replaying",
                ["audit/journal.wal"],
            )
    torn = f", then {torn_bytes:,} torn bytes" if torn_bytes else ""
    return warn(
        f"the journal holds {len(recs)} record(s){torn} that a crashed writer left;"
        " `--repair` (or the next write) replays them",
        ["audit/journal.wal"],
    )


def _fit(ctx, recs) -> tuple[bool, str | None]:
    """Whether the journal is this log's, as the next writer judges before replaying it
    (core.write.journal.check_fit): (stale, why it does not belong)."""
    from core.log.binlog import Binlog
    from core.log.tip import Tip, scan_from
    from core.write.journal import check_fit

    binlog = Binlog(ctx.layout.audit)
    scan = scan_from(binlog, Tip(), stop_seq=recs[0].first_seq)
    if (scan.bad or scan.broken) and scan.tip.seq < recs[0].first_seq - 1:
        return False, None  # damage in the synced region: the frame and chain checks name it
    try:
        return check_fit(recs, binlog, scan.tip), None
    except CorruptLog as e:
        return False, str(e)


INVARIANTS = [
    Invariant("chain.frame_crc", "error", LOG, frame_crc, False, "frame CRC-32C and header"),
    Invariant("chain.seq_monotonic", "error", LOG, seq_monotonic, False, "seq monotonic"),
    Invariant("chain.continuity", "error", LOG, continuity, False, "chain continuity"),
    Invariant("chain.hash", "error", LOG, chain_hash, False, "chain hash"),
    Invariant("chain.op_enum", "error", LOG, op_enum, False, "op enum closed"),
    Invariant("chain.head", "error", "HEAD", head, False, "HEAD vs log"),
    Invariant("chain.journal", "warning", "audit/journal.wal", journal, True, "torn journal tail"),
]
