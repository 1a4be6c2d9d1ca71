"""`store.proposals`: lessons, proposals and the human approval gate (issue 15, seed 004).

Agents record what went wrong (lessons) and what they would improve (proposals); nothing an
agent proposes takes effect until a person approves it. Auto-accepting is a non-goal: every
proposal is filed `status:pending`, and the only way out of pending is `decide()`, which the
CLI calls after an interactive terminal and a typed confirmation.

- Lessons live under `memories/refinements/lessons/`, proposals under
  `memories/refinements/proposals/`.
- Bodies are structured: lessons FAILURE, ROOT CAUSE, FIX, PREVENTION (CONTEXT optional),
  proposals PROPOSAL, PROBLEM, SOLUTION, BENEFIT, CONTEXT (at most 500 characters); a section
  that is missing or a placeholder ("it broke", "be careful") is refused naming it.
- Lessons refuse secrets (core.pii's secret detectors) and raw error logs.
- Before storing, a lexical (and, when asked, semantic) search refuses a near duplicate.
- A proposal passes the gate: the proposer's answers to five questions and deterministic
  checks, each recorded pass/fail with its reason; a failed gate stores the rejection as a
  lesson instead. At most 3 proposals per session.
- Lifecycle: pending -> accepted | rejected (reason required) -> deprecated; each decision is a
  `proposal.decided` row naming the human actor, committed in one request with the status
  change (and, for a maintenance proposal, its writes under body-commitment preconditions:
  core.maintain).
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core import paths, tags, validate
from core.errors import BrainError, InvalidMeta

if TYPE_CHECKING:
    from core.store import Store

LESSONS = "memories/refinements/lessons/"
PROPOSALS = "memories/refinements/proposals/"
_FOLDER = PROPOSALS[len("memories/") : -1]  # the index's folder column for PROPOSALS
LESSON_SECTIONS = ("FAILURE", "ROOT CAUSE", "FIX", "PREVENTION")
LESSON_OPTIONAL = ("CONTEXT",)
PROPOSAL_SECTIONS = ("PROPOSAL", "PROBLEM", "SOLUTION", "BENEFIT", "CONTEXT")
MAX_PROPOSAL_CHARS = 500
BUDGET = 3  # proposals per session
DUPLICATE_JACCARD = 0.8  # lexical: word-set overlap at or above which a memory is a duplicate
DUPLICATE_COSINE = 0.92  # semantic
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
    "core/proposals.py",
    "keys/",
    ".brain/",
)
DECIDED = ("accepted", "rejected", "deprecated")  # the statuses out of pending
DECISIONS = ("accept", "reject", "defer", "deprecate")
PATTERNS = "memories/refinements/patterns/"
RESERVED_OPS = ("proposal.filed", "proposal.decided", "pattern.outcome")
EMA_RATE = 0.1  # effectiveness: score += rate * (outcome - score)
PATTERN_START = 0.5
PRUNE_BELOW = 0.3  # ineffective: below this after more than PRUNE_USES uses
PRUNE_USES = 10
PRUNE_AGE_NS = 7 * 86_400 * 10**9
SUGGEST_ABOVE = 0.7
SUGGEST_TOP = 5
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
_WORDS = re.compile(r"[a-z0-9]+")


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
    lesson that records the rejection."""

    kind: str  # "lesson" | "proposal"
    path: str
    seq: int
    filed: bool = True
    status: str = ""
    gate: list[Check] = field(default_factory=list)
    lesson_path: str = ""
    session: str = ""


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


# -- bodies -------------------------------------------------------------------------------------


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
    return not t or t in _PLACEHOLDERS or len(_WORDS.findall(t)) < 3


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


def _slug(title: str) -> str:
    words = _WORDS.findall(title.lower())[:8]
    base = "-".join(words) or "untitled"
    return base[:60].strip("-") or "untitled"


def words(text: str) -> set[str]:
    return set(_WORDS.findall(text.lower()))


def jaccard(a: str, b: str) -> float:
    wa, wb = words(a), words(b)
    if not wa or not wb:
        return 0.0
    return len(wa & wb) / len(wa | wb)


