"""Shared set-up for the TUI tests: an isolated home, deterministic apps, a settle helper."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
from textual.widgets import Input

from brain_tui.app import BrainApp
from tests.tui.store_fixture import T0, build_small

NOW = T0 + 90 * 1_000_000_000  # the app's clock: 90 s after the store's first row


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector, name, obj):
    """Async tests here run on asyncio through anyio's plugin (anyio ships with watchfiles).

    The mark goes on while collecting, before parametrization, so every plugin (syrupy's
    report included) sees the same `[asyncio]` test ids."""
    if collector.funcnamefilter(name) and inspect.iscoroutinefunction(obj):
        pytest.mark.anyio(obj)


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """HOME and the XDG folders under tmp_path: the header shows ~/store, witnesses and
    config stay per test, and no cursor blinks (snapshots must not depend on timing)."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var, sub in (
        ("XDG_STATE_HOME", "state"),
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_DATA_HOME", "data"),
    ):
        monkeypatch.setenv(var, str(home / sub))
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("CYBEROS_BRAIN_HOME", raising=False)
    monkeypatch.setattr(Input, "cursor_blink", False)
    return home


@pytest.fixture
def home(isolated) -> Path:
    return isolated


@pytest.fixture
def small_store(home):
    store = build_small(home / "store")
    yield store
    store.close()


def make_app(store=None, **kw) -> BrainApp:
    kw.setdefault("watch", False)
    kw.setdefault("now", lambda: NOW)
    kw.setdefault("timings", False)
    kw.setdefault("actor", "human:tester@ci")
    kw.setdefault("services", False)  # no model warm-up, embedding or rebalance behind tests
    kw.setdefault("capture", False)  # no capture loop unless a test asks for one
    app = BrainApp(store=store, **kw)
    app.animation_level = "none"
    return app


async def settle(pilot, rounds: int = 8) -> None:
    """Let workers finish and their messages land (pages, state, proofs): done once two
    pauses in a row find no worker running (a render can start a page fetch)."""
    app = pilot.app
    idle = 0
    for _ in range(rounds):
        await pilot.pause()
        if any(w.is_running for w in app.workers):
            idle = 0
            await app.workers.wait_for_complete()
        else:
            idle += 1
            if idle == 2:
                return


async def wait_until(pilot, predicate, timeout: float = 10.0) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await pilot.pause(0.05)
        await pilot.app.workers.wait_for_complete()
    return predicate()
