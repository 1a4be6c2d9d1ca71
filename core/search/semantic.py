"""Semantic and hybrid search, `similar`, and keeping the index's embeddings current.

Nothing here runs on its own: a one-shot caller (the CLI) gets the few missing vectors
computed inline by its search; a long-running host (the TUI, `brain mcp`) runs an `Embedder`
in one of its workers, which embeds what each new row left without a vector (the engine's only
threads stay the writer and the applier). Vectors are written through the index writer, so
they are ordered with row application and purge.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec

from core import paths
from core.errors import NotFound
from core.index import queries, schema, search_rows
from core.index.vectors import ensure_schema, write
from core.search import embeddings
from core.search.vectors import VectorCache

if TYPE_CHECKING:
    from core.store import Store

MODES = ("lexical", "semantic", "hybrid")
INLINE_EMBED = 64  # a one-shot search embeds at most this many missing memories first
SNIPPET_CHARS = 160
Progress = Callable[[int, int], None]


class SemanticIndex:
    """A Store's semantic state: which model, the in-memory vectors, and who embeds."""

    def __init__(self, store: Store) -> None:
        self.model = embeddings.model_name(store.manifest.settings.embed_model)
        self.cache = VectorCache(self.model)
        self.embed_lock = threading.Lock()  # one embedding pass at a time per process
        self.checked: tuple[int, str | None] | None = None  # index state with nothing missing
        self.hosted = 0  # embedder loops running: while > 0, searches leave embedding to them

    def encoder(self) -> embeddings.Encoder:
        return embeddings.encoder(self.model)


# -- keeping embeddings current ----------------------------------------------------------------


def _index_state(conn: sqlite3.Connection) -> tuple[int, str | None]:
    return search_rows.embed_state(conn)


# A memory can only lose its vector (or be new) through a row: a complete pass at applied seq L
# proves every active memory with seq <= L has one, so the next pass looks only at seq > L
# (through the memories_seq index). The proof is kept in meta for the next process too; a
# rebuilt index has a new epoch and another model another name, and both start from 0.
_WATERMARK = "embedded_through"


def _watermark(conn: sqlite3.Connection, model: str, epoch: str | None) -> int:
    hit = schema.meta(conn, _WATERMARK)
    if hit is None or epoch is None:
        return 0
    m, e, seq = hit.rsplit("\t", 2)
    return int(seq) if (m, e) == (model, epoch) else 0


def pending(store: Store) -> int:
    """Active memories without a vector from the current model."""
    store.wait_index()
    conn = store.reader.conn
    since = _watermark(conn, store.semantic.model, _index_state(conn)[1])
    return search_rows.missing_count(conn, since, store.semantic.model)


# Texts the model encodes per forward pass. Rows are read `batch` at a time and the model sorts
# them by length, so a pass pads little; small passes also keep the activations small. Measured
# on 2 loaded CPUs, `brain embed` over the full demo (2,880 memories): 172 s and 93 s of CPU in
# passes of 16, against 263 s and 135 s in one pass of 64; peak RSS 1.03 GB against 1.19 GB.
ENCODE_BATCH = 16
Known = Callable[[str], bytes | None]


