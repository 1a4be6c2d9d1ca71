"""Pane 6 on real stores joined to a real hub on loopback (tests/sync/conftest.py's `hub`):
sync now moves a memory and the counts follow, a conflict opens side by side, the mode
persists, a store that has not joined says how to, and a stopped hub is an error with its
next try while the workstation stays up."""

from __future__ import annotations

import time

import pytest
from textual.widgets import Static

from core.store import Store
from core.sync.config import load as load_config
from screens.sync import ConflictScreen, ModeModal, SyncScreen
from tests.sync.conftest import hub, pg_server, pg_url  # noqa: F401 - the fixtures
from tests.tui.conftest import make_app, settle, wait_until

# The pane reads store.sync, whatever the hub keeps: tests/sync runs both storage backends.
sqlite_hub = pytest.mark.parametrize("hub", ["sqlite"], indirect=True)

ORG = "acme"
ANA = "human:ana@laptop"
PATH = "memories/facts/shared.md"


def joined(hub, root, user: str, mode: str = "manual") -> Store:  # noqa: F811
    store = Store.init(root, allow_temp=True)
    store.sync.join(hub.url, hub.token(ORG, user, device=f"{user}-dev"), mode=mode)
    return store


def text_of(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def status_text(app) -> str:
    """What the pane body says: the join hint, or every row's value."""
    screen = app.screen
    if screen.query_one("#sync-join").display:
        return text_of(app, "#sync-join")
    return "\n".join(str(s.render()) for s in screen.query(".sync-value").results(Static))


async def open_pane(pilot) -> SyncScreen:
    await settle(pilot)
    await pilot.press("6")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, SyncScreen)
    await wait_until(pilot, lambda: screen.status is not None)
    return screen


