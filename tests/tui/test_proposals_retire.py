"""Pane 5 and a retirement `brain maintain` proposed: the detail shows the memory it would
tombstone, and approving through the typed dialog tombstones it (on a real store)."""

from __future__ import annotations

from screens.proposal_modals import DecideModal
from tests.tui.conftest import make_app, settle, wait_until
from tests.tui.store_fixture import ACTORS, build_small
from tests.tui.test_proposals_pane import AGENT, detail_text, open_pane

OLD = "memories/decisions/web/deploy.md"
NEW = "memories/decisions/web/deploy-fly.md"


async def test_a_retirement_shows_the_tombstone_and_applies_it(home):
    store = build_small(home / "store")
    try:
        store.put(OLD, "Heroku, by git push from main.\n", actor=ACTORS[0], title="Deploy target")
        store.put(NEW, "Fly.io machines, from CI tags.\n", actor=ACTORS[0], title="Deploy target")
        made = [
            f for f in store.proposals.maintain(actor=AGENT, stale_days=1e6, session="m") if f.filed
        ]
        assert len(made) == 1
        app = make_app(store)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await open_pane(pilot)
            assert screen.row.path == made[0].path
            text = detail_text(screen)
            assert "maintenance: retire" in text and OLD in text and "+ state:tombstoned" in text
            await pilot.press("a")
            await settle(pilot)
            modal = app.screen
            assert isinstance(modal, DecideModal)
            modal.query_one("#decide-slug").value = made[0].path.rsplit("/", 1)[-1][:-3]
            await pilot.press("enter")
            assert await wait_until(pilot, lambda: screen.pending == 0)
        assert store.memory_rows([OLD])[0].state == "tombstoned"
        assert store.memory_rows([NEW])[0].state == "active"
    finally:
        store.close()
