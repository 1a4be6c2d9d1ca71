"""The shell: panes by number, help, palette, header, themes, NO_COLOR, keymap, errors."""

from __future__ import annotations

from textual.command import CommandPalette

from brain_tui.app import known_binding_ids
from brain_tui.config import Config, load_config
from screens.audit import AuditScreen
from screens.doctor import DoctorScreen
from screens.help import HelpScreen
from screens.pii import PiiScreen
from screens.proposals import ProposalsScreen
from screens.sync import SyncScreen
from tests.tui.conftest import NOW, make_app, settle
from widgets.audit_list import AuditList
from widgets.header import PANES, HeaderInfo, StoreHeader, age, header_content


async def test_number_keys_reach_every_pane_and_back(small_store):
    app = make_app(small_store)
    expected = {
        "1": AuditScreen,
        "3": DoctorScreen,
        "4": PiiScreen,
        "5": ProposalsScreen,
        "6": SyncScreen,
    }
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for key in "2345612":
            await pilot.press(key)
            await settle(pilot)
            pane = dict((k, p) for k, p, _ in PANES)[key]
            assert app.current_mode == pane
            if key in expected:
                assert isinstance(app.screen, expected[key])
            assert app.screen.query_one(StoreHeader)  # every pane has the header
        assert app.errors == []


async def test_panes_keep_their_state_when_switching(small_store):
    app = make_app(small_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("g", "j", "j")
        await pilot.press("4", "1")
        await settle(pilot)
        assert app.screen.query_one(AuditList).current_row().seq == 3


async def test_help_lists_every_binding(small_store):
    app = make_app(small_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        text = "\n".join(str(s.render()) for s in app.screen.query(".help-section"))
        for binding_id in known_binding_ids():
            assert f"[{binding_id}]" in text, binding_id
        await pilot.press("escape")
        assert isinstance(app.screen, AuditScreen)


async def test_palette_has_every_pane_and_every_action_of_the_pane(small_store):
    app = make_app(small_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for _key, _pane, label in PANES:
            assert f"Go to {label}" in titles
        for want in ("Filter", "Follow", "Prove", "Copy row", "Open"):
            assert any(t.endswith(f": {want}") for t in titles), want
        await pilot.press("colon")
        await settle(pilot)
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"Doctor", "enter")
        await settle(pilot)
        assert isinstance(app.screen, DoctorScreen)


async def test_palette_runs_a_pane_action(small_store):
    app = make_app(small_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        lst = app.screen.query_one(AuditList)
        assert lst.follow
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"Follow")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert not lst.follow


async def test_header_shows_store_head_state_checkpoint_age_and_counts(small_store):
    app = make_app(small_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        text = str(app.screen.query_one(StoreHeader).render())
        st = small_store.state()
        assert "~/store" in text and f"seq {st.head_seq}" in text and "READY" in text
        assert f"ckpt {age((NOW - st.last_checkpoint_ns) / 1e9)}" in text
        assert f"{st.active} memories" in text and "1 tombstoned" in text


def test_header_before_any_checkpoint_shows_a_dash():
    from widgets.header import HeaderInfo

    info = HeaderInfo("/x/store", 5, 5, "READY", None, 3, 3, 0, 0)
    assert "ckpt —" in header_content(info, 80, NOW).plain
    assert (
        "FROZEN_HUMAN"
        in header_content(
            HeaderInfo("/x/store", 5, 5, "FROZEN_HUMAN", "broken", 3, 3, 0, 0), 80, NOW
        ).plain
    )


async def test_our_theme_is_the_default_and_config_can_pick_another(small_store):
    app = make_app(small_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.theme == "brain" and "brain" in app.available_themes
    app = make_app(small_store, config=Config(theme="nord"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.theme == "nord"


async def test_no_color_is_honoured(small_store, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(small_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.no_color
        svg = app.export_screenshot()
        assert "AuditList" not in svg and "Audit tail" in svg.replace("&#160;", " ")


async def test_keys_remapped_in_the_config_file(small_store, home):
    cfg_dir = home / "config" / "brain-tui"
    cfg_dir.mkdir(parents=True)
    (cfg_dir / "config.toml").write_text(
        'theme = "gruvbox"\n[keys]\n"audit.follow" = "F"\n"no.such.binding" = "x"\n'
    )
    config = load_config()
    assert config.keys["audit.follow"] == "F" and config.theme == "gruvbox"
    app = make_app(small_store, config=config)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        lst = app.screen.query_one(AuditList)
        await pilot.press("f")
        assert lst.follow  # f no longer toggles follow
        await pilot.press("F")
        assert not lst.follow
        assert app.theme == "gruvbox"
        assert any("no.such.binding" in p for p in app.config_problems)


def test_a_broken_config_file_falls_back_to_defaults(home):
    path = home / "config" / "brain-tui" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text("theme = [unclosed\n")
    config = load_config()
    assert config.theme is None and config.keys == {} and "not valid TOML" in config.problems[0]
    path.write_text('theme = 3\nfancy = true\n[keys]\n"audit.follow" = ""\n')
    problems = " ".join(load_config().problems)
    assert "theme must be a string" in problems and "unknown setting 'fancy'" in problems
    assert "keys.audit.follow" in problems


async def test_a_bug_in_a_key_handler_is_a_notification_not_a_crash(small_store, monkeypatch):
    from brain_tui.app import BrainApp

    app = make_app(small_store)

    def broken(self) -> None:
        raise RuntimeError("handler bug")

    monkeypatch.setattr(BrainApp, "action_help", broken)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert app.is_running
        assert any("handler bug" in e for e in app.errors)
        await pilot.press("3")  # still answers keys
        await settle(pilot)
        assert isinstance(app.screen, DoctorScreen)


def test_the_queues_keep_a_short_form_at_80_columns():
    """What waits for a person stays on a narrow header: the long line would not fit, so the
    memory count goes and the queues shorten (they used to vanish with it)."""
    info = HeaderInfo(
        "/tmp/together/store", 237, 237, "READY", None, 220, 220, 0, 0, NOW, None, 1, 1
    )
    narrow = header_content(info, 80, NOW).plain
    assert narrow.endswith("1 PII · 1 prop.") and "memories" not in narrow
    wide = header_content(info, 120, NOW).plain
    assert wide.endswith("220 memories · 1 PII held · 1 proposals pending")
