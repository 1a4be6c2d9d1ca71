"""The one binding registry: every key is known, documented, remappable; clashes are reported;
`?` opens at the current pane; footers fit at 80 columns with `?` and `q` always shown."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from textual.binding import Binding
from textual.dom import DOMNode

import screens
import widgets
from brain_tui.app import BrainApp, registry
from brain_tui.config import load_config
from screens.help import HelpScreen
from tests.tui.conftest import make_app, settle
from widgets.key_footer import KeyFooter


def our_classes() -> list[type]:
    """Every screen and widget class written in this project (and the App)."""
    found: dict[str, type] = {"BrainApp": BrainApp}
    for pkg in (screens, widgets):
        for info in pkgutil.walk_packages(pkg.__path__, prefix=f"{pkg.__name__}."):
            module = importlib.import_module(info.name)
            for _name, obj in inspect.getmembers(module, inspect.isclass):
                if issubclass(obj, DOMNode) and obj.__module__ == module.__name__:
                    found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return list(found.values())


def own_bindings(cls: type) -> list[Binding]:
    return [b if isinstance(b, Binding) else Binding(*b) for b in cls.__dict__.get("BINDINGS", [])]


def test_every_binding_of_every_class_is_known_documented_and_has_an_id():
    reg = registry()
    known = reg.known_ids()
    classes = our_classes()
    assert len(classes) > 20  # the walk found the project's classes
    seen = 0
    for cls in classes:
        for b in own_bindings(cls):
            seen += 1
            assert b.id, f"{cls.__name__}: {b.key} -> {b.action} has no id (cannot be remapped)"
            assert b.id in known, f"{b.id} ({cls.__name__}) is not in the registry"
            assert reg.by_id[b.id].text.strip(), f"{b.id} has no description for the help"
    assert seen >= 71  # every id the issue counted
    ids = [e.id for e in reg.entries]
    assert len(ids) == len(set(ids)), "a binding id is used twice"


async def test_a_remap_of_any_id_is_accepted(small_store, home):
    """Ids once missing from the hand-kept lists (the history screen, the tree) remap."""
    cfg = home / "config" / "brain-tui" / "config.toml"
    cfg.parent.mkdir(parents=True)
    cfg.write_text('[keys]\n"history.diff" = "D"\n"memories.tree.down" = "ctrl+n"\n')
    app = make_app(small_store, config=load_config())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.config_problems == []
        assert app._keymap["history.diff"] == "D"


async def test_a_remap_onto_a_key_in_use_is_reported(small_store, home):
    cfg = home / "config" / "brain-tui" / "config.toml"
    cfg.parent.mkdir(parents=True)
    # `h` is History in the memory browser; `question_mark` and `?` are one key.
    cfg.write_text('[keys]\n"memories.new" = "h"\n"audit.follow" = "?"\n"audit.prove" = "F"\n')
    app = make_app(small_store, config=load_config())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        problems = "\n".join(app.config_problems)
        assert "memories.new = 'h' is already bound to memories.history" in problems
        assert "audit.follow = 'question_mark' is already bound to app.help" in problems
        assert "audit.prove" not in problems  # F is free in the audit tail
        assert len(app.config_problems) == 2


def test_siblings_may_share_a_key_but_not_with_their_screen():
    reg = registry()
    # j is Down in the kind tree and in the list: never focused together, no clash.
    assert reg.conflicts({"memories.tree.down": "j"}) == []
    assert reg.conflicts({"memories.down": "e"})  # the screen's Edit would be shadowed


@pytest.mark.parametrize(
    ("keys", "section"),
    [("", "Audit tail (1)"), ("2", "Memories (2)"), ("3", "Doctor (3)")],
)
async def test_help_opens_at_the_current_pane(small_store, keys, section):
    app = make_app(small_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        if keys:
            await pilot.press(keys)
            await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        current = help_screen.query_one(".help-section.-current")
        assert str(current.render()).startswith(section)
        body = help_screen.query_one("#help-body")
        if section != "Audit tail (1)":
            assert body.scroll_y > 0  # scrolled to it, not left at the top
        assert current.region.y <= body.region.y + 1  # its title is the first line shown


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
@pytest.mark.parametrize("pane", ["1", "2", "3", "4"])
async def test_footers_fit_and_always_show_help_and_quit(small_store, size, pane):
    app = make_app(small_store)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press(pane)
        await settle(pilot)
        footer = app.screen.query_one(KeyFooter)
        text = str(footer.render())
        assert len(text) <= size[0]
        assert text.rstrip().endswith("? Help  q Quit")
        words = {d for b in app.screen.active_bindings.values() for d in [b.binding.description]}
        for part in text.split("  "):  # every shown entry is whole: a key and its label
            part = part.strip()
            if part:
                assert part.split(" ", 1)[-1] in words, part


async def test_memory_footer_leads_with_the_most_useful_keys(small_store):
    app = make_app(small_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        text = str(app.screen.query_one(KeyFooter).render())
        assert text.startswith(" ⏎ Open  / Search  e Edit  n New  h History")
