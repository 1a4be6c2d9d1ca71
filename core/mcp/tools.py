"""The MCP tools' work: check the arguments, call the Store, shape a JSON result.

Synchronous on purpose: the server runs each call on a worker thread (the Store blocks on
its writer and on SQLite). Every failure a caller can cause becomes `ToolFailure` with one
line a person or an agent can act on; the server turns it into a tool error (`isError`), never
a stack trace.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec

from core.errors import BrainError
from core.mcp.schema import BY_NAME, ToolSpec
from core.mcp.sessions import Session, SessionBook
from core.vocab import PROPOSALS
from core.write.intents import Delete, Move

if TYPE_CHECKING:
    from core.models import Row
    from core.store import Store

PURGE_REFUSED = (
    "purge is refused over MCP: erasing a memory for good is a human act. brain_delete"
    " tombstones (the history stays); a person can purge with `brain delete --purge` in a"
    " terminal"
)
MAX_MESSAGE = 400


class ToolFailure(Exception):
    """A tool call that failed for a reason the caller can act on (one line)."""


def one_line(text: str) -> str:
    s = " ".join(str(text).split())
    return s if len(s) <= MAX_MESSAGE else s[: MAX_MESSAGE - 1] + "…"


def check_arguments(spec: ToolSpec, args: object) -> dict[str, Any]:
    """Validate arguments against the tool's input schema; one clear message if they fail."""
    if args is None:
        args = {}
    if not isinstance(args, dict):
        raise ToolFailure(f"{spec.name}: arguments must be an object")
    if spec.name == "brain_delete" and ("mode" in args or "purge" in args or "reason" in args):
        raise ToolFailure(PURGE_REFUSED)
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    error = best_match(_validator(spec, Draft202012Validator).iter_errors(args))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path)
        if error.validator == "additionalProperties":
            known = ", ".join(spec.input["properties"])
            raise ToolFailure(
                f"{spec.name}: {one_line(error.message)}; known arguments: {known or 'none'}"
            )
        prefix = f"{spec.name}: argument {where!r}" if where else spec.name
        raise ToolFailure(f"{prefix}: {one_line(error.message)}")
    return args


_VALIDATORS: dict[str, Any] = {}


def _validator(spec: ToolSpec, cls: Any) -> Any:
    v = _VALIDATORS.get(spec.name)
    if v is None:
        v = _VALIDATORS[spec.name] = cls(spec.input)
    return v


def _row(r: Row) -> dict[str, Any]:
    return {
        "seq": r.seq,
        "ts_ns": r.ts_ns,
        "op": r.op,
        "path": r.path,
        "actor": r.actor,
        "commit": r.commit,
        "chain": r.chain,
        "extra": r.extra,
    }


def _plain(value: Any) -> Any:
    """msgspec Structs (and lists of them) as JSON-ready dicts."""
    return msgspec.to_builtins(value)


