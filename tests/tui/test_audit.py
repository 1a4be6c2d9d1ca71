"""Pilot tests of the audit tail against real stores: paging, follow, filter, detail, proofs."""

from __future__ import annotations

import json
import subprocess
import sys

from textual.widgets import Input

from core.index import queries
from core.store import Store
from core.verify import checkpoints
from screens.audit import AuditScreen
from screens.row_detail import RowDetailScreen
from tests.tui.conftest import make_app, settle, wait_until
from tests.tui.store_fixture import build_rows
from widgets.audit_list import AuditList
from widgets.proof_view import ProofView


def audit_list(app) -> AuditList:
    return app.screen.query_one(AuditList)


async def test_opens_on_the_tail_following_the_end(small_store):
    app = make_app(small_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, AuditScreen)
        lst = audit_list(app)
        head = small_store.state().head_seq
        assert lst.total == head and lst.follow
        assert lst.current_row().seq == head
        assert lst.scroll_offset.y == lst.max_scroll_y > 0
        assert app.errors == []


async def test_pages_load_by_key_across_a_large_tail(home):
    store = build_rows(home / "store", 1500)  # six pages of 256
    head = store.state().head_seq  # 1500 puts and an automatic checkpoint
    try:
        app = make_app(store)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            lst = audit_list(app)
            assert lst.total == head > 1500
            await pilot.press("g")
            await settle(pilot)
            assert not lst.follow and lst.current_row().seq == 1
            for _ in range(20):
                await pilot.press("pagedown")
            await settle(pilot)
            row = lst.current_row()
            assert row is not None and row.seq == lst.cursor + 1 > 300
            await pilot.press("G")
            await settle(pilot)
            assert lst.follow and lst.current_row().seq == head
            await pilot.press("k", "k")
            assert lst.current_row().seq == head - 2 and not lst.follow
    finally:
        store.close()


