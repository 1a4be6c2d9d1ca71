"""Turns intents into rows and file operations, validated against the current state."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import msgspec

from core import paths, tags
from core.errors import BrainError, InvalidMeta, NotFound, PreconditionFailed
from core.log import canonical
from core.log.hashing import commitment, meta_commitment, sidecar_meta
from core.models import PURGE_REASONS, TOMBSTONE_STUB, Row, Sidecar
from core.vocab import PROPOSALS, PROVENANCE
from core.write import pii_gate
from core.write.file_view import StateView
from core.write.intents import Delete, Intent, Move, Note, Put
from core.write.journal import VersionMove, Write
from core.write.sequencer import Sequencer


class Result(msgspec.Struct):
    """What a caller gets back for one intent."""

    seq: int
    path: str
    commit: str
    changed: bool = True
    row: Row | None = None
    # What the caller must be told: after a purge, exports outside the store that may still
    # hold the content (the engine cannot delete those).
    notes: list[str] = msgspec.field(default_factory=list)


class Plan(msgspec.Struct):
    writes: list[Write] = msgspec.field(default_factory=list)
    versions: list[VersionMove] = msgspec.field(default_factory=list)
    removes: list[str] = msgspec.field(default_factory=list)
    purges: list[int] = msgspec.field(default_factory=list)


class Planner:
    def __init__(
        self, view: StateView, seqr: Sequencer, plan: Plan, rng: Callable[[int], bytes]
    ) -> None:
        self.view = view
        self.seqr = seqr
        self.plan = plan
        self.rng = rng

    def apply(self, intent: Intent, actor: str) -> Result:
        if isinstance(intent, Put):
            return self._put(intent, actor)
        if isinstance(intent, Move):
            return self._move(intent, actor)
        if isinstance(intent, Delete):
            return self._delete(intent, actor)
        if isinstance(intent, Note):
            if intent.op == "pii.resolved":
                self._pii_resolved(intent)
            row = self.seqr.row(intent.op, intent.path, actor, intent.commit, intent.extra)
            return Result(row.seq, intent.path, intent.commit, row=row)
        raise BrainError(f"unknown intent {intent!r}")

    # -- put ----------------------------------------------------------------------------

    def _put(self, it: Put, actor: str) -> Result:
        path = self._checked(it.path)
        try:
            text = it.body.decode("utf-8")
        except UnicodeDecodeError as e:
            raise InvalidMeta(
                f"{path}: the body is not valid UTF-8 ({e.reason} at byte {e.start})"
            ) from None
        del text
        cur = self.view.live_sidecar(path)  # a purged stub reads as None here: same outcome
        live = cur if cur is not None and cur.state != "purged" else None
        if it.expect is not None:
            actual = live.commit if live is not None and live.state == "active" else ""
            if actual != it.expect:
                err = PreconditionFailed(
                    f"{path}: put_if expected commitment {it.expect or '(absent)'} but the current"
                    f" one is {actual or '(absent)'}; re-read the memory and retry"
                )
                err.intent = it  # the writer logs put_if.rejected for this intent
                raise err
        kind = paths.kind_of(path)
        base = live or Sidecar(kind=kind)
        title = it.title if it.title is not None else (base.title or _title_from(it.body, path))
        category = it.category if it.category is not None else base.category
        tag_list = tags.validate_tags(it.tags) if it.tags is not None else list(base.tags)
        sync_class = it.sync_class if it.sync_class is not None else base.sync_class
        classification = it.classification if it.classification is not None else base.classification
        tags.validate_fields(kind, category, classification, sync_class)
        tags.validate_category_tags(category, tag_list)
        extra = dict(it.extra) if it.extra is not None else dict(base.extra)
        same_extra = extra
        if it.extra is None and not it.row_extra and PROVENANCE & extra.keys():
            # A local write of an imported or pulled memory is this store's own version: the
            # previous version's provenance is not inherited (its row carries none either), so
            # sync pushes the edit and the importer sees a local memory (PROTOCOL "Import and
            # sync identity").
            extra = {k: v for k, v in extra.items() if k not in PROVENANCE}
        if (
            live is not None
            and live.state == "active"
            and (
                live.title,
                live.category,
                live.tags,
                live.sync_class,
                live.classification,
                live.extra,
            )
            == (title, category, tag_list, sync_class, classification, same_extra)
            and commitment(bytes.fromhex(live.salt), it.body) == live.commit
            and not it.row_extra
        ):
            return Result(live.seq, path, live.commit, changed=False)
        if live is None:
            other = self.view.case_conflict(path)
            if other is not None:
                raise InvalidPath_(path, other)
        if live is not None and live.state == "active":
            self._keep_version(path, live)
        salt = self.rng(32)
        commit = commitment(salt, it.body)
        fields: dict[str, object] = {
            "category": category,
            "classification": classification,
            "kind": kind,
        }
        fields |= {"sync_class": sync_class, "tags": tag_list, "title": title}
        # The sidecar's governing fields are committed beside the body (PROTOCOL "Rows").
        meta = meta_commitment(salt, fields)
        row = self.seqr.row("put", path, actor, commit, {**(it.row_extra or {}), "meta": meta})
        pii_status, findings = pii_gate.decide(
            path, it.body, title, sync_class, it.pii_scan, live, tag_list, extra
        )
        if pii_status == pii_gate.HELD:  # the hold commits with its put (same request)
            self.seqr.row("pii.held", path, actor, "", pii_gate.held_extra(row.seq, findings))
        sidecar = Sidecar(
            kind=kind,
            state="active",
            seq=row.seq,
            title=title,
            category=category,
            tags=tag_list,
            sync_class=sync_class,
            classification=classification,
            created_ns=live.created_ns if live is not None else row.ts_ns,
            updated_ns=row.ts_ns,
            actor=actor,
            commit=commit,
            salt=salt.hex(),
            pii_status=pii_status,
            pii_findings=findings,
            extra=extra,
        )
        self._write(path, it.body, sidecar)
        res = Result(row.seq, path, commit, row=row)
        if pii_status == pii_gate.HELD:
            res.notes.append(pii_gate.held_note(path, findings))
        return res

    # -- move ---------------------------------------------------------------------------

    def _move(self, it: Move, actor: str) -> Result:
        src, dst = self._checked(it.src), self._checked(it.dst)
        if src == dst:
            raise BrainError(f"{src}: source and destination are the same path")
        cur = self._live(src)
        target = self.view.sidecar(dst)
        if target is not None and target.state == "tombstoned":
            # Its history stays at that path: moving onto it would merge two memories.
            raise BrainError(
                f"{dst}: a tombstoned memory is there (its history stays at that path); choose"
                " another path, or purge it first (brain delete --mode purge --reason ...)"
            )
        if target is not None and target.state != "purged":
            raise BrainError(f"{dst}: a memory already exists there; move or delete it first")
        other = self.view.case_conflict(dst)
        if other is not None and other != src:
            raise InvalidPath_(dst, other)
        if paths.kind_of(src) != paths.kind_of(dst):
            raise BrainError(f"{src} -> {dst}: a move keeps the kind (folder memories/<kind>/)")
        body = self.view.body(src) or b""
        extra: dict[str, object] = {"from": src}
        if cur.salt:  # a move repeats the meta commitment (a tombstone has none)
            try:
                extra["meta"] = sidecar_meta(cur, cur.salt)
            except ValueError:
                raise BrainError(
                    f"{src}: the sidecar's salt is not hex; run `brain doctor`"
                ) from None
        row = self.seqr.row("move", dst, actor, cur.commit, extra)
        seqs = self.view.version_seqs(src)
        for s in seqs:
            old_v, new_v = paths.version_paths(src, s)[0], paths.version_paths(dst, s)[0]
            # A version this request wrote (see _keep_version) is not on disk for a move to
            # find: write it at its new place instead. (The writer never groups two requests
            # that touch one path, so the entry belongs to this request and rolls back with it.)
            kept = next((w for w in self.plan.writes if w.path == old_v), None)
            if kept is not None:
                kept.path = new_v
            else:
                self.plan.versions.append(VersionMove(old_v, new_v, s))
        self.view.set_versions(src, [])
        self.view.set_versions(dst, seqs)
        moved = msgspec.structs.replace(cur, seq=row.seq, updated_ns=row.ts_ns)
        shareable = cur.state == "active" and cur.sync_class != "private"
        found = pii_gate.scan_path(dst) if shareable and cur.pii_status != pii_gate.HELD else []
        if found:
            # The new path names PII nobody reviewed (a clean or released memory moved to
            # `alice.smith@example.com.md`): held, as a put there would be.
            rest = [f for f in cur.pii_findings if f.get("where") != pii_gate.PATH]
            moved.pii_status, moved.pii_findings = pii_gate.HELD, rest + found
            self.seqr.row("pii.held", dst, actor, "", pii_gate.held_extra(row.seq, found))
        self._write(dst, body, moved)
        self.plan.removes.append(src)
        self.view.put(src, None, None)
        return Result(row.seq, dst, cur.commit, row=row)

    # -- delete -------------------------------------------------------------------------

    def _delete(self, it: Delete, actor: str) -> Result:
        path = self._checked(it.path)
        cur = self.view.sidecar(path)
        if cur is None:
            raise NotFound(f"{path}: no such memory")
        if it.mode == "tombstone":
            if cur.state != "active":
                raise BrainError(f"{path}: already {cur.state}; nothing to tombstone")
            self._keep_version(path, cur)
            row = self.seqr.row("delete", path, actor, "", {"mode": "tombstone"})
            stub = msgspec.structs.replace(
                cur,
                state="tombstoned",
                seq=row.seq,
                updated_ns=row.ts_ns,
                actor=actor,
                commit="",
                salt="",
                pii_status=pii_gate.CLEAN,
                pii_findings=[],
            )
            self._write(path, TOMBSTONE_STUB, stub)
            return Result(row.seq, path, "", row=row)
        if it.mode != "purge":
            raise BrainError(f"delete mode {it.mode!r} is unknown: use tombstone or purge")
        if cur.state == "purged":
            raise BrainError(f"{path}: already purged")
        if it.reason not in PURGE_REASONS:
            raise InvalidMeta(
                f"a purge needs --reason, one of: {', '.join(PURGE_REASONS)}"
                f" (got {it.reason!r}); free-text notes belong in local/"
            )
        destroyed = cur.commit or self._latest_version_commit(path)
        extra: dict[str, object] = {"mode": "purge", "reason": it.reason, "destroyed": destroyed}
        if it.ticket:
            extra["ticket"] = it.ticket
        row = self.seqr.row("delete", path, actor, "", extra)
        purged: dict[str, object] = {"kind": cur.kind, "state": "purged", "seq": row.seq}
        self.plan.writes.append(Write(path, None, purged))
        self.view.put(path, Sidecar(kind=cur.kind, state="purged", seq=row.seq), None)
        self.view.set_versions(path, [])
        self.plan.purges.append(row.seq)
        return Result(row.seq, path, "", row=row)

    # -- PII review ---------------------------------------------------------------------

    def _pii_resolved(self, it: Note) -> None:
        """A `pii.resolved` row resolves a held memory (core.pii_review); a release also
        marks the sidecar, with no new put. The memory's own put or purge follows it."""
        path = self._checked(it.path)
        cur = self._live(path)
        if cur.state != "active" or cur.pii_status != pii_gate.HELD:
            raise BrainError(f"{path}: not held for PII review (pii_status {cur.pii_status})")
        seen = it.extra.get("version")
        if seen is not None and seen != cur.seq:  # a put landed since the person read it
            raise BrainError(
                f"{path} changed since it was read (seq {seen}, now seq {cur.seq}); read it"
                " again before resolving"
            )
        if it.extra.get("action") == "release":
            released = msgspec.structs.replace(cur, pii_status=pii_gate.RELEASED)
            self._write(path, self.view.body(path) or b"", released)

    # -- helpers ------------------------------------------------------------------------

    def _checked(self, path: str) -> str:
        path = paths.validate(path)
        view = self.view
        paths.check_no_symlink(view.root, path, view.safe_dirs, last_absent=view.known_absent(path))
        return path

    def _live(self, path: str) -> Sidecar:
        cur = self.view.sidecar(path)
        if cur is None or cur.state == "purged":
            raise NotFound(f"{path}: no such memory")
        return cur

    def _keep_version(self, path: str, cur: Sidecar) -> None:
        dst = paths.version_paths(path, cur.seq)[0]
        if self.view.pending(path):
            # The current version was written earlier in this request and is not on disk yet;
            # version moves are applied before writes, so write the kept version instead.
            self.plan.writes.append(Write(dst, self.view.body(path), msgspec.to_builtins(cur)))
        else:
            self.plan.versions.append(VersionMove(path, dst, cur.seq))
        self.view.add_version(path, cur.seq)

    def _latest_version_commit(self, path: str) -> str:
        seqs = self.view.version_seqs(path)
        if not seqs:
            return ""
        from core.write.file_view import read_sidecar

        side = read_sidecar(self.view.root, paths.version_paths(path, seqs[-1])[0])
        return side.commit if side else ""

    def _write(self, path: str, body: bytes, sidecar: Sidecar) -> None:
        if path in self.plan.removes:
            # Removals are applied after every write of the record: a path this request moved
            # away and then wrote again must not be removed at the end.
            self.plan.removes.remove(path)
        side = msgspec.to_builtins(sidecar)
        # The journal record is encoded unchecked: user text (title, extra) is checked here.
        canonical.validate({"title": side["title"], "extra": side["extra"]}, f"{path} sidecar")
        self.plan.writes.append(Write(path, body, side))
        self.view.put(path, sidecar, body)


