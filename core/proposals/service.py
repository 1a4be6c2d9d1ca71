"""`store.proposals`: filing lessons and proposals, and the one door to the rest.

Filing runs in this order: the body rules (core.proposals.bodies), the budget (proposals),
the duplicate search (core.proposals.duplicates), the gate (core.proposals.gate; a failed gate
stores the rejection as a lesson), then one request with the `proposal.filed` row. Patterns
(core.proposals.patterns) and decisions (core.proposals.lifecycle) are reached through the
methods below, so callers only ever hold `store.proposals`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from core import paths, tags
from core.errors import BrainError
from core.proposals import duplicates, lifecycle
from core.proposals import patterns as pat
from core.proposals.bodies import (
    LESSON_OPTIONAL,
    LESSON_SECTIONS,
    PROPOSAL_SECTIONS,
    check_body,
    check_lesson_safe,
    render,
    slug,
)
from core.proposals.gate import QUESTIONS, gate
from core.proposals.model import (
    BUDGET,
    LESSONS,
    PROPOSALS,
    Check,
    Decision,
    Filed,
    Proposal,
    session_id,
    submit,
)

if TYPE_CHECKING:
    from core.store import Store


class Proposals:
    def __init__(self, store: Store) -> None:
        self.store = store

    def _submit(self, intents: Sequence[Any], actor: str) -> list[Any]:
        return submit(self.store, intents, actor)

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

    def find_duplicate(self, title: str, body: str, *, semantic: bool | None = False) -> str | None:
        """A memory under refinements/ whose title and body nearly equal these, or None."""
        return duplicates.find(self.store, title, body, semantic=semantic)[0]

    def _free_path(self, prefix: str, title: str, body: str) -> str:
        base = slug(title)
        path = f"{prefix}{base}.md"
        if self.store.memory_rows([path]):
            h = hashlib.sha256(body.encode()).hexdigest()[:8]
            path = f"{prefix}{base}-{h}.md"
        return paths.validate(path)

    def lesson(
        self,
        title: str,
        sections: Mapping[str, str],
        *,
        actor: str,
        category: str = "learning",
        extra_tags: Sequence[str] = (),
        semantic: bool | None = None,
        session: str | None = None,
        project: str = "",
        _check_dup: bool = True,
    ) -> Filed:
        """Store a lesson. semantic: None searches for duplicates by meaning when that is
        cheap here (core.proposals.duplicates.plan), True always, False never."""
        sections = {k.upper(): v for k, v in sections.items() if v is not None}
        check_body("lesson", sections)
        body = render(sections, LESSON_SECTIONS + LESSON_OPTIONAL)
        check_lesson_safe(f"{title}\n{body}")
        tag_list = tags.validate_tags(["type:lesson", *extra_tags])
        tags.validate_fields(category=category)
        tags.validate_category_tags(category, tag_list)
        searches: dict[str, str] = {}
        if _check_dup:
            searches = duplicates.refuse(self.store, title, body, semantic)
        path = self._free_path(LESSONS, title, body)
        sig = pat.signature(category, sections["ROOT CAUSE"])
        extra: dict[str, Any] = {"session": self.session_of(session), "signature": sig}
        if project:
            extra["project"] = project
        put = self.store.put_intent(
            path, body, False, "", title=title, category=category, tags=tag_list, extra=extra
        )
        intents = [put, pat.pattern_intent(self.store, sig, path, category, sections, project)]
        res = self.store.batch(intents, actor)
        return Filed(
            "lesson", path, res[0].seq, session=self.session_of(session), searches=searches
        )

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
        """The five questions and the deterministic checks (core.proposals.gate)."""
        return gate(title, sections, answers, category=category, tag_list=tag_list, scope=scope)

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
        semantic: bool | None = None,
        action: Mapping[str, Any] | None = None,
    ) -> Filed:
        """File a proposal `status:pending` (never anything else), or, if the gate fails,
        store the rejection as a lesson. Raises on a structural error, a duplicate or an
        exhausted budget. semantic: as in lesson()."""
        sess = self.session_of(session)
        sections = {k.upper(): v for k, v in sections.items() if v is not None}
        check_body("proposal", sections)
        body = render(sections, PROPOSAL_SECTIONS)
        if self.filed_in_session(sess) >= BUDGET:
            raise BrainError(
                f"session {sess} has filed {BUDGET} proposals, the most a session may (seed 004)"
            )
        searches = duplicates.refuse(self.store, title, body, semantic)
        tag_list = [t for t in extra_tags if not t.startswith(("type:", "status:"))]
        tag_list = ["type:proposal", "status:pending", *tag_list]
        checks = gate(title, sections, answers, category=category, tag_list=tag_list, scope=scope)
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
                searches=searches,
            )
        from core.write.intents import Note

        path = self._free_path(PROPOSALS, title, body)
        extra: dict[str, Any] = {
            "session": sess,
            "gate": [c.as_dict() for c in checks],
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
        return Filed(
            "proposal",
            path,
            res[0].seq,
            status="pending",
            gate=checks,
            session=sess,
            searches=searches,
        )

    # -- patterns (core.proposals.patterns) -----------------------------------------------------

    def patterns(self) -> list[Any]:
        return pat.patterns(self.store)

    def record_outcome(self, path: str, worked: bool, *, actor: str) -> dict[str, Any]:
        return pat.record_outcome(self.store, path, worked, actor=actor)

    def prune(self, *, actor: str, now_ns: int | None = None) -> list[str]:
        return pat.prune(self.store, actor=actor, now_ns=now_ns)

    def suggest(self, project: str | None = None, limit: int = pat.SUGGEST_TOP) -> list[dict]:
        return pat.suggest(self.store, project, limit)

    # -- reading and deciding (core.proposals.lifecycle) ----------------------------------------

    def items(self, status: str | None = "pending", limit: int = 1000) -> list[Proposal]:
        return lifecycle.items(self.store, status, limit)

    def count(self, status: str = "pending") -> int:
        """For the header and pane 5's list height: one lookup of the index's counts."""
        return lifecycle.count(self.store, status)

    def page(self, status: str = "pending", after: int = 0, limit: int = 100) -> list[Any]:
        return lifecycle.page(self.store, status, after, limit)

    def similar(self, path: str, limit: int = 3) -> list[tuple[str, float]]:
        return lifecycle.similar(self.store, path, limit)

    def preview(self, path: str) -> list[tuple[str, list[str], list[str]]]:
        return lifecycle.preview(self.store, path)

    def show(self, path: str) -> Proposal:
        return lifecycle.show(self.store, path)

    def decide(
        self, path: str, decision: str, *, actor: str, reason: str = "", seen: int | None = None
    ) -> Decision:
        """A person's decision (core.proposals.lifecycle.decide): the CLI calls it after an
        interactive terminal and a typed confirmation, the TUI after its own; `seen` is the
        seq of the version they read."""
        return lifecycle.decide(self.store, path, decision, actor=actor, reason=reason, seen=seen)

    # -- maintenance ----------------------------------------------------------------------------

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
