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
notifications. `Background` is the app's part (composed, not mixed in); the module functions
are the workers' bodies.
"""

from __future__ import annotations

import threading
from functools import partial
from typing import TYPE_CHECKING, Any

from brain_tui.messages import (
    ActivityChanged,
    EmbedFinished,
    Rebalanced,
    SemanticStateChanged,
)
from brain_tui.workers import Target
from widgets.status import describe

if TYPE_CHECKING:
    from brain_tui.app import BrainApp

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
    short = f"embed {100 * done // max(total, 1)}%"
    target.post_message(ActivityChanged("embed", f"embedding {done:,}/{total:,}", short))


def rebalance(target: Target, store: Any, actor: str | None, manual: bool) -> None:
    target.post_message(ActivityChanged("tiers", "rebalancing tiers…", "tiers…"))
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


# -- the app's part ----------------------------------------------------------------------------


class Background:
    """The App's background services. It sets the app's reactives `semantic_state` ("off",
    "warming", "ready", "unavailable", "failed"), `tiers_version` (bumped after every
    rebalance, so panes showing tiers reload), `embed_version` (bumped when a pass stored
    vectors, so the similar panel ranks again) and `semantic_hint` (the install hint)."""

    def __init__(self, app: BrainApp, *, enabled: bool) -> None:
        self.app = app
        # Tests and snapshots turn the model warm-up and embedding off so nothing loads
        # behind their back (a rebalance on `b` still runs).
        self.enabled = enabled
        self.cancel_embed = threading.Event()
        self.embed_running = False
        self._embed_dirty = False
        self._hosting = False  # we told the engine our embedder keeps vectors current
        self._warm_started = False
        self.rebalancing = False
        self._errors: set[str] = set()  # background failures already shown once

    def _writable(self) -> bool:
        store = self.app.store
        return store is not None and not store.read_only

    def start(self) -> None:
        """Called once after the first frame: warm the model (a read; nothing is written)."""
        app = self.app
        if app.store is None or not self.enabled:
            return
        # The shell's newest indexed row follows every HEAD move (the header's state refresh
        # is throttled): new rows there may need vectors.
        app.watch(app, "index_head", self._index_moved, init=False)
        self.warm_semantic()

    def stop(self) -> None:
        """Stop an embedding pass between batches and stop hosting (before the store closes)."""
        self.cancel_embed.set()
        store = self.app.store
        if self._hosting and store is not None:
            self._hosting = False
            store.semantic.hosted -= 1

    # -- semantic model ------------------------------------------------------------------

    def warm_semantic(self) -> None:
        app = self.app
        if self._warm_started or app.store is None:
            return
        self._warm_started = True
        app.semantic_state = "warming"
        app.post_message(ActivityChanged("semantic", "warming semantic model…", "model…"))
        job = partial(warm, app, app.store)
        app.run_worker(job, thread=True, group="semantic-warm", exit_on_error=False)

    def semantic_state_changed(self, message: SemanticStateChanged) -> None:
        app = self.app
        app.semantic_state = message.state
        if message.state == "ready":
            app.post_message(ActivityChanged("semantic", "semantic ready", "model ready"))
            app.set_timer(READY_NOTE_S, self._clear_semantic_note)
            store = app.store
            if self.enabled and store is not None and self._writable():
                if not self.cancel_embed.is_set():
                    # From here on our embedder keeps vectors current: searches stop
                    # embedding inline (they would wait behind a long first pass).
                    store.semantic.hosted += 1
                    self._hosting = True
                    self.request_embed()
            return
        self._clear_semantic_note()
        if message.state == "unavailable":
            app.semantic_hint = message.detail
            app.notify(message.detail, title="lexical search only", severity="warning", timeout=10)
        elif message.state == "failed":
            app.notify(message.detail, title="semantic search", severity="error", timeout=10)

    def _clear_semantic_note(self) -> None:
        self.app.post_message(ActivityChanged("semantic", None))

    # -- embedding -----------------------------------------------------------------------

    def _index_moved(self, _seq: int = 0) -> None:
        self.request_embed()

    def request_embed(self) -> None:
        """Embed what is missing; bursts of wake-ups fold into one pass at a time."""
        if not self._hosting or self.cancel_embed.is_set():
            return
        if self.embed_running:
            self._embed_dirty = True
            return
        self.embed_running = True
        app = self.app
        job = partial(embed_pass, app, app.store, self.cancel_embed)
        app.run_worker(job, thread=True, group="embed", exit_on_error=False)

    def embed_finished(self, message: EmbedFinished) -> None:
        self.embed_running = False
        if message.error is not None:
            self._background_error("embedding memories", message.error)
            return  # the next wake-up tries again; no retry loop on a persistent failure
        if message.stored:
            self.app.embed_version += 1
        if self._embed_dirty:
            self._embed_dirty = False
            self.request_embed()

    # -- tiers ---------------------------------------------------------------------------

    def rebalance(self, actor: str | None, *, manual: bool) -> None:
        app = self.app
        if app.store is None:
            return
        if self.rebalancing:
            if manual:
                app.notify("a rebalance is already running", timeout=3)
            return
        self.rebalancing = True
        job = partial(rebalance, app, app.store, actor, manual)
        app.run_worker(job, thread=True, group="rebalance", exit_on_error=False)

    def rebalanced(self, message: Rebalanced) -> None:
        app = self.app
        self.rebalancing = False
        if message.error is not None:
            if message.manual:
                app.notify(describe(message.error), title="rebalance", severity="error", timeout=8)
            else:
                self._background_error("rebalancing tiers", message.error)
            return
        assert message.result is not None
        app.tiers_version += 1
        app.follow.store_changed()
        if message.manual:
            app.notify(rebalance_text(message.result), timeout=4)

    def _background_error(self, doing: str, error: BaseException) -> None:
        """A background service failed: say so once per distinct error, not at every wake-up."""
        text = describe(error)
        if text in self._errors:
            return
        self._errors.add(text)
        self.app.show_error(doing, error, severity="warning")