async def test_not_joined_says_how_to_join(small_store):
    app = make_app(small_store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_pane(pilot)
        assert screen.status is not None and not screen.status.joined
        text = status_text(app)
        assert "brain sync join URL --token-file F" in text
        assert "Outbox" not in text
        await pilot.press("s")  # nothing to sync: said, no error
        await settle(pilot)
        assert app.errors == []


@sqlite_hub
async def test_sync_now_moves_a_memory_and_the_counts_change(hub, home):  # noqa: F811
    ana = joined(hub, home / "ana", "ana")
    bob = joined(hub, home / "bob", "bob")
    try:
        ana.put(PATH, "ana's fact\n", actor=ANA, sync_class="shareable")
        app = make_app(ana)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_pane(pilot)
            st = screen.status
            assert st is not None and st.joined and st.outbox.get("confirmed", 0) == 0
            assert hub.url in status_text(app) and "ana" in status_text(app)
            await pilot.press("s")
            assert await wait_until(pilot, lambda: not screen.busy and app.screen is screen)
            await wait_until(pilot, lambda: screen.status.outbox.get("confirmed", 0) == 1)
            assert screen.status.outbox.get("confirmed", 0) == 1
            assert "1 confirmed" in status_text(app)
            assert "1 pushed" in str(app.screen.bar.render())  # the report in the bar
            assert screen.status.last_push_ns and "ok:" in status_text(app)
            assert app.errors == []
        app = make_app(bob)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_pane(pilot)
            await pilot.press("s")
            await wait_until(pilot, lambda: screen.status.inbox.get("imported", 0) == 1)
            assert "1 imported" in status_text(app)
            assert bob.view(PATH).body == b"ana's fact\n"
            assert app.errors == []
    finally:
        ana.close()
        bob.close()


@sqlite_hub
async def test_a_conflict_appears_and_opens_side_by_side(hub, home):  # noqa: F811
    ana = joined(hub, home / "ana", "ana")
    bob = joined(hub, home / "bob", "bob")
    try:
        bob.put(PATH, "bob's own\n", actor="human:bob@desk", sync_class="private")
        ana.put(PATH, "ana's version\n", actor=ANA, sync_class="shareable")
        assert ana.sync.run().ok
        app = make_app(bob)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_pane(pilot)
            await pilot.press("s")
            await wait_until(pilot, lambda: bool(screen.status.conflicts))
            assert len(screen.status.conflicts) == 1
            assert "1 conflict" in status_text(app)
            assert "Conflicts (1)" in text_of(app, "#sync-conflicts-title")
            await pilot.press("enter")
            await settle(pilot)
            conflict = app.screen
            assert isinstance(conflict, ConflictScreen)
            await wait_until(pilot, lambda: conflict.incoming is not None)
            assert "bob's own" in text_of(app, "#conflict-local-text")
            assert "ana's version" in text_of(app, "#conflict-incoming-text")
            await pilot.press("d")
            await settle(pilot)
            diff = str(app.screen.query_one("#diff-text", Static).render())
            assert "-bob's own" in diff and "+ana's version" in diff
            await pilot.press("escape")
            await settle(pilot)
            assert app.screen is screen
            assert app.errors == []
    finally:
        ana.close()
        bob.close()


async def _open_conflict(hub, home):  # noqa: F811
    ana = joined(hub, home / "ana", "ana")
    bob = joined(hub, home / "bob", "bob")
    bob.put(PATH, "bob's own\n", actor="human:bob@desk", sync_class="private")
    ana.put(PATH, "ana's version\n", actor=ANA, sync_class="shareable")
    assert ana.sync.run().ok
    assert bob.sync.run().conflicts
    ana.close()
    return bob


@sqlite_hub
async def test_taking_the_incoming_version_resolves_the_conflict(hub, home):  # noqa: F811
    bob = await _open_conflict(hub, home)
    try:
        app = make_app(bob)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_pane(pilot)
            assert len(screen.status.conflicts) == 1
            await pilot.press("enter")
            await settle(pilot)
            await pilot.press("t")
            await settle(pilot)
            await pilot.press("y")
            await wait_until(pilot, lambda: app.screen is screen and not screen.status.conflicts)
            assert screen.status.conflicts == []
            assert "No conflicts." in text_of(app, "#sync-conflicts-title")
            assert bob.view(PATH).body == b"ana's version\n"
            assert app.errors == []
    finally:
        bob.close()


@sqlite_hub
async def test_keeping_the_local_version_resolves_the_conflict(hub, home):  # noqa: F811
    bob = await _open_conflict(hub, home)
    try:
        app = make_app(bob)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_pane(pilot)
            await pilot.press("enter")
            await settle(pilot)
            await pilot.press("l")
            await settle(pilot)
            await pilot.press("y")
            await wait_until(pilot, lambda: app.screen is screen and not screen.status.conflicts)
            assert screen.status.conflicts == []
            assert bob.view(PATH).body == b"bob's own\n"
            assert not (bob.root / "conflicts").exists() or not any(
                p.is_file() for p in (bob.root / "conflicts").rglob("*")
            )
            assert app.errors == []
    finally:
        bob.close()


@sqlite_hub
async def test_the_mode_change_persists(hub, home):  # noqa: F811
    ana = joined(hub, home / "ana", "ana")
    try:
        app = make_app(ana)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_pane(pilot)
            await pilot.press("m")
            await settle(pilot)
            assert isinstance(app.screen, ModeModal)
            await pilot.press("home", "enter")  # the first mode: realtime
            await settle(pilot)
            cfg = load_config(ana.root)
            assert cfg is not None and cfg.mode == "realtime"
            # A loaded machine (a parallel suite) once took over 10 s to reload the status.
            await wait_until(pilot, lambda: "realtime (every 10s)" in status_text(app), 30)
            assert "realtime (every 10s)" in status_text(app)
            assert app.errors == []
    finally:
        ana.close()


@sqlite_hub
async def test_a_stopped_hub_is_an_error_with_its_next_try(hub, home):  # noqa: F811
    ana = joined(hub, home / "ana", "ana", mode="realtime")
    try:
        ana.put(PATH, "ana's fact\n", actor=ANA, sync_class="shareable")
        hub.stop()
        # The workstation's orchestrator runs (sync=True) on the real clock: its failed pass
        # records the next try, which the pane shows as "next try in …".
        app = make_app(ana, sync=True, now=time.time_ns)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_pane(pilot)
            assert app.hub_sync.state == "on"
            await pilot.press("s")
            assert await wait_until(pilot, lambda: bool(screen.status.last_error), timeout=20)
            await wait_until(pilot, lambda: "next try in" in status_text(app), timeout=20)
            assert await wait_until(pilot, lambda: not screen.busy, timeout=20)  # the asked pass
            text = status_text(app)
            assert "next try in" in text and "push:" in text
            assert "error" in str(app.screen.bar.render()) or "failed" in str(
                app.screen.bar.render()
            )
            assert app.screen is screen  # still up
            assert await wait_until(pilot, lambda: app.header_info.sync_error, timeout=10)
            hub.start()
            await pilot.press("s")
            await wait_until(pilot, lambda: not screen.status.last_error, timeout=20)
            assert screen.status.outbox.get("confirmed", 0) == 1
            assert "none" in status_text(app)
            assert await wait_until(pilot, lambda: not app.header_info.sync_error, timeout=10)
    finally:
        ana.close()


@sqlite_hub
async def test_the_memory_browser_shows_each_memory_s_sync_state(hub, home):  # noqa: F811
    from widgets.memory_list import MemoryList

    ana = joined(hub, home / "ana", "ana")
    try:
        ana.put(PATH, "ana's fact\n", actor=ANA, sync_class="shareable")
        ana.put("memories/facts/mine.md", "mine\n", actor=ANA, sync_class="private")
        assert ana.sync.run().ok
        ana.put("memories/facts/later.md", "later\n", actor=ANA, sync_class="shareable")
        ana.wait_index()
        app = make_app(ana)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("2")
            await settle(pilot)
            mlist = app.screen.query_one(MemoryList)
            assert await wait_until(pilot, lambda: len(mlist.sync_states) == 3)
            assert mlist.sync_states == {
                "memories/facts/later.md": "pending-push",
                "memories/facts/mine.md": "private",
                PATH: "confirmed",
            }
            marks = {r.path: mlist.row_cells(r)[0][0] for r in mlist.rows}
            assert marks == {
                "memories/facts/later.md": "↑ ",
                "memories/facts/mine.md": "  ",
                PATH: "✓ ",
            }
            for _ in range(3):
                row = mlist.current()
                if row is not None and row.path == PATH:
                    break
                await pilot.press("j")
                await settle(pilot)
            assert await wait_until(
                pilot, lambda: "shareable: confirmed" in text_of(app, "#mem-meta")
            )
            # Search results carry the same markers.
            mlist.sync_states.clear()
            await pilot.press("slash")
            await pilot.press(*"later", "enter")
            assert await wait_until(
                pilot, lambda: [r.path for r in mlist.rows] == ["memories/facts/later.md"]
            )
            assert mlist.sync_states.get("memories/facts/later.md") == "pending-push"
            assert mlist.row_cells(mlist.rows[0])[0][0] == "↑ "
            assert app.errors == []
    finally:
        ana.close()


def test_the_header_says_sync_is_failing_long_and_short():
    from widgets.header import HeaderInfo, header_content

    info = HeaderInfo("/home/ana/store", 29, 29, "READY", None, 23, 23, 0, 0, sync_error=True)
    assert "23 memories · sync failing" in header_content(info, 80, 0).plain
    narrow = HeaderInfo(
        "/home/ana/a/rather/long/path/to/the/store",
        12_345,
        12_345,
        "READY",
        None,
        23_000,
        23_000,
        0,
        2,
        pii_pending=3,
        sync_error=True,
    )
    text = header_content(narrow, 80, 0).plain
    assert "3 PII · sync!" in text and len(text) <= 80
