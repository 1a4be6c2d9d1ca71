"""Background services the workstation runs while a store is open (issue 6).

- The embedding model warms in a thread worker after the first frame (importing
  sentence-transformers costs seconds); the memory browser's search turns hybrid once it is
  ready. Without the `semantic` extra the install hint is shown once and lexical search stays.
- Embedding: one pass per wake-up (the index's newest row moved, the state was re-read, the
  model became ready), coalesced like the header's state refresh, so an idle app runs nothing
  and a new memory is findable by meaning well within a second of its put.
- Tiers: only on demand (`b` in the memory browser). Reading never writes: opening, quitting
  or leaving the workstation idle appends nothing to the ledger (a rebalance is a
  `tier.changed` row); the engine rebalances as part of writes.

Every engine call runs in a thread worker and ends by posting a message; failures become
notifications. `ServicesMixin` is the app's half; the module functions are the workers' bodies.
"""

from __future__ import annotations

import threading
from functools import partial
from typing import TYPE_CHECKING, Any

from brain_tui.messages import (
    ActivityChanged,
    EmbedFinished,
    Rebalanced,
    RebalanceRequested,
    SemanticStateChanged,
    SemanticWanted,
)
from brain_tui.workers import Target
from widgets.status import describe

if TYPE_CHECKING:
    from core.store import Store

EMBED_BATCH = 64
READY_NOTE_S = 4.0  # how long the status line says "semantic ready"


# -- worker bodies (thread workers; they never raise) ---------------------------------------


def warm(target: Target, store: Any) -> None:
    from core.search.embeddings import SemanticUnavailable

    try:
        store.warm_semantic()
    except SemanticUnavailable as e:
        target.post_message(SemanticStateChanged("unavailable", str(e)))
    except Exception as e:  # noqa: BLE001 - shown once; lexical search keeps working
        target.post_message(SemanticStateChanged("failed", describe(e)))
    else:
        target.post_message(SemanticStateChanged("ready"))


def embed_pass(target: Target, store: Any, cancel: threading.Event) -> None:
    """Embed every active memory that lacks a vector; progress in the status line."""
    stored = 0
    try:
        total = store.semantic_pending()
        if total:
            if total > EMBED_BATCH:  # one batch takes a blink: only say so for real work
                _embed_progress(target, 0, total)
            progress = partial(_embed_progress, target) if total > EMBED_BATCH else None
            stored = store.embed_pending(batch=EMBED_BATCH, progress=progress, cancel=cancel)
    except Exception as e:  # noqa: BLE001
        target.post_message(EmbedFinished(stored, e))
    else:
        target.post_message(EmbedFinished(stored))
    finally:
        target.post_message(ActivityChanged("embed", None))


def _embed_progress(target: Target, done: int, total: int) -> None:
    target.post_message(ActivityChanged("embed", f"embedding {done:,}/{total:,}"))


def rebalance(target: Target, store: Any, actor: str | None, manual: bool) -> None:
    target.post_message(ActivityChanged("tiers", "rebalancing tiers…"))
    try:
        kw = {"actor": actor} if actor else {}
        result = store.tiers.rebalance(**kw)
    except Exception as e:  # noqa: BLE001
        target.post_message(Rebalanced(None, manual, e))
    else:
        target.post_message(Rebalanced(result, manual))
    finally:
        target.post_message(ActivityChanged("tiers", None))


def rebalance_text(result: dict[str, int]) -> str:
    n = result.get("moves", 0)
    counts = " · ".join(f"{t} {result.get(t, 0):,}" for t in ("hot", "warm", "cold"))
    return f"rebalanced: {n:,} move{'s' if n != 1 else ''} ({counts})"


# -- the app's half -----------------------------------------------------------------------------


