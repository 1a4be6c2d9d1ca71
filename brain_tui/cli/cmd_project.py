"""`brain project [use NAME | clear]`: the active project weighs most in tiers and context."""

from __future__ import annotations

import argparse

from brain_tui.cli import common


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = common.command_parser(
        subparsers,
        "project",
        "show or set the active project",
        description="Memories under memories/projects/NAME/ are hot and come right after"
        " preferences in `brain context` while NAME is the active project.",
    )
    p.add_argument("action", nargs="?", choices=["show", "use", "clear"], default="show")
    p.add_argument("name", nargs="?", metavar="NAME")
    return p


def run(args: argparse.Namespace) -> int:
    common.refuse_word("project", args.action, args.name, "NAME", ("use",))
    if args.action == "use" and not args.name:
        raise common.UsageError("brain project use NAME: the project name is missing")
    with common.open_store(args) as store:
        if args.action == "use":
            store.set_active_project(args.name)
        elif args.action == "clear":
            store.set_active_project("")
        name = store.manifest.settings.active_project
    if args.json:
        common.print_json({"active_project": name})
    else:
        common.out(f"active project: {name or '(none)'}")
    return 0
