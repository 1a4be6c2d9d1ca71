"""`Store`: the one engine facade the CLI, the TUI, MCP and tests use."""

from __future__ import annotations

import os
import secrets
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
    PreconditionFailed,
    ReadOnly,
    StoreExists,
    StoreNotFound,
)
from core.index import queries
from core.index.db import IndexReader, IndexWriter
from core.layout import Layout, resolve_root
from core.log.binlog import Binlog
from core.log.head import read_head
from core.log.tip import Tip, scan_current, scan_from, start_tip
from core.models import PROTOCOL_VERSION, Manifest, Memory, Row
from core.store_index import StoreIndex
from core.store_services import StoreServices
from core.store_state import StoreState, compute_state
from core.verify.mmr import MMR
from core.view import view as view_memory
from core.write import purge_list
from core.write.file_view import read_sidecar

if TYPE_CHECKING:
    # The write path is imported when a write starts: a read-only command never loads it.
    from core.index.applier import Applier
    from core.write.intents import Intent, Put
    from core.write.planner import Plan, Result
    from core.write.writer import Writer

_OPENERS = (b"---", b"\xef\xbb\xbf---")  # frontmatter, with or without a UTF-8 BOM before it
_LEFT_OPEN: list = []  # index connections kept open until a fast process exit
WAL_CHECKPOINT_BYTES = 2 << 20  # below SQLite's own 1,000-page auto-checkpoint
Clock = Callable[[], int]
Rng = Callable[[int], bytes]


