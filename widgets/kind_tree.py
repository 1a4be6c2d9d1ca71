"""The browser's left pane: kinds and their folders, each with its count of active memories.

Fed with `queries.folder_counts` rows by the screen (the query runs in a worker); selecting a
node posts `KindTree.Filter` with the kind and folder prefix the list should show.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from core.models import KINDS


@dataclass(frozen=True, slots=True)
class Scope:
    """What the list shows: everything, one kind, or one folder (with its subfolders)."""

    kind: str | None = None
    folder: str | None = None  # as the index stores it: "<kind>/<sub>/<sub>"

    @property
    def label(self) -> str:
        return self.folder or self.kind or "all memories"


class _Node:
    __slots__ = ("count", "children")

    def __init__(self) -> None:
        self.count = 0
        self.children: dict[str, _Node] = {}


def build(counts: list[tuple[str, str, int]]) -> dict[str, _Node]:
    """kind -> folder tree with counts summed upwards. Every kind appears, even when empty."""
    roots = {k: _Node() for k in KINDS}
    for kind, folder, n in counts:
        node = roots.setdefault(kind, _Node())
        node.count += n
        parts = folder.split("/")[1:] if folder != kind else []
        for part in parts:
            node = node.children.setdefault(part, _Node())
            node.count += n
    return roots


class KindTree(Tree[Scope]):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="memories.tree.down"),
        Binding("k", "cursor_up", "Up", show=False, id="memories.tree.up"),
    ]

    @dataclass(eq=False)
    class Filter(Message):
        """A node was chosen: the list shows this scope."""

        tree: KindTree
        scope: Scope

        @property
        def control(self) -> KindTree:
            return self.tree

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, type(self))  # arrowing fast: the newest scope

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("all memories", data=Scope(), id=id)
        self.show_root = True
        self.guide_depth = 2
        self._loaded = False

    def set_counts(self, counts: list[tuple[str, str, int]]) -> None:
        """Rebuild the nodes, keeping which ones were expanded and where the cursor was."""
        expanded = {n.data for n in self._walk(self.root) if n.is_expanded and n.data}
        selected = self.cursor_node.data if self.cursor_node is not None else None
        roots = build(counts)
        total = sum(r.count for r in roots.values())
        self.root.remove_children()
        self.root.set_label(_label("all memories", total))
        for kind, node in roots.items():
            child = self.root.add(_label(kind, node.count), data=Scope(kind))
            self._add(child, kind, kind, node)
        self.root.expand()
        for n in self._walk(self.root):
            if n.data in expanded:
                n.expand()
        if selected is not None:
            for n in self._walk(self.root):
                if n.data == selected:
                    self.move_cursor(n)
                    break
        self._loaded = True

    def show_scope(self, scope: Scope) -> None:
        """Put the cursor on scope's node without selecting it (the screen already did)."""
        for n in self._walk(self.root):
            if n.data == scope:
                self.move_cursor(n)
                return

    def _add(self, parent: TreeNode[Scope], kind: str, prefix: str, node: _Node) -> None:
        for name in sorted(node.children):
            sub = node.children[name]
            folder = f"{prefix}/{name}"
            data = Scope(kind, folder)
            if sub.children:
                child = parent.add(_label(name, sub.count), data=data)
                self._add(child, kind, folder, sub)
            else:
                parent.add_leaf(_label(name, sub.count), data=data)

    def _walk(self, node: TreeNode[Scope]):
        yield node
        for child in node.children:
            yield from self._walk(child)

    def on_tree_node_selected(self, event: Tree.NodeSelected[Scope]) -> None:
        event.stop()
        if event.node.data is not None:
            self.post_message(self.Filter(self, event.node.data))


def _label(name: str, count: int) -> Text:
    # Text, not markup: a folder name may hold '[' and is never interpreted.
    return Text.assemble(name, (f" {count:,}", "dim"))