def InvalidPath_(path: str, other: str) -> BrainError:
    from core.errors import InvalidPath

    return InvalidPath(
        f"{path}: differs only in letter case from the existing {other}; paths are unique"
        " under case folding, so use the existing spelling"
    )


def _title_from(body: bytes, path: str) -> str:
    for line in body.decode("utf-8", "replace").splitlines():
        s = line.strip().lstrip("#").strip()
        if s:
            return s[:120]
    return path.rsplit("/", 1)[-1][:-3]


# The rows that may come with a write to the proposal queue: only core.proposals (filing,
# deciding) and core.pii_review (a person resolving a hold) write them (validate.NOTE_OPS).
QUEUE_NOTES = ("proposal.filed", "proposal.decided", "pii.resolved")


def proposal_gate(it: Intent, intents: Sequence[Intent], view: StateView) -> None:
    """Proposals change only through their own rows, so what a person approves is what the
    agent filed: an intent that writes, moves or tombstones a proposal must come in a request
    carrying that proposal's filing, decision or PII resolution row; and only a decision
    (`proposal.decided`) changes its `status:` tag. A purge (a legal erasure) always passes.
    Checked intent by intent against the view as the earlier intents left it, so a request
    cannot prepare a memory outside the queue and move it in."""
    if isinstance(it, Put):
        queue = [it.path] if it.path.startswith(PROPOSALS) else []
    elif isinstance(it, Move):
        queue = [p for p in (it.src, it.dst) if p.startswith(PROPOSALS)]
    elif isinstance(it, Delete) and it.mode != "purge":
        queue = [it.path] if it.path.startswith(PROPOSALS) else []
    else:
        return
    if not queue:
        return
    notes = {d.op for d in intents if isinstance(d, Note) and d.path in queue}
    if not notes & set(QUEUE_NOTES):
        raise BrainError(
            f"{queue[0]}: the proposal queue changes only through `brain proposals` (file,"
            " approve, reject, deprecate), the TUI's Proposals pane or a PII resolution, so a"
            " decision always applies to the text that was filed"
        )
    if isinstance(it, Put) and it.tags is not None:
        path, want = it.path, tags.status_of(it.tags)
    elif isinstance(it, Move) and not it.src.startswith(PROPOSALS):
        src = view.live_sidecar(it.src)
        path, want = it.dst, tags.status_of(src.tags) if src is not None else None
    else:
        return  # a put that keeps its tags, a move within the queue: the status stays
    cur = view.live_sidecar(path)
    have = tags.status_of(cur.tags) if cur is not None and cur.state == "active" else None
    if want == have or (have is None and want in (None, "pending")):
        return
    if "proposal.decided" not in notes:
        raise BrainError(
            f"{path}: a proposal's status changes only by a person's decision"
            f" (status:{have or '(none)'} -> status:{want or '(none)'}); use"
            " `brain proposals approve|reject|deprecate` or the TUI's Proposals pane"
        )