def embed_pending(
    store: Store,
    *,
    batch: int = 64,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    limit: int | None = None,
    known: Known | None = None,
) -> int:
    """Compute vectors for active memories that lack one; returns how many were stored.
    progress(done, total) after each batch; cancel stops between batches.

    known(text), where given, returns a vector this store's model computed earlier for exactly
    that text (float32 little-endian bytes), or None: those are stored as they are, and the
    model is loaded only if some text is not known (a demo ships its corpus's vectors)."""
    sem = store.semantic
    enc = None if known is not None else sem.encoder()
    dim = 0 if enc is None else enc.dim
    with sem.embed_lock:
        store.follower.call(lambda ix: ensure_schema(ix.conn))
        conn = store.reader.conn
        state = _index_state(conn)
        since = _watermark(conn, sem.model, state[1])
        missing = search_rows.missing_count(conn, since, sem.model)
        total = missing if limit is None else min(missing, limit)
        done = stored = after = 0
        while done < total and not (cancel is not None and cancel.is_set()):
            rows = search_rows.missing_batch(
                conn, since, after, sem.model, min(batch, total - done)
            )
            if not rows:
                break
            texts = [embeddings.embed_text(t or "", b or "") for _i, _s, t, b in rows]
            blobs: list[bytes | None] = [None] * len(texts)
            if known is not None:
                for k, text in enumerate(texts):
                    blob = known(text)
                    if blob is not None and (dim == 0 or len(blob) == 4 * dim):
                        dim = dim or len(blob) // 4
                        blobs[k] = blob
            todo = [k for k, blob in enumerate(blobs) if blob is None]
            if todo:
                if enc is None:
                    enc = sem.encoder()
                    if dim and enc.dim != dim:
                        raise ValueError(
                            f"known vectors have {dim} dimensions, the model {enc.dim}"
                        )
                    dim = enc.dim
                vecs = enc.encode([texts[k] for k in todo], batch_size=ENCODE_BATCH)
                if len(todo) >= ENCODE_BATCH:
                    _release_freed_memory()
                for k, v in zip(todo, vecs, strict=True):
                    blobs[k] = v.astype("<f4").tobytes()
            items = [
                (i, s, blob)
                for (i, s, _t, _b), blob in zip(rows, blobs, strict=True)
                if blob is not None  # every text is known or encoded by now
            ]
            stored += store.follower.call(_vector_writer(sem.model, items, dim))
            done += len(rows)
            after = rows[-1][0]
            if progress is not None:
                progress(done, total)
        if done >= missing:  # nothing is missing at `state`; rows after it: look again
            sem.checked = state
            if state[0] > since:
                mark = f"{sem.model}\t{state[1]}\t{state[0]}"
                store.follower.call(lambda ix: ix.set_meta(_WATERMARK, mark))
    return stored


def _release_freed_memory() -> None:
    """Hand the heap's free pages back to the OS after a step of real work (glibc only; a
    few ms). The model's activations are freed after each forward pass, but glibc keeps the
    pages, so a long pass kept growing the process (the workstation: 1.05 GB while embedding
    the demo). Measured over 640 memories: 773 MB at the end without it; with it 533 MB
    between steps and 715 MB at the peak (the loaded model alone: ~450 MB)."""
    try:
        import ctypes

        trim = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return
    trim(0)


def embedded_texts(store: Store) -> list[tuple[str, bytes]]:
    """(the text embedded, its vector) for every active memory with a vector from the store's
    model: what a shipped set of vectors is made from (brain_tui.demo_vectors)."""
    store.wait_index()
    rows = store.reader.conn.execute(
        "SELECT m.title, f.body, e.vec FROM memories m JOIN memories_fts f ON f.rowid = m.id"
        " JOIN embeddings e ON e.id = m.id AND e.model = ? WHERE m.state = 'active'",
        (store.semantic.model,),
    ).fetchall()
    return [(embeddings.embed_text(t or "", b or ""), bytes(v)) for t, b, v in rows]


def active_texts(store: Store) -> list[str]:
    """What embed_pending embeds for every active memory (embed_text of title and body)."""
    store.wait_index()
    rows = store.reader.conn.execute(
        "SELECT m.title, f.body FROM memories m JOIN memories_fts f ON f.rowid = m.id"
        " WHERE m.state = 'active' ORDER BY m.id"
    ).fetchall()
    return [embeddings.embed_text(t or "", b or "") for t, b in rows]


def maybe_embed(store: Store) -> None:
    """Before a one-shot search: embed what is missing, unless a host's embedder does it."""
    sem = store.semantic
    if sem.hosted or store.read_only:
        return
    if _index_state(store.reader.conn) == sem.checked:
        return
    embed_pending(store, limit=INLINE_EMBED)


class Embedder:
    """The host-driven embedding loop: run(stop) blocks in the host's worker thread, embedding
    what each new row leaves without a vector, until stop is set."""

    def __init__(self, store: Store, *, batch: int = 64, progress: Progress | None = None) -> None:
        self.store = store
        self.batch = batch
        self.progress = progress
        self.embedded = 0

    def run(self, stop: threading.Event, *, poll_s: float = 0.2) -> int:
        sem = self.store.semantic
        sem.hosted += 1
        try:
            sem.encoder()  # warm the model before the first row needs it
            seen = -1
            while not stop.is_set():
                now = _index_state(self.store.reader.conn)
                if now != sem.checked:
                    seen = now[0]
                    self.embedded += embed_pending(
                        self.store, batch=self.batch, progress=self.progress, cancel=stop
                    )
                seen = self.store.wait_for_change(seen, poll_s)
        finally:
            sem.hosted -= 1
        return self.embedded


