"""`Store`: the one engine facade the CLI, the TUI, MCP and tests use."""

from __future__ import annotations

import errno
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from core import fsio, paths, validate, verdict
from core.errors import (
    BrainError,
    CorruptLog,
    Frozen,
    LeaseHeld,
    NotFound,
    ReadOnly,
    StoreExists,
    StoreNotFound,
)
from core.index.db import IndexReader
from core.index.follower import Follower
from core.layout import Layout, resolve_root
from core.log.binlog import Binlog
from core.log.head import read_head
from core.log.tip import Tip, offset_valid, scan_current, scan_from, start_tip
from core.models import PROTOCOL_VERSION, Manifest, Memory, Row, Sidecar
from core.verify.mmr import MMR
from core.write import purge_list
from core.write.file_view import read_sidecar
from core.write_session import WriteSession

if TYPE_CHECKING:
    from core.doctor.model import DoctorReport
    from core.door_server import Door
    from core.index import queries  # by the methods that read: a put needs none (~0.8 ms)
    from core.pii_review import PiiReview
    from core.portable.backup import BackupResult
    from core.portable.consolidate import ConsolidateResult
    from core.portable.export import ExportResult
    from core.portable.importer import ImportResult
    from core.proposals import Proposals
    from core.search.semantic import SemanticIndex
    from core.store_state import StoreState
    from core.sync.api import SyncApi
    from core.tiers import Tiers
    from core.verifiable import Checkpointer
    from core.verify.checkpoints import Verified

    # The write path is imported when a write starts: a read-only command never loads it.
    from core.write.intents import Intent, Put
    from core.write.planner import Result
    from core.write.writer import Writer

_OPENERS = (b"---", b"\xef\xbb\xbf---")  # frontmatter, with or without a UTF-8 BOM before it


def _may_widen(body: bytes | str, parse_frontmatter: bool, fields: dict) -> bool:
    """Could this put name a wide sync class (given, or in its frontmatter)? Its PII scan
    (core/write/pii_gate.prescan) must then run on the caller's thread, outside the lock."""
    from core.write.pii_gate import names_wide

    if names_wide(fields.get("sync_class")):
        return True
    if not parse_frontmatter:
        return False
    if isinstance(body, bytes):
        return body.startswith(_OPENERS)
    return body.lstrip("\ufeff").startswith("---")


Clock = Callable[[], int]
# The default is os.urandom, which is what secrets.token_bytes returns (importing secrets
# loads hmac, random and base64: ~5 ms of a one-shot `brain put`).
Rng = Callable[[int], bytes]


