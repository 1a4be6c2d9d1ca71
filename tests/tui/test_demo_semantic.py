"""The demo as `brain demo` builds it (issue 12, "first ten minutes"): the workstation opens
with every memory's embedding in place, so semantic search works as soon as the model is warm,
without an embedding pass. Uses the real model (skipped without the `semantic` extra).
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest

from brain_tui.app import BrainApp
from brain_tui.demo import DEMO_END_NS, build_demo
from core.search import embeddings
from core.store import Store
from screens.memories import MemoriesScreen

if importlib.util.find_spec("sentence_transformers") is None:
    pytest.skip("the optional extra brain-tui[semantic] is not installed", allow_module_level=True)

NOW = DEMO_END_NS + 3_600 * 10**9
QUERY = "who must approve changes to authentication"


@pytest.fixture
def demo(home: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(embeddings.MODEL_ENV, raising=False)
    root = home / "demo"
    build_demo(root, size="small", allow_temp=True, vectors=True)
    store = Store.open(root, allow_temp=True, clock=lambda: NOW)
    yield store
    store.close()


async def _until(pilot, predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await pilot.pause(0.05)
    return predicate()


async def test_the_demo_opens_with_semantic_search_ready(demo: Store) -> None:
    assert demo.semantic_pending() == 0  # the build stored every vector
    app = BrainApp(
        store=demo, now=lambda: NOW, timings=False, actor="human:tester@ci", services=True
    )
    app.animation_level = "none"
    seen: list[str] = []
    async with app.run_test(size=(120, 40)) as pilot:
        app.watch(app, "activity", lambda v: seen.append(v), init=True)
        assert await _until(pilot, lambda: app.semantic_state == "ready", 90)
        await pilot.press("2")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, MemoriesScreen) and screen.search_mode == "hybrid"
        await pilot.press("slash", *QUERY, "enter")
        assert await _until(pilot, lambda: screen._results_mode == "hybrid", 30)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.list.model.total > 0
        assert not any("embedding " in s and "/" in s for s in seen)  # no pass ran
    hits = demo.search(QUERY, mode="semantic", limit=3)
    assert len(hits) == 3
