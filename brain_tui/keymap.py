"""The one binding registry: `?` help, the command palette, the footers and `config.toml`.

Every binding a person can press lives in a `BINDINGS` list of a class named here, grouped in
the scopes the help shows (one per pane or dialog). The ids of those bindings are the ids a
`[keys]` table may remap; the help lists them in brackets; the footers show the same
`Binding` objects (Textual applies the keymap to them); the palette labels its commands with
the scope's title. A test walks every screen and widget class and checks that each binding id
is here, so a new key cannot be missing from help or refused as unknown.

A remap onto a key that another binding of the same scope already uses is reported at
config load: two bindings on one key means one of them silently never runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from textual.binding import Binding
from textual.keys import _character_to_key

GLOBAL = "Everywhere"


@dataclass(frozen=True)
class Scope:
    """One help section. `screens` are screens (or the app, for the global scope) shown one at
    a time; `widgets` live on them, each focused alone: siblings never collide with each
    other, but a focused widget's key shadows its screen's and the global ones."""

    title: str
    screens: tuple[type, ...]
    widgets: tuple[type, ...] = ()

    @property
    def classes(self) -> tuple[type, ...]:
        return self.screens + self.widgets


@dataclass(frozen=True)
class Entry:
    id: str
    scope: Scope
    cls: type
    binding: Binding

    @property
    def text(self) -> str:
        """What the help says the key does (the footer shows only the short description)."""
        b = self.binding
        what = b.description or b.action
        return f"{what} ({b.tooltip})" if b.tooltip else what


def bindings_of(cls: type) -> list[Binding]:
    """A class's own BINDINGS (not inherited: each class is listed once, where it is written)."""
    out = []
    for b in cls.__dict__.get("BINDINGS", []):
        out.append(b if isinstance(b, Binding) else Binding(*b))
    return out


def scopes(app_cls: type) -> list[Scope]:
    from screens.audit import AuditScreen
    from screens.confirm import ConfirmModal
    from screens.doctor import DoctorScreen
    from screens.error import ErrorModal
    from screens.first_run import FirstRunScreen
    from screens.help import HelpScreen
    from screens.memories import MemoriesScreen
    from screens.memories.editor import EditorModal
    from screens.memories.history import HistoryScreen
    from screens.memories.modals import MoveModal, PurgeModal
    from screens.memories.view import MemoryViewScreen
    from screens.pii import PiiDetail, PiiScreen
    from screens.pii_modals import ReleaseModal
    from screens.proposal_modals import DecideModal
    from screens.proposals import ProposalDetail, ProposalsScreen
    from screens.row_detail import RowDetailScreen
    from screens.sync import ConflictList, ConflictScreen, ModeModal, SyncScreen
    from widgets.audit_list import AuditList
    from widgets.kind_tree import KindTree
    from widgets.memory_list import MemoryList
    from widgets.pii_queue import PiiQueue
    from widgets.preview_scroll import PreviewScroll
    from widgets.proposal_list import ProposalList
    from widgets.search_input import SearchInput
    from widgets.similar_panel import SimilarPanel

    return [
        Scope(GLOBAL, (app_cls,)),
        Scope("Audit tail (1)", (AuditScreen,), (AuditList,)),
        Scope("Row detail (enter on an audit row)", (RowDetailScreen,)),
        Scope(
            "Memories (2)",
            (MemoriesScreen,),
            (MemoryList, SearchInput, KindTree, PreviewScroll, SimilarPanel),
        ),
        Scope("Memory view (enter on a memory)", (MemoryViewScreen,)),
        Scope("Memory history (h)", (HistoryScreen,)),
        Scope("Memory editor (n, e)", (EditorModal,)),
        Scope("Move and purge dialogs (m, P)", (MoveModal, PurgeModal)),
        Scope("Doctor (3)", (DoctorScreen,)),
        Scope("PII review (4)", (PiiScreen,), (PiiQueue, PiiDetail)),
        Scope("Release dialog (R in PII review)", (ReleaseModal,)),
        Scope("Proposals (5)", (ProposalsScreen,), (ProposalList, ProposalDetail)),
        Scope("Approve and reject dialog (a, x in proposals)", (DecideModal,)),
        Scope("Sync (6)", (SyncScreen,), (ConflictList,)),
        Scope("Sync mode dialog (m in sync)", (ModeModal,)),
        Scope("Sync conflict (enter on a conflict)", (ConflictScreen,)),
        Scope("Confirmations and errors", (ConfirmModal, ErrorModal)),
        Scope("First run", (FirstRunScreen,)),
        Scope("Help (?)", (HelpScreen,)),
    ]


