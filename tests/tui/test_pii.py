"""Pane 4, PII review: the queue, the highlighted body, the four actions, the header count.

On a real store: the small fixture plus three shareable memories the PII gate holds.
"""

from __future__ import annotations

import pytest

from screens.memories.modals import PurgeModal
from screens.pii import PiiScreen
from screens.pii_modals import ReleaseModal
from tests.tui.conftest import make_app, settle, wait_until
from tests.tui.store_fixture import ACTORS, build_small
from widgets.header import StoreHeader
from widgets.pii_format import counts_text, findings_lines, highlighted_body, queue_totals

HELD = (
    (
        "memories/people/ana-contact.md",
        "---\ntitle: Ana's contact\n---\nWrite to ana.lopez@example.com, or pay with card"
        " 4111 1111 1111 1111 when she asks.\n",
    ),
    (
        "memories/facts/deploy-key.md",
        "---\ntitle: Deploy notes\n---\nThe deploy uses AKIAIOSFODNN7EXAMPLE; the on-call"
        " phone is +1 415 555 0132.\n",
    ),
    (
        "memories/projects/vendor.md",
        "---\ntitle: Vendor billing\n---\nInvoices go to billing@vendor.example.org.\n",
    ),
)


def build_held(root):
    store = build_small(root)
    for path, body in HELD:
        store.put(path, body, actor=ACTORS[0], sync_class="shareable")
    store.wait_index()
    assert store.pii_pending_count() == len(HELD)
    return store


@pytest.fixture
def held_store(home):
    store = build_held(home / "store")
    yield store
    store.close()


async def open_pane(pilot):
    await settle(pilot)
    await pilot.press("4")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, PiiScreen)
    await wait_until(pilot, lambda: screen.loaded and bool(screen.text))
    return screen


def test_format_counts_and_highlight():
    f = [
        {"where": "body", "type": "email", "start": 3, "end": 8, "confidence": 950},
        {"where": "body", "type": "card", "start": 10, "end": 12, "confidence": 900},
        {"where": "path", "type": "name", "start": 0, "end": 3, "confidence": 500},
    ]
    assert counts_text({"email": 2, "card": 1}) == "card 1 · email 2"
    body = highlighted_body("to a@b.c, 42 ok", f, {2}, 1)
    assert "a@b.c" in body.plain and "[REDACTED:card]" in body.plain
    lines = findings_lines(f, {2}, 1).plain.splitlines()
    assert "[ ]" in lines[0] and "[x]" in lines[1] and " - " in lines[2]
    assert "a@b.c" not in findings_lines(f, set(), None).plain  # never the matched text

    class P:
        counts = {"email": 1}

    assert queue_totals([P(), P()]) == {"email": 2}


