"""The similar panel (`s`) follows writes made elsewhere while the cursor rests on one memory:
a memory written near it joins the panel and one purged leaves, ranked again in a worker at the
pane's throttled refresh. The hits shown stay (the highlight on its hit) until the new ones
land, and a ranking started before a later write is dropped when it comes back.

`store.similar` is stood in for by a lexical one (what shares a word, nearest first): the
panel's following is tested here, not the model (tests/tui/test_tiers_semantic.py has it)."""

from __future__ import annotations

import threading
import time

from core.store import Store
from screens.memories import MemoriesScreen
from tests.tui.conftest import make_app, settle, wait_until

ACTOR = "human:tester@ci"
WORD = "zymurgy"


def zpath(name: str) -> str:
    return f"memories/facts/{WORD}-{name}.md"


A, B, C, D, E = (zpath(n) for n in "abcde")


def put(store: Store, path: str) -> None:
    name = path.rsplit("-", 1)[-1][:-3]
    store.put(path, f"# Zymurgy {name}\n\n{WORD} notes, part {name}.\n", actor=ACTOR)


def elsewhere(app, store: Store, write) -> None:
    """A write by another process: this pane wrote nothing, the index head moves."""
    write()
    store.wait_index()
    app.index_head = store.indexed_seq()


def stand_in(store: Store, monkeypatch, holds: dict[int, threading.Event] | None = None):
    """Replace store.similar; returns the paths it was asked for. holds[n]: the n-th call
    reads the store, then waits for that event before it answers (a slow ranking)."""
    calls: list[str] = []

    def similar(path: str, *, limit: int = 10, **_filters) -> list:
        calls.append(path)
        hits = [h for h in store.search(WORD, limit=50) if h.path != path][:limit]
        hold = (holds or {}).get(len(calls))
        if hold is not None:
            hold.wait(10)
        return hits

    monkeypatch.setattr(store, "similar", similar)
    return calls


def hit_ids(screen: MemoriesScreen) -> list[str | None]:
    panel = screen.similar
    return [panel.get_option_at_index(i).id for i in range(panel.option_count)]


def highlighted_id(screen: MemoriesScreen) -> str | None:
    panel = screen.similar
    assert panel.highlighted is not None
    return panel.get_option_at_index(panel.highlighted).id


async def until(pilot, predicate, timeout: float = 10.0) -> bool:
    """wait_until without waiting for the workers: one is held on purpose."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await pilot.pause(0.05)
    return predicate()


async def similar_on(pilot, path: str) -> MemoriesScreen:
    """Pane 2, the cursor on path, the similar panel shown and its hits in."""
    await settle(pilot)
    await pilot.press("2")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, MemoriesScreen)
    pilot.app.semantic_state = "ready"  # the stand-in needs no model
    screen.list.cursor = next(i for i, r in enumerate(screen.list.rows) if r.path == path)
    await settle(pilot)
    await pilot.press("s")
    assert await wait_until(pilot, lambda: screen.similar.done)
    return screen


async def test_a_memory_written_or_purged_elsewhere_joins_or_leaves_the_panel(
    small_store, monkeypatch
):
    for p in (A, B, C):
        put(small_store, p)
    small_store.wait_index()
    calls = stand_in(small_store, monkeypatch)
    app = make_app(small_store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await similar_on(pilot, A)
        assert sorted(hit_ids(screen)) == [B, C]

        elsewhere(app, small_store, lambda: put(small_store, D))
        assert await wait_until(pilot, lambda: D in hit_ids(screen))
        assert sorted(hit_ids(screen)) == [B, C, D]

        def purge() -> None:
            small_store.delete(B, actor=ACTOR, mode="purge", reason="user-request")

        elsewhere(app, small_store, purge)
        assert await wait_until(pilot, lambda: B not in hit_ids(screen))
        assert sorted(hit_ids(screen)) == [C, D]
        assert screen.list.current().path == A and set(calls) == {A}  # the cursor stayed


async def test_a_burst_of_writes_ranks_a_few_times_not_once_a_row(small_store, monkeypatch):
    for p in (A, B):
        put(small_store, p)
    small_store.wait_index()
    calls = stand_in(small_store, monkeypatch)
    app = make_app(small_store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await similar_on(pilot, A)
        calls.clear()
        t0 = time.monotonic()
        for n in range(30):  # another process's puts, the head moving after each
            elsewhere(app, small_store, lambda n=n: put(small_store, zpath(f"burst{n:02d}")))
            await pilot.pause(0.01)
        elapsed = time.monotonic() - t0
        now = [h.path for h in small_store.search(WORD, limit=50) if h.path != A][:8]
        assert await wait_until(pilot, lambda: hit_ids(screen) == now and screen.similar.done)
        assert 1 <= len(calls) <= 2 + elapsed / 0.5, (len(calls), elapsed)  # REFRESH_S apart


async def test_hits_stay_while_ranked_again_and_an_older_ranking_is_dropped(
    small_store, monkeypatch
):
    for p in (A, B, C):
        put(small_store, p)
    small_store.wait_index()
    holds: dict[int, threading.Event] = {}
    calls = stand_in(small_store, monkeypatch, holds)
    app = make_app(small_store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await similar_on(pilot, A)
        panel = screen.similar
        before = hit_ids(screen)
        await pilot.press("tab", "j")  # into the panel, on its second hit
        assert panel.has_focus and panel.highlighted == 1
        kept = highlighted_id(screen)

        holds[2] = threading.Event()  # the next ranking reads the store (with D), then waits
        try:
            elsewhere(app, small_store, lambda: put(small_store, D))
            assert await until(pilot, lambda: len(calls) == 2)
            # Ranked in a worker: the old hits stay meanwhile and keys still work.
            await pilot.pause(0.2)
            assert hit_ids(screen) == before and not panel.done
            await pilot.press("k")
            assert panel.highlighted == 0
            await pilot.press("j")

            # A later write is ranked at once; the held ranking (without E) comes back after.
            elsewhere(app, small_store, lambda: put(small_store, E))
            assert await until(pilot, lambda: E in hit_ids(screen))
        finally:
            holds[2].set()
        await settle(pilot)
        await pilot.pause(0.2)
        assert sorted(hit_ids(screen)) == [B, C, D, E] and panel.done
        assert highlighted_id(screen) == kept  # the highlight stayed on its hit


async def test_a_vector_stored_after_the_head_moved_ranks_again(small_store, monkeypatch):
    """The re-rank a write asks for can run before the embedder stored the new memory's
    vector: when a pass stores vectors (`embed_version`), the panel ranks again."""
    for p in (A, B):
        put(small_store, p)
    small_store.wait_index()
    embedded = {A, B}
    lexical = small_store.search

    def similar(path: str, *, limit: int = 10, **_filters) -> list:
        hits = lexical(WORD, limit=50)
        return [h for h in hits if h.path != path and h.path in embedded][:limit]

    monkeypatch.setattr(small_store, "similar", similar)
    app = make_app(small_store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await similar_on(pilot, A)
        assert hit_ids(screen) == [B]
        elsewhere(app, small_store, lambda: put(small_store, C))
        await pilot.pause(1.0)  # the head move's re-rank ran: C has no vector yet
        await settle(pilot)
        assert hit_ids(screen) == [B]
        embedded.add(C)
        from brain_tui.messages import EmbedFinished

        app.background.embed_finished(EmbedFinished(1))  # an embedding pass stored C's vector
        assert app.embed_version == 1
        assert await wait_until(pilot, lambda: C in hit_ids(screen))
        app.background.embed_finished(EmbedFinished(0))  # nothing new: no re-rank asked
        assert app.embed_version == 1
