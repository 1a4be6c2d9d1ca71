"""`brain import SRC`: verify a foreign export (or store folder), then write its selected
memories here as fresh local puts.

Nothing is written unless the whole source verifies (`core.portable.foreign.verify`) and is signed by
the key pinned for its origin store id (`core.portable.pins`: trust on first use; the first import pins
it). Then, with the writer lock held, each selected memory (default: sync_class shareable or team-public) is decided
against the local state, keyed by `imported_from = {"store": <origin id>, "seq": <origin seq of
the row that wrote that version>}`:

- local path absent: a put, unless the memory last there was imported from this origin and
  moved away locally (the same version: nothing, `moved-here`; another: a conflict);
- local version last written by an import from the same origin: a put if the incoming version
  is newer, nothing if it is the same (re-import) or older;
- anything else (a local memory, another origin, a local edit or move of an imported memory, a
  local tombstone of a different version, a letter-case clash): the incoming version goes to
  `conflicts/<origin>/<path>` (body and sidecar) with a `sync.conflict` row, once per key;
- locally purged, or tombstoned after importing this very version: nothing (erasure wins).

Puts carry `row_extra = {"imported_from", "foreign_chain"}` (also the sidecar's whole extra:
the origin's own, uncommitted, is not carried) and keep title, tags, category, classification
and sync_class. All rows of one import are one request, bracketed by `session.start` / `session.end`: it commits whole or not at all. A
re-import that finds nothing to do writes no rows at all, not even the session pair.
Memories written by rows after the source's newest signed checkpoint are not imported (they
are chained but unsigned) and are counted as skipped; so are memories the source holds for PII
review (its chain's `pii.held` rows, core.pii.held), until it resolves them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from core import fsio
from core.errors import BrainError
from core.index import queries
from core.layout import sidecar_path
from core.models import SYNC_CLASSES, Sidecar
from core.portable import pins
from core.portable.foreign import Foreign, ForeignMemory, Select, open_source, verify
from core.write.file_view import read_sidecar
from core.write.intents import Intent, Note, Put

if TYPE_CHECKING:
    import sqlite3

    from core.store import Store
    from core.write.writer import Writer

DEFAULT_CLASSES = ("shareable", "team-public")


@dataclass
class ImportResult:
    origin: str
    source: str
    source_head: int
    checkpoint: int
    signers: list[str]
    selected: int
    written: list[str] = field(default_factory=list)  # paths put (new or newer from origin)
    conflicts: list[str] = field(default_factory=list)  # conflicts/<origin>/<path> written
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> memories
    first_seq: int = 0  # local rows written; 0 when the import changed nothing
    last_seq: int = 0
    # The origin's key pin (core.portable.pins): "first use" (pinned now), "pinned" (signed by the
    # pinned key), "rotated" (a key.rotated row the pinned key vouched for added a key).
    key_pin: str = ""
    # (path, origin seq, verdict) per memory decided: "put", "conflict", or a skip reason.
    verdicts: list[tuple[str, int, str]] = field(default_factory=list)


def parse_filter(spec: str | None) -> tuple[str, ...]:
    """None: shareable and team-public; "all": every class; else comma-separated classes."""
    if spec is None or not spec.strip():
        return DEFAULT_CLASSES
    if spec.strip() == "all":
        return SYNC_CLASSES
    parts = [p.strip() for p in spec.split(",") if p.strip()]
    bad = [p for p in parts if p not in SYNC_CLASSES]
    if bad:
        raise BrainError(
            f"--filter: unknown sync class {bad[0]!r}; use all or a comma-separated list of"
            f" {', '.join(SYNC_CLASSES)}"
        )
    return tuple(parts)


def import_store(store: Store, src: Path, *, filter: str | None, actor: str) -> ImportResult:
    if not actor:
        raise BrainError("every write names an actor (e.g. human:ana@laptop)")
    classes = parse_filter(filter)
    source = open_source(src)
    try:
        # Before the lock: it can take a while and writes nothing. Only the selected
        # memories' bodies are kept.
        foreign = verify(source, _selector(classes))
    finally:
        source.close()
    if foreign.store_id == store.manifest.store_id:
        raise BrainError(f"{src} is this very store (id {foreign.store_id}); nothing to import")
    result = ImportResult(
        origin=foreign.store_id,
        source=str(src),
        source_head=foreign.head,
        checkpoint=foreign.checkpoint,
        signers=foreign.signers,
        selected=len(foreign.memories),
        skipped=dict(foreign.skipped),
    )
    chosen = foreign.memories
    # The rows it writes are the caller's: the session records them as acknowledged.
    return store.session.run(lambda w: _import_locked(store, w, foreign, chosen, actor, result))


def _selector(classes: tuple[str, ...]) -> Select:
    """Why a verified memory is not imported ("" when it is); see `foreign.Select`."""

    def why_not(path: str, side: Sidecar, checkpoint: int, held: set[str]) -> str:
        if side.sync_class not in classes:
            return "filtered"
        if side.seq > checkpoint:
            return "unsigned"
        if path in held or side.pii_status == "held":
            return "pii-held"  # held for PII review at its origin: not shared yet
        return ""

    return why_not


def _skip(result: ImportResult, why: str) -> None:
    result.skipped[why] = result.skipped.get(why, 0) + 1


def _import_locked(
    store: Store,
    w: Writer,
    foreign: Foreign,
    chosen: list[ForeignMemory],
    actor: str,
    result: ImportResult,
) -> ImportResult:
    _check_pin(store, foreign, result)  # under the lock: two imports cannot both pin
    start = {"source_head": foreign.head, "checkpoint": foreign.checkpoint}
    return write_foreign(store, w, foreign.store_id, chosen, actor, result, "import", start)


def write_foreign(
    store: Store,
    w: Writer,
    origin: str,
    chosen: list[ForeignMemory],
    actor: str,
    result: ImportResult,
    purpose: str,
    start_extra: dict[str, Any],
) -> ImportResult:
    """With the writer lock held: decide and write already-verified memories of `origin` (an
    import's whole verified source, or envelopes a sync pull verified one by one), as one
    request bracketed by `session.start`/`session.end` with `purpose`. Each memory's verdict
    is appended to `result.verdicts` (path, origin seq, "put" | "conflict" | a skip reason)."""
    store.follower.wait_for(w.tip.seq)  # decisions read the local audit rows
    conn = store.reader.conn
    puts: list[Intent] = []
    notes: list[Intent] = []
    files: list[tuple[str, bytes, bytes]] = []
    for m in chosen:
        key = {"store": origin, "seq": m.row.seq}
        verdict = _decide(store, w, conn, m, key)
        result.verdicts.append((m.path, m.row.seq, verdict))
        if verdict == "put":
            puts.append(_put(m, key))
            result.written.append(m.path)
        elif verdict == "conflict":
            copy = f"conflicts/{origin}/{m.path}"
            target = conflict_file(store.root, copy)  # checked before anything is written
            if _conflict_recorded(conn, m.path, key):
                _skip(result, "conflict-recorded")
                result.verdicts[-1] = (m.path, m.row.seq, "conflict-recorded")
                if not target.exists():
                    files.append(_conflict_files(copy, m, key))
                continue
            files.append(_conflict_files(copy, m, key))
            extra = {"imported_from": key, "foreign_chain": m.row.chain, "copy": copy}
            notes.append(Note("sync.conflict", m.path, "", extra))
            result.conflicts.append(copy)
        else:
            _skip(result, verdict)
    for copy, body, side in files:
        fsio.mkdirs((store.root / copy).parent)
        fsio.write_file(store.root / copy, body)
        fsio.write_file(store.root / sidecar_path(copy), side)
    if files:
        fsio.syncfs(store.root)  # the copies are durable before the rows that name them
    if not puts and not notes:
        return result
    counts = {
        "conflicts": len(notes),
        "origin": origin,
        "purpose": purpose,
        "skipped": sum(result.skipped.values()),
        "written": len(puts),
    }
    batch = [
        Note("session.start", "", "", dict(counts, **start_extra)),
        *puts,
        *notes,
        Note("session.end", "", "", counts),
    ]
    done = w.write_now(batch, actor)
    result.first_seq, result.last_seq = done[0].seq, done[-1].seq
    return result


def conflict_file(root: Path, copy: str) -> Path:
    """The file of a conflict copy (`conflicts/<origin>/<path>` or its sidecar), refused
    unless it lies inside `<root>/conflicts/`: its origin comes from another store, and a
    name such as `..` would write, or delete, outside that folder. Callers validate the
    origin; this holds even where one did not."""
    base = (root / "conflicts").resolve()
    target = (root / copy).resolve()
    if not target.is_relative_to(base) or target == base:
        raise BrainError(f"{copy!r}: a conflict copy must lie inside conflicts/; refused")
    return root / copy


def _check_pin(store: Store, foreign: Foreign, result: ImportResult) -> None:
    """Trust on first use: refuse a source whose key is not the one pinned for its store id
    (or a successor it vouched for); pin it when this is the first import from that id."""
    known = pins.load(store.root)
    entry = known.get(foreign.store_id)
    keys, result.key_pin = pins.trusted_keys(
        foreign, entry["keys"] if entry else None, result.source
    )
    if keys and (entry is None or entry["keys"] != keys):
        since = entry.get("pinned_ns") if entry else None
        known[foreign.store_id] = {
            "keys": keys,
            "pinned_ns": since if isinstance(since, int) else store.clock(),
        }
        pins.save(store.root, known)  # durable before any row this import writes


def _decide(
    store: Store, w: Writer, conn: sqlite3.Connection, m: ForeignMemory, key: dict[str, Any]
) -> str:
    """put, conflict, or the reason to skip."""
    local = read_sidecar(store.root, m.path)
    if local is None:
        if w.view.case_conflict(m.path) is not None:
            return "conflict"
        return _moved_away(conn, m.path, key)
    if local.state == "purged":
        return "purged-here"
    if local.state == "tombstoned":
        return "deleted-here" if local.extra.get("imported_from") == key else "conflict"
    rows = queries.audit_page(conn, local.seq - 1, 1)
    came = rows[0].extra.get("imported_from") if rows and rows[0].seq == local.seq else None
    if not isinstance(came, dict) or came.get("store") != key["store"]:
        return "conflict"
    if came.get("seq") == key["seq"]:
        return "already-imported"
    if isinstance(came.get("seq"), int) and came["seq"] > key["seq"]:
        return "older-than-local"
    return "put"


def _moved_away(conn: sqlite3.Connection, path: str, key: dict[str, Any]) -> str:
    """The verdict for a path with no file: free ("put") unless the memory last here was
    imported from this origin and then moved away locally. Putting it back would undo that
    move, so: the very version moved ("moved-here", as a tombstone of it is "deleted-here"),
    or a conflict when the origin's version is another one (a local move of an import)."""
    rows = queries.history(conn, path)  # the memory most recently here, up to its move away
    if not rows or rows[-1].op != "move" or rows[-1].path == path:
        return "put"
    came = [r.extra.get("imported_from") for r in rows if r.op == "put"]
    if came and came[-1] == key:
        return "moved-here"
    ours = any(isinstance(c, dict) and c.get("store") == key["store"] for c in came)
    return "conflict" if ours else "put"


def _put(m: ForeignMemory, key: dict[str, Any]) -> Put:
    side = m.sidecar
    return Put(
        m.path,
        m.body,
        title=side.title,
        category=side.category,
        tags=list(side.tags),
        sync_class=side.sync_class,
        classification=side.classification,
        extra=_origin_extra(m, key),
        row_extra=_origin_extra(m, key),
    )


def _origin_extra(m: ForeignMemory, key: dict[str, Any]) -> dict[str, Any]:
    """The sidecar `extra` an imported version (or its conflict copy) gets: where it came from,
    and nothing of the origin's own `extra`. That map is not committed by the origin's row
    (its `extra.meta` covers only the governing fields), so its contents are unverified and
    unbounded, and this store acts on some keys (`merged_into`, pattern scores): none is
    carried, rather than an allow-list whose meaning could drift."""
    return {"foreign_chain": m.row.chain, "imported_from": key}


def _conflict_recorded(conn, path: str, key: dict[str, Any]) -> bool:
    rows = queries.audit_page(conn, 0, 10_000, op="sync.conflict", path_prefix=path)
    return any(r.path == path and r.extra.get("imported_from") == key for r in rows)


def _conflict_files(copy: str, m: ForeignMemory, key: dict[str, Any]) -> tuple[str, bytes, bytes]:
    side = msgspec.structs.replace(m.sidecar, extra=_origin_extra(m, key))
    return copy, m.body, msgspec.json.encode(side, order="sorted")


__all__ = ["ImportResult", "conflict_file", "import_store", "parse_filter", "write_foreign"]
