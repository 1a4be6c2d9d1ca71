"""`store.pii`: the review queue of memories held for PII (issue 14, item 4).

A put whose sync class is not `private` and whose body, title, path, tags or `extra` holds
PII is held (core.write.pii_gate). Here a person sees the queue and resolves each memory one
way:

- `keep-private`: a put of the same body with sync class `private` (private memories are
  neither scanned nor shared);
- `redact`: a put with the chosen findings (default all but the path's) masked as
  `[REDACTED:<type>]` in the body, the title and `extra`'s strings; a tag with a chosen
  finding is dropped (a mask is no tag), as is an `extra` entry whose key holds one. It is
  scanned again and stays held if anything is left (a finding in the path cannot be redacted:
  paths are permanent chain data);
- `release`: the memory is shared as it is; its sidecar says `released` (no new put). The
  CLI asks for an interactive terminal and a typed confirmation before it calls this;
- `purge`: the existing purge (core/purge.py), with its reason.

Each resolution is a `pii.resolved` row (action, reason code, counts by type; never the
matched text) committed in one request with the put or purge it describes, and the commit
loop checks that the memory is still held when it commits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core import paths, validate
from core.errors import BrainError
from core.models import PURGE_REASONS
from core.vocab import PROVENANCE

if TYPE_CHECKING:
    from core.store import Store

ACTIONS = ("keep-private", "redact", "release", "purge")
# Reason codes a release may give (rows carry codes, never free text that may hold PII).
RELEASE_REASONS = ("false-positive", "consented", "public", "test-data", "other")
MAX_PENDING = 10_000


@dataclass
class Pending:
    """One held memory. `findings` as its sidecar lists them (where, type, start, end,
    confidence, detail); a person or the CLI names them by position, from 1."""

    path: str
    title: str
    sync_class: str
    seq: int
    updated_ns: int
    commit: str
    counts: dict[str, int]
    findings: list[dict[str, Any]]
    tags: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def text_at(self, finding: dict[str, Any]) -> str:
        """The title, tag, `extra` key or string, or path a finding's span indexes ("" for
        the body, which a Pending does not hold, or a finding that names nothing here)."""
        where, at = finding.get("where"), str(finding.get("at", ""))
        if where == "title":
            return self.title
        if where == "path":
            return self.path
        if where == "tags":
            i = at[1:]
            return self.tags[int(i)] if i.isdigit() and int(i) < len(self.tags) else ""
        if where == "extra":
            if finding.get("key"):
                return _unescape(at.rsplit("/", 1)[-1])
            value = _at(self.extra, at)
            return str(value) if isinstance(value, str | int) else ""
        return ""


@dataclass
class Resolution:
    path: str
    action: str
    seq: int  # the pii.resolved row
    write_seq: int | None = None  # the put (keep-private, redact) or purge that went with it
    still_held: bool = False  # a redaction left findings (or the path has some)
    counts: dict[str, int] = field(default_factory=dict)  # what was resolved, by type
    notes: list[str] = field(default_factory=list)


class PiiReview:
    def __init__(self, store: Store) -> None:
        self.store = store

    def count(self) -> int:
        """Held memories (the header's pending count)."""
        return self.store.pii_pending_count()

    def pending(self, limit: int = MAX_PENDING) -> list[Pending]:
        """Held memories, oldest write first."""
        from core.index import pii_queries

        validate.integer("limit", limit, 1, MAX_PENDING)
        self.store.wait_index()
        out = []
        for p in pii_queries.held_paths(self.store.reader.conn, limit):
            item = self._held(p)
            if item is not None:
                out.append(item)
        return out

    def get(self, path: str) -> Pending:
        path = paths.validate(path)
        item = self._held(path)
        if item is None:
            raise BrainError(f"{path}: not held for PII review (see `brain pending`)")
        return item

    def _held(self, path: str) -> Pending | None:
        from core.errors import NotFound

        try:
            side = self.store.view(path).sidecar
        except NotFound:
            return None
        if side.state != "active" or side.pii_status != "held":
            return None
        from core.write.pii_gate import counts

        return Pending(
            path=path,
            title=side.title,
            sync_class=side.sync_class,
            seq=side.seq,
            updated_ns=side.updated_ns,
            commit=side.commit,
            counts=counts(side.pii_findings),
            findings=[dict(f) for f in side.pii_findings],
            tags=list(side.tags),
            extra=dict(side.extra),
        )

    def redacted(self, path: str, spans: Sequence[int] | None = None) -> bytes:
        """The body a redaction would write (spans: finding positions from 1; None: all
        of the body's findings)."""
        item = self.get(path)
        body = self.store.view(path).body
        return _mask(body, [f for f in _chosen(item, spans) if f["where"] == "body"])

    def resolve(
        self,
        path: str,
        action: str,
        *,
        actor: str,
        reason: str | None = None,
        spans: Sequence[int] | None = None,
        ticket: str | None = None,
        seen: int | None = None,
    ) -> Resolution:
        """Resolve one held memory (see the module's docstring). `seen` is the seq of the
        version the person reviewed (Pending.seq): a memory written since is refused when the
        row commits, so a release or redaction applies to what they saw."""
        from core.write.intents import Delete, Intent, Note, Put
        from core.write.pii_gate import counts

        validate.actor(actor)
        if action not in ACTIONS:
            raise BrainError(f"unknown resolution {action!r}; use one of {', '.join(ACTIONS)}")
        if action == "release" and reason not in RELEASE_REASONS:
            raise BrainError(
                f"a release needs --reason, one of: {', '.join(RELEASE_REASONS)}"
                + (" (none was given)" if reason is None else f" (got {reason!r})")
            )
        if action == "purge" and reason not in PURGE_REASONS:
            raise BrainError(
                f"a purge needs --reason, one of: {', '.join(PURGE_REASONS)}"
                + (" (none was given)" if reason is None else f" (got {reason!r})")
            )
        if action in ("keep-private", "redact") and reason is not None:
            if reason not in RELEASE_REASONS + PURGE_REASONS:
                raise BrainError(f"unknown reason code {reason!r}")
        if spans is not None and action != "redact":
            raise BrainError("spans are chosen for --redact only")
        item = self.get(path)
        path = item.path
        chosen = item.findings
        # The version resolved: the planner refuses the row if another put landed since (the
        # person's `seen`, else the one just read), before the put or purge that follows it.
        extra: dict[str, Any] = {"action": action, "version": item.seq if seen is None else seen}
        if reason is not None:
            extra["reason"] = reason
        intents: list[Intent] = []
        if action == "keep-private":
            body = self.store.view(path).body
            intents.append(Put(path, body, sync_class="private", expect=item.commit))
        elif action == "redact":
            chosen = _chosen(item, spans)
            body = _mask(self.store.view(path).body, [f for f in chosen if f["where"] == "body"])
            in_title = [f for f in chosen if f["where"] == "title"]
            title = _mask(item.title.encode(), in_title).decode() if in_title else None
            in_tags = {f["at"] for f in chosen if f["where"] == "tags"}
            tags = [t for i, t in enumerate(item.tags) if f"/{i}" not in in_tags]
            in_extra = [f for f in chosen if f["where"] == "extra"]
            extra["redacted"] = len(chosen)
            intents.append(
                Put(
                    path,
                    body,
                    title=title,
                    tags=tags if in_tags else None,
                    extra=_redacted_extra(item.extra, in_extra) if in_extra else None,
                    sync_class=item.sync_class,
                    expect=item.commit,
                )
            )
        elif action == "purge":
            intents.append(Delete(path, "purge", reason, ticket))
        extra["counts"] = counts(chosen)
        extra["total"] = len(item.findings)
        for it in intents:
            validate.intent(it)
        note = Note("pii.resolved", path, "", extra)
        validate.extra(extra)
        from core.write.pii_gate import prescan

        prescan(intents)
        # Not through Store.batch: `pii.resolved` is no caller's note (validate.NOTE_OPS).
        results = self.store.session.submit([note, *intents], actor)
        res = Resolution(path, action, results[0].seq, counts=extra["counts"])
        if len(results) > 1:
            res.write_seq = results[1].seq
        if action == "purge":
            res.notes = self.store.session.take_purge_notes(results[1].seq)
        elif action == "redact":
            res.still_held = self._held(path) is not None
            if res.still_held:
                res.notes.append(
                    f"{path}: still held: the redacted body or the path has findings left"
                )
        return res


def location(finding: Mapping[str, Any]) -> str:
    """Where a finding is: `body`, `title`, `path`, `tags/0` (the first tag), `extra/who` (a
    string in `extra`, by its JSON pointer) or `extra/who (key)`."""
    key = " (key)" if finding.get("key") else ""
    return f"{finding.get('where', 'body')}{finding.get('at', '')}{key}"


def _chosen(item: Pending, spans: Sequence[int] | None) -> list[dict[str, Any]]:
    body = [f for f in item.findings if f.get("where") != "path"]
    if spans is None or len(spans) == 0:
        if not body:
            raise BrainError(
                f"{item.path}: only the path holds PII, and a path cannot be redacted (it is"
                " permanent chain data): keep it private, release it or purge it"
            )
        return body
    out = []
    for n in spans:
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= len(item.findings):
            raise BrainError(
                f"span {n!r}: name a finding by its number, 1 to {len(item.findings)}"
                " (see `brain pending`)"
            )
        f = item.findings[n - 1]
        if f.get("where") == "path":
            raise BrainError(
                f"span {n} is in the path, which cannot be redacted (paths are permanent):"
                " keep it private, release it or purge it"
            )
        if f not in out:
            out.append(f)
    return out


def _mask(body: bytes, findings: list[dict[str, Any]]) -> bytes:
    text = body.decode("utf-8")
    for f in sorted(findings, key=lambda f: f["start"], reverse=True):
        start, end = int(f["start"]), int(f["end"])
        if not 0 <= start < end <= len(text):
            raise BrainError("a finding's span lies outside the body; run `brain doctor`")
        text = f"{text[:start]}[REDACTED:{f['type']}]{text[end:]}"
    return text.encode("utf-8")


def _redacted_extra(extra: dict[str, Any], findings: list[dict[str, Any]]) -> dict[str, Any]:
    """`extra` with each chosen string masked and each entry whose key holds a finding
    dropped. A local edit: the provenance of an imported version is not kept (as a put that
    names no `extra` would not keep it)."""
    import copy

    out = copy.deepcopy({k: v for k, v in extra.items() if k not in PROVENANCE})
    keys = {f["at"] for f in findings if f.get("key")}
    by_at: dict[str, list[dict[str, Any]]] = {}
    for f in findings:
        if not f.get("key"):
            by_at.setdefault(f["at"], []).append(f)
    for at, found in by_at.items():
        parent, last = _parent(out, at)
        if parent is None:
            continue
        value = parent[last]
        if isinstance(value, str | int) and not isinstance(value, bool):
            parent[last] = _mask(str(value).encode(), found).decode()
    for at in sorted(keys, key=lambda a: -a.count("/")):  # the deepest first
        parent, last = _parent(out, at)
        if isinstance(parent, dict):
            del parent[last]
    return out


def _parent(doc: Any, at: str) -> tuple[Any, Any]:
    """(the container holding the JSON pointer's target, its key or index), or (None, None)."""
    *steps, last = [_unescape(s) for s in at.split("/")[1:]] or [""]
    for step in steps:
        doc = _step(doc, step)
    if isinstance(doc, dict) and last in doc:
        return doc, last
    if isinstance(doc, list) and last.isdigit() and int(last) < len(doc):
        return doc, int(last)
    return None, None


def _at(doc: Any, at: str) -> Any:
    parent, last = _parent(doc, at)
    return None if parent is None else parent[last]


def _step(doc: Any, step: str) -> Any:
    if isinstance(doc, dict):
        return doc.get(step)
    if isinstance(doc, list) and step.isdigit() and int(step) < len(doc):
        return doc[int(step)]
    return None


def _unescape(step: str) -> str:
    return step.replace("~1", "/").replace("~0", "~")