class ServicesMixin:
    """Mixed into BrainApp, which provides store, actor, the Textual App API and the reactives
    `semantic_state` ("off", "warming", "ready", "unavailable", "failed") and `tiers_version`
    (bumped after every rebalance, so panes showing tiers reload)."""

    store: Store | None
    semantic_state: str
    tiers_version: int
    index_head: int
    services: bool

    def _init_services(self) -> None:
        self._cancel_embed = threading.Event()
        self._embed_running = False
        self._embed_dirty = False
        self._hosting = False  # we told the engine our embedder keeps vectors current
        self._warm_started = False
        self._rebalancing = False
        self._service_errors: set[str] = set()  # background failures already shown once
        self.semantic_hint = ""  # the install hint, once semantic search is known unavailable

    def _writable(self) -> bool:
        return self.store is not None and not self.store.read_only

    def start_services(self) -> None:
        """Called once after the first frame: warm the model (a read; nothing is written)."""
        if self.store is None:
            return
        # The shell's newest indexed row follows every HEAD move (the header's state refresh
        # is throttled): new rows there may need vectors.
        self.watch(self, "index_head", self._index_moved, init=False)
        self.warm_semantic()

    def stop_services(self) -> None:
        """Stop an embedding pass between batches and stop hosting (before the store closes)."""
        self._cancel_embed.set()
        if self._hosting and self.store is not None:
            self._hosting = False
            self.store.semantic.hosted -= 1

    # -- semantic model ------------------------------------------------------------------

    def warm_semantic(self) -> None:
        if self._warm_started or self.store is None:
            return
        self._warm_started = True
        self.semantic_state = "warming"
        self.post_message(ActivityChanged("semantic", "warming semantic model…"))
        job = partial(warm, self, self.store)
        self.run_worker(job, thread=True, group="semantic-warm", exit_on_error=False)

    def on_semantic_wanted(self, _message: SemanticWanted) -> None:
        self.warm_semantic()

    def on_semantic_state_changed(self, message: SemanticStateChanged) -> None:
        self.semantic_state = message.state
        if message.state == "ready":
            self.post_message(ActivityChanged("semantic", "semantic ready"))
            self.set_timer(READY_NOTE_S, self._clear_semantic_note)
            if self.services and self._writable() and not self._cancel_embed.is_set():
                # From here on our embedder keeps vectors current: searches stop embedding
                # inline (they would wait behind a long first pass for the embedding lock).
                self.store.semantic.hosted += 1
                self._hosting = True
                self.request_embed()
            return
        self._clear_semantic_note()
        if message.state == "unavailable":
            self.semantic_hint = message.detail
            self.notify(message.detail, title="lexical search only", severity="warning", timeout=10)
        elif message.state == "failed":
            self.notify(message.detail, title="semantic search", severity="error", timeout=10)

    def _clear_semantic_note(self) -> None:
        self.post_message(ActivityChanged("semantic", None))

    # -- embedding -----------------------------------------------------------------------

    def _index_moved(self, _seq: int = 0) -> None:
        self.request_embed()

    def request_embed(self) -> None:
        """Embed what is missing; bursts of wake-ups fold into one pass at a time."""
        if not self._hosting or self._cancel_embed.is_set():
            return
        if self._embed_running:
            self._embed_dirty = True
            return
        self._embed_running = True
        job = partial(embed_pass, self, self.store, self._cancel_embed)
        self.run_worker(job, thread=True, group="embed", exit_on_error=False)

    def on_embed_finished(self, message: EmbedFinished) -> None:
        self._embed_running = False
        if message.error is not None:
            self._background_error("embedding memories", message.error)
            return  # the next wake-up tries again; no retry loop on a persistent failure
        if self._embed_dirty:
            self._embed_dirty = False
            self.request_embed()

    # -- tiers ---------------------------------------------------------------------------

    def rebalance_tiers(self, actor: str | None, *, manual: bool) -> None:
        if self.store is None:
            return
        if self._rebalancing:
            if manual:
                self.notify("a rebalance is already running", timeout=3)
            return
        self._rebalancing = True
        job = partial(rebalance, self, self.store, actor, manual)
        self.run_worker(job, thread=True, group="rebalance", exit_on_error=False)

    def on_rebalance_requested(self, message: RebalanceRequested) -> None:
        self.rebalance_tiers(message.actor, manual=True)

    def on_rebalanced(self, message: Rebalanced) -> None:
        self._rebalancing = False
        if message.error is not None:
            if message.manual:
                self.notify(describe(message.error), title="rebalance", severity="error", timeout=8)
            else:
                self._background_error("rebalancing tiers", message.error)
            return
        assert message.result is not None
        self.tiers_version += 1
        self.request_state()
        if message.manual:
            self.notify(rebalance_text(message.result), timeout=4)

    def _background_error(self, doing: str, error: BaseException) -> None:
        """A background service failed: say so once per distinct error, not at every wake-up."""
        text = describe(error)
        if text in self._service_errors:
            return
        self._service_errors.add(text)
        self._error(doing, error, severity="warning")
