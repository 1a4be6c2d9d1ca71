"""Where lessons, proposals and patterns live, what filing and deciding return, and how the
reserved rows (`proposal.filed`, `proposal.decided`, `pattern.outcome`) are committed."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core import validate, vocab
from core.errors import BrainError

if TYPE_CHECKING:
    from core.store import Store

LESSONS = "memories/refinements/lessons/"
PROPOSALS = vocab.PROPOSALS
PATTERNS = "memories/refinements/patterns/"
FOLDER = PROPOSALS[len("memories/") : -1]  # the index's folder column for PROPOSALS
BUDGET = 3  # proposals per session
DECIDED = ("accepted", "rejected", "deprecated")  # the statuses out of pending
DECISIONS = ("accept", "reject", "defer", "deprecate")
RESERVED_OPS = ("proposal.filed", "proposal.decided", "pattern.outcome")
# Near duplicates (core.proposals.duplicates; core.maintain's merges use the lexical one too)
DUPLICATE_JACCARD = 0.8  # lexical: word-set overlap at or above which a memory is a duplicate
DUPLICATE_COSINE = 0.92  # semantic: cosine of the embeddings


@dataclass
class Check:
    name: str
    ok: bool
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "reason": self.reason}


@dataclass
class Filed:
    """What filing did. `filed` is False when the gate failed: `lesson_path` then names the
    lesson that records the rejection. `searches` says which duplicate searches ran, and for
    one that did not, why (core.proposals.duplicates)."""

    kind: str  # "lesson" | "proposal"
    path: str
    seq: int
    filed: bool = True
    status: str = ""
    gate: list[Check] = field(default_factory=list)
    lesson_path: str = ""
    session: str = ""
    searches: dict[str, str] = field(default_factory=dict)


@dataclass
class Proposal:
    path: str
    title: str
    status: str
    seq: int
    updated_ns: int
    actor: str
    body: str
    extra: dict[str, Any]


@dataclass
class Decision:
    path: str
    decision: str
    status: str
    seq: int  # the proposal.decided row
    applied: list[str] = field(default_factory=list)


class DuplicateMemory(BrainError):
    """A near duplicate exists: `path` names it."""

    def __init__(self, message: str, path: str) -> None:
        super().__init__(message)
        self.path = path


def session_id(session: str | None = None) -> str:
    """The MCP session, else BRAIN_SESSION, else the caller names it (the CLI: its store's
    latest session.start row)."""
    return session or os.environ.get("BRAIN_SESSION", "") or ""


def statuses(status: str) -> tuple[str, ...]:
    if status == "decided":
        return DECIDED
    if status != "pending" and status not in DECIDED:
        raise BrainError(f"status {status!r}; use pending, accepted, rejected, deprecated, decided")
    return (status,)


def submit(store: Store, intents: Sequence[Any], actor: str) -> list[Any]:
    """Commit intents and their proposal row in one request. Not through Store.batch:
    `proposal.filed` and `proposal.decided` are no caller's note (validate.NOTE_OPS), so
    no one forges a decision with `store.note`."""
    from core.write.intents import Note
    from core.write.pii_gate import prescan

    validate.actor(actor)
    rest = []
    for it in intents:
        if isinstance(it, Note) and it.op in RESERVED_OPS:
            validate.extra(it.extra)
        else:
            validate.intent(it)
            rest.append(it)
    prescan(rest)
    return store.session.submit(list(intents), actor)
