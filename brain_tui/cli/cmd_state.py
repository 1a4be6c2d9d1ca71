"""`brain state`: root, id, READY/FROZEN, head seq, counts, pending purges, writer, notes."""

from __future__ import annotations

import argparse

from brain_tui.cli import common


def add_parser(subparsers) -> argparse.ArgumentParser:
    return common.command_parser(subparsers, "state", "show the store's state")


def run(args: argparse.Namespace) -> int:
    with common.open_store(args) as store:
        st = store.state()
    if args.json:
        common.print_json(st)
        return 0
    c = common.clean
    lines = [
        ("root", c(st.root)),
        ("store id", st.store_id),
        ("state", st.state),
        ("head seq", str(st.head_seq)),
        ("memories", f"{st.memories} ({st.active} active, {st.tombstoned} tombstoned)"),
        ("index seq", str(st.index_seq)),
        ("pending purges", str(st.pending_purges)),
        ("writer", c(st.writer) if st.writer else "none"),
    ]
    if st.problem:
        lines.append(("problem", common.one_line(st.problem)))
    for label, value in lines:
        common.out(f"{label + ':':<16}{value}")
    for note in st.notes:
        common.out(f"note: {common.one_line(note)}")
    return 0