async def test_queue_body_and_header_count(held_store):
    app = make_app(held_store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_pane(pilot)
        assert [i.path for i in screen.items] == [p for p, _ in HELD]
        assert "3 held" in str(screen.bar.render())
        assert app.header_info is not None and app.header_info.pii_pending == 3
        assert "3 PII held" in str(screen.query_one(StoreHeader).render())
        # All body findings are chosen at first; the body shows the masks they would get.
        assert screen.chosen == {1, 2}
        text = str(screen.query_one("#pii-text").render())
        assert "ana.lopez@example.com" in text and "[REDACTED:email]" in text
        await pilot.press("j")
        await wait_until(pilot, lambda: "AKIA" in screen.text)
        assert screen.item is not None and screen.item.path == HELD[1][0]


async def test_toggle_a_span_and_redact(held_store):
    app = make_app(held_store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_pane(pilot)
        await pilot.press("space")  # finding 1 (the e-mail) is no longer chosen
        assert screen.chosen == {2}
        await pilot.press("n", "N", "n")
        assert screen.current == 2
        await pilot.press("r")
        await wait_until(pilot, lambda: not screen.busy and len(screen.items) == 3)
        await settle(pilot)
        # The e-mail is left, so the memory stays held with only that finding.
        body = held_store.view(HELD[0][0]).body.decode()
        assert "[REDACTED:card]" in body and "ana.lopez@example.com" in body
        item = next(i for i in screen.items if i.path == HELD[0][0])
        assert item.counts == {"email": 1}
        # Redact what is left: it leaves the queue and the header counts two.
        await wait_until(
            pilot, lambda: screen.item is not None and screen.item.counts == {"email": 1}
        )
        await pilot.press("r")
        assert await wait_until(pilot, lambda: len(screen.items) == 2)
        assert await wait_until(pilot, lambda: app.header_info.pii_pending == 2)
        assert held_store.view(HELD[0][0]).sidecar.pii_status != "held"


async def test_keep_private(held_store):
    app = make_app(held_store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_pane(pilot)
        await pilot.press("p")
        assert await wait_until(pilot, lambda: len(screen.items) == 2)
        side = held_store.view(HELD[0][0]).sidecar
        assert side.sync_class == "private" and side.pii_status != "held"
        assert await wait_until(pilot, lambda: app.header_info.pii_pending == 2)


async def test_release_needs_the_typed_slug(held_store):
    app = make_app(held_store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_pane(pilot)
        await pilot.press("R")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, ReleaseModal)
        modal.query_one("#release-reason").value = "false-positive"
        await settle(pilot)  # the reason chosen, the slug field has the focus
        await pilot.press(*"ana-contac", "enter")  # a wrong answer
        await settle(pilot)
        assert app.screen is modal
        assert "nothing was released" in str(modal.query_one("#release-error").render())
        assert held_store.view(HELD[0][0]).sidecar.pii_status == "held"
        await pilot.press("t", "enter")
        assert await wait_until(pilot, lambda: len(screen.items) == 2)
        assert held_store.view(HELD[0][0]).sidecar.pii_status == "released"
        rows = held_store.audit_page(0, 10_000)
        resolved = [r for r in rows if r.op == "pii.resolved"]
        assert resolved and resolved[-1].extra["reason"] == "false-positive"


async def test_release_escape_releases_nothing(held_store):
    app = make_app(held_store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_pane(pilot)
        await pilot.press("R")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen and len(screen.items) == 3


async def test_purge_with_reason(held_store):
    app = make_app(held_store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_pane(pilot)
        await pilot.press("G")  # the last one
        await wait_until(pilot, lambda: screen.item is not None and screen.item.path == HELD[2][0])
        await pilot.press("P")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, PurgeModal)
        modal.query_one("#purge-reason").value = "pii-leak"
        modal.query_one("#purge-slug").value = "vendor"
        await settle(pilot)
        modal.action_ok()
        assert await wait_until(pilot, lambda: len(screen.items) == 2)
        rows = held_store.audit_page(0, 10_000)
        assert [r.extra.get("action") for r in rows if r.op == "pii.resolved"] == ["purge"]
        assert await wait_until(pilot, lambda: app.header_info.pii_pending == 2)


async def test_empty_queue(small_store):
    app = make_app(small_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PiiScreen)
        await wait_until(pilot, lambda: screen.loaded)
        assert screen.items == [] and "nothing held" in str(screen.bar.render())
        await pilot.press("r", "p", "R", "P")  # nothing to act on: a bell, no dialog
        assert app.screen is screen


async def test_help_opens_at_the_pii_keys(held_store):
    from screens.help import HelpScreen

    app = make_app(held_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_pane(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen) and app.screen.start == "PII review (4)"
        ids = {i for _title, rows in app.help_sections() for _k, i in rows}
        for key in ("pii.redact", "pii.keep_private", "pii.release", "pii.purge", "pii.toggle"):
            assert any(f"[{key}]" in text for text in ids)


def test_title_findings_highlight_in_the_title_only():
    f = [{"where": "title", "type": "email", "start": 0, "end": 5, "confidence": 950}]
    assert "[REDACTED:email]" in highlighted_body("a@b.c x", f, {1}, None, "title").plain
    assert "[REDACTED" not in highlighted_body("a@b.c x", f, {1}, None).plain


async def test_queue_follows_the_index_head(held_store):
    """Another process (or the capture loop) holds a memory: the queue picks it up when the
    index head moves, as the audit tail does."""
    app = make_app(held_store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_pane(pilot)
        held_store.put(
            "memories/facts/ip-note.md",
            "The NAS answers at 203.0.113.7 and mail goes to ops@example.com.\n",
            actor=ACTORS[1],
            sync_class="shareable",
        )
        held_store.wait_index()
        app.index_head = held_store.indexed_seq()
        assert await wait_until(pilot, lambda: len(screen.items) == 4)


async def test_a_refused_resolution_is_a_notification(held_store, monkeypatch):
    from core.errors import BrainError
    from core.pii_review import PiiReview

    def refuse(self, path, action, **kw):
        raise BrainError("the store is frozen: writes are refused")

    monkeypatch.setattr(PiiReview, "resolve", refuse)
    app = make_app(held_store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_pane(pilot)
        await pilot.press("p")
        assert await wait_until(pilot, lambda: bool(app.errors) and not screen.busy)
        assert "frozen" in app.errors[-1] and len(screen.items) == 3
        await pilot.press("p")  # not stuck busy: it tries again
        assert await wait_until(pilot, lambda: len(app.errors) == 2)


async def test_a_resolution_binds_to_the_version_on_screen(held_store):
    """A memory written again after the pane read it (the CLI, an agent) is not resolved as
    the new version: the action names the seq on screen, and the engine refuses."""
    app = make_app(held_store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_pane(pilot)
        path, body = HELD[0]
        shown = screen.items[0].seq
        held_store.put(path, body + "\nAlso: bob.poe@example.net\n", actor=ACTORS[1])
        await pilot.press("p")
        assert await wait_until(pilot, lambda: bool(app.errors) and not screen.busy)
        assert "changed since it was read" in app.errors[-1]
        side = held_store.view(path).sidecar
        assert side.pii_status == "held" and side.sync_class == "shareable" and side.seq != shown


async def test_tags_and_extra_findings_are_shown_and_redacted(home):
    """A tag and a frontmatter key's value hold PII: the pane shows each beside the body,
    highlighted, and `r` drops the tag and masks the value."""
    store = build_small(home / "store")
    path = "memories/facts/vendor-contact.md"
    body = "---\ntags: [call-555-867-5309, ops]\nowner: ana.lopez@example.com\n---\nno pii here\n"
    store.put(path, body, actor=ACTORS[0], sync_class="shareable")
    store.wait_index()
    app = make_app(store)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await open_pane(pilot)
            assert screen.item is not None and screen.chosen == {1, 2}
            fields = str(screen.query_one("#pii-fields").render())
            assert "tags/0" in fields and "call-555-867-5309" in fields
            assert "extra/owner" in fields and "[REDACTED:email]" in fields
            lines = str(screen.query_one("#pii-findings").render())
            assert "tags/0" in lines and "ana.lopez" not in lines
            await pilot.press("r")
            assert await wait_until(pilot, lambda: not screen.items)
            side = store.view(path).sidecar
            assert side.tags == ["ops"] and side.extra == {"owner": "[REDACTED:email]"}
            assert not screen.query_one("#pii-fields").display
    finally:
        store.close()


def test_field_lines_are_empty_for_a_body_only_memory():
    from core.pii_review import Pending
    from widgets.pii_format import field_lines

    f = [{"where": "body", "type": "email", "start": 0, "end": 5, "confidence": 950}]
    item = Pending("memories/facts/a.md", "A", "shareable", 1, 0, "", {"email": 1}, f)
    assert field_lines(item, {1}, 1).plain == ""