async def test_filter_by_op_actor_and_path(small_store):
    conn = small_store.reader.conn
    app = make_app(small_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        lst = audit_list(app)
        await pilot.press("slash")
        await pilot.press(*"op:put actor:human:ana@laptop")
        await pilot.press("enter")
        await settle(pilot)
        want = queries.audit_page(conn, 0, 1000, op="put", actor="human:ana@laptop")
        assert lst.filter.op == "put" and lst.total == len(want) > 0
        assert lst.current_row().seq == want[-1].seq
        await pilot.press("g")
        await settle(pilot)
        assert lst.current_row().seq == want[0].seq
        # path prefix, written the short way (a kind folder)
        await pilot.press("slash", "ctrl+u", *"path:decisions/", "enter")
        await settle(pilot)
        want = queries.audit_page(conn, 0, 1000, path_prefix="memories/decisions/")
        assert lst.total == len(want) and all(
            r.path.startswith("memories/decisions/") for r in want
        )
        await pilot.press("escape")  # esc on the list clears the filter
        await settle(pilot)
        assert not lst.filter.active and lst.total == small_store.state().head_seq


async def test_a_bad_filter_is_explained_and_changes_nothing(small_store):
    app = make_app(small_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        box = app.screen.query_one("#audit-filter", Input)
        # Set at once, as a paste would: typed key by key, a machine slower than the filter's
        # 250 ms debounce between two keys applies a prefix ("op", a valid word filter) first.
        box.value = "op:bogus"
        await pilot.press("enter")
        await settle(pilot)
        assert box.has_class("-invalid") and "unknown op" in box.border_subtitle
        assert not audit_list(app).filter.active
        await pilot.press("escape")
        assert not box.has_class("-open") and app.focused is audit_list(app)


def _append_rows(root, n: int, name: str) -> None:
    """Another process writes: the app must see it through the HEAD watcher."""
    code = (
        "import sys; from core.store import Store\n"
        "s = Store.open(sys.argv[1], allow_temp=True)\n"
        f"for i in range({n}): s.put(f'memories/facts/{name}-{{i}}.md', 'x', actor='agent:other')\n"
        "s.close()\n"
    )
    subprocess.run([sys.executable, "-c", code, str(root)], check=True, timeout=60)


async def test_live_tail_follows_rows_another_process_appends(small_store):
    app = make_app(small_store, watch=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        lst = audit_list(app)
        head = lst.total
        await wait_until(
            pilot, lambda: app.follow.watcher is not None and app.follow.watcher.ready.is_set()
        )
        await pilot.pause(0.3)  # the watcher's inotify watch is set up just after `ready`
        _append_rows(small_store.root, 5, "live")
        assert await wait_until(pilot, lambda: lst.total == head + 5)
        await settle(pilot)
        assert lst.follow and lst.current_row().path == "memories/facts/live-4.md"
        assert app.header_info.head_seq == head + 5
        # paused: new rows arrive, the cursor stays where it was
        await pilot.press("f", "k")
        assert not lst.follow
        cursor = lst.cursor
        _append_rows(small_store.root, 2, "paused")
        assert await wait_until(pilot, lambda: lst.total == head + 7)
        assert lst.cursor == cursor
        await pilot.press("f")
        assert lst.follow and lst.cursor == head + 6
    app.follow.stop_watcher()


async def test_row_detail_shows_the_chain_link_and_proves_the_row(small_store):
    app = make_app(small_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("k", "k", "enter")
        await settle(pilot)
        assert isinstance(app.screen, RowDetailScreen)
        row = app.screen.row
        fields = str(app.screen.query_one("#detail-fields").render())
        assert row.chain in fields and f"equals the chain of row {row.seq - 1}" in fields
        await pilot.press("p")
        await settle(pilot)
        proof = str(app.screen.query_one(ProofView).render())
        assert "✓ valid" in proof and f"(seq {row.seq})" in proof
        await pilot.press("c")
        bundle = json.loads(app.clipboard)
        assert bundle["format"] == "brain-proof/v1" and bundle["seq"] == row.seq
        assert checkpoints.sizes(small_store.layout)  # the proof is against a signed checkpoint
        await pilot.press("escape")
        assert isinstance(app.screen, AuditScreen)


async def test_copy_row_and_path_from_the_list(small_store):
    app = make_app(small_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)
        await pilot.press("j", "c")
        assert json.loads(app.clipboard)["seq"] == 2
        await pilot.press("y")
        assert app.clipboard == audit_list(app).current_row().path


async def test_prove_key_on_the_list_opens_the_detail_with_the_proof(small_store):
    app = make_app(small_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, RowDetailScreen) and app.screen.bundle is not None


async def test_a_failing_proof_is_a_notification_not_a_crash(small_store, home):
    small_store.close()
    ro = Store.open(home / "store", allow_temp=True, read_only=True)
    try:
        # a checkpoint covering the newest row is needed, and a read-only store cannot sign
        app = make_app(ro)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("p")
            await settle(pilot)
            assert isinstance(app.screen, RowDetailScreen)
            assert any(e.startswith("proving row") for e in app.errors), app.errors
            assert "no proof" in str(app.screen.query_one(ProofView).render())
            assert app.is_running
    finally:
        ro.close()


async def test_a_failing_page_fetch_is_a_notification(small_store, monkeypatch):
    from core.errors import BrainError

    def broken(*_a, **_k):
        raise BrainError("the index is locked by a test")

    monkeypatch.setattr(queries, "audit_page", broken)
    app = make_app(small_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert any("the index is locked by a test" in e for e in app.errors)
        assert app.is_running and isinstance(app.screen, AuditScreen)


async def test_a_filtered_tail_also_follows_new_matching_rows(small_store):
    app = make_app(small_store, watch=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"actor:agent:other", "enter")
        await settle(pilot)
        lst = audit_list(app)
        assert lst.filter.actor == "agent:other" and lst.total == 0
        await wait_until(
            pilot, lambda: app.follow.watcher is not None and app.follow.watcher.ready.is_set()
        )
        await pilot.pause(0.3)
        _append_rows(small_store.root, 3, "filtered")
        assert await wait_until(pilot, lambda: lst.total == 3)
        await settle(pilot)
        assert lst.follow and lst.current_row().path == "memories/facts/filtered-2.md"
    app.follow.stop_watcher()


async def test_proof_scrolls_into_view_at_80x24(small_store):
    app = make_app(small_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("g", "j", "enter")
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        body = app.screen.query_one("#detail-body")
        assert body.max_scroll_y > 0
        assert body.scroll_y == body.max_scroll_y


async def test_the_actor_filter_matches_a_prefix(small_store):
    """The documented `actor:human:ana` finds `human:ana@laptop` (the query layer's prefix)."""
    conn = small_store.reader.conn
    app = make_app(small_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        lst = audit_list(app)
        await pilot.press("slash", *"actor:human:ana", "enter")
        await settle(pilot)
        want = [r for r in queries.audit_page(conn, 0, 1000) if r.actor == "human:ana@laptop"]
        assert lst.filter.actor == "human:ana" and lst.total == len(want) > 0
        assert lst.current_row().actor == "human:ana@laptop"
    assert queries.audit_page(conn, 0, 1000, actor="human:ana@laptop") == want  # exact too
    assert queries.audit_page(conn, 0, 1000, actor="human:bob") == []
