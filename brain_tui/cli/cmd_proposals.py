"""`brain proposals [list|show|approve|reject|defer|deprecate] [PATH]`: decide proposals.

Approving, rejecting and deprecating are reserved for people (PROTOCOL, threat model; seed
004): they need an interactive terminal and a typed confirmation, so an agent with a shell
cannot decide its own proposal. Each decision is a `proposal.decided` row naming the actor.
"""

from __future__ import annotations

import argparse

from brain_tui.cli import common

VERBS = ("list", "show", "approve", "reject", "defer", "deprecate")
STATUSES = ("pending", "accepted", "rejected", "deprecated", "all")


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = common.command_parser(
        subparsers,
        "proposals",
        "list and decide proposals (approve/reject need a person at a terminal)",
        description="`brain proposals` lists pending proposals, oldest first; `show PATH`"
        " prints one with its gate; `approve PATH`, `reject PATH --reason R`, `defer PATH`"
        " and `deprecate PATH` decide it. Approve, reject and deprecate need an interactive"
        " terminal and a typed confirmation.",
    )
    p.add_argument("verb", nargs="?", default="list", choices=VERBS, metavar="VERB")
    p.add_argument("path", nargs="?", metavar="PATH")
    p.add_argument("--status", default="pending", choices=STATUSES, help="list: which (pending)")
    p.add_argument("--reason", help="reject: why (required); others: optional")
    return p


def run(args: argparse.Namespace) -> int:
    common.refuse_word("proposals", args.verb, args.path, "PATH", VERBS[1:])
    if args.verb == "list":
        return _list(args)
    if not args.path:
        raise common.UsageError(f"proposals {args.verb} needs PATH")
    if args.verb == "show":
        return _show(args)
    return _decide(args)


def _list(args: argparse.Namespace) -> int:
    with common.open_store(args) as store:
        items = store.proposals.items(None if args.status == "all" else args.status)
    if args.json:
        common.print_json(items)
        return 0
    common.out(f"{len(items)} {args.status} proposals")
    for p in items:
        common.out(
            f"{common.iso(p.updated_ns)}  {p.status:<10} {common.clean(p.path)}"
            f"  {common.clean(common.one_line(p.title))}"
        )
    return 0


def _show(args: argparse.Namespace) -> int:
    with common.open_store(args) as store:
        p = store.proposals.show(args.path)
    if args.json:
        common.print_json(p)
        return 0
    common.out(f"{common.clean(p.path)}  status:{p.status}  by {common.clean(p.actor)}")
    common.out(common.clean(p.title))
    common.out()
    for line in p.body.splitlines():
        common.out(common.clean(line))
    for c in p.extra.get("gate", []):
        common.out(f"  [{'pass' if c['ok'] else 'FAIL'}] {c['name']}: {common.clean(c['reason'])}")
    act = p.extra.get("action")
    if act:
        targets = ", ".join(t["path"] for t in act.get("targets", []))
        common.out(f"applies on approval: {act.get('op')} {common.clean(targets)}")
        for r in act.get("requires", []):  # read, not changed: its commitment is a precondition
            common.out(f"  only if unchanged since: {common.clean(r['path'])}")
    return 0


def _decide(args: argparse.Namespace) -> int:
    from core import paths
    from core.errors import BrainError

    decision = {"approve": "accept", "reject": "reject", "defer": "defer"}.get(args.verb, args.verb)
    path = paths.validate(args.path)
    if decision == "reject" and not (args.reason or "").strip():
        raise BrainError("a rejection needs --reason")
    actor = common.actor_of(args)
    seen = None
    if decision != "defer":
        if not actor.startswith("human:"):
            raise BrainError(f"{args.verb} is for people; the actor {actor!r} is not human:")
        with common.open_store(args, read_only=True) as store:
            p = store.proposals.show(path)
        seen = p.seq  # the decision binds to this version: a later edit makes it fail
        common.confirm_typed(
            f"{args.verb.capitalize()} {path} as {actor}:\n"
            f"  {common.clean(p.title)}  (filed by {common.clean(p.actor)}, version seq {seen};"
            " `brain proposals show` prints it)\n"
            f"Type the path or '{args.verb}' to confirm: ",
            (path, args.verb),
            f"{args.verb} needs an interactive terminal and a typed confirmation (seed 004:"
            " an agent never decides its own proposal); run `brain proposals"
            f" {args.verb} PATH` yourself in a terminal",
            f"{args.verb} cancelled; nothing was changed",
        )
    with common.open_store(args) as store:
        res = store.proposals.decide(
            path, decision, actor=actor, reason=args.reason or "", seen=seen
        )
    if args.json:
        common.print_json(res)
        return 0
    common.out(f"{res.decision}  seq {res.seq}  {common.clean(res.path)}  status:{res.status}")
    for a in res.applied:
        common.out(f"applied  {common.clean(a)}")
    return 0