class Store(StoreServices, StoreIndex):
    """Open once per process; see the module docstrings of the mixins for the rest."""

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
        self._signers: list | None = None
        self.last_checkpoint = None
        self.problem: str | None = None
        self.cannot_write: str | None = None  # set when a writable open had to degrade
        self.exit_without_checkpoint = False  # see close()
        self.index_problem: str | None = None  # a read-only open found the index unusable
        self.media_read_only = False
        # The node file is derived: the writer creates or rebuilds it under the lock at its
        # first acquisition (never here: another process may be appending to it). Until then
        # reads use a read-only handle, or an empty stand-in when it is missing or damaged.
        try:
            self._mmr_ro = MMR.open(layout.mmr_nodes, readonly=True)
        except (FileNotFoundError, CorruptLog):
            self._mmr_ro = MMR(layout.mmr_nodes, -1, 0, True)
        self.tip = Tip()
        self.notes: list[str] = []
        self._writer: Writer | None = None
        self._writer_start = threading.Lock()  # two first writes on two threads: one writer
        self._applier: Applier | None = None
        self._index: IndexWriter | None = None
        self.reader = IndexReader(layout.index_db, readonly=read_only)
        self._acked = 0
        self._access_size = -1
        self._view_cache: dict[str, tuple[int, int, object]] = {}
        self._purge_notes: dict[int, list[str]] = {}
        self._semantic = None  # core.search.semantic.SemanticIndex, made on first semantic use

    @property
    def mmr(self) -> MMR:
        w = self._writer
        return w.mmr if w is not None and w.mmr is not None else self._mmr_ro

    # -- lifecycle ----------------------------------------------------------------------

    @classmethod
    def init(
        cls,
        root: str | os.PathLike[str] | None = None,
        *,
        allow_temp: bool = False,
        clock: Clock = time.time_ns,
        rng: Rng = secrets.token_bytes,
        **kw,
    ) -> Store:
        layout = Layout(resolve_root(root))
        paths.check_root_allowed(layout.root, allow_temp)
        if not layout.root.is_dir() and (layout.root.exists() or _file_above(layout.root)):
            raise StoreExists(_not_a_folder(layout.root))
        if layout.manifest.exists():
            raise StoreExists(f"a store already exists at {layout.root}")
        if layout.root.exists() and any(layout.root.iterdir()):
            raise StoreExists(
                f"{layout.root} is not empty and holds no store; choose an empty folder"
            )
        for d in [layout.root, *layout.skeleton()]:
            fsio.mkdirs(d)
        for kind in (
            "decisions",
            "facts",
            "people",
            "projects",
            "preferences",
            "drift",
            "refinements",
        ):
            fsio.mkdirs(layout.memories / kind)
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
        rng: Rng = secrets.token_bytes,
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
        if not self.read_only:
            try:
                self._index = IndexWriter(self.layout.index_db, self.root)
            except (sqlite3.OperationalError, OSError) as e:
                self._degrade(e)
        rebuild = self._index is not None and self._index.fresh
        start = self._verified_tip()
        # HEAD before the scan: writers append frames before HEAD, so a live writer can never
        # make this read look ahead of the log.
        head = read_head(self.layout)
        scan = scan_from(self.binlog, start)  # across sealed segments if consolidated since
        self.tip = scan.tip
        needs_recovery = (
            (self.layout.journal.exists() and self.layout.journal.stat().st_size > 0)
            or bool(_pending_purges(self.layout))
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
            self.index_problem = self._probe_index()
            return
        if self.problem is None and (needs_recovery or scan.bad or scan.broken):
            self._start_writer()
            assert self._writer is not None and self._applier is not None
            try:
                self._writer_call([])  # acquire the lock: replay, fence, finish purges
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
            self.notes.extend(self._writer.notes)  # what recovery repaired, reported as info
            self._writer.notes.clear()
            # Replayed rows may still be queued on the applier thread; the index rebuild and
            # catch-up below use the same connection from this thread, so drain it first.
            self._applier.call(lambda ix: None)
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
                self._rebuild_index()
            self._catch_up_index()
            self._record_verified(scan)
        except sqlite3.OperationalError as e:
            self._degrade(e)  # a full disk: the index cannot take the rows now; reads go on

    def _confirm_under_lock(self) -> bool:
        """Open read the log without the lock: a writer recovering a crashed holder's journal
        may have been rewriting its unsynced tail at that instant (a log that looked shorter
        than its checkpoint, a torn frame). Before a person's freeze is recorded for every
        process, look again as the lock holder, after replay. True: the problem stands."""
        problem, self.problem = self.problem, None
        try:
            self._start_writer()
            assert self._writer is not None
            # Whatever open read may be what was being rewritten: verify from genesis (rare).
            if not self._writer.lock.held:
                self._writer.tip = Tip()
            self._writer.run_locked(lambda: None)  # acquisition: fence, replay, verify the scan
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
        self.tip = self._writer.tip
        self.problem = self._check_checkpoint()
        return self.problem is not None

    def _check_checkpoint(self) -> str | None:
        """Open's check of the newest checkpoint and the witness (writable opens only). When an
        earlier open verified the same note bytes, keys and root, and the witness agrees, the
        signature is not checked again (core.verify.note_cache): no cryptography on a one-shot put."""
        from core.verify import checkpoints, note_cache

        ix = self._index
        if ix is not None and self.mmr.size >= self.tip.seq:
            w = checkpoints.read_witness(self.manifest.store_id)
            hit = note_cache.recall(
                self.layout,
                ix.get_meta(note_cache.META_KEY),
                self.mmr,
                self.tip.seq,
                (w.size, w.root) if w else None,
            )
            if hit is not None:
                self.last_checkpoint = hit
                return None
        from core import verifiable

        why = verifiable.check_on_open(self)
        cp = self.last_checkpoint
        if why is None and cp is not None and ix is not None:
            fp = note_cache.fingerprint(self.layout, cp.size)
            if fp is not None:
                try:
                    ix.set_meta(note_cache.META_KEY, note_cache.encode(cp, fp[0]))
                except sqlite3.Error:
                    pass  # a full disk: the next open checks the signature again
        return why

    def _probe_index(self) -> str | None:
        """Can a read-only open query the index? (A damaged or missing one cannot; a writable
        open rebuilds it.)"""
        try:
            self.reader.conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        except sqlite3.Error as e:
            return f"the index cannot be read ({e}); a writable open rebuilds it (`brain reindex`)"
        return None

    def _degrade(self, e: BaseException) -> None:
        """The store cannot be written here (read-only media, a full disk, an I/O error): open
        it read-only instead, so state, view, tail, search, history, doctor and prove work,
        and say why writes are refused."""
        why = getattr(e, "strerror", None) or str(e)
        try:
            self.media_read_only = bool(os.statvfs(self.root).f_flag & os.ST_RDONLY)
        except OSError:
            self.media_read_only = False
        self.cannot_write = (
            f"the store cannot be written ({why}); reads show it as last indexed."
            " Free disk space or remount it writable, then retry"
        )
        self.notes.append(self.cannot_write)
        self.read_only = True
        for part in (self._writer, self._applier, self._index):
            if part is not None:
                part.close()
        self._writer = self._applier = self._index = None
        self.reader.close()
        self.reader = IndexReader(self.layout.index_db, readonly=True)

    def _check_head(self, head: int) -> None:
        """HEAD ahead of the log with no journal to replay: synced rows were lost."""
        later = scan_current(self.binlog, self.tip)  # unless a writer appended meanwhile
        if later.tip.seq >= head:
            return
        self.problem = (
            f"HEAD says seq {head} but the log ends at seq {later.tip.seq}: rows are missing"
            " from the synced part of the log. Run `brain doctor`."
        )

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._applier is not None:
            self._applier.close()
            self._applier = None
        if self.exit_without_checkpoint:
            # The process exits right after (a one-shot CLI command, through os._exit):
            # closing the last SQLite connection would checkpoint the WAL, two more device
            # syncs than the write needs. The index is derived; the next opener reads the WAL.
            # Only a WAL grown past a few MB is checkpointed here, once in many commands.
            self.reader.close()
            if self._index is not None and _wal_bytes(self.layout.index_db) > WAL_CHECKPOINT_BYTES:
                try:
                    self._index.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                except sqlite3.Error:
                    pass  # busy (another process reads): a later command tries again
            _LEFT_OPEN.append(self._index)
        else:
            if self._index is not None:
                self._index.close()
            self.reader.close()
        self._index = None
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
        return self.batch(
            [self.put_intent(path, body, parse_frontmatter, expect, **fields)], actor
        )[0]

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
                if meta.kind is not None and meta.kind != paths.kind_of(paths.validate(path)):
                    raise BrainError(
                        f"{path}: frontmatter says kind {meta.kind!r} but the path is under"
                        f" memories/{paths.kind_of(paths.validate(path))}/"
                    )
                if meta.extra and fields.get("extra") is None:
                    fields["extra"] = meta.extra
                body = text
            body = body.encode("utf-8")
        validate.put_fields(fields)  # frontmatter may have added some
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
        res.notes = self._purge_notes.pop(res.seq, [])
        return res

    def note(self, op: str, *, actor: str, path: str = "", extra: dict | None = None) -> Result:
        validate.note(op, path, extra)
        from core.write.intents import Note

        return self.batch([Note(op, path, "", extra or {})], actor)[0]

    def batch(self, intents: Sequence[Intent], actor: str) -> list[Result]:
        """Commit intents as one request: all of them or none."""
        validate.batch(intents, actor)
        try:
            results = self._writer_call(intents, actor)
        except PreconditionFailed:
            # The rejection is itself a durable row (put_if.rejected): a history or tail that
            # follows must wait for the index to hold it, as for any row this caller caused.
            self._acked = max(self._acked, self.tip.seq)
            raise
        if results:
            self._acked = max(self._acked, max(r.seq for r in results))
        return results

    def _writer_call(self, intents: Sequence[Intent], actor: str = "system") -> list[Result]:
        self._refuse_if_frozen()
        self._start_writer()
        assert self._writer is not None
        return self._writer.submit(intents, actor)

    def _start_writer(self) -> None:
        with self._writer_start:
            self._start_writer_locked()

    def _start_writer_locked(self) -> None:
        if self._writer is not None:
            return
        from core.write.lock import refuse_network_fs

        refuse_network_fs(self.root)
        if self._applier is None:
            assert self._index is not None
            from core.index.applier import Applier

            self._applier = Applier(self._index, self._backfill)
        from core.write.writer import Writer

        self._writer = Writer(
            self.layout,
            self.tip,
            clock=self.clock,
            rng=self.rng,
            program=self.program,
            lock_timeout_s=self.lock_timeout_s,
            on_rows=self._rows_applied,
            on_acquire=self._finish_purges,
            after_group=self._after_group,
        )
        self._writer.checkpoint_every_rows = self.manifest.settings.checkpoint_every_rows
        if self.service:
            self._writer.checkpoint_every_s = self.manifest.settings.checkpoint_every_ms / 1000
        self._writer.checkpoint_hook = self._checkpoint_locked

    def _checkpoint_locked(self) -> str:
        from core import verifiable

        return verifiable.checkpoint_locked(self)

    def _start_writer_checked(self) -> None:
        self._refuse_if_frozen()
        self._start_writer()

    def _refuse_if_frozen(self) -> None:
        if self.cannot_write:
            raise ReadOnly(f"writes are refused: {self.cannot_write}")
        if self.read_only:
            raise ReadOnly(f"{self.root} was opened read-only")
        # The writer's own freeze is not checked here: it retries (replays) on the next request.
        frozen = self.frozen(own_writer=False)
        if frozen is not None and not (self._writer is not None and self._writer.allow_frozen):
            raise Frozen(f"writes are refused: the store is {frozen[0]}: {frozen[1]}")

    def frozen(self, *, own_writer: bool = True) -> tuple[str, str] | None:
        """(state, why) when writes are refused, else None: this process's own finding, its
        writer's, or the verdict any process recorded in the store (the same for all)."""
        if self.problem is not None:
            return verdict.FROZEN_HUMAN, self.problem
        if self.cannot_write and not self.media_read_only:
            # A full disk or an I/O error; read-only media is not a freeze (a note says why).
            return verdict.FROZEN_RECOVERABLE, self.cannot_write
        w = self._writer
        if own_writer and w is not None and w.frozen:
            return verdict.FROZEN_RECOVERABLE, w.frozen
        v = verdict.read(self.layout)
        return (v.state, v.reason) if v is not None else None

    def _rows_applied(self, rows: list[Row]) -> None:
        assert self._writer is not None and self._applier is not None
        self.tip = self._writer.tip
        self._applier.enqueue(rows, self._writer.tip.offset)
        self._view_cache.clear() if any(r.op in ("move", "delete") for r in rows) else None

    def _after_group(self, rows: list[Row], plan: Plan) -> None:
        if plan.purges:
            news = self._finish_purges()
            for s in plan.purges:  # handed to the caller of delete() (Result.notes)
                self._purge_notes[s] = news

    def _finish_purges(self) -> list[str]:
        if not _pending_purges(self.layout):
            return []
        assert self._writer is not None and self._applier is not None
        self._feed_index(self._writer.tip.seq)
        self._applier.wait_for(self._writer.tip.seq)
        # Ignored entries are met again at every acquisition: say so once.
        from core.purge import finish_purges

        news = finish_purges(self.layout, self._applier, self._writer)
        self.notes.extend(n for n in dict.fromkeys(news) if n not in self.notes)
        self._view_cache.clear()
        if self._semantic is not None:  # purge rules: in-memory caches of vectors go too
            self._semantic.cache.forget()
        return news

    # -- reads --------------------------------------------------------------------------

    def view(self, path: str, *, actor: str | None = None) -> Memory:
        """Read a memory; naming an actor journals the read as an access (core.view)."""
        return view_memory(
            self.layout,
            path,
            actor=actor,
            clock=self.clock,
            cache=self._view_cache,
            notes=self.notes,
        )

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
        return queries.audit_page(self.reader.conn, from_seq - 1, limit, **filters)

    def history(self, path: str) -> list[Row]:
        path = paths.validate(path)
        self.wait_index()
        return queries.history(self.reader.conn, path)

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
        return queries.search(self.reader.conn, query, limit=limit, **filters)

    def memories(self, after: str = "", limit: int = 100, **filters) -> list[queries.MemoryRow]:
        validate.memories(after, limit, filters)
        self.wait_index()
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
        return compute_state(self)

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
        rows = queries.audit_page(self.reader.conn, seq - 1, 1)
        return rows[0] if rows and rows[0].seq == seq else None

    def indexed_seq(self) -> int:
        """The newest row the index holds (one lookup at the end of the primary key)."""
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
        return queries.memory_rows(self.reader.conn, list(paths))

    def folder_counts(self) -> list[tuple[str, str, int]]:
        """(kind, folder, active memories), ordered, for the browser's tree."""
        self.wait_index()
        return queries.folder_counts(self.reader.conn)

    def counts(self) -> dict[str, int]:
        """Memories by state ("memories", "active", "tombstoned") and "rows" in the index."""
        self.wait_index()
        return queries.counts(self.reader.conn)


def _pending_purges(layout: Layout) -> list[int]:
    return purge_list.read(layout.purge_pending).seqs


def _wal_bytes(db: Path) -> int:
    try:
        return os.stat(f"{db}-wal").st_size
    except FileNotFoundError:
        return 0


def _file_above(root: Path) -> bool:
    return any(p.exists() and not p.is_dir() for p in root.parents)


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
