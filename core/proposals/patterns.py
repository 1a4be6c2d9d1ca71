"""Patterns: recurring lesson signatures with an effectiveness score (seed 004, issue 15).

A lesson's signature is its category and the distinct content words of its root cause; the
first lesson makes its pattern, each further one is evidence. Recorded outcomes move the score
by an exponential moving average (rate 0.1); ineffective patterns (< 0.3 after more than 10
uses, older than 7 days) are pruned; `suggest` returns the top 5 above 0.7 with their evidence.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from core import paths
from core.errors import BrainError
from core.proposals.bodies import STOP_WORDS, WORDS, render
from core.proposals.model import PATTERNS, submit

if TYPE_CHECKING:
    from core.store import Store

EMA_RATE = 0.1  # effectiveness: score += rate * (outcome - score)
PATTERN_START = 0.5
PRUNE_BELOW = 0.3  # ineffective: below this after more than PRUNE_USES uses
PRUNE_USES = 10
PRUNE_AGE_NS = 7 * 86_400 * 10**9
SUGGEST_ABOVE = 0.7
SUGGEST_TOP = 5
PPM = 1_000_000


def score_of(extra: Mapping[str, Any]) -> float:
    """A pattern's effectiveness score in [0, 1] (stored as integer millionths)."""
    return int(extra.get("score_ppm", PATTERN_START * PPM)) / PPM


def signature(category: str, root_cause: str) -> str:
    """A lesson's signature: its category and the sorted distinct content words of its root
    cause (so the same cause worded in another order recurs)."""
    found = sorted({w for w in WORDS.findall(root_cause.lower()) if len(w) > 2} - STOP_WORDS)
    return f"{category}:" + " ".join(found[:12])


def pattern_path(sig: str) -> str:
    return f"{PATTERNS}p-{hashlib.sha256(sig.encode()).hexdigest()[:16]}.md"


def pattern_intent(
    store: Store,
    sig: str,
    lesson: str,
    category: str,
    sections: Mapping[str, str],
    project: str,
) -> Any:
    """The lesson's pattern: made on its first lesson, a recurring pattern from its second
    (each lesson is evidence); put_if on the commitment read here."""
    path = pattern_path(sig)
    rows = store.memory_rows([path])
    if rows and rows[0].state == "active":
        m = store.view(path)
        extra = dict(m.sidecar.extra)
        extra["lessons"] = [*extra.get("lessons", []), lesson][-50:]
        if project and project not in extra.get("projects", []):
            extra["projects"] = [*extra.get("projects", []), project]
        return store.put_intent(path, m.body, False, m.sidecar.commit, extra=extra)
    body = render(
        {"PATTERN": sections["ROOT CAUSE"], "PREVENTION": sections["PREVENTION"]},
        ("PATTERN", "PREVENTION"),
    )
    extra = {
        "signature": sig,
        "lessons": [lesson],
        "projects": [project] if project else [],
        "score_ppm": int(PATTERN_START * PPM),  # canonical JSON: integers only
        "uses": 0,
        "created_ns": time.time_ns(),
    }
    return store.put_intent(
        path,
        body,
        False,
        "",
        title=f"pattern: {sections['ROOT CAUSE'][:120]}",
        category=category,
        tags=["pattern"],
        extra=extra,
    )


def patterns(store: Store) -> list[Any]:
    out = []
    after = PATTERNS
    while True:
        page = store.memories(after, 1000, kind="refinements", state="active")
        out += [m for m in page if m.path.startswith(PATTERNS)]
        if len(page) < 1000 or not page[-1].path.startswith(PATTERNS):
            return out
        after = page[-1].path


def record_outcome(store: Store, path: str, worked: bool, *, actor: str) -> dict[str, Any]:
    """An outcome of applying a pattern: its score moves by the EMA (rate 0.1), in one
    request with the `pattern.outcome` row; put_if on the commitment it read."""
    from core.write.intents import Note

    path = paths.validate(path)
    if not path.startswith(PATTERNS):
        raise BrainError(f"{path} is not a pattern (patterns live under {PATTERNS})")
    m = store.view(path)
    extra = dict(m.sidecar.extra)
    old = score_of(extra)
    new = round(old + EMA_RATE * ((1.0 if worked else 0.0) - old), 6)
    extra["score_ppm"] = round(new * PPM)
    extra["uses"] = int(extra.get("uses", 0)) + 1
    put = store.put_intent(path, m.body, False, m.sidecar.commit, extra=extra)
    row = {
        "worked": worked,
        "score_ppm": extra["score_ppm"],
        "previous_ppm": round(old * PPM),
        "uses": extra["uses"],
    }
    res = submit(store, [put, Note("pattern.outcome", path, "", row)], actor)
    return {"path": path, "seq": res[-1].seq, "score": new, "previous": old, **row}


def prune(store: Store, *, actor: str, now_ns: int | None = None) -> list[str]:
    """Tombstone ineffective patterns: score < 0.3 after more than 10 uses, older than 7
    days."""
    from core.write.intents import Delete

    now = now_ns if now_ns is not None else time.time_ns()
    gone = []
    for r in patterns(store):
        ex = store.view(r.path).sidecar.extra
        if (
            score_of(ex) < PRUNE_BELOW
            and int(ex.get("uses", 0)) > PRUNE_USES
            and now - int(ex.get("created_ns", now)) > PRUNE_AGE_NS
        ):
            gone.append(r.path)
    if gone:
        store.batch([Delete(p) for p in gone], actor)
    return gone


def suggest(store: Store, project: str | None = None, limit: int = SUGGEST_TOP) -> list[dict]:
    """Recurring patterns (two lessons or more) scoring above 0.7, best first, with their
    evidence; only those seen in `project` when one is named."""
    out = []
    for r in patterns(store):
        m = store.view(r.path)
        ex = m.sidecar.extra
        score = score_of(ex)
        lessons = list(ex.get("lessons", []))
        if score <= SUGGEST_ABOVE or len(lessons) < 2:
            continue
        if project and project not in ex.get("projects", []):
            continue
        out.append(
            {
                "path": r.path,
                "title": m.sidecar.title,
                "score": score,
                "uses": int(ex.get("uses", 0)),
                "evidence": lessons,
                "body": m.body.decode("utf-8", "replace"),
            }
        )
    out.sort(key=lambda d: (-d["score"], -len(d["evidence"]), d["path"]))
    return out[:limit]
