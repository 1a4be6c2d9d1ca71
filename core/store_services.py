"""The Store's services beyond reads and writes: tiers, context, the verifiable ledger, the
doctor, portability and semantic search. Thin: each method hands over to its own module."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from core import fsio, paths, validate
from core.errors import BrainError, ReadOnly
from core.index import queries

if TYPE_CHECKING:
    from core.doctor.model import DoctorReport
    from core.portable.backup import BackupResult
    from core.portable.consolidate import ConsolidateResult
    from core.portable.export import ExportResult
    from core.portable.importer import ImportResult


class StoreServices:
    # -- tiers and session context ------------------------------------------------------

    @property
    def tiers(self):
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

    def _index_call(self, fn):
        """Run fn(index_writer) where the index is written: on the applier thread if any."""
        if self._applier is not None:
            return self._applier.call(fn)
        if self._index is None:
            raise ReadOnly(f"{self.root} was opened read-only")
        return fn(self._index)

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
    def semantic(self):
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

    def warm_semantic(self) -> None:
        """Load the embedding model now (a host calls it in a worker after start-up)."""
        self.semantic.encoder()

    def start_embedder(self, stop: threading.Event, *, progress=None) -> int:
        """Run the embedding loop in the calling (host worker) thread until stop is set:
        each memory a row leaves without a vector gets one, so a put is findable by semantic
        search well within a second. Returns how many vectors it stored."""
        from core.search.semantic import Embedder

        return Embedder(self, progress=progress).run(stop)

    def wait_for_change(self, after_seq: int, timeout: float) -> int:
        """Wait until the index has applied a row beyond after_seq (from this process or
        another) or timeout passes; returns the index's applied seq."""
        deadline = time.monotonic() + timeout
        while True:
            (cur,) = self.reader.conn.execute(
                "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'last_applied'"
            ).fetchone()
            if self._applier is not None:
                cur = max(cur, self._applier.applied)
            left = deadline - time.monotonic()
            if cur > after_seq or left <= 0:
                return cur
            if self._applier is not None:  # own writes wake us at once; others' within 50 ms
                self._applier.wait_past(after_seq, min(left, 0.05))
            else:
                time.sleep(min(left, 0.05))
