"""`brain status`: watched folders, capture counts, the capture loop, pending PII, head seq,
state, the last sync and the door, at a glance (no doctor walk: `brain doctor` for that)."""

from __future__ import annotations

import argparse

from brain_tui.cli import common


def add_parser(subparsers) -> argparse.ArgumentParser:
    return common.command_parser(
        subparsers,
        "status",
        "watched folders, captures, pending PII, sync",
    )


_NO_DOOR = (
    "none (a `brain put` writes itself; the TUI, `brain mcp` and the capture daemon open one)"
)


def _age(ns: int) -> str:
    return common.iso(ns) if ns else "never"


def run(args: argparse.Namespace) -> int:
    from core.capture.status import status

    with common.open_store(args, read_only=True) as store:
        s = status(store)
    if args.json:
        common.print_json(s)
        return 0
    c = common.clean
    d = s.daemon
    if d.running:
        loop = f"running ({c(d.holder)}), heartbeat {d.beat_age_s} s ago, {d.pending} pending"
        if d.stuck:
            loop += "  STUCK: restart it"
    else:
        loop = "not running" + (f" (last beat {_age(d.beat_ns)})" if d.beat_ns else "")
    lines = [
        ("store", c(s.store)),
        ("state", s.state),
        ("doctor verdict", common.one_line(s.doctor_verdict)),
        ("head seq", str(s.head_seq)),
        ("captured", f"{s.captured_total} memories under memories/facts/captured/"),
        ("capture loop", loop),
        ("pending PII", f"{s.pending_pii} ({s.pending_pii_note})"),
        ("last sync", s.last_sync),
        ("door", f"open: {c(s.door)} writes this store's CLI puts" if s.door else _NO_DOOR),
        ("watched", str(len(s.watched)) if s.watched else "none (add one with `brain watch`)"),
    ]
    for label, value in lines:
        common.out(f"{label + ':':<16}{value}")
    for w in s.watched:
        gone = "" if w.exists else "  MISSING"
        common.out(
            f"  {w.id}  {c(w.path)}{gone}\n"
            f"      {w.sync_class}/{w.classification}  captured {w.captured}"
            f"  unchanged {w.unchanged}  skipped {w.skipped}  errors {w.errors}"
            f"  last {_age(w.last_capture_ns)}"
            + (f"\n      ignore {' '.join(c(g) for g in w.ignore)}" if w.ignore else "")
        )
    return 0
