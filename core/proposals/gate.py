"""Seed 004's gate: the proposer's answers to five questions and the deterministic checks
(tags, length, scope path, security-relevant paths), each recorded pass/fail with its reason.
A proposal that fails any is not filed: the rejection is stored as a lesson instead."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from core import tags
from core.errors import InvalidMeta
from core.proposals.bodies import PROPOSAL_SECTIONS, is_placeholder, render
from core.proposals.model import Check

MAX_PROPOSAL_CHARS = 500
# Seed 004's five questions, each answered by the proposer (recorded with its check).
QUESTIONS = (
    ("observed", "What did you observe that this fixes (a concrete case)?"),
    ("evidence", "What evidence backs it (memory, audit row, file, test)?"),
    ("scope", "What does it change, and what does it leave alone?"),
    ("reversible", "How is it undone if it turns out wrong?"),
    ("safety", "Does it weaken a security or integrity guarantee? (answer no, and why)"),
)
# Touching these needs a person to file the change: the gate fails a proposal scoped here.
SECURITY_PATHS = (
    "core/log/",
    "core/verify/",
    "core/write/",
    "core/pii/",
    "core/verifiable.py",
    "core/proposals/",
    "keys/",
    ".brain/",
)


def gate(
    title: str,
    sections: Mapping[str, str],
    answers: Mapping[str, str],
    *,
    category: str,
    tag_list: Sequence[str],
    scope: Sequence[str],
) -> list[Check]:
    """The five questions and the deterministic checks, each pass/fail with its reason."""
    out: list[Check] = []
    for key, q in QUESTIONS:
        a = (answers.get(key) or "").strip()
        if not a:
            out.append(Check(f"q:{key}", False, f"unanswered: {q}"))
        elif is_placeholder(a):
            out.append(Check(f"q:{key}", False, f"placeholder answer {a[:40]!r}: {q}"))
        elif key == "safety" and not re.match(r"^\s*no\b", a, re.I):
            out.append(Check(f"q:{key}", False, "it weakens a guarantee: a person must file it"))
        else:
            out.append(Check(f"q:{key}", True, "answered"))
    try:
        tags.validate_tags(tag_list)
        tags.validate_fields(category=category)
        tags.validate_category_tags(category, tag_list)
        out.append(Check("tags", True, f"{len(tag_list)} tags, category {category}"))
    except InvalidMeta as e:
        out.append(Check("tags", False, str(e)))
    body = render(sections, PROPOSAL_SECTIONS)
    n = len(body)
    out.append(
        Check(
            "length",
            n <= MAX_PROPOSAL_CHARS,
            f"{n} characters; at most {MAX_PROPOSAL_CHARS}",
        )
    )
    bad = [s for s in scope if not scope_ok(s)]
    if not scope:
        out.append(Check("scope", False, "no scope path given (--scope PATH)"))
    elif bad:
        out.append(Check("scope", False, f"{bad[0]!r} is not a relative path inside the repo"))
    else:
        out.append(Check("scope", True, ", ".join(scope)))
    sec = [
        s
        for s in scope
        if any(s.startswith(p) or p.startswith(s.rstrip("/") + "/") for p in SECURITY_PATHS)
    ]
    if sec:
        out.append(
            Check("security", False, f"touches security-relevant {sec[0]}: a person must file it")
        )
    else:
        out.append(Check("security", True, "no security-relevant path touched"))
    return out


def scope_ok(s: str) -> bool:
    return bool(s) and not s.startswith(("/", "~")) and ".." not in s.split("/") and "\\" not in s
