"""`brain propose TITLE`: file a proposal (seed 004), from flags or a file.

It passes the gate (the five questions answered, and the checks on tags, length, scope and
security-relevant paths) and is filed `status:pending`; nothing takes effect until a person
approves it with `brain proposals approve`. A failed gate stores the rejection as a lesson.
At most 3 proposals per session (MCP session, BRAIN_SESSION, or the store's latest session).
"""

from __future__ import annotations

import argparse

from brain_tui.cli import common
from brain_tui.cli.cmd_lesson import add_semantic_flags, searches_line, sections_from
from core.models import CATEGORIES


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = common.command_parser(
        subparsers,
        "propose",
        "file a proposal for a person to approve (gate, duplicates, budget)",
        description="File a proposal under memories/refinements/proposals/, status:pending."
        " Sections as flags or --file F ('PROPOSAL: ...', 'PROBLEM: ...', 'SOLUTION: ...',"
        " 'BENEFIT: ...', 'CONTEXT: ...'; at most 500 characters). The gate's five questions:"
        " --observed, --evidence, --answer-scope, --reversible, --safety. --scope names the"
        " paths it would change (repeatable). Exit 1 when the gate fails (a lesson is stored).",
    )
    p.add_argument("title", metavar="TITLE")
    p.add_argument("--file", metavar="F", help="a file of 'SECTION: text' lines ('-' = stdin)")
    p.add_argument("--proposal")
    p.add_argument("--problem")
    p.add_argument("--solution")
    p.add_argument("--benefit")
    p.add_argument("--context")
    p.add_argument("--observed", help="gate: what did you observe (a concrete case)?")
    p.add_argument("--evidence", help="gate: what evidence backs it?")
    p.add_argument("--answer-scope", help="gate: what does it change, and leave alone?")
    p.add_argument("--reversible", help="gate: how is it undone?")
    p.add_argument("--safety", help="gate: does it weaken a guarantee? (no, and why)")
    p.add_argument("--scope", action="append", default=[], metavar="PATH")
    p.add_argument("--category", default="architecture", choices=CATEGORIES)
    p.add_argument("--tag", dest="tags", action="append", default=[], metavar="TAG")
    p.add_argument("--session", help="the session id (default: BRAIN_SESSION or the store's)")
    add_semantic_flags(p)
    return p


def run(args: argparse.Namespace) -> int:
    names = {
        "proposal": "PROPOSAL",
        "problem": "PROBLEM",
        "solution": "SOLUTION",
        "benefit": "BENEFIT",
        "context": "CONTEXT",
    }
    sections = sections_from(args, names)
    answers = {
        "observed": args.observed or "",
        "evidence": args.evidence or "",
        "scope": args.answer_scope or "",
        "reversible": args.reversible or "",
        "safety": args.safety or "",
    }
    with common.open_store(args) as store:
        res = store.proposals.propose(
            args.title,
            sections,
            answers,
            actor=common.actor_of(args),
            scope=args.scope,
            category=args.category,
            extra_tags=args.tags,
            session=args.session,
            semantic=args.semantic,
        )
    if args.json:
        common.print_json(res)
        return 0 if res.filed else 1
    common.out(searches_line(res.searches))
    for c in res.gate:
        common.out(f"  [{'pass' if c.ok else 'FAIL'}] {c.name}: {common.clean(c.reason)}")
    if res.filed:
        common.out(f"proposed  seq {res.seq}  {common.clean(res.path)}  status:pending")
        common.out("a person decides it: brain proposals approve|reject PATH")
        return 0
    common.out(f"gate failed; stored as a lesson  {common.clean(res.lesson_path)}")
    return 1
