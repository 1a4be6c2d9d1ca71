"""No store yet: the first-run screen creates one in place or opens the demo; a store that
cannot be opened is explained in a modal, and the app exits non-zero after it."""

from __future__ import annotations

from functools import partial

from core.layout import Layout
from screens.audit import AuditScreen
from screens.error import ErrorModal
from screens.first_run import FirstRunScreen
from tests.tui.conftest import make_app, settle, wait_until


async def test_create_a_store_here(home):
    root = home / "new-store"
    app = make_app(root=root, allow_temp=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, FirstRunScreen)
        await pilot.press("c")
        assert await wait_until(pilot, lambda: isinstance(app.screen, AuditScreen))
        await settle(pilot)
        assert Layout(root).manifest.exists()
        assert app.store is not None and app.store.root == root
        assert app.header_info is not None and app.header_info.state == "READY"
    app.store.close()


async def test_open_the_demo(home):
    from brain_tui.demo import build_demo

    demo_root = home / "data" / "brain-tui" / "demo"
    builder = partial(build_demo, size="small")
    app = make_app(
        root=home / "nothing-here", allow_temp=True, demo_root=demo_root, demo_builder=builder
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, FirstRunScreen)
        await pilot.press("d")
        assert await wait_until(pilot, lambda: isinstance(app.screen, AuditScreen), timeout=60)
        await settle(pilot)
        assert app.store.root == demo_root and app.header_info.head_seq > 100
        assert not (home / "nothing-here").exists()  # the user's root stays untouched
    app.store.close()


async def test_demo_button_is_off_without_a_builder(home):
    app = make_app(root=home / "nothing-here", allow_temp=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, FirstRunScreen) and not app.screen.busy


async def test_creating_where_it_is_refused_is_a_notification(home):
    root = home / "documents"
    root.mkdir()
    (root / "thesis.txt").write_text("not a store")  # a folder of other things: refused
    app = make_app(root=root, allow_temp=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, FirstRunScreen) and not app.screen.busy
        assert app.errors and "not empty" in app.errors[0]
    assert sorted(p.name for p in root.iterdir()) == ["thesis.txt"]


async def test_an_unreadable_store_is_explained_then_the_app_exits(home):
    root = home / "broken"
    root.mkdir()
    (root / "manifest.json").write_text("{not json")
    app = make_app(root=root, allow_temp=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ErrorModal)
        assert "manifest" in str(app.screen.query_one("#error-message").render())
        await pilot.press("escape")
        await settle(pilot)
    assert app.return_code == 1
