"""`store.proposals`: lessons, proposals and the human approval gate (issue 15, seed 004).

Agents record what went wrong (lessons) and what they would improve (proposals); nothing an
agent proposes takes effect until a person approves it. Auto-accepting is a non-goal: every
proposal is filed `status:pending`, and the only way out of pending is `decide()`, which the
CLI calls after an interactive terminal and a typed confirmation.

The package, by concern (`Proposals`, the public entry, is `store.proposals`):
- model: where lessons (`memories/refinements/lessons/`), proposals
  (`memories/refinements/proposals/`) and patterns live; the records filing and deciding
  return; the reserved rows (`proposal.filed`, `proposal.decided`, `pattern.outcome`).
- bodies: structured bodies (lessons FAILURE, ROOT CAUSE, FIX, PREVENTION, CONTEXT optional;
  proposals PROPOSAL, PROBLEM, SOLUTION, BENEFIT, CONTEXT), placeholders, no secrets or raw
  error logs in lessons.
- duplicates: before storing, a lexical search, and a semantic one when cheap here (or asked),
  refuse a near duplicate naming it.
- gate: the proposer's answers to five questions and the deterministic checks, each recorded
  pass/fail with its reason; a failed gate stores the rejection as a lesson. At most 3
  proposals per session.
- patterns: recurring lesson signatures with an effectiveness score (EMA), pruning, suggest.
- lifecycle: reading the queue; pending -> accepted | rejected (reason required) -> deprecated,
  each decision a `proposal.decided` row naming the human actor, committed in one request with
  the status change (and, for a maintenance proposal, its writes under body-commitment
  preconditions: core.maintain).
- service: `Proposals`, filing, and the door to the rest.
"""

from __future__ import annotations

from core.proposals.bodies import (
    LESSON_OPTIONAL,
    LESSON_SECTIONS,
    PROPOSAL_SECTIONS,
    STOP_WORDS,
    check_body,
    check_lesson_safe,
    is_placeholder,
    jaccard,
    parse_sections,
    render,
    words,
)
from core.proposals.gate import MAX_PROPOSAL_CHARS, QUESTIONS, SECURITY_PATHS
from core.proposals.model import (
    BUDGET,
    DECIDED,
    DECISIONS,
    DUPLICATE_COSINE,
    DUPLICATE_JACCARD,
    LESSONS,
    PATTERNS,
    PROPOSALS,
    RESERVED_OPS,
    Check,
    Decision,
    DuplicateMemory,
    Filed,
    Proposal,
    session_id,
)
from core.proposals.patterns import (
    EMA_RATE,
    PATTERN_START,
    PPM,
    PRUNE_AGE_NS,
    PRUNE_BELOW,
    PRUNE_USES,
    SUGGEST_ABOVE,
    SUGGEST_TOP,
    pattern_path,
    score_of,
    signature,
)
from core.proposals.service import Proposals

__all__ = [
    "BUDGET",
    "DECIDED",
    "DECISIONS",
    "DUPLICATE_COSINE",
    "DUPLICATE_JACCARD",
    "EMA_RATE",
    "LESSONS",
    "LESSON_OPTIONAL",
    "LESSON_SECTIONS",
    "MAX_PROPOSAL_CHARS",
    "PATTERNS",
    "PATTERN_START",
    "PPM",
    "PROPOSALS",
    "PROPOSAL_SECTIONS",
    "PRUNE_AGE_NS",
    "PRUNE_BELOW",
    "PRUNE_USES",
    "QUESTIONS",
    "RESERVED_OPS",
    "SECURITY_PATHS",
    "STOP_WORDS",
    "SUGGEST_ABOVE",
    "SUGGEST_TOP",
    "Check",
    "Decision",
    "DuplicateMemory",
    "Filed",
    "Proposal",
    "Proposals",
    "check_body",
    "check_lesson_safe",
    "is_placeholder",
    "jaccard",
    "parse_sections",
    "pattern_path",
    "render",
    "score_of",
    "session_id",
    "signature",
    "words",
]