class Store:
    """Open once per process. It owns its collaborators: the index follower (`follower`),
    the write session (`session`, which owns the writer and the checkpointer)."""

    def __init__(
        self,
        layout: Layout,
        manifest: Manifest,
        *,
        clock: Clock,
        rng: Rng,
        read_only: bool,
        program: str,
        lock_timeout_s: float,
        passphrase: str | None = None,
        service: bool = False,
    ) -> None:
        self.layout = layout
        self.root = layout.root
        self.manifest = manifest
        self.clock = clock
        self.rng = rng
        self.read_only = read_only
        self.program = program
        self.lock_timeout_s = lock_timeout_s
        self.binlog = Binlog(layout.audit)
        # BRAIN_PASSPHRASE (core.verify.keys.PASSPHRASE_ENV), read here: importing core.verify.keys loads
        # cryptography, which a read-only command never needs.
        self.passphrase = passphrase if passphrase is not None else _env_passphrase()
        self.service = service  # long-running host: time-based checkpoints
        self.last_checkpoint: Verified | None = None  # the newest checkpoint open verified
        self.problem: str | None = None
        self.cannot_write: str | None = None  # set when a writable open had to degrade
        self.exit_without_checkpoint = False  # see close()
        self.index_problem: str | None = None  # a read-only open found the index unusable
        self.media_read_only = False
        self._mmr_ro = _open_nodes(layout)
        self.tip = Tip()
        self.notes: list[str] = []
        self.follower = Follower(layout, self.binlog, read_only=read_only)
        self.session = WriteSession(
            layout,
            manifest,
            self.follower,
            self._new_checkpointer,
            clock=clock,
            rng=rng,
            program=program,
            lock_timeout_s=lock_timeout_s,
            service=service,
            tip=lambda: self.tip,
            guard=self._refuse_if_frozen,
            on_rows=self._on_rows,
            on_purged=self._on_purged,
        )
        self._view_cache: dict[str, tuple[int, int, Sidecar]] = {}  # path -> mtime, inode, sidecar
        self._semantic: SemanticIndex | None = None  # made on first semantic use
        self._sync: SyncApi | None = None  # made on first use (core/sync/api.py)
        self._door: Door | None = None  # open_door: long-lived hosts serve CLI puts

    def _new_checkpointer(self) -> Checkpointer:
        from core.verifiable import Checkpointer

        return Checkpointer(
            self.layout, self.manifest.store_id, self.passphrase, self.clock, self.rng
        )

    @property
    def reader(self) -> IndexReader:
        """This thread's read connection to the index (core.index.db.IndexReader)."""
        return self.follower.reader

    @property
    def mmr(self) -> MMR:
        return self.session.writer_mmr() or self._mmr_ro

    def reopen_nodes(self) -> None:
        """The node file was rebuilt: reads open it again."""
        old, self._mmr_ro = self._mmr_ro, _open_nodes(self.layout)
        old.close()

    # -- lifecycle ----------------------------------------------------------------------

    @classmethod
    def init(
        cls,
        root: str | os.PathLike[str] | None = None,
        *,
        allow_temp: bool = False,
        clock: Clock = time.time_ns,
        rng: Rng = os.urandom,
        **kw,
    ) -> Store:
        layout = Layout(resolve_root(root))
        paths.check_root_allowed(layout.root, allow_temp)
        if not layout.root.is_dir() and (layout.root.exists() or _file_above(layout.root)):
            raise StoreExists(_not_a_folder(layout.root))
        if layout.manifest.exists():
            raise StoreExists(f"a store already exists at {layout.root}")
        outer = _store_above(layout.root)
        if outer is not None:  # its keys would lie among that store's memories (and exports)
            raise StoreExists(
                f"{layout.root} is inside the store at {outer}; choose a folder outside it"
            )
        if layout.root.exists() and any(layout.root.iterdir()):
            raise StoreExists(
                f"{layout.root} is not empty and holds no store; choose an empty folder"
            )
        kinds = ("decisions", "facts", "people", "projects", "preferences", "drift", "refinements")
        for d in [layout.root, *layout.skeleton(), *(layout.memories / k for k in kinds)]:
            try:
                fsio.mkdirs(d)
            except OSError as e:
                raise BrainError(_cannot_create(d, e)) from None
        manifest = Manifest(store_id=rng(16).hex(), protocol=PROTOCOL_VERSION, created_ns=clock())
        fsio.write_file(
            layout.manifest, msgspec.json.encode(manifest, order="sorted"), durable=True
        )
        MMR.open(layout.mmr_nodes).close()
        from core.verify import keys

        passphrase = kw.get("passphrase")
        keys.generate(
            layout.keys,
            f"brain/{manifest.store_id}",
            passphrase=passphrase if passphrase is not None else keys.passphrase_from_env(),
            clock_ns=clock(),
            rng=rng,
        )
        fsio.syncfs(layout.root)
        return cls.open(layout.root, allow_temp=allow_temp, clock=clock, rng=rng, **kw)

    @classmethod
    def open(
        cls,
        root: str | os.PathLike[str] | None = None,
        *,
        allow_temp: bool = False,
        read_only: bool = False,
        clock: Clock = time.time_ns,
        rng: Rng = os.urandom,
        program: str = "brain",
        lock_timeout_s: float = 5.0,
        passphrase: str | None = None,
        service: bool = False,
    ) -> Store:
        layout = Layout(resolve_root(root))
        paths.check_root_allowed(layout.root, allow_temp)
        try:
            raw = layout.manifest.read_bytes()
        except FileNotFoundError:
            raise StoreNotFound(
                f"no store at {layout.root}; create one with `brain init`"
                " (or pass --store / set CYBEROS_BRAIN_HOME)"
            ) from None
        except NotADirectoryError:
            raise StoreNotFound(_not_a_folder(layout.root)) from None
        try:
            manifest = msgspec.json.decode(raw, type=Manifest)
        except (msgspec.DecodeError, msgspec.ValidationError) as e:
            raise BrainError(f"{layout.manifest}: unreadable manifest ({e})") from None
        store = cls(
            layout,
            manifest,
            clock=clock,
            rng=rng,
            read_only=read_only,
            program=program,
            lock_timeout_s=lock_timeout_s,
            passphrase=passphrase,
            service=service,
        )
        try:
            store._open()
        except BaseException:
            store.close()
            raise
        return store

    def _open(self) -> None:
        rebuild = False
        self.media_read_only = _on_read_only_media(self.root)
        if not self.read_only and self.media_read_only:
            # SQLite opens an index it cannot write read-only without a word: the store would
            # look writable (a door opened, sync started) and fail at its first write.
            self._degrade(OSError(errno.EROFS, os.strerror(errno.EROFS)))
        elif not self.read_only:
            try:
                rebuild = self.follower.open_writable()
            except (sqlite3.OperationalError, OSError) as e:
                self._degrade(e)
        start = self.follower.verified_tip()
        # HEAD before the scan: writers append frames before HEAD, so a live writer can never
        # make this read look ahead of the log.
        head = read_head(self.layout)
        scan = scan_from(self.binlog, start)  # across sealed segments if consolidated since
        self.tip = scan.tip
        needs_recovery = (
            (self.layout.journal.exists() and self.layout.journal.stat().st_size > 0)
            or bool(purge_list.read(self.layout.purge_pending).seqs)
            or start_tip(self.binlog).offset > 0  # a consolidation cut short by a crash
        )
        if scan.bad or scan.broken:
            if not needs_recovery or self.read_only:
                from core.log.tip import require_clean

                try:
                    require_clean(scan, str(self.root))
                except BrainError as e:
                    self.problem = str(e)
        if self.read_only:
            self.index_problem = self.follower.probe()
            return
        if self.problem is None and (needs_recovery or scan.bad or scan.broken):
            self.session.start()
            try:
                self.session.submit([], "system")  # acquire the lock: replay, fence, purges
            except LeaseHeld as e:
                # A live writer holds the lock: its journal is not a crash; it recovers itself.
                self.notes.append(f"recovery left to the current writer: {e}")
            except Frozen:
                pass  # a verdict stands: frozen() reports it
            except CorruptLog as e:
                self.problem = str(e)
            except BrainError as e:
                # Not corruption: the disk is full, an I/O error. The journal keeps every
                # committed row; the next process (or write) replays it once the cause is gone.
                self.cannot_write = (
                    f"recovery could not finish ({' '.join(str(e).split())}); the journal keeps"
                    " every committed row and the next write replays it once this is fixed"
                )
                self.notes.append(self.cannot_write)
            self.notes.extend(self.session.take_notes())  # what recovery repaired, as info
            # Replayed rows may still be queued on the applier thread: drain it first.
            self.follower.drain()
        elif self.problem is None and head is not None and head > self.tip.seq:
            self._check_head(head)
        if self.problem is None:
            self.problem = self._check_checkpoint()
        if self.problem is not None:
            confirmed = self._confirm_under_lock()
            if confirmed:
                # Every process must refuse from now on, not only this one (one verdict).
                try:
                    verdict.record(self.layout, verdict.FROZEN_HUMAN, self.problem, self.program)
                except OSError as e:
                    self.notes.append(f"could not record the freeze in local/: {e.strerror or e}")
        try:
            if rebuild:
                self.notes.append("rebuilt the index from the files and the log")
                self.follower.rebuild()
            self.follower.catch_up(self.tip.seq)
            cp = self.last_checkpoint
            if self.problem is None:
                self.follower.record_verified(scan, cp.size if cp is not None else 0)
        except sqlite3.OperationalError as e:
            self._degrade(e)  # a full disk: the index cannot take the rows now; reads go on

    def _confirm_under_lock(self) -> bool:
        """Open read the log without the lock: a writer recovering a crashed holder's journal
        may have been rewriting its unsynced tail at that instant (a log that looked shorter
        than its checkpoint, a torn frame). Before a person's freeze is recorded for every
        process, look again as the lock holder, after replay. True: the problem stands."""
        problem, self.problem = self.problem, None
        try:
            w = self.session.start()
            # Whatever open read may be what was being rewritten: verify from genesis (rare).
            if not w.lock.held:
                w.tip = Tip()
            self.session.run(lambda _w: None, checked=False)  # fence, replay, verify the scan
        except LeaseHeld as e:
            self.problem = problem
            self.notes.append(f"could not confirm the freeze (the lock is busy): {e}")
            return False
        except (CorruptLog, Frozen) as e:
            self.problem = str(e) if isinstance(e, CorruptLog) else problem
            return isinstance(e, CorruptLog)
        except BrainError as e:
            self.problem = problem
            self.notes.append(f"could not confirm the freeze: {e}")
            return False
        self.tip = w.tip
        self.problem = self._check_checkpoint()
        return self.problem is not None

    def _check_checkpoint(self) -> str | None:
        """Open's check of the newest checkpoint and the witness (writable opens only). When an
        earlier open verified the same note bytes, keys and root, and the witness agrees, the
        signature is not checked again (core.verify.note_cache): no cryptography on a one-shot put."""
        from core.verify import checkpoints, note_cache

        fol = self.follower
        if fol.writable and self.mmr.size >= self.tip.seq:
            w = checkpoints.read_witness(self.manifest.store_id)
            hit = note_cache.recall(
                self.layout,
                fol.get_meta(note_cache.META_KEY),
                self.mmr,
                self.tip.seq,
                (w.size, w.root) if w else None,
            )
            if hit is not None:
                self.last_checkpoint = hit
                return None
        why = self.verify_checkpoints()
        cp = self.last_checkpoint
        if why is None and cp is not None and fol.writable:
            fp = note_cache.fingerprint(self.layout, cp.size)
            if fp is not None:
                try:
                    fol.set_meta(note_cache.META_KEY, note_cache.encode(cp, fp[0]))
                except sqlite3.Error:
                    pass  # a full disk: the next open checks the signature again
        return why

    def verify_checkpoints(self) -> str | None:
        """Verify the newest checkpoint and the witness; returns why the store is frozen, if so
        (open's check without the note cache; `brain doctor --repair` runs it again)."""
        from core.verify import checkpoints

        sid = self.manifest.store_id
        try:
            if self.mmr.size < self.tip.seq:
                return None  # the node file is behind: the writer rebuilds it before proofs
            latest = checkpoints.verify_latest(self.layout, sid, self.mmr, self.tip.seq)
        except BrainError as e:
            return f"checkpoint check failed: {e}"
        self.last_checkpoint = latest
        why = checkpoints.check_witness(sid, self.mmr, latest, self.tip.seq)
        if why:
            return why
        if latest is not None:
            checkpoints.record_witness(sid, latest.size, latest.root)
        return None

    def _degrade(self, e: BaseException) -> None:
        """The store cannot be written here (read-only media, a full disk, an I/O error): open
        it read-only instead, so state, view, tail, search, history, doctor and prove work,
        and say why writes are refused."""
        why = getattr(e, "strerror", None) or str(e)
        self.media_read_only = _on_read_only_media(self.root)
        fix = "remount it writable" if self.media_read_only else "free disk space"
        index = self.layout.index_dir
        if os.path.lexists(index) and not index.is_dir():
            self.cannot_write = (
                f"the store cannot be written: {index} is a file, not the index folder."
                " Move that file out of the store (the index is derived: it is rebuilt from"
                " the log on the next open), then retry"
            )
        else:
            self.cannot_write = (
                f"the store cannot be written ({why}); reads show it as last indexed."
                f" {fix.capitalize()}, then retry"
            )
        self.notes.append(self.cannot_write)
        self.read_only = True
        self.session.close()
        self.follower.degrade()

    def _check_head(self, head: int) -> None:
        """HEAD ahead of the log with no journal to replay: synced rows were lost."""
        later = scan_current(self.binlog, self.tip)  # unless a writer appended meanwhile
        if later.tip.seq >= head:
            return
        self.problem = (
            f"HEAD says seq {head} but the log ends at seq {later.tip.seq}: rows are missing"
            " from the synced part of the log. Run `brain doctor`."
        )

    def open_door(self) -> str | None:
        """Serve one-shot `brain put`s with this process's writer (core/door_server.py), for a
        long-lived host (the TUI, `brain mcp`, the capture daemon). The socket's path when this
        process serves; None when it stands by (another process serves: it takes over when that
        one goes) or opened no door (read-only, doors off, no private folder for doors)."""
        if self.read_only or self.cannot_write or self._door is not None:
            return None
        from core.door_server import Door

        self._door = Door(os.fspath(self.root), self._put_for_door, self.program)
        return self._door.open()

    def door_served(self) -> int | None:
        """How many puts this process's door wrote for clients; None while it serves none
        (no door, standing by, closed)."""
        door = self._door
        return door.served if door is not None and door.serving else None

    def _put_for_door(
        self,
        path: str,
        body: bytes,
        *,
        actor: str,
        deadline_ns: int,
        parse_frontmatter: bool = True,
        **fields,
    ) -> Result:
        """A put as the one-shot CLI's: when it returns, another process's search finds it
        (the CLI's own put indexes before it exits). Not started past deadline_ns (wall
        clock): its client has given up and writes it itself (core/door.py)."""
        from core.door import Expired
        from core.write.pii_gate import prescan

        it = self.put_intent(path, body, parse_frontmatter, None, **fields)
        validate.actor(actor)
        prescan([it])

        def at_planning() -> list[Intent]:  # on the writer, just before the put is planned
            if time.time_ns() > deadline_ns:
                raise Expired(f"{path}: its client stopped waiting for the door")
            return [it]

        res = self.session.submit((), actor, at_planning)[0]
        try:
            self.wait_index()
        except BrainError as e:  # written all the same: say so, not that the put failed
            res.notes.append(f"written; the search index does not hold it yet ({e})")
        return res

    def close(self) -> None:
        if self._door is not None:  # first: the puts it is serving finish on the open writer
            self._door.close()
            self._door = None
        if self._sync is not None:
            self._sync.close()
        # exit_without_checkpoint: the process exits right after (a one-shot CLI command,
        # through os._exit); the follower leaves the index connection open (no WAL checkpoint).
        # A big WAL is folded unsynced just before the flush, whose syncfs makes it durable.
        writer, folded = self.session.writer, None
        if self.exit_without_checkpoint and writer is not None and writer.unflushed():
            folded = self.follower.fold_wal()
            self.follower.hurry()  # the rows go into the index during the flush's syncfs
        self.session.close()
        if folded is not None and writer is not None and writer.synced_at < folded:
            fsio.syncfs(self.root)  # no flush began after the fold (rare): one of our own
        self.follower.close(fast_exit=self.exit_without_checkpoint)
        self._mmr_ro.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- writes -------------------------------------------------------------------------

    def put(
        self,
        path: str,
        body: bytes | str,
        *,
        actor: str,
        parse_frontmatter: bool = True,
        expect: str | None = None,
        **fields,
    ) -> Result:
        w = self.session.writer
        if w is not None and w.crowded and not _may_widen(body, parse_frontmatter, fields):
            # Other threads are writing: the thread leading this put's group builds its intent
            # (validation and errors as ever). Built here it ran beside that leader's commit,
            # and every time the leader wanted the GIL back it waited for this thread:
            # 4 producer threads wrote ~12 % faster this way.
            validate.actor(actor)

            def build() -> list[Intent]:
                return [self.put_intent(path, body, parse_frontmatter, expect, **fields)]

            return self.session.submit((), actor, build)[0]
        it = self.put_intent(path, body, parse_frontmatter, expect, **fields)
        validate.actor(actor)
        return self._submit([it], actor)[0]  # put_intent validated the intent it made

    def put_if(self, path: str, body: bytes | str, expect: str, *, actor: str, **fields) -> Result:
        if expect is None:
            raise BrainError("put_if needs the expected commitment ('' = only if absent)")
        return self.put(path, body, actor=actor, expect=expect, **fields)

    @staticmethod
    def put_intent(
        path: str,
        body: bytes | str,
        parse_frontmatter: bool = True,
        expect: str | None = None,
        **fields,
    ) -> Put:
        validate.put(path, body, parse_frontmatter, expect, fields)
        added = False  # fields the frontmatter supplied (validated again below)
        if isinstance(body, bytes) and parse_frontmatter and body.startswith(_OPENERS):
            body = _decode_body(body)
        if isinstance(body, str):
            if parse_frontmatter:
                from core import frontmatter

                meta, text = frontmatter.parse(body)
                for name in ("title", "category", "tags", "sync_class", "classification"):
                    v = getattr(meta, name)
                    if v is not None and fields.get(name) is None:
                        fields[name] = v
                        added = True
                if meta.kind is not None and meta.kind != paths.kind_of(paths.validate(path)):
                    raise BrainError(
                        f"{path}: frontmatter says kind {meta.kind!r} but the path is under"
                        f" memories/{paths.kind_of(paths.validate(path))}/"
                    )
                if meta.extra and fields.get("extra") is None:
                    fields["extra"] = meta.extra
                    added = True
                body = text
            body = body.encode("utf-8")
        if added:
            validate.put_fields(fields)
        from core.write.intents import Put

        return Put(path, body, expect=expect, **fields)

    def move(self, src: str, dst: str, *, actor: str) -> Result:
        from core.write.intents import Move

        return self.batch([Move(src, dst)], actor)[0]

    def delete(
        self,
        path: str,
        *,
        actor: str,
        mode: str = "tombstone",
        reason: str | None = None,
        ticket: str | None = None,
    ) -> Result:
        from core.write.intents import Delete

        res = self.batch([Delete(path, mode, reason, ticket)], actor)[0]
        res.notes = self.session.take_purge_notes(res.seq)
        return res

    def note(self, op: str, *, actor: str, path: str = "", extra: dict | None = None) -> Result:
        validate.note(op, path, extra)
        from core.write.intents import Note

        return self.batch([Note(op, path, "", extra or {})], actor)[0]

    def batch(self, intents: Sequence[Intent], actor: str) -> list[Result]:
        """Commit intents as one request: all of them or none."""
        validate.batch(intents, actor)
        return self._submit(intents, actor)

    def _submit(self, intents: Sequence[Intent], actor: str) -> list[Result]:
        """Validated intents (and actor) to the writer."""
        from core.write.pii_gate import prescan

        prescan(intents)  # the PII gate's scan, before the commit loop (not under the lock)
        return self.session.submit(intents, actor)

    def _refuse_if_frozen(self) -> None:
        if self.cannot_write:
            raise ReadOnly(f"writes are refused: {self.cannot_write}")
        if self.read_only:
            raise ReadOnly(f"{self.root} was opened read-only")
        # The writer's own freeze is not checked here: it retries (replays) on the next request;
        # nor is a verdict another process recorded: the writer reads it once a group.
        if self.problem is not None and not self.session.allow_frozen:
            raise Frozen(f"writes are refused: the store is {verdict.FROZEN_HUMAN}: {self.problem}")

    def frozen(self, *, own_writer: bool = True) -> tuple[str, str] | None:
        """(state, why) when writes are refused, else None: this process's own finding, its
        writer's, or the verdict any process recorded in the store (the same for all)."""
        if self.problem is not None:
            return verdict.FROZEN_HUMAN, self.problem
        if self.cannot_write and not self.media_read_only:
            # A full disk or an I/O error; read-only media is not a freeze (a note says why).
            return verdict.FROZEN_RECOVERABLE, self.cannot_write
        own = self.session.frozen
        if own_writer and own:
            return verdict.FROZEN_RECOVERABLE, own
        v = verdict.read_cached(self.layout)  # a stat per put (core/verdict.py)
        return (v.state, v.reason) if v is not None else None

    def _on_rows(self, rows: list[Row], w: Writer) -> None:
        """The writer made rows durable (on its commit loop)."""
        self.tip = w.tip
        if any(r.op in ("move", "delete") for r in rows):
            self._view_cache.clear()

    def _on_purged(self, news: list[str]) -> None:
        # Ignored entries are met again at every acquisition: say so once.
        self.notes.extend(n for n in dict.fromkeys(news) if n not in self.notes)
        self._view_cache.clear()
        if self._semantic is not None:  # purge rules: in-memory caches of vectors go too
            self._semantic.cache.forget()

    # -- PII review (core/pii_review.py) -------------------------------------------------

    @property
    def pii(self) -> PiiReview:
        from core.pii_review import PiiReview

        return PiiReview(self)

    @property
    def proposals(self) -> Proposals:
        """Lessons, proposals and their decisions (core/proposals/)."""
        from core.proposals import Proposals

        return Proposals(self)

    @property
    def sync(self) -> SyncApi:
        """Hub sync: join, run a pass, status (core/sync/api.py). One per store: it holds the
        queue's connection and the hub's keep-alive connection."""
        if self._sync is None:
            from core.sync.api import SyncApi

            self._sync = SyncApi(self)
        return self._sync

    def pii_pending_count(self) -> int:
        """Memories held for PII review (the header's pending count)."""
        from core.index import pii_queries

        self.wait_index()
        return pii_queries.held_count(self.reader.conn)

    # -- tiers and session context ------------------------------------------------------

    @property
    def tiers(self) -> Tiers:
        from core.tiers import Tiers

        return Tiers(self)

    def context(self, *, project: str | None = None, limit: int = 300) -> list:
        """At most 300 memories to start an agent session with, each with its reason."""
        from core.context import context

        validate.text("project", project, validate.MAX_FILTER_CHARS)
        validate.limit(limit)
        return context(self, project=project, limit=limit)

    def set_active_project(self, name: str) -> None:
        """`brain project use NAME`: memories under memories/projects/NAME/ weigh most."""
        if name and (not paths.slugify(name) == name):
            raise BrainError(f"project name {name!r} must be a slug like {paths.slugify(name)!r}")
        self.manifest.settings.active_project = name
        fsio.write_file(
            self.layout.manifest, msgspec.json.encode(self.manifest, order="sorted"), durable=True
        )

    # -- verifiable ledger --------------------------------------------------------------

    def checkpoint(self) -> str:
        """Sign the current tree head now; returns the note text."""
        from core import verifiable

        return verifiable.checkpoint(self)

    def prove(self, seq: int) -> dict:
        """A `brain-proof/v1` bundle for row seq (checkpointing first if none covers it)."""
        from core import verifiable

        validate.seq(seq)
        return verifiable.prove(self, seq)

    def prove_many(self, seqs: Sequence[int]) -> dict[int, dict]:
        """`prove` for many rows, sharing one checkpoint and node file handle (sync pushes)."""
        from core import verifiable

        for seq in seqs:
            validate.seq(seq)
        return verifiable.prove_many(self, list(seqs))

    def consistency(self, size1: int, size2: int) -> dict:
        from core import verifiable

        validate.integer("size1", size1, 1, validate.MAX_SEQ)
        validate.integer("size2", size2, 1, validate.MAX_SEQ)
        return verifiable.consistency(self, size1, size2)

    def rotate_key(self, *, finish: bool = False) -> dict:
        from core import verifiable

        return verifiable.rotate_key(self, finish=finish)

    def doctor(
        self,
        repair: bool = False,
        reason: str | None = None,
        progress: Callable[[int, int, str], None] | None = None,
        cancel: threading.Event | None = None,
        full: bool = True,
        *,
        actor: str = "system:doctor",
    ) -> DoctorReport:
        """Check every invariant (core/doctor/); repair=True fixes what can be fixed."""
        from core import doctor

        return doctor.run(
            self,
            repair=repair,
            reason=reason,
            progress=progress,
            cancel=cancel,
            full=full,
            actor=actor,
        )

    # -- portability: export, import, backup, consolidate -------------------------------

    def export(self, out: str | os.PathLike[str]) -> ExportResult:
        """A deterministic zip of the verifiable store (no private keys, index or local/)."""
        from core.portable.export import export

        return export(self, Path(out))

    def import_(
        self, src: str | os.PathLike[str], *, filter: str | None = None, actor: str
    ) -> ImportResult:
        """Verify a foreign export or store folder, then write its selected memories here."""
        from core.portable.importer import import_store

        return import_store(self, Path(src), filter=filter, actor=actor)

    def backup(
        self, dest: str | os.PathLike[str], *, allow_temp: bool | None = None
    ) -> BackupResult:
        """A verified snapshot: immutable files hard-linked, everything else copied."""
        from core.portable.backup import backup

        return backup(self, Path(dest), allow_temp=allow_temp)

    def consolidate(self, *, min_rows: int = 1) -> ConsolidateResult:
        """Seal current.binlog into a zstd segment and checkpoint."""
        from core.portable.consolidate import consolidate

        return consolidate(self, min_rows)

    # -- semantic search (core/semantic.py; the model loads on first use) -------------------

    @property
    def semantic(self) -> SemanticIndex:
        if self._semantic is None:
            from core.search.semantic import SemanticIndex

            self._semantic = SemanticIndex(self)
        return self._semantic

    def similar(self, path: str, *, limit: int = 10, **filters) -> list[queries.SearchHit]:
        from core.search import semantic

        paths.validate(path)
        validate.search("", "semantic", limit, filters)
        return semantic.similar(self, path, limit=limit, **filters)

    def embed_pending(self, *, batch: int = 64, progress=None, cancel=None, known=None) -> int:
        """Compute the missing embeddings; progress(done, total); cancel: threading.Event;
        known(text): a vector this store's model computed for that text, or None."""
        from core.search import semantic

        return semantic.embed_pending(
            self, batch=batch, progress=progress, cancel=cancel, known=known
        )

    def semantic_pending(self) -> int:
        from core.search import semantic

        return semantic.pending(self)

    def semantic_ready(self) -> bool:
        """Whether this store has searched by meaning in this process: its model is loaded,
        so one more semantic search costs milliseconds (the TUI after its warm-up)."""
        if self._semantic is None:
            return False
        from core.search.embeddings import loaded

        return loaded(self._semantic.model)

    def warm_semantic(self) -> None:
        """Load the embedding model now (a host calls it in a worker after start-up)."""
        self.semantic.encoder()

    def start_embedder(self, stop: threading.Event, *, progress=None) -> int:
        """Run the embedding loop in the calling (host worker) thread until stop is set:
        each memory a row leaves without a vector gets one, so a put is findable by semantic
        search well within a second. Returns how many vectors it stored."""
        from core.search.semantic import Embedder

        return Embedder(self, progress=progress).run(stop)

    # -- the index: following the log ----------------------------------------------------

    def refresh(self) -> int:
        """Pick up rows other processes appended; returns the head seq."""
        if self.session.held:
            return self.tip.seq  # nobody else can append while our writer holds the lock
        if self.binlog.current_size() == self.tip.offset and offset_valid(self.binlog, self.tip):
            return self.tip.seq
        scan = scan_from(self.binlog, self.tip)  # another process may have consolidated
        if scan.rows and scan.tip.seq > self.tip.seq:
            self.tip = scan.tip
            self.follower.follow([r for r, _p, _o in scan.rows], scan.tip.offset, scan.tip.seq)
        return self.tip.seq

    def wait_index(self) -> None:
        """Reads see at least every row this process's callers have had acknowledged
        (writes, and the rows of tasks such as checkpoints and rotations)."""
        self.follower.wait_acked()

    def reindex(self) -> int:
        """Drop and rebuild the index from the files and the log. Returns memories indexed."""
        if self.cannot_write and self.read_only:
            raise ReadOnly(f"cannot reindex: {self.cannot_write}")
        if self.read_only:
            raise ReadOnly(f"{self.root} was opened read-only")
        return self.follower.reindex(self.tip.seq)

    def wait_for_change(self, after_seq: int, timeout: float) -> int:
        """Wait until the index has applied a row beyond after_seq (from this process or
        another) or timeout passes; returns the index's applied seq."""
        return self.follower.wait_for_change(after_seq, timeout)

    # -- reads --------------------------------------------------------------------------

    def view(self, path: str, *, actor: str | None = None) -> Memory:
        """Read a memory; naming an actor journals the read as an access (core.view)."""
        # Imported here (a dict lookup once loaded): a one-shot put or search never views,
        # and core.view brings core.view_body, core.shapes, json and the access journal.
        from core.view import view as view_memory

        return view_memory(
            self.layout,
            path,
            actor=actor,
            clock=self.clock,
            cache=self._view_cache,
            notes=self.notes,
        )

    def record_views(self, paths_: Sequence[str], *, actor: str) -> None:
        """Journal views of memories the caller already read (core.view.record_views)."""
        from core.view import record_views

        record_views(self.layout, paths_, actor=actor, clock=self.clock)

    def version(self, path: str, seq: int) -> Memory:
        """An earlier version of a memory (by the seq of the row that wrote it)."""
        path = paths.validate(path)
        validate.seq(seq)
        cur = read_sidecar(self.root, path)
        if cur is not None and cur.seq == seq and cur.state == "active":
            return self.view(path)
        rows = self.history(path)  # this memory's rows only: a reused path is another memory
        if seq not in {r.seq for r in rows if r.op in ("put", "move")}:
            raise NotFound(f"{path}: no version written by seq {seq}")
        for p in [path, *[r.extra.get("from") for r in rows if r.op == "move"]]:
            if not isinstance(p, str) or not p:
                continue
            vbody, _ = paths.version_paths(p, seq)
            side = read_sidecar(self.root, vbody)
            if side is not None:
                return Memory(vbody, (self.root / vbody).read_bytes(), side)
        raise NotFound(f"{path}: no version written by seq {seq}")

    def tail(self, from_seq: int = 1, limit: int = 1000, **filters) -> list[Row]:
        validate.tail(from_seq, limit, filters)
        self.wait_index()
        from core.index import queries

        return queries.audit_page(self.reader.conn, from_seq - 1, limit, **filters)

    def history(self, path: str, *, at_seq: int | None = None) -> list[Row]:
        """The rows of the memory at `path` (with `at_seq`: the one row `at_seq` belongs to),
        oldest first, across its moves (core.index.queries.history)."""
        path = paths.validate(path)
        if at_seq is not None:
            validate.seq(at_seq)
        self.wait_index()
        from core.index import queries

        return queries.history(self.reader.conn, path, at_seq=at_seq)

    def search(
        self, query: str, *, mode: str = "lexical", limit: int = 10, **filters
    ) -> list[queries.SearchHit]:
        """mode: "lexical" (FTS5 bm25), "semantic" (cosine) or "hybrid" (both, fused)."""
        validate.search(query, mode, limit, filters)
        if mode != "lexical":
            from core.search import semantic

            if mode not in semantic.MODES:
                raise BrainError(f"unknown search mode {mode!r}; use lexical, semantic or hybrid")
            return semantic.search(self, query, mode=mode, limit=limit, **filters)
        self.wait_index()
        from core.index import queries

        return queries.search(self.reader.conn, query, limit=limit, **filters)

    def memories(self, after: str = "", limit: int = 100, **filters) -> list[queries.MemoryRow]:
        validate.memories(after, limit, filters)
        self.wait_index()
        from core.index import queries

        return queries.memory_page(self.reader.conn, after, limit, **filters)

    def rows(self, from_seq: int = 1) -> list[tuple[Row, bytes]]:
        """Rows with their exact payloads, straight from the binlog (for proofs, export)."""
        validate.seq(from_seq, "from_seq")
        from core.log import frames
        from core.log.tip import decode_row

        out = []
        for f in self.binlog.iter_frames(from_seq):
            if isinstance(f, frames.BadFrame):
                raise BrainError(f"the log is damaged at byte {f.offset}: {f.reason}")
            out.append((decode_row(f.payload), f.payload))
        return out

    def state(self) -> StoreState:
        self.refresh()
        from core import store_state

        return store_state.compute(self)

    # -- reads for the workstation ------------------------------------------------------
    # What the TUI's panes draw: pages by key (never OFFSET), single rows and counts, as
    # typed values (core.read_types). No SQL and no index connection leave core: the panes
    # call these from thread workers, and each call uses that thread's own connection.

    def audit_page(
        self,
        after: int = 0,
        limit: int = 256,
        *,
        descending: bool = False,
        op: str | None = None,
        actor: str | None = None,
        path_prefix: str | None = None,
    ) -> list[Row]:
        """Audit rows with seq > after, oldest first; descending: seq < after, newest first
        (`after` past the end, e.g. 2**62, reads the newest rows). As the index holds them
        now: the tail follows the index's own end and never waits for the applier."""
        from core.index import queries

        return queries.audit_page(
            self.reader.conn,
            after,
            limit,
            op=op,
            actor=actor,
            path_prefix=path_prefix,
            descending=descending,
        )

    def audit_row(self, seq: int) -> Row | None:
        """One audit row by seq, or None when the index does not hold it (yet)."""
        if seq < 1:
            return None
        from core.index import queries

        rows = queries.audit_page(self.reader.conn, seq - 1, 1)
        return rows[0] if rows and rows[0].seq == seq else None

    def indexed_seq(self) -> int:
        """The newest row the index holds (one lookup at the end of the primary key)."""
        from core.index import queries

        return queries.last_seq(self.reader.conn)

    def memory_page(
        self,
        after: str = "",
        limit: int = 100,
        *,
        descending: bool = False,
        kind: str | None = None,
        folder_prefix: str | None = None,
        tier: str | None = None,
        state: str | None = None,
    ) -> list[queries.MemoryRow]:
        """Memories by path: > after, ascending; descending: < after ("" = from the end),
        nearest first. Sees every write this process has had acknowledged."""
        from core.index import memory_pages

        self.wait_index()
        return memory_pages.page(
            self.reader.conn,
            after,
            limit,
            descending=descending,
            kind=kind,
            folder_prefix=folder_prefix,
            tier=tier,
            state=state,
        )

    def memory_count(
        self,
        *,
        kind: str | None = None,
        folder_prefix: str | None = None,
        tier: str | None = None,
        state: str | None = None,
    ) -> int:
        """How many memories memory_page's filters select (a virtual list's height)."""
        from core.index import memory_pages

        self.wait_index()
        return memory_pages.count(
            self.reader.conn, kind=kind, folder_prefix=folder_prefix, tier=tier, state=state
        )

    def memory_rows(self, paths: Sequence[str]) -> list[queries.MemoryRow]:
        """The list rows of these paths in the order given (search hits shown as rows);
        paths no longer in the index are left out."""
        self.wait_index()
        from core.index import queries

        return queries.memory_rows(self.reader.conn, list(paths))

    def folder_counts(self) -> list[tuple[str, str, int]]:
        """(kind, folder, active memories), ordered, for the browser's tree."""
        self.wait_index()
        from core.index import queries

        return queries.folder_counts(self.reader.conn)

    def counts(self) -> dict[str, int]:
        """Memories by state ("memories", "active", "tombstoned") and "rows" in the index."""
        self.wait_index()
        from core.index import queries

        return queries.counts(self.reader.conn)


