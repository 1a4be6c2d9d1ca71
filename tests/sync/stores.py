"""Real stores for hub tests: memories of each class, and their envelopes."""

from __future__ import annotations

from pathlib import Path

from core.store import Store
from core.sync.envelope import build, build_purge
from core.sync.wire import Envelope, PurgeNotice

ANA = "human:ana@laptop"
CLASSES = ("private", "personal", "shareable", "team-public", "org-only")
PII_BODY = "# Contractor\n\nE-mail: jane.roe@example.org\nCard: 4111 1111 1111 1111\n"


def new_store(root: Path) -> Store:
    return Store.init(root, allow_temp=True)


def put(store: Store, path: str, body: str, sync_class: str) -> Envelope:
    store.put(path, body, actor=ANA, sync_class=sync_class)
    env = build(store, path)
    assert env is not None
    return env


def one_of_each(store: Store) -> dict[str, Envelope]:
    """A memory of every class; its envelope by class."""
    return {c: put(store, f"memories/facts/{c}.md", f"a {c} fact\n", c) for c in CLASSES}


def purge(store: Store, path: str) -> PurgeNotice:
    res = store.delete(path, actor=ANA, mode="purge", reason="user-request")
    return build_purge(store, res.seq, path)