# -- queries ----------------------------------------------------------------------------------


def search(
    store: Store, query: str, *, mode: str, limit: int, **filters: Any
) -> list[queries.SearchHit]:
    if mode == "hybrid":
        from core.search import hybrid

        return hybrid.search(store, query, limit=limit, **filters)
    conn, qv = prepare(store, query)
    return hits(conn, top_k(store.semantic, conn, qv, limit, filters), {})


def prepare(store: Store, query: str):
    """Load the model, catch the index up, embed what is missing; (connection, query vector)."""
    enc = store.semantic.encoder()
    store.wait_index()
    maybe_embed(store)
    return store.reader.conn, enc.encode([query])[0]


def similar(store: Store, path: str, *, limit: int = 10, **filters: Any) -> list[queries.SearchHit]:
    """Memories nearest in meaning to the memory at path (itself left out)."""
    path = paths.validate(path)
    sem = store.semantic
    enc = sem.encoder()
    store.wait_index()
    maybe_embed(store)
    conn = store.reader.conn
    hit = search_rows.active_text(conn, path)
    if hit is None:
        raise NotFound(f"{path}: no such active memory")
    mem_id, title, body = hit
    with sem.cache.lock:
        sem.cache.sync(conn)
        k = sem.cache.pos.get(mem_id)
        vec = None if k is None else sem.cache.mat[k].copy()
    if vec is None:
        vec = enc.encode([embeddings.embed_text(title or "", body or "")])[0]
    ranked = [t for t in top_k(sem, conn, vec, limit + 1, filters) if t[0] != mem_id]
    return hits(conn, ranked[:limit], {})


def top_k(sem: SemanticIndex, conn, qv, k: int, filters: dict) -> list[tuple[int, float]]:
    """Cosine top-k; with filters, over the memories they allow (checked in SQL)."""
    filters = {key: v for key, v in filters.items() if v}
    cache = sem.cache
    with cache.lock:
        cache.sync(conn)
        if not filters:
            return cache.top(qv, k)
        wide = min(cache.n, max(10 * k, 200))  # usually enough survive the filters
        cand = cache.top(qv, wide)
        ok = _allowed(conn, filters, [i for i, _s in cand])
        kept = [t for t in cand if t[0] in ok]
        if len(kept) >= k or wide >= cache.n:
            return kept[:k]
        return cache.top(qv, k, cache.mask(_allowed(conn, filters, None)))


def _allowed(conn: sqlite3.Connection, filters: dict, ids: list[int] | None) -> set[int]:
    return search_rows.allowed_ids(conn, filters, ids)


def cosines(sem: SemanticIndex, ids: list[int], qv) -> dict[int, float]:
    out = {}
    with sem.cache.lock:
        for i in ids:
            k = sem.cache.pos.get(i)
            if k is not None:
                out[i] = float(sem.cache.mat[k] @ qv)
    return out


def hits(
    conn, ranked: list[tuple[int, float]], snippets: dict[int, str]
) -> list[queries.SearchHit]:
    """SearchHits in ranked order. The snippet is the given one (a highlighted FTS snippet)
    or else the start of the body."""
    rows = search_rows.hit_rows(conn, [i for i, _s in ranked])
    out = []
    for i, score in ranked:
        if i not in rows:  # removed since it was ranked
            continue
        _i, p, t, k, c, tg, tr, u, body = rows[i]
        snip = snippets.get(i) or _snippet(body or "")
        tags = msgspec.json.decode(tg)
        out.append(queries.SearchHit(p, t, k, c, tags, tr, u, float(score), snip))
    return out


def _snippet(body: str) -> str:
    """The body's first ~160 characters on one line, cut at a word."""
    text = " ".join(body.split())
    if len(text) <= SNIPPET_CHARS:
        return text
    cut = text.rfind(" ", 0, SNIPPET_CHARS)
    return text[: cut if cut > SNIPPET_CHARS // 2 else SNIPPET_CHARS] + "…"


def _vector_writer(model: str, items: list[tuple[int, int, bytes]], dim: int) -> Callable[..., int]:
    """A task for the index's writing connection: store these vectors."""
    return lambda ix: write(ix.conn, model, items, dim)
