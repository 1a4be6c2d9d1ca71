"""`brain tail`: audit rows, one per line; `--follow` keeps printing new ones.

Following uses the workstation's HEAD watcher (`brain_tui.watcher.head_moves`: the store root
watched for HEAD being replaced), then picks the new rows up with `store.refresh()`. A slow
periodic poll backs the watch up on file systems that do not deliver events.
"""

from __future__ import annotations

import argparse
import signal
import threading
from typing import TYPE_CHECKING

from brain_tui.cli import common

if TYPE_CHECKING:
    from core.store import Store

DEFAULT_LAST = 20
PAGE = 1000
POLL_MS = 1000


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = common.command_parser(
        subparsers,
        "tail",
        "print audit rows (and follow new ones)",
        description="Print audit rows: seq, time (UTC), op, actor, path, chain prefix."
        f" Without --from, the last {DEFAULT_LAST} (or --limit) matching rows; with --from,"
        " every row from SEQ on (up to --limit). --json prints one JSON object per line.",
    )
    p.add_argument("--from", dest="from_seq", type=_seq, metavar="SEQ", help="first seq")
    p.add_argument("--limit", type=_seq, metavar="N", help="at most N rows")
    p.add_argument("--op", help="only rows with this op (put, move, delete, ...)")
    p.add_argument(
        "--actor",
        dest="actor_filter",
        metavar="A",
        help="only rows by actors starting with A (human:ana finds human:ana@laptop)",
    )
    p.add_argument("--path-prefix", metavar="P", help="only rows whose path starts with P")
    p.add_argument("-f", "--follow", action="store_true", help="keep printing new rows")
    return p


def _seq(text: str) -> int:
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return n


def run(args: argparse.Namespace) -> int:
    from core import validate
    from core.vocab import OPS

    validate.choice("op", args.op, OPS)  # the list is closed: a typo matches nothing, silently
    filters = {"op": args.op, "actor": args.actor_filter, "path_prefix": args.path_prefix}
    stop = _stop_on_signals() if args.follow else None
    with common.open_store(args, read_only=True) as store:
        head = store.refresh()
        if args.from_seq is None:
            _print_last(args, store, head, args.limit or DEFAULT_LAST, filters)
        else:
            _print_from(args, store, args.from_seq, args.limit, filters)
        if stop is not None:
            return _follow(args, store, head, filters, stop)
    return 0


def _print_last(args, store: Store, head: int, n: int, filters: dict) -> None:
    # Descending from just past the head (the query keeps seq < from_seq - 1), then reversed.
    rows = store.tail(head + 2, n, descending=True, **filters)
    common.print_rows(args, rows[::-1])


def _print_from(args, store: Store, start: int, limit: int | None, filters: dict) -> int:
    """Rows from `start` on, paged by key; returns the last seq printed (start - 1 if none)."""
    last, left = start - 1, limit
    while left is None or left > 0:
        n = PAGE if left is None else min(PAGE, left)
        rows = store.tail(start, n, **filters)
        common.print_rows(args, rows)
        if rows:
            last = rows[-1].seq
        if len(rows) < n:
            break
        start = last + 1
        if left is not None:
            left -= len(rows)
    return last


def _stop_on_signals() -> threading.Event:
    """Ctrl-C and SIGTERM end a follow cleanly (store closed, exit 0).

    Installed before the first row is printed, so a signal sent once output appears is never
    lost. Setting an event rather than raising also keeps watchfiles from logging its own
    "KeyboardInterrupt caught".
    """
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def _follow(args, store: Store, head: int, filters: dict, stop: threading.Event) -> int:
    from brain_tui.watcher import head_moves  # the workstation's watcher too

    seen = head
    try:
        for _ in head_moves(store.root, stop, debounce_ms=50, step_ms=20, poll_ms=POLL_MS):
            new_head = store.refresh()
            if new_head > seen:
                # Rows past new_head may already be indexed and printed: never print twice.
                seen = max(new_head, _print_from(args, store, seen + 1, None, filters))
    except KeyboardInterrupt:
        pass
    return 0