def _open_nodes(layout: Layout) -> MMR:
    """The node file is derived: the writer creates or rebuilds it under the lock at its
    first acquisition (never here: another process may be appending to it). Until then reads
    use a read-only handle, or an empty stand-in when it is missing or damaged."""
    try:
        return MMR.open(layout.mmr_nodes, readonly=True)
    except (FileNotFoundError, CorruptLog):
        return MMR(layout.mmr_nodes, -1, 0, True)


def _on_read_only_media(root: Path) -> bool:
    """The store's file system is mounted read-only (a read-only bind mount, a CD, a share)."""
    try:
        return bool(os.statvfs(root).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _file_above(root: Path) -> bool:
    return any(p.exists() and not p.is_dir() for p in root.parents)


def _store_above(root: Path) -> Path | None:
    """The store a new root would sit inside (a folder above with a manifest and a log)."""
    for p in root.parents:
        if (p / "manifest.json").is_file() and (p / "audit").is_dir():
            return p
    return None


def _cannot_create(folder: Path, e: OSError) -> str:
    why = (e.strerror or str(e)).lower()
    return (
        f"cannot create the store folder {folder}: {why}; pass --store with a folder you can write"
    )


def _not_a_folder(root: Path) -> str:
    where = root if root.exists() else next(p for p in root.parents if p.exists())
    return (
        f"{where} is a file, not a folder; a store is a folder: pass --store with a folder"
        " (or set CYBEROS_BRAIN_HOME)"
    )


def _env_passphrase() -> str | None:
    return os.environ.get("BRAIN_PASSPHRASE") or None  # empty protects nothing


def _decode_body(body: bytes) -> str | bytes:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body