def normal_key(key: str) -> str:
    """`?` and `question_mark` are one key; so are `ctrl+P` and `ctrl+P` written twice."""
    key = key.strip()
    if len(key) == 1 and not key.isalnum():
        return _character_to_key(key)
    return key


def split_keys(keys: str) -> list[str]:
    return [normal_key(k) for k in keys.split(",") if k.strip()]


class Registry:
    def __init__(self, app_cls: type) -> None:
        self.scopes = scopes(app_cls)
        self.entries: list[Entry] = [
            Entry(b.id, scope, cls, b)
            for scope in self.scopes
            for cls in scope.classes
            for b in bindings_of(cls)
            if b.id
        ]
        self.by_id = {e.id: e for e in self.entries}

    def known_ids(self) -> set[str]:
        return set(self.by_id)

    def scope_of(self, screen_cls: type) -> Scope | None:
        """The help section `?` opens at on this screen (None: the top of the help)."""
        for scope in self.scopes[1:]:
            if any(issubclass(screen_cls, c) for c in scope.screens):
                return scope
        return None

    def title_of(self, cls: type) -> str:
        for scope in self.scopes:
            if any(issubclass(cls, c) for c in scope.classes):
                return scope.title.split(" (")[0]
        return ""

    def keys_of(self, entry: Entry, keymap: Mapping[str, str]) -> list[str]:
        return split_keys(keymap.get(entry.id, entry.binding.key))

    def sections(
        self, keymap: Mapping[str, str], key_text
    ) -> list[tuple[str, list[tuple[str, str]]]]:
        """(title, [(keys as shown, what it does [id])]) for the help screen."""
        out = []
        for scope in self.scopes:
            rows = [
                (key_text(e.binding), f"{e.text}  [{e.id}]")
                for e in self.entries
                if e.scope is scope
            ]
            if rows:
                out.append((scope.title, rows))
        return out

    def _shadow(self, a: Entry, b: Entry) -> bool:
        """Can a and b be active at once (so one key cannot serve both)?"""
        if a.scope.title == GLOBAL or b.scope.title == GLOBAL:
            return True
        if a.scope is not b.scope:
            return False
        screens = a.scope.screens
        return a.cls is b.cls or ((a.cls in screens) != (b.cls in screens))

    def conflicts(self, keymap: Mapping[str, str]) -> list[str]:
        """One line per remapped key that another binding active beside it already uses."""
        out: list[str] = []
        seen: set[frozenset[str]] = set()
        for rid in keymap:
            mine = self.by_id.get(rid)
            if mine is None:
                continue
            for key in self.keys_of(mine, keymap):
                for other in self.entries:
                    if other.id == rid or not self._shadow(mine, other):
                        continue
                    if key not in self.keys_of(other, keymap):
                        continue
                    pair = frozenset((rid, other.id, key))
                    if pair in seen:
                        continue
                    seen.add(pair)
                    where = other.scope.title.split(" (")[0]
                    out.append(
                        f"[keys] {rid} = {key!r} is already bound to {other.id}"
                        f" ({other.binding.description}) in {where}: only one of them runs"
                    )
        return out


def unknown_ids(keymap: Iterable[str], registry: Registry) -> list[str]:
    return sorted(set(keymap) - registry.known_ids())