def session_id(session: str | None = None) -> str:
    """The MCP session, else BRAIN_SESSION, else the caller names it (the CLI: its store's
    latest session.start row)."""
    return session or os.environ.get("BRAIN_SESSION", "") or ""


# -- the service --------------------------------------------------------------------------------


class Proposals:
    def __init__(self, store: Store) -> None:
        self.store = store

    def _submit(self, intents: Sequence[Any], actor: str) -> list[Any]:
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
        return self.store.session.submit(list(intents), actor)

    # -- filing ---------------------------------------------------------------------------------

    def session_of(self, session: str | None) -> str:
        s = session_id(session)
        if s:
            return s
        self.store.wait_index()
        head = self.store.indexed_seq()  # tail(N) descending reads below N - 1
        rows = self.store.tail(head + 2, 1, op="session.start", descending=True)
        if not rows:
            return "default"
        named = (rows[0].extra or {}).get("session")
        return str(named) if named else f"seq-{rows[0].seq}"

    def find_duplicate(self, title: str, body: str, *, semantic: bool = False) -> str | None:
        """A memory under refinements/ whose title and body nearly equal these, or None."""
        text = f"{title}\n{body}"
        query = " ".join(sorted(words(text), key=len, reverse=True)[:12])
        if query:
            for hit in self.store.search(query, limit=5, kind="refinements"):
                try:
                    other = self.store.view(hit.path).body.decode("utf-8", "replace")
                except BrainError:
                    continue
                if jaccard(text, f"{hit.title}\n{other}") >= DUPLICATE_JACCARD:
                    return hit.path
        if semantic:
            try:
                hits = self.store.search(text, mode="semantic", limit=3, kind="refinements")
            except BrainError:
                return None
            for hit in hits:
                if hit.score >= DUPLICATE_COSINE:
                    return hit.path
        return None

    def _refuse_duplicate(self, title: str, body: str, semantic: bool) -> None:
        dup = self.find_duplicate(title, body, semantic=semantic)
        if dup is not None:
            raise DuplicateMemory(
                f"a near duplicate is already stored: {dup}; update it instead of filing again",
                dup,
            )

    def _free_path(self, prefix: str, title: str, body: str) -> str:
        slug = _slug(title)
        path = f"{prefix}{slug}.md"
        if self.store.memory_rows([path]):
            h = hashlib.sha256(body.encode()).hexdigest()[:8]
            path = f"{prefix}{slug}-{h}.md"
        return paths.validate(path)

    def lesson(
        self,
        title: str,
        sections: Mapping[str, str],
        *,
        actor: str,
        category: str = "learning",
        extra_tags: Sequence[str] = (),
        semantic: bool = False,
        session: str | None = None,
        project: str = "",
        _check_dup: bool = True,
    ) -> Filed:
        sections = {k.upper(): v for k, v in sections.items() if v is not None}
        check_body("lesson", sections)
        body = render(sections, LESSON_SECTIONS + LESSON_OPTIONAL)
        check_lesson_safe(f"{title}\n{body}")
        tag_list = tags.validate_tags(["type:lesson", *extra_tags])
        tags.validate_fields(category=category)
        tags.validate_category_tags(category, tag_list)
        if _check_dup:
            self._refuse_duplicate(title, body, semantic)
        path = self._free_path(LESSONS, title, body)
        sig = signature(category, sections["ROOT CAUSE"])
        extra: dict[str, Any] = {"session": self.session_of(session), "signature": sig}
        if project:
            extra["project"] = project
        put = self.store.put_intent(
            path, body, False, "", title=title, category=category, tags=tag_list, extra=extra
        )
        intents = [put, self._pattern_intent(sig, path, category, sections, project)]
        res = self.store.batch(intents, actor)
        return Filed("lesson", path, res[0].seq, session=self.session_of(session))

    # -- patterns -------------------------------------------------------------------------------

    def _pattern_intent(
        self, sig: str, lesson: str, category: str, sections: Mapping[str, str], project: str
    ) -> Any:
        """The lesson's pattern: made on its first lesson, a recurring pattern from its second
        (each lesson is evidence); put_if on the commitment read here."""
        path = pattern_path(sig)
        rows = self.store.memory_rows([path])
        if rows and rows[0].state == "active":
            m = self.store.view(path)
            extra = dict(m.sidecar.extra)
            extra["lessons"] = [*extra.get("lessons", []), lesson][-50:]
            if project and project not in extra.get("projects", []):
                extra["projects"] = [*extra.get("projects", []), project]
            return self.store.put_intent(path, m.body, False, m.sidecar.commit, extra=extra)
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
        return self.store.put_intent(
            path,
            body,
            False,
            "",
            title=f"pattern: {sections['ROOT CAUSE'][:120]}",
            category=category,
            tags=["pattern"],
            extra=extra,
        )

    def patterns(self) -> list[Any]:
        out = []
        after = PATTERNS
        while True:
            page = self.store.memories(after, 1000, kind="refinements", state="active")
            out += [m for m in page if m.path.startswith(PATTERNS)]
            if len(page) < 1000 or not page[-1].path.startswith(PATTERNS):
                return out
            after = page[-1].path

    def record_outcome(self, path: str, worked: bool, *, actor: str) -> dict[str, Any]:
        """An outcome of applying a pattern: its score moves by the EMA (rate 0.1), in one
        request with the `pattern.outcome` row; put_if on the commitment it read."""
        from core.write.intents import Note

        path = paths.validate(path)
        if not path.startswith(PATTERNS):
            raise BrainError(f"{path} is not a pattern (patterns live under {PATTERNS})")
        m = self.store.view(path)
        extra = dict(m.sidecar.extra)
        old = score_of(extra)
        new = round(old + EMA_RATE * ((1.0 if worked else 0.0) - old), 6)
        extra["score_ppm"] = round(new * PPM)
        extra["uses"] = int(extra.get("uses", 0)) + 1
        put = self.store.put_intent(path, m.body, False, m.sidecar.commit, extra=extra)
        row = {
            "worked": worked,
            "score_ppm": extra["score_ppm"],
            "previous_ppm": round(old * PPM),
            "uses": extra["uses"],
        }
        res = self._submit([put, Note("pattern.outcome", path, "", row)], actor)
        return {"path": path, "seq": res[-1].seq, "score": new, "previous": old, **row}

    def prune(self, *, actor: str, now_ns: int | None = None) -> list[str]:
        """Tombstone ineffective patterns: score < 0.3 after more than 10 uses, older than 7
        days."""
        from core.write.intents import Delete

        now = now_ns if now_ns is not None else time.time_ns()
        gone = []
        for r in self.patterns():
            ex = self.store.view(r.path).sidecar.extra
            if (
                score_of(ex) < PRUNE_BELOW
                and int(ex.get("uses", 0)) > PRUNE_USES
                and now - int(ex.get("created_ns", now)) > PRUNE_AGE_NS
            ):
                gone.append(r.path)
        if gone:
            self.store.batch([Delete(p) for p in gone], actor)
        return gone

    def suggest(self, project: str | None = None, limit: int = SUGGEST_TOP) -> list[dict[str, Any]]:
        """Recurring patterns (two lessons or more) scoring above 0.7, best first, with their
        evidence; only those seen in `project` when one is named."""
        out = []
        for r in self.patterns():
            m = self.store.view(r.path)
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

    def filed_in_session(self, session: str) -> int:
        n = 0
        after = 0
        while True:
            rows = self.store.tail(after + 1, 1000, op="proposal.filed")
            for r in rows:
                ex = r.extra or {}
                if ex.get("session") == session and not ex.get("maintenance"):
                    n += 1
            if len(rows) < 1000:
                return n
            after = rows[-1].seq

    def gate(
        self,
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
                out.append(
                    Check(f"q:{key}", False, "it weakens a guarantee: a person must file it")
                )
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
        bad = [s for s in scope if not _scope_ok(s)]
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
                Check(
                    "security", False, f"touches security-relevant {sec[0]}: a person must file it"
                )
            )
        else:
            out.append(Check("security", True, "no security-relevant path touched"))
        return out

    def propose(
        self,
        title: str,
        sections: Mapping[str, str],
        answers: Mapping[str, str],
        *,
        actor: str,
        scope: Sequence[str],
        category: str = "architecture",
        extra_tags: Sequence[str] = (),
        session: str | None = None,
        semantic: bool = False,
        action: Mapping[str, Any] | None = None,
    ) -> Filed:
        """File a proposal `status:pending` (never anything else), or, if the gate fails,
        store the rejection as a lesson. Raises on a structural error, a duplicate or an
        exhausted budget."""
        sess = self.session_of(session)
        sections = {k.upper(): v for k, v in sections.items() if v is not None}
        check_body("proposal", sections)
        body = render(sections, PROPOSAL_SECTIONS)
        if self.filed_in_session(sess) >= BUDGET:
            raise BrainError(
                f"session {sess} has filed {BUDGET} proposals, the most a session may (seed 004)"
            )
        self._refuse_duplicate(title, body, semantic)
        tag_list = [t for t in extra_tags if not t.startswith(("type:", "status:"))]
        tag_list = ["type:proposal", "status:pending", *tag_list]
        checks = self.gate(
            title, sections, answers, category=category, tag_list=tag_list, scope=scope
        )
        gate = [c.as_dict() for c in checks]
        if not all(c.ok for c in checks):
            failed = [c for c in checks if not c.ok]
            why = "; ".join(f"{c.name}: {c.reason}" for c in failed)[:400]
            lesson = self.lesson(
                f"gate refused: {title}"[:200],
                {
                    "FAILURE": f"the proposal {title!r} failed seed 004's gate ({len(failed)} checks)",
                    "ROOT CAUSE": why,
                    "FIX": "answer every question and meet every check, then file it again",
                    "PREVENTION": "run the gate's questions before proposing; keep within scope",
                },
                actor=actor,
                category="learning",
                extra_tags=["gate:failed"],
                session=sess,
                _check_dup=False,
            )
            return Filed(
                "proposal",
                "",
                lesson.seq,
                filed=False,
                gate=checks,
                lesson_path=lesson.path,
                session=sess,
            )
        from core.write.intents import Note

        path = self._free_path(PROPOSALS, title, body)
        extra: dict[str, Any] = {
            "session": sess,
            "gate": gate,
            "answers": {k: str(answers.get(k, "")) for k, _ in QUESTIONS},
            "scope": list(scope),
        }
        if action:
            from core.maintain import check_action

            check_action(action)
            extra["action"] = dict(action)
        put = self.store.put_intent(
            path,
            body,
            False,
            "",  # a proposal is always new
            title=title,
            category=category,
            tags=tag_list,
            extra=extra,
        )
        note = Note("proposal.filed", path, "", {"session": sess, "gate": "passed"})
        res = self._submit([put, note], actor)
        return Filed("proposal", path, res[0].seq, status="pending", gate=checks, session=sess)

    # -- reading --------------------------------------------------------------------------------

    def items(self, status: str | None = "pending", limit: int = 1000) -> list[Proposal]:
        """Proposals (oldest first), by status (None: all)."""
        if status is not None and limit <= 1000:
            return [self.show(r.path) for r in self.page(status, 0, limit)]
        rows = [r for r in self._rows() if status is None or f"status:{status}" in r.tags]
        rows.sort(key=lambda r: r.seq)
        return [self.show(r.path) for r in rows[:limit]]

    def _rows(self) -> list[Any]:
        out: list[Any] = []
        after = PROPOSALS
        while True:
            page = self.store.memories(after, 1000, kind="refinements", state="active")
            out += [m for m in page if m.path.startswith(PROPOSALS)]
            if len(page) < 1000 or not page[-1].path.startswith(PROPOSALS):
                return out
            after = page[-1].path

    def count(self, status: str = "pending") -> int:
        """Proposals with this status ("decided": accepted, rejected or deprecated): the
        index's maintained counts (one lookup however long the queue), for the header and
        pane 5's list height."""
        from core.index import proposal_rows

        self.store.wait_index()
        return proposal_rows.count(self.store.reader.conn, _FOLDER, _statuses(status))

    def page(self, status: str = "pending", after: int = 0, limit: int = 100) -> list[Any]:
        """One page of proposals with this status ("decided" as in count), oldest write
        first: list rows (`core.index.queries.MemoryRow`) with seq > after. Keyset paging:
        the last row's seq is the next page's `after`; 10k pending read as fast as 10."""
        from core.index import proposal_rows

        self.store.wait_index()
        return proposal_rows.page(
            self.store.reader.conn, _FOLDER, _statuses(status), after, min(limit, 1000)
        )

    def similar(self, path: str, limit: int = 3) -> list[tuple[str, float]]:
        """Memories whose words overlap this proposal's most, with the overlap (Jaccard);
        at or above DUPLICATE_JACCARD one is a near duplicate."""
        p = self.show(path)
        text = f"{p.title}\n{p.body}"
        query = " ".join(sorted(words(text), key=len, reverse=True)[:12])
        out: list[tuple[str, float]] = []
        for hit in self.store.search(query, limit=limit + 3) if query else []:
            if hit.path == path:
                continue
            try:
                other = self.store.view(hit.path).body.decode("utf-8", "replace")
            except BrainError:
                continue
            out.append((hit.path, round(jaccard(text, f"{hit.title}\n{other}"), 2)))
        return sorted(out, key=lambda t: -t[1])[:limit]

    def preview(self, path: str) -> list[tuple[str, list[str], list[str]]]:
        """What accepting would write, without writing: (path, tags now, tags after) for the
        proposal and for each memory its maintenance action changes."""
        p = self.show(path)
        m = self.store.view(path)
        after = [t for t in m.sidecar.tags if not t.startswith("status:")]
        after.insert(1, f"status:{DECIDED[0]}")  # as decide() writes it; nothing is written here
        out = [(path, list(m.sidecar.tags), after)]
        from core import maintain

        return out + maintain.preview(self.store, p.extra.get("action") or {})

    def show(self, path: str) -> Proposal:
        path = paths.validate(path)
        if not path.startswith(PROPOSALS):
            raise BrainError(f"{path} is not a proposal (proposals live under {PROPOSALS})")
        m = self.store.view(path)
        sc = m.sidecar
        status = next((t[7:] for t in sc.tags if t.startswith("status:")), "")
        body = m.body.decode("utf-8", "replace")
        return Proposal(
            path, sc.title, status, sc.seq, sc.updated_ns, sc.actor, body, dict(sc.extra)
        )

    # -- lifecycle ------------------------------------------------------------------------------

    def decide(self, path: str, decision: str, *, actor: str, reason: str = "") -> Decision:
        """A person's decision: accept | reject (reason required) | defer | deprecate.

        Called by the CLI only after an interactive terminal and a typed confirmation (and by
        the TUI after its own). The status change, the `proposal.decided` row naming the actor
        and, when accepting an actionable proposal, its writes (core.maintain.apply_intents:
        puts and tombstones, each memory it reads preconditioned on the body commitment it was
        proposed against) commit in one request: all or nothing.
        """
        from core.write.intents import Note

        if decision not in DECISIONS:
            raise BrainError(f"decision {decision!r}; use one of: {', '.join(DECISIONS)}")
        if not actor or not actor.strip():
            raise BrainError("a decision names the person who made it (actor)")
        if decision == "reject" and not (reason or "").strip():
            raise BrainError("a rejection needs a reason")
        p = self.show(path)
        allowed = {
            "accept": ("pending",),
            "reject": ("pending",),
            "defer": ("pending",),
            "deprecate": ("accepted",),
        }[decision]
        if p.status not in allowed:
            raise BrainError(
                f"{path} is status:{p.status or '(none)'}; {decision} needs status:"
                + " or status:".join(allowed)
            )
        new_status = {
            "accept": "accepted",
            "reject": "rejected",
            "defer": "pending",
            "deprecate": "deprecated",
        }[decision]
        m = self.store.view(path)
        intents: list[Any] = []
        applied: list[str] = []
        if decision == "accept" and p.extra.get("action"):
            from core import maintain

            acts, applied = maintain.apply_intents(self.store, p.extra["action"])
            intents += acts
        row: dict[str, Any] = {"decision": decision, "status": new_status, "human": actor}
        if reason:
            row["reason"] = reason[:500]
        if applied:
            row["applied"] = applied
        if decision != "defer":
            new_tags = [t for t in m.sidecar.tags if not t.startswith("status:")]
            new_tags.insert(1, f"status:{new_status}")
            extra = dict(m.sidecar.extra)
            if reason:
                extra["reason"] = reason[:500]
            extra["decided_by"] = actor
            intents.append(
                self.store.put_intent(
                    path, m.body, False, m.sidecar.commit, tags=new_tags, extra=extra
                )
            )
        intents.append(Note("proposal.decided", path, "", row))
        res = self._submit(intents, actor)
        return Decision(path, decision, new_status, res[-1].seq, applied)

    # -- maintenance --------------------------------------------------------------------------

    def file_maintenance(
        self,
        path: str,
        title: str,
        body: str,
        action: Mapping[str, Any],
        *,
        actor: str,
        session: str | None,
    ) -> Filed:
        """File one engine-made maintenance proposal (core.maintain builds its text and
        action): always `status:pending`, tagged `source:maintain`, with its `proposal.filed`
        row. Filing one whose path exists (the same memories at the same versions) files
        nothing. The put is made here, not handed in: no caller chooses its status."""
        from core.maintain import check_action
        from core.write.intents import Note

        path = paths.validate(path)
        if not path.startswith(PROPOSALS):
            raise BrainError(f"{path}: a maintenance proposal lives under {PROPOSALS}")
        check_action(action)
        sess = self.session_of(session)
        if self.store.memory_rows([path]):
            return Filed("proposal", path, 0, filed=False, status="pending", session=sess)
        put = self.store.put_intent(
            path,
            body,
            False,
            "",
            title=title[:200],
            category="code-solution",
            tags=["type:proposal", "status:pending", "source:maintain"],
            extra={"session": sess, "action": dict(action), "gate": [], "maintenance": True},
        )
        note = Note("proposal.filed", path, "", {"session": sess, "maintenance": action["op"]})
        res = self._submit([put, note], actor)
        return Filed("proposal", path, res[0].seq, status="pending", session=sess)

    def maintain(
        self,
        *,
        actor: str,
        limit: int = 500,
        stale_days: float = 180.0,
        now_ns: int | None = None,
        session: str | None = None,
    ) -> list[Filed]:
        """Engine-made maintenance proposals (core.maintain): merge near duplicates, retire
        contradicted memories, demote stale ones. Each is filed pending with the body
        commitments of the memories it reads as preconditions."""
        from core import maintain

        return maintain.generate(
            self, actor=actor, limit=limit, stale_days=stale_days, now_ns=now_ns, session=session
        )


PPM = 1_000_000


def _statuses(status: str) -> tuple[str, ...]:
    if status == "decided":
        return DECIDED
    if status != "pending" and status not in DECIDED:
        raise BrainError(f"status {status!r}; use pending, accepted, rejected, deprecated, decided")
    return (status,)


def score_of(extra: Mapping[str, Any]) -> float:
    """A pattern's effectiveness score in [0, 1] (stored as integer millionths)."""
    return int(extra.get("score_ppm", PATTERN_START * PPM)) / PPM


def signature(category: str, root_cause: str) -> str:
    """A lesson's signature: its category and the sorted distinct content words of its root
    cause (so the same cause worded in another order recurs)."""
    words = sorted({w for w in _WORDS.findall(root_cause.lower()) if len(w) > 2} - STOP_WORDS)
    return f"{category}:" + " ".join(words[:12])


def pattern_path(sig: str) -> str:
    return f"{PATTERNS}p-{hashlib.sha256(sig.encode()).hexdigest()[:16]}.md"


def _scope_ok(s: str) -> bool:
    return bool(s) and not s.startswith(("/", "~")) and ".." not in s.split("/") and "\\" not in s
