"""Engine-made maintenance proposals (issue 15, item 3): what `brain maintain` files and what
approving one applies.

Three generators, each filing a `status:pending` proposal (`source:maintain`) that a person
approves or rejects like any other:

- **merge** near duplicates: two active memories whose bodies share ≥ 0.8 of their words
  (DUPLICATE_JACCARD). Approval marks the later path `status:deprecated` (`signal:merged` on a
  decision, which carries no status), `merged_into` the earlier one.
- **retire** a contradicted memory. A memory contradicts an older one when either
  1. it says so: its sidecar's `extra` names the other under `supersedes` or `contradicts` (a
     path or a list; frontmatter `supersedes: memories/…` puts it there), whatever their ages;
     or
  2. both are about one subject and say different things: same kind and folder, titles with
     the same words (case, order and stop words aside: `title_words`), bodies sharing less
     than DUPLICATE_JACCARD of theirs (at or above, they are near duplicates: merge). The
     newer write (updated_ns, then seq) supersedes the older.
  Approval tombstones the contradicted memory (its content stays in its history; search and
  context stop returning it); the one that supersedes it is left as it is.
- **demote** a stale memory: unchanged for `stale_days`; approval tags it `signal:stale`.

Every proposal names the body commitment of each memory it reads: the ones it changes
(`targets`) and the ones it relies on without changing (`requires`: a merge's kept memory, a
retirement's superseding one). Approval re-checks all of them with put_if preconditions in
the decision's own request: if any of them changed since, nothing is applied, no decision is
recorded, and the proposal stays pending.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core import paths, tags
from core.errors import BrainError, PreconditionFailed
from core.proposals.bodies import PROPOSAL_SECTIONS, STOP_WORDS, jaccard, render, words
from core.proposals.model import DUPLICATE_JACCARD, PROPOSALS, Filed

if TYPE_CHECKING:
    from core.proposals import Proposals
    from core.read_types import MemoryRow
    from core.store import Store

OPS = ("merge", "retire", "demote")
LINK_KEYS = ("supersedes", "contradicts")  # extra keys naming the memories one supersedes
TOMBSTONED = "state:tombstoned"  # the preview's "after" for a retired memory (not a tag)


@dataclass(frozen=True)
class Contradiction:
    older: str  # retired on approval
    newer: str  # supersedes it; left as it is
    why: str


# -- finding ------------------------------------------------------------------------------------


def title_words(title: str) -> frozenset[str]:
    """A title's subject: its words less stop words ("The deploy target" = "deploy target")."""
    return frozenset(words(title) - STOP_WORDS)


