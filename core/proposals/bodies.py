"""Seed 004's body rules: the sections of lessons and proposals, placeholders, and what a
lesson may not carry (secrets, raw error logs); the word helpers duplicate search uses.

- Lessons: FAILURE, ROOT CAUSE, FIX, PREVENTION (CONTEXT optional).
- Proposals: PROPOSAL, PROBLEM, SOLUTION, BENEFIT, CONTEXT (at most 500 characters: the gate).
- A section that is missing or a placeholder ("it broke", "be careful") is refused naming it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from core.errors import InvalidMeta

LESSON_SECTIONS = ("FAILURE", "ROOT CAUSE", "FIX", "PREVENTION")
LESSON_OPTIONAL = ("CONTEXT",)
PROPOSAL_SECTIONS = ("PROPOSAL", "PROBLEM", "SOLUTION", "BENEFIT", "CONTEXT")
STOP_WORDS = frozenset(
    "the a an and or but of to in on at by for with from into that this these those was were is"
    " are be been it its not no when then than as we our they their there which what who how"
    " because after before while".split()
)
_PLACEHOLDERS = {
    "it broke",
    "be careful",
    "tbd",
    "todo",
    "n/a",
    "na",
    "none",
    "fix it",
    "fixed",
    "fixed it",
    "unknown",
    "something",
    "stuff",
    "see above",
    "...",
    "?",
    "xxx",
    "nothing",
    "idk",
    "no idea",
    "it failed",
    "it works",
    "better",
    "improve it",
}
_SECTION = re.compile(
    r"^(FAILURE|ROOT CAUSE|FIX|PREVENTION|CONTEXT|PROPOSAL|PROBLEM|SOLUTION|BENEFIT)\s*:\s*(.*)$"
)
_ERROR_LOG = (
    re.compile(r"Traceback \(most recent call last\)"),
    re.compile(r"^\s*File \"[^\"]+\", line \d+", re.M),
    re.compile(r"^\s+at [\w.$<>]+\([\w.]*:\d+\)", re.M),
    re.compile(r"^(panic|goroutine \d+ \[|Exception in thread)", re.M),
    re.compile(r"^\s*#\d+ 0x[0-9a-f]+ in ", re.M),
)
WORDS = re.compile(r"[a-z0-9]+")


def parse_sections(body: str) -> dict[str, str]:
    """`NAME: text` sections (continuation lines join the section above), names upper-case."""
    out: dict[str, str] = {}
    cur: str | None = None
    for line in body.splitlines():
        m = _SECTION.match(line.strip())
        if m:
            cur = m.group(1)
            if cur in out:
                raise InvalidMeta(f"body: section {cur} appears twice")
            out[cur] = m.group(2).strip()
        elif cur is not None and line.strip():
            out[cur] = (out[cur] + " " + line.strip()).strip()
    return out


def is_placeholder(text: str) -> bool:
    t = " ".join(text.lower().split()).strip(" .!")
    return not t or t in _PLACEHOLDERS or len(WORDS.findall(t)) < 3


def render(sections: Mapping[str, str], order: Sequence[str]) -> str:
    return "".join(f"{k}: {sections[k].strip()}\n" for k in order if sections.get(k, "").strip())


def check_body(kind: str, sections: Mapping[str, str]) -> None:
    """Raise InvalidMeta naming the first missing or placeholder section."""
    required = LESSON_SECTIONS if kind == "lesson" else PROPOSAL_SECTIONS
    optional = LESSON_OPTIONAL if kind == "lesson" else ()
    allowed = required + optional
    for k in sections:
        if k not in allowed:
            raise InvalidMeta(
                f"body: a {kind} has no {k} section; its sections: {', '.join(allowed)}"
            )
    for k in required:
        if not sections.get(k, "").strip():
            raise InvalidMeta(f"body: a {kind} needs a {k} section ({', '.join(required)})")
    for k in allowed:
        v = sections.get(k, "")
        if v.strip() and is_placeholder(v):
            raise InvalidMeta(
                f"body: {k} is a placeholder ({v.strip()[:40]!r}); say what happened, in at"
                " least three words"
            )


def check_lesson_safe(text: str) -> None:
    """Seed 004: lessons carry no secrets and no raw error logs."""
    from core.pii.findings import SECRET
    from core.pii.scan import scan

    found = [f for f in scan(text) if f.type == SECRET]
    if found:
        f = found[0]
        raise InvalidMeta(
            f"body: a lesson carries no secrets; found {f.detail or 'a secret'} at"
            f" {f.start}-{f.end}: remove it and describe it instead"
        )
    for rx in _ERROR_LOG:
        if rx.search(text):
            raise InvalidMeta(
                "body: a lesson carries no raw error logs (a stack trace was found);"
                " summarise the error in FAILURE instead"
            )


def slug(title: str) -> str:
    found = WORDS.findall(title.lower())[:8]
    base = "-".join(found) or "untitled"
    return base[:60].strip("-") or "untitled"


def words(text: str) -> set[str]:
    return set(WORDS.findall(text.lower()))


def jaccard(a: str, b: str) -> float:
    wa, wb = words(a), words(b)
    if not wa or not wb:
        return 0.0
    return len(wa & wb) / len(wa | wb)