class Tools:
    """The tools of one server: one Store, one session book."""

    def __init__(self, store: Store, sessions: SessionBook) -> None:
        self.store = store
        self.sessions = sessions
        self._table: dict[str, Callable[[dict[str, Any], Session], dict[str, Any]]] = {
            "brain_put": self.put,
            "brain_view": self.view,
            "brain_move": self.move,
            "brain_delete": self.delete,
            "brain_search": self.search,
            "brain_context": self.context,
            "brain_history": self.history,
            "brain_audit_tail": self.audit_tail,
            "brain_prove": self.prove,
            "brain_verify_proof": self.verify_proof,
            "brain_state": self.state,
            "brain_doctor": self.doctor,
            "brain_lesson": self.lesson,
            "brain_propose": self.propose,
            "brain_proposals": self.proposals,
            "brain_pending": self.pending,
        }

    def call(self, name: str, args: object, session: Session) -> dict[str, Any]:
        spec = BY_NAME.get(name)
        if spec is None:
            raise ToolFailure(f"unknown tool {name!r}; known: {', '.join(BY_NAME)}")
        checked = check_arguments(spec, args)
        try:
            return self._table[name](checked, session)
        except BrainError as e:
            raise ToolFailure(f"{name}: {one_line(str(e))}") from None

    # -- writes ---------------------------------------------------------------------------

    def _written(self, s: Session, seq: int, path: str, commit: str, changed: bool) -> dict:
        self.sessions.wrote(s, seq, changed)
        return {
            "seq": seq,
            "path": path,
            "commit": commit,
            "changed": changed,
            "actor": s.actor,
            "session": s.id,
        }

    def put(self, a: dict[str, Any], s: Session) -> dict[str, Any]:
        from core.store import Store

        _not_the_queue(a["path"])
        fields: dict[str, Any] = {
            k: a.get(k) for k in ("title", "category", "tags", "sync_class", "classification")
        }
        expect = a.get("if_commit")
        if expect is not None:
            self.sessions.before_write(s)  # a failed put_if is itself a row (put_if.rejected)
            res = self.store.put(a["path"], a["body"], actor=s.actor, expect=expect, **fields)
        else:
            res = self.sessions.write(s, Store.put_intent(a["path"], a["body"], **fields))
        return self._written(s, res.seq, res.path, res.commit, res.changed)

    def move(self, a: dict[str, Any], s: Session) -> dict[str, Any]:
        _not_the_queue(a["src"], a["dst"])
        res = self.sessions.write(s, Move(a["src"], a["dst"]))
        return self._written(s, res.seq, res.path, res.commit, res.changed)

    def delete(self, a: dict[str, Any], s: Session) -> dict[str, Any]:
        _not_the_queue(a["path"])
        res = self.sessions.write(s, Delete(a["path"], "tombstone"))
        return self._written(s, res.seq, res.path, res.commit, res.changed)

    # -- reads ----------------------------------------------------------------------------

    def view(self, a: dict[str, Any], s: Session) -> dict[str, Any]:
        if a.get("version") is not None:
            mem = self.store.version(a["path"], a["version"])
        else:
            mem = self.store.view(a["path"], actor=s.actor)  # an agent's read is an access
        side = mem.sidecar
        return {
            "path": mem.path,
            "body": mem.body.decode("utf-8", errors="replace"),
            "untrusted_content": True,
            "kind": side.kind,
            "title": side.title,
            "category": side.category,
            "tags": list(side.tags),
            "state": side.state,
            "sync_class": side.sync_class,
            "classification": side.classification,
            "seq": side.seq,
            "commit": side.commit,
            "actor": side.actor,
            "created_ns": side.created_ns,
            "updated_ns": side.updated_ns,
        }

    def search(self, a: dict[str, Any], s: Session) -> dict[str, Any]:
        filters = {k: a[k] for k in ("kind", "category", "tag", "tier") if a.get(k) is not None}
        self.store.refresh()  # rows other processes wrote since (a long-lived reader)
        hits = self.store.search(
            a["query"], mode=a.get("mode", "lexical"), limit=a.get("limit", 10), **filters
        )
        return {"hits": _plain(hits), "untrusted_content": True}

    def context(self, a: dict[str, Any], s: Session) -> dict[str, Any]:
        self.store.refresh()
        items = self.store.context(project=a.get("project"), limit=a.get("limit", 300))
        return {"items": _plain(items), "untrusted_content": True}

    def history(self, a: dict[str, Any], s: Session) -> dict[str, Any]:
        self.store.refresh()
        return {"rows": [_row(r) for r in self.store.history(a["path"])]}

    def audit_tail(self, a: dict[str, Any], s: Session) -> dict[str, Any]:
        limit = a.get("limit", 50)
        filters = {k: a[k] for k in ("op", "actor", "path_prefix") if a.get(k) is not None}
        head = self.store.refresh()
        if a.get("from_seq") is None:
            # tail(N) reads after N - 1; descending it reads below that: head + 2 includes head.
            rows = self.store.tail(head + 2, limit, descending=True, **filters)[::-1]
        else:
            rows = self.store.tail(a["from_seq"], limit, **filters)
        return {"rows": [_row(r) for r in rows], "head_seq": head}

    def prove(self, a: dict[str, Any], s: Session) -> dict[str, Any]:
        return {"bundle": self.store.prove(a["seq"])}

    def verify_proof(self, a: dict[str, Any], s: Session) -> dict[str, Any]:
        from core.verify import proofbundle

        keys = a.get("keys")
        verdict = proofbundle.verify(a["bundle"], keys or None)
        return {
            "valid": verdict.valid,
            "reason": verdict.reason,
            "signer": verdict.signer or "",
            "key_pinned": bool(keys) and verdict.valid,
        }

    def state(self, a: dict[str, Any], s: Session) -> dict[str, Any]:
        out = _plain(self.store.state())
        out.pop("root", None)  # an absolute local path: the agent needs none
        return out

    def doctor(self, a: dict[str, Any], s: Session) -> dict[str, Any]:
        report = self.store.doctor(repair=False, full=not a.get("quick", False))
        return {
            "state": report.state,
            "head_seq": report.head_seq,
            "elapsed_ms": report.elapsed_ms,
            "full": report.full,
            "results": [
                {
                    "id": r.id,
                    "status": r.status,
                    "level": r.level,
                    "detail": r.detail,
                    "path": r.path,
                }
                for r in report.results
            ],
            "notes": list(report.notes),
        }

    # -- lessons and proposals (core/proposals/) ---------------------------------------------

    def lesson(self, a: dict[str, Any], s: Session) -> dict[str, Any]:
        names = {"failure": "FAILURE", "root_cause": "ROOT CAUSE", "fix": "FIX"}
        names |= {"prevention": "PREVENTION", "context": "CONTEXT"}
        sections = {v: a[k] for k, v in names.items() if a.get(k)}
        self.sessions.before_write(s)
        res = self.store.proposals.lesson(
            a["title"],
            sections,
            actor=s.actor,
            category=a.get("category", "learning"),
            extra_tags=a.get("tags", []),
            session=s.id,
            project=a.get("project", ""),
            semantic=a.get("semantic"),
        )
        self.sessions.wrote(s, res.seq, True)
        return _plain_filed(res)

    def propose(self, a: dict[str, Any], s: Session) -> dict[str, Any]:
        keys = ("proposal", "problem", "solution", "benefit", "context")
        sections = {k.upper(): a[k] for k in keys if a.get(k)}
        answers = {
            "observed": a.get("observed", ""),
            "evidence": a.get("evidence", ""),
            "scope": a.get("answer_scope", ""),
            "reversible": a.get("reversible", ""),
            "safety": a.get("safety", ""),
        }
        self.sessions.before_write(s)
        res = self.store.proposals.propose(
            a["title"],
            sections,
            answers,
            actor=s.actor,
            scope=a.get("scope", []),
            category=a.get("category", "architecture"),
            session=s.id,
            semantic=a.get("semantic"),
        )
        self.sessions.wrote(s, res.seq, True)
        return _plain_filed(res)

    def proposals(self, a: dict[str, Any], s: Session) -> dict[str, Any]:
        self.store.refresh()
        items = self.store.proposals.items(a.get("status", "pending"), a.get("limit", 100))
        return {
            "proposals": [
                {
                    "path": p.path,
                    "title": p.title,
                    "status": p.status,
                    "seq": p.seq,
                    "body": p.body,
                    "gate": p.extra.get("gate", []),
                }
                for p in items
            ],
            "untrusted_content": True,
        }

    def pending(self, a: dict[str, Any], s: Session) -> dict[str, Any]:
        self.store.refresh()
        held = self.store.pii.pending(a.get("limit", 100))
        return {
            "pending": [
                {
                    "path": p.path,
                    "sync_class": p.sync_class,
                    "seq": p.seq,
                    "counts": p.counts,
                    "findings": p.findings,
                }
                for p in held
            ],
            "total": self.store.pii.count(),
        }


def _plain_filed(res: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(res)


def _not_the_queue(*paths: str) -> None:
    """An agent files proposals through brain_propose (the gate, the budget, the filed row)
    and a person decides them: it never writes, moves or deletes one itself (an edited
    pending proposal is text the person approves that never passed the gate)."""
    for p in paths:
        if isinstance(p, str) and p.startswith(PROPOSALS):
            raise BrainError(
                f"{p}: proposals are filed with brain_propose and decided by a person; an"
                " agent does not write, move or delete them"
            )
