"""Invariants of the committed sidecar fields: each sidecar against its row's `extra.meta`.

A `put` row commits the governing fields (category, classification, kind, sync_class, tags,
title) of the sidecar it writes and a `move` repeats the commitment, so an edited sync_class,
title or tag is tampering, judged as an edited body is (FROZEN_HUMAN). Rows written before the
rule carry no `extra.meta`: their sidecars are reported as unprotected (info), never tampered.
"""

from __future__ import annotations

from core.doctor.filewalk import Side
from core.doctor.memories import changed, in_flight, result, side_path
from core.doctor.model import Finding, Invariant, ok, some
from core.verify.sidecar_trust import TAMPERED, UNPROTECTED, judge, row_meta

SCOPE = "memories/ versions/ (sidecars)"


def _judged(ctx) -> tuple[list[tuple[str, str]], list[str], int]:
    """(tampered (path, why), unprotected sidecar paths, sidecars checked), once per run."""
    if "sidecars" in ctx.cache:
        return ctx.cache["sidecars"]
    lf, ff = ctx.log, ctx.files
    root = str(ctx.root)
    bad: list[tuple[str, str]] = []
    loose: list[str] = []
    checked = 0
    items: list[tuple[str, Side]] = [*ff.memories.items(), *ff.versions.items()]
    for i, (body, s) in enumerate(sorted(items, key=lambda x: x[0])):
        ctx.tick(i + 1, len(items), "sidecars")
        side = s.side
        if side is None or side.state == "purged" or in_flight(ctx, s):
            continue  # unreadable sidecars and purge stubs are judged by memories.*
        info = lf.by_seq.get(side.seq)
        if info is None and (side.seq <= lf.start or lf.damaged):
            continue  # before the quick walk's anchor, or the log is unreadable there
        verdict = judge(side, row_meta(info.op, info.path, info.extra) if info else None)
        if verdict.status == TAMPERED and not changed(root, body, s):
            bad.append((side_path(body), verdict.why))
        elif verdict.status == UNPROTECTED:
            loose.append(side_path(body))
        checked += 1
    bad += _moves_repeat(lf)
    ctx.cache["sidecars"] = (bad, loose, checked)
    return ctx.cache["sidecars"]


def _moves_repeat(lf) -> list[tuple[str, str]]:
    """A move repeats the meta of the version it moved: a move committing other fields means
    the sidecar was edited before it was moved."""
    last: dict[str, tuple[int, str | None]] = {}  # path -> (seq, meta) of its latest row
    bad: list[tuple[str, str]] = []
    for seq, info in lf.by_seq.items():  # log order
        meta = info.extra.get("meta") if isinstance(info.extra.get("meta"), str) else None
        if info.op == "move":
            src = info.extra.get("from")
            prev = last.pop(src, None) if isinstance(src, str) else None
            if prev is not None and prev[1] is not None and meta != prev[1]:
                bad.append(
                    (
                        side_path(info.path),
                        f"move seq {seq} commits other sidecar fields than seq {prev[0]}, the"
                        " version it moved (the sidecar was edited before the move)",
                    )
                )
        last[info.path] = (seq, meta if info.op != "delete" else None)
    return bad


def meta_matches(ctx) -> Finding:
    bad, _loose, checked = _judged(ctx)
    return result(ctx, bad, f"{checked:,} sidecars match the fields their rows committed")


def unprotected(ctx) -> Finding:
    _bad, loose, _checked = _judged(ctx)
    if not loose:
        return ok("every sidecar's governing fields are committed by its row (extra.meta)")
    f = ok(
        f"{len(loose):,} sidecars were written before committed sidecars (their rows carry no"
        f" extra.meta), so edits to their fields cannot be detected: {some(loose)}; a new put"
        " protects a memory"
    )
    f.paths = loose
    return f


INVARIANTS = [
    Invariant("sidecars.meta", "error", SCOPE, meta_matches, False, "sidecar fields committed"),
    Invariant("sidecars.unprotected", "info", SCOPE, unprotected, False, "unprotected sidecars"),
]
