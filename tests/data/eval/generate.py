"""Build the search evaluation set: `python -m tests.data.eval.generate` rewrites corpus.json
and queries.json next to this file (deterministic: the same bytes every run).

corpus.json: the hand-written anchors of labelled.py hidden among templated memories written
like an agent's notes about the same codebases (bug fixes, decisions, facts, lessons,
debugging notes, preferences, people, project context), with varied phrasing.
queries.json: the labelled queries, each with the paths of its relevant memories.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

from tests.data.eval import phrases as ph
from tests.data.eval.labelled import ANCHORS, QUERIES

HERE = Path(__file__).resolve().parent
SEED = 20240611
GENERATED = 1100


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60].strip("-")


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def anchor_path(a: dict) -> str:
    folder = f"{a['project']}/" if a["project"] else ""
    return f"memories/{a['kind']}/{folder}{slug(a['title'])}.md"


class Gen:
    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)
        self.seen: set[str] = set()

    def pick(self, xs):
        return self.r.choice(xs)

    def project(self) -> tuple[str, dict]:
        name = self.pick(sorted(ph.PROJECTS))
        return name, ph.PROJECTS[name]

    def ticket(self, p: dict) -> str:
        return f"{p['ticket']}-{self.r.randint(100, 999)}"

    # -- one memory per template family -------------------------------------------------------

    def bugfix(self) -> tuple:
        name, p = self.project()
        comp, sym, cause, fix = (
            self.pick(p["components"]),
            self.pick(ph.SYMPTOMS),
            self.pick(ph.CAUSES),
            self.pick(ph.FIXES),
        )
        t = self.ticket(p)
        body = self.pick(
            [
                f"Fixed {sym} in {name}'s {comp}. Root cause: {cause}. We {fix}. ({t})",
                f"{cap(comp)} in {name} showed {sym}. It turned out to be {cause}; {fix}"
                f" and added a regression test. Ticket {t}.",
                f"Bug {t}: {sym} ({name}, {comp}). Cause was {cause}. Fix: {fix}.",
                f"Resolved {t} in {name}: {sym}. {cap(cause)} was to blame, so we {fix}."
                f" Watch the {comp} dashboard for a week.",
            ]
        )
        title = self.pick([f"Fix: {sym} in {comp}", f"{cap(comp)}: {sym}", f"{t} {sym}"])
        return "facts", name, "bug-fix", [name, "bug"], title, body

    def decision(self) -> tuple:
        name, p = self.project()
        purpose, (a, b), why = self.pick(ph.PURPOSES), self.pick(ph.PAIRS), self.pick(ph.REASONS)
        month = self.pick(ph.MONTHS)
        body = self.pick(
            [
                f"{name}: we will use {a} for {purpose} instead of {b}, because {why}.",
                f"Decision ({month}): {purpose} in {name} moves to {a}. Rejected {b}: {why}."
                f" Revisit if the team size doubles.",
                f"After a spike we picked {a} over {b} for {purpose} in {name}. Main reason: {why}."
                f" Owner: {self.pick(ph.NAMES)}.",
                f"ADR: {purpose} for the {p['what']} ({name}). Options: {a}, {b}. Chosen: {a}"
                f" ({why}).",
            ]
        )
        title = self.pick(
            [f"Use {a} for {purpose}", f"{a} instead of {b}", f"{name}: {purpose} with {a}"]
        )
        return "decisions", name, "architecture", [name, slug(a)], title, body

    def fact(self) -> tuple:
        name, p = self.project()
        comp, infra, detail = self.pick(p["components"]), self.pick(ph.INFRA), self.pick(ph.DETAILS)
        tech = self.pick(p["tech"])
        body = self.pick(
            [
                f"{name}'s {comp} runs on {infra}; {detail}.",
                f"The {comp} of {name} is built with {tech} and deployed on {infra}. Note: {detail}.",
                f"FYI: {detail} ({name} {comp}, {tech}).",
                f"{cap(comp)} ({name}): {tech}, hosted on {infra}. {cap(detail)}.",
            ]
        )
        title = self.pick(
            [f"{name} {comp} facts", f"Where {comp} runs", f"{cap(comp)}: hosting and ownership"]
        )
        return "facts", name, "project-context", [name, slug(tech)], title, body

    def lesson(self) -> tuple:
        name, p = self.project()
        lesson, advice, comp = (
            self.pick(ph.LESSONS),
            self.pick(ph.ADVICE),
            self.pick(p["components"]),
        )
        sym = self.pick(ph.SYMPTOMS)
        body = self.pick(
            [
                f"Lesson from {name}: {lesson}. Next time, {advice}.",
                f"Learned the hard way on the {comp}: {lesson}.",
                f"Retro note ({name}): after {sym}, the takeaway: {lesson}.",
                f"Remember: {lesson}. It bit us in {name}'s {comp}; {advice}.",
            ]
        )
        title = self.pick(
            [
                f"Lesson: {lesson.split(':')[0]}",
                f"{name} retro takeaway",
                f"Learned: {lesson.split(',')[0]}",
            ]
        )
        return "facts", name, "learning", [name, "lesson"], title, body

    def debugging(self) -> tuple:
        name, p = self.project()
        comp, sym, cause = self.pick(p["components"]), self.pick(ph.SYMPTOMS), self.pick(ph.CAUSES)
        tech = self.pick(p["tech"])
        body = self.pick(
            [
                f"Debugging tip for {name}: when you see {sym}, check for {cause} first.",
                f"If the {comp} shows {sym}, look at the {tech} metrics before anything else;"
                f" last time it was {cause}.",
                f"Investigation notes ({name} {comp}): {sym}. Ruled out {tech}; suspect {cause}.",
            ]
        )
        title = self.pick(
            [f"Debugging {sym}", f"{cap(comp)} troubleshooting", f"How to debug {comp}"]
        )
        return "facts", name, "debugging", [name, "debugging"], title, body

    def preference(self) -> tuple:
        pref = self.pick(ph.PREFERENCES)
        who = self.pick(ph.NAMES)
        name, _p = self.project()
        body = self.pick(
            [
                f"{who} prefers {pref}.",
                f"Team convention in {name}: {pref}.",
                f"Preference: {pref}. Applies to {name} and the shared libraries.",
                f"Please use {pref} when working on {name}; {who} asked for it in review.",
            ]
        )
        title = self.pick([f"Preference: {pref}", f"{name} convention: {pref}"])
        return "preferences", "", "project-context", ["convention"], title, body

    def person(self) -> tuple:
        name, p = self.project()
        who, role = self.pick(ph.NAMES), self.pick(ph.ROLES)
        note = self.pick(ph.PERSON_NOTES).format(
            component=self.pick(p["components"]), tech=self.pick(p["tech"])
        )
        body = self.pick(
            [
                f"{who} is the {role} on {name}; {note}.",
                f"{who} ({role}, {name}) {note}.",
                f"Contact for {name}'s {self.pick(p['components'])}: {who}, {role}. {cap(note)}.",
            ]
        )
        return "people", "", "project-context", ["people", name], f"{who} ({role}, {name})", body

    def context(self) -> tuple:
        name, p = self.project()
        comp = self.pick(p["components"])
        a, b = self.pick(ph.PAIRS)
        ctx = self.pick(ph.CONTEXTS).format(
            team=self.pick(ph.TEAMS),
            a=a,
            b=b,
            symptom=self.pick(ph.SYMPTOMS),
            ticket=self.ticket(p),
            tech=self.pick(p["tech"]),
        )
        body = self.pick(
            [
                f"The {comp} of {name} (the {p['what']}) {ctx}.",
                f"{name} / {comp}: {ctx}.",
                f"Context for work on {name}'s {comp}: it {ctx}.",
            ]
        )
        return "projects", name, "project-context", [name], f"{name} {comp}", body

    FAMILIES = [
        ("bugfix", 25),
        ("decision", 18),
        ("fact", 18),
        ("lesson", 12),
        ("debugging", 11),
        ("preference", 6),
        ("person", 5),
        ("context", 5),
    ]

    def memory(self) -> tuple:
        names, weights = zip(*self.FAMILIES, strict=True)
        while True:
            out = getattr(self, self.r.choices(names, weights)[0])()
            if out[5] not in self.seen:
                self.seen.add(out[5])
                return out


def build() -> tuple[list[dict], list[dict]]:
    corpus = []
    paths: set[str] = set()
    for a in ANCHORS:
        p = anchor_path(a)
        assert p not in paths, p
        paths.add(p)
        corpus.append(
            dict(
                path=p,
                kind=a["kind"],
                category=a["category"],
                tags=a["tags"],
                title=a["title"],
                body=a["body"],
                anchor=a["key"],
            )
        )
    gen = Gen(SEED)
    for _ in range(GENERATED):
        kind, project, category, tags, title, body = gen.memory()
        folder = f"{project}/" if project else ""
        base = f"memories/{kind}/{folder}{slug(title)}"
        p, n = f"{base}.md", 2
        while p in paths:
            p, n = f"{base}-{n}.md", n + 1
        paths.add(p)
        corpus.append(
            dict(
                path=p,
                kind=kind,
                category=category,
                tags=sorted({slug(t) for t in tags if slug(t)}),
                title=title,
                body=body,
                anchor="",
            )
        )
    gen.r.shuffle(corpus)  # anchors are not all at the front (ids and ties stay honest)
    by_key = {m["anchor"]: m["path"] for m in corpus if m["anchor"]}
    queries = [
        dict(id=f"q{i + 1:02d}", type=t, query=q, relevant=[by_key[k] for k in rel])
        for i, (t, q, rel) in enumerate(QUERIES)
    ]
    return corpus, queries


def main() -> None:
    corpus, queries = build()
    for name, data in (("corpus.json", corpus), ("queries.json", queries)):
        text = json.dumps(data, indent=1, ensure_ascii=False) + "\n"
        (HERE / name).write_text(text, encoding="utf-8")
    print(f"{len(corpus)} memories, {len(queries)} queries written to {HERE}")


if __name__ == "__main__":
    main()