def _linked(extra: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(key, path) for each memory this sidecar's extra says it supersedes or contradicts."""
    out: list[tuple[str, str]] = []
    for key in LINK_KEYS:
        v = extra.get(key)
        for p in [v] if isinstance(v, str) else v if isinstance(v, list) else []:
            if isinstance(p, str) and p.strip():
                out.append((key, p.strip()))
    return out


def contradictions(
    mems: Sequence[MemoryRow],
    body: Callable[[str], str],
    extra: Callable[[str], Mapping[str, Any]],
    active: Callable[[str], bool],
    skip: set[str],
) -> list[Contradiction]:
    """Pairs where a newer memory contradicts an older one (the module's rules 1 and 2),
    each older memory at most once, none of `skip`."""
    out: list[Contradiction] = []
    retired: set[str] = set(skip)
    # A memory that supersedes one in this run is not retired in it too: approving both would
    # leave the first proposal relying on a tombstone (the next run proposes it, if still due).
    keepers: set[str] = set()

    def add(c: Contradiction) -> None:
        retired.add(c.older)
        keepers.add(c.newer)
        out.append(c)

    for m in mems:  # rule 1: said explicitly
        if m.path in retired:
            continue
        for key, other in _linked(extra(m.path)):
            if other == m.path or other in retired or other in keepers or not active(other):
                continue
            add(Contradiction(other, m.path, f"{m.path} says it {key} {other}"))
    # rule 2: one subject, two statements. A subject is (kind, folder, title words): equal
    # word sets, not merely overlapping ones; titles differing in one word are mostly about
    # different things ("pytest flag …" and "pytest-xdist flag …").
    groups: dict[tuple[str, str, frozenset[str]], list[MemoryRow]] = {}
    for m in mems:
        tw = title_words(m.title)
        if tw:
            groups.setdefault((m.kind, m.folder, tw), []).append(m)
    for group in groups.values():
        group.sort(key=lambda r: (r.updated_ns, r.seq), reverse=True)  # newest first
        for i, new in enumerate(group):
            if new.path in retired:
                continue
            for old in group[i + 1 :]:
                if old.path in retired or old.path in keepers:
                    continue
                if jaccard(body(new.path), body(old.path)) >= DUPLICATE_JACCARD:
                    continue  # the same statement twice: a merge's business, not a retirement
                why = f"{new.path} is newer, titled alike ({new.title!r}), and says otherwise"
                add(Contradiction(old.path, new.path, why))
    return out


def generate(
    props: Proposals,
    *,
    actor: str,
    limit: int,
    stale_days: float,
    now_ns: int | None,
    session: str | None,
) -> list[Filed]:
    """File the maintenance proposals for up to `limit` active memories outside refinements/
    (merges first, then retirements, then demotions; a memory is in one proposal at most)."""
    store = props.store
    now = now_ns if now_ns is not None else time.time_ns()
    mems = [
        m
        for m in store.memories("", limit, state="active")
        if not m.path.startswith("memories/refinements/")
    ]
    views: dict[str, Any] = {}

    def view(path: str) -> Any:
        if path not in views:
            views[path] = store.view(path)
        return views[path]

    def text(path: str) -> str:
        return str(view(path).body.decode("utf-8", "replace"))

    def is_active(path: str) -> bool:  # a link's target, which may lie beyond `limit`
        if path.startswith("memories/refinements/"):
            return False  # lessons, proposals and patterns have their own lifecycle
        rows = store.memory_rows([path])
        return bool(rows) and rows[0].state == "active"

    def file(
        op: str, title: str, problem: str, solution: str, targets: list[str], keep: str = ""
    ) -> Filed:
        return file_maintenance(
            props, op, title, problem, solution, targets, actor=actor, session=session, keep=keep
        )

    out: list[Filed] = []
    # A memory a merge already marked is done with: proposing it again would never end.
    seen = {m.path for m in mems if {"status:deprecated", "signal:merged"} & set(m.tags)}
    by_path = {m.path: m for m in mems}
    for m in mems:
        if m.path in seen:
            continue
        query = " ".join(sorted(words(m.title + " " + text(m.path)), key=len, reverse=True)[:8])
        if not query:
            continue
        for hit in store.search(query, limit=5):
            if hit.path == m.path or hit.path in seen or hit.path not in by_path:
                continue
            if jaccard(text(m.path), text(hit.path)) >= DUPLICATE_JACCARD:
                keep, dup = sorted((m.path, hit.path))
                seen.update((keep, dup))
                out.append(
                    file(
                        "merge",
                        f"merge {dup} into {keep}",
                        f"{dup} nearly duplicates {keep} (same words)",
                        f"mark {dup} status:deprecated, merged_into {keep}",
                        [dup],
                        keep,
                    )
                )
                break
    for c in contradictions(mems, text, lambda p: dict(view(p).sidecar.extra), is_active, seen):
        seen.update((c.older, c.newer))
        out.append(
            file(
                "retire",
                f"retire {c.older}, contradicted by {c.newer}",
                c.why,
                f"tombstone {c.older}; {c.newer} stays as it is",
                [c.older],
                c.newer,
            )
        )
    cutoff = now - int(stale_days * 86400e9)
    for m in mems:
        if m.path in seen or m.updated_ns >= cutoff or "signal:stale" in m.tags:
            continue
        seen.add(m.path)
        out.append(
            file(
                "demote",
                f"demote stale {m.path}",
                f"{m.path} has not changed in {stale_days:g} days",
                f"tag {m.path} signal:stale so context ranks it lower",
                [m.path],
            )
        )
    return out


def file_maintenance(
    props: Proposals,
    op: str,
    title: str,
    problem: str,
    solution: str,
    targets: Sequence[str],
    *,
    actor: str,
    session: str | None,
    keep: str = "",
) -> Filed:
    """One maintenance proposal, pending, naming the commitment of every memory it reads
    (filed by `Proposals.file_maintenance`). Filing it twice for the same memories at the same
    versions files nothing the second time."""
    store = props.store
    commits = {t: store.view(t).sidecar.commit for t in [*targets, *([keep] if keep else [])]}
    action: dict[str, Any] = {
        "op": op,
        "targets": [{"path": t, "commit": commits[t]} for t in targets],
    }
    if keep:
        action["keep"] = keep
        action["requires"] = [{"path": keep, "commit": commits[keep]}]
    sections = {
        "PROPOSAL": title[:120],
        "PROBLEM": problem[:120],
        "SOLUTION": solution[:120],
        "BENEFIT": "the store stays lean and context stays relevant",
        "CONTEXT": "made by brain maintain; applies only if the targets are unchanged",
    }
    body = render(sections, PROPOSAL_SECTIONS)
    h = hashlib.sha256(("\n".join(f"{t}:{c}" for t, c in commits.items()) + op).encode())
    path = f"{PROPOSALS}maintain-{op}-{h.hexdigest()[:12]}.md"
    return props.file_maintenance(path, title, body, action, actor=actor, session=session)


# -- applying -----------------------------------------------------------------------------------


def check_action(action: Mapping[str, Any]) -> None:
    """Refuse an action approval could not apply (an agent may file one with its proposal):
    a known op, and each memory named as {"path", "commit"} (the commitment read when it was
    proposed, 64 hex digits)."""
    if not isinstance(action, Mapping):
        raise BrainError(f"action: an object with op and targets, got {action!r:.120}")
    op = action.get("op")
    if op not in OPS:
        raise BrainError(f"action: unknown op {op!r}; known: {', '.join(OPS)}")
    targets, requires = action.get("targets"), action.get("requires", [])
    if not isinstance(targets, list) or not targets or not isinstance(requires, list):
        raise BrainError("action: targets is a non-empty list (and requires a list)")
    for t in [*targets, *requires]:
        commit = t.get("commit") if isinstance(t, dict) else None
        if not isinstance(commit, str) or not re.fullmatch(r"[0-9a-f]{64}", commit):
            raise BrainError(
                f"action: each memory is {{'path': ..., 'commit': <64 hex digits>}} (the body"
                f" commitment it was proposed on), got {t!r:.120}"
            )
        paths.validate(t.get("path"))


def unchanged(store: Store, path: str, commit: str) -> Any:
    """A put_if that only checks: the memory as it is now (nothing written when it is
    unchanged), preconditioned on the commitment the proposal named. Ahead of a deletion it
    makes the deletion conditional too (a Delete has no precondition of its own)."""
    try:
        m = store.view(path)
        state = m.sidecar.state
    except BrainError:
        state = "gone"
    if state != "active":
        raise PreconditionFailed(
            f"{path}: the proposal expected commitment {commit} but the memory is no longer"
            f" active ({state}); nothing was applied (reject the proposal, or run brain"
            " maintain again)"
        )
    return store.put_intent(path, m.body, False, commit)


def apply_intents(store: Store, action: Mapping[str, Any]) -> tuple[list[Any], list[str]]:
    """The intents approving a maintenance action commits (with the decision, in one request)
    and the paths it changes. Each memory the action reads is checked against the commitment
    it was proposed on."""
    from core.write.intents import Delete

    check_action(action)
    op = str(action["op"])
    out: list[Any] = [unchanged(store, r["path"], r["commit"]) for r in action.get("requires", [])]
    names: list[str] = []
    for t in action.get("targets", []):
        path, expect = t["path"], t["commit"]
        if op == "retire":
            out += [unchanged(store, path, expect), Delete(path, "tombstone")]
        else:
            m = store.view(path)
            extra = dict(m.sidecar.extra)
            if op == "merge":
                extra["merged_into"] = action.get("keep", "")
            new_tags = action_tags(op, m.sidecar.tags)
            out.append(store.put_intent(path, m.body, False, expect, tags=new_tags, extra=extra))
        names.append(path)
    return out, names


def preview(store: Store, action: Mapping[str, Any]) -> list[tuple[str, list[str], list[str]]]:
    """(path, tags now, tags after) for each memory the action changes; a retired memory's
    "after" is TOMBSTONED."""
    out = []
    op = str(action.get("op"))
    for t in action.get("targets", []) if op in OPS else []:
        try:
            tm = store.view(t["path"])
        except BrainError:
            continue
        now = list(tm.sidecar.tags)
        out.append((t["path"], now, [TOMBSTONED] if op == "retire" else action_tags(op, now)))
    return out


def action_tags(op: str, old: Iterable[str]) -> list[str]:
    """A target's tags after its action. demote: `signal:stale`. merge: `status:deprecated`,
    or `signal:merged` on a memory whose type carries no status (a type:decision or
    type:lesson: core.tags refuses a status there). The mark always goes in: at MAX_TAGS the
    last other tag gives way (the preview shows it)."""
    kept = [x for x in old if not x.startswith("status:")]
    if op == "demote":
        mark = "signal:stale"
    elif any(t in ("type:decision", "type:lesson") for t in kept):
        mark = "signal:merged"
    else:
        mark = "status:deprecated"
    return [*[x for x in kept if x != mark][: tags.MAX_TAGS - 1], mark]
