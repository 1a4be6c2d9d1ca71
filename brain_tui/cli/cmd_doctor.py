"""`brain doctor`: check every store invariant; `--repair` fixes what can be fixed.

Exit status: 0 READY, 3 FROZEN_RECOVERABLE (derived state is stale: `--repair` fixes it),
4 FROZEN_HUMAN (the log, a signature, a commitment or the witness disagree: a repair needs
`--reason`, or a backup). 1 is an error that kept the doctor from running, 2 a usage error.
"""

from __future__ import annotations

import argparse
import sys

from brain_tui.cli import common
from core.errors import ReadOnly

EXIT = {"READY": 0, "FROZEN_RECOVERABLE": 3, "FROZEN_HUMAN": 4}


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = common.command_parser(
        subparsers,
        "doctor",
        "check the store's invariants (and repair)",
        description="Walk the log, the files, the Merkle node file, the checkpoints, the index"
        " and the exports, and check every invariant. Exit status: 0 READY, 3"
        " FROZEN_RECOVERABLE (`--repair` fixes it), 4 FROZEN_HUMAN (a repair needs --reason).",
    )
    p.add_argument("--repair", action="store_true", help="fix what can be fixed, then re-check")
    p.add_argument(
        "--reason",
        metavar="R",
        help="why a FROZEN_HUMAN store may be accepted as it is (written to a repair row)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="only the tail since the newest verified checkpoint (fast; not a full audit)",
    )
    return p


def run(args: argparse.Namespace) -> int:
    if args.reason is not None and not args.repair:
        raise common.UsageError("--reason only makes sense with --repair")
    if args.reason is not None and not args.reason.strip():
        raise common.UsageError("--reason must say why (it is written to the audit log)")
    progress = _progress if sys.stderr.isatty() and not args.json else None
    with common.open_store(args, signing=args.repair) as store:
        if args.repair and store.read_only and store.cannot_write:
            # Opened read-only because it cannot be written here: no repair can run, and the
            # reason says what will let it (the engine's own refusal only says "read-only").
            raise ReadOnly(f"cannot repair: {store.cannot_write}")
        try:
            report = store.doctor(
                repair=args.repair,
                reason=args.reason,
                progress=progress,
                full=not args.quick,
                actor=common.actor_of(args),
            )
        finally:
            if progress is not None:
                sys.stderr.write("\r\x1b[K")
                sys.stderr.flush()
    if args.json:
        common.print_json(report)
    else:
        _print(report, repairable=not (store.read_only and store.cannot_write))
    return EXIT.get(report.state, 1)


def _progress(done: int, total: int, label: str) -> None:
    sys.stderr.write(f"\r\x1b[K[{done}/{total}] {common.one_line(label)[:70]}")
    sys.stderr.flush()


def _print(report, *, repairable: bool = True) -> None:
    c = common.one_line
    rows = [
        (r.status, r.id, r.level, f"{r.elapsed_ms:.1f} ms", c(r.detail), c(r.path))
        for r in report.results
    ]
    head = ("status", "invariant", "level", "time", "detail", "path")
    w = [max(len(x[i]) for x in [head, *rows]) for i in range(4)]
    for r in [head, *rows]:
        cells = [r[0].ljust(w[0]), r[1].ljust(w[1]), r[2].ljust(w[2]), r[3].rjust(w[3]), r[4]]
        line = "  ".join(cells)
        common.out(f"{line}  [{r[5]}]" if r[5] and r is not head else line)
    common.out()
    mode = "full" if report.full else "quick (tail since the newest verified checkpoint)"
    common.out(
        f"state: {report.state}  head seq {report.head_seq}  {mode}, {report.elapsed_ms:.0f} ms"
    )
    for fix in report.repaired:
        common.out(f"repaired: {c(fix)}")
    for note in report.notes:
        common.out(f"note: {c(note)}")
    if report.state == "FROZEN_RECOVERABLE" and not report.repaired and repairable:
        common.out("run `brain doctor --repair` to rebuild the derived state")
    elif report.state == "FROZEN_HUMAN":
        common.out('see the FAIL rows; `brain doctor --repair --reason "…"` accepts what can be')
